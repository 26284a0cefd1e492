//! The SMS web client: a Leptos single-page app (client-side rendered, built by `xtask web`).
//!
//! [`App`] holds the router and draws the page that `web_core::routes` picks for the address;
//! `pages` has one module per page, `components` the reusable pieces, and `api` every call to
//! the SMS server. What needs no browser (the page choice, the addresses, words for sizes and
//! times, the job list) is in `web_core` (`frontend/core`), with its tests.

pub mod api;
pub mod components;
pub mod focus;
pub mod live;
pub mod load;
pub mod navigation;
pub mod pages;
pub mod poll;
pub mod router;

use leptos::prelude::*;
use web_core::paths::HOME;
use web_core::routes::{AdminPage, Frame, page_at};

use crate::components::client_mismatch::ClientMismatchModal;
use crate::components::shell::AppShell;
use crate::pages::{
    AuditPage, BackupsPage, ClusterPage, DevicesPage, GeneralPage, ImportPatchPage, InstallPage,
    LoginPage, MaintenancePage, NotFound, NotificationsPage, PatchDetailsPage, RollbackPage,
    UpdatePage,
};
use crate::router::{History, navigate, use_location};

/// The whole app: the login page, the admin pages inside the app shell, and "not found".
#[component]
pub fn App() -> impl IntoView {
    router::listen();
    view! {
        <Pages/>
        <ClientMismatchModal/>
    }
}

/// The page at the current address (`web_core::routes`), in its frame: the admin frame stays on the
/// screen, with its session and live data, while the admin pages in it change.
#[component]
fn Pages() -> impl IntoView {
    let location = use_location();
    let page = Memo::new(move |_| location.with_path(page_at));
    let frame = Memo::new(move |_| page.read().frame());
    move || match frame.get() {
        Frame::Home => view! { <GoHome/> }.into_any(),
        Frame::Login => view! { <LoginPage/> }.into_any(),
        Frame::NotFound => view! { <NotFound/> }.into_any(),
        Frame::Admin => {
            let admin = Memo::new(move |_| page.read().admin().cloned());
            view! { <AppShell>{move || admin.get().map(admin_page)}</AppShell> }.into_any()
        }
    }
}

/// One page inside the admin frame.
fn admin_page(page: AdminPage) -> AnyView {
    match page {
        AdminPage::General => view! { <GeneralPage/> }.into_any(),
        AdminPage::ImportPatch => view! { <ImportPatchPage/> }.into_any(),
        AdminPage::UpdatePatch => view! { <UpdatePage/> }.into_any(),
        AdminPage::Install(id) => view! { <InstallPage id/> }.into_any(),
        AdminPage::Rollback => view! { <RollbackPage/> }.into_any(),
        AdminPage::Audit => view! { <AuditPage/> }.into_any(),
        AdminPage::Devices => view! { <DevicesPage/> }.into_any(),
        AdminPage::Cluster => view! { <ClusterPage/> }.into_any(),
        AdminPage::Maintenance => view! { <MaintenancePage/> }.into_any(),
        AdminPage::Notifications => view! { <NotificationsPage/> }.into_any(),
        AdminPage::Backups => view! { <BackupsPage/> }.into_any(),
        AdminPage::PatchDetails(id) => view! { <PatchDetailsPage id/> }.into_any(),
    }
}

/// Sends `/` and `/admin` to the home page without leaving a history step behind.
#[component]
fn GoHome() -> impl IntoView {
    // After the drawing: the address changes once this page is on the screen.
    Effect::new(|_| navigate(HOME, History::Replace));
}
