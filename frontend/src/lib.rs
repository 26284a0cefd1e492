//! The SMS web client: a Leptos single-page app (client-side rendered, built by trunk).
//!
//! [`App`] holds the router and draws the page that `routes` picks for the address; `pages`
//! has one module per page, `components` the reusable pieces, and `api` every call to the SMS
//! server.

pub mod api;
pub mod components;
pub mod live;
pub mod load;
pub mod navigation;
pub mod pages;
pub mod poll;
pub mod routes;

use leptos::prelude::*;
use leptos_router::components::{Redirect, Router};
use leptos_router::hooks::use_location;
use leptos_router::location::{BrowserUrl, LocationProvider};

use crate::components::client_mismatch::ClientMismatchModal;
use crate::components::shell::AppShell;
use crate::navigation::{HOME, replace_history};
use crate::pages::{
    AuditPage, ClusterPage, DevicesPage, GeneralPage, ImportPatchPage, InstallPage, LoginPage,
    MaintenancePage, NotFound, NotificationsPage, PatchDetailsPage, RollbackPage, UpdatePage,
};
use crate::routes::{AdminPage, Frame, page_at};

/// The whole app: the login page, the admin pages inside the app shell, and "not found".
#[component]
pub fn App() -> impl IntoView {
    view! {
        <Router>
            <Pages/>
        </Router>
        <ClientMismatchModal/>
    }
}

/// The page at the current address (`routes`), in its frame: the admin frame stays on the
/// screen, with its session and live data, while the admin pages in it change.
#[component]
fn Pages() -> impl IntoView {
    let location = use_location();
    let page = Memo::new(move |_| page_at(&location.pathname.read()));
    let frame = Memo::new(move |_| page.read().frame());
    // The router puts a followed link's address into the browser's history only once the page
    // it leads to is drawn, when told so (a table of routes would tell it): say it here, after
    // each new path is drawn (an effect runs after the drawing).
    let browser_url = use_context::<BrowserUrl>();
    Effect::new(move |_| {
        location.pathname.track();
        if let Some(url) = &browser_url {
            url.ready_to_complete();
        }
    });
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
        AdminPage::PatchDetails(id) => view! { <PatchDetailsPage id/> }.into_any(),
    }
}

/// Sends `/` and `/admin` to the home page without leaving a history step behind.
#[component]
fn GoHome() -> impl IntoView {
    view! { <Redirect path=HOME options=replace_history()/> }
}
