//! The SMS web client: a Leptos single-page app (client-side rendered, built by trunk).
//!
//! [`App`] holds the router; `pages` has one module per route, `components` the reusable pieces,
//! and `api` every call to the SMS server.

pub mod api;
pub mod components;
pub mod live;
pub mod navigation;
pub mod pages;
pub mod poll;

use leptos::prelude::*;
use leptos_router::components::{ParentRoute, Redirect, Route, Router, Routes};
use leptos_router::path;

use crate::components::client_mismatch::ClientMismatchModal;
use crate::components::shell::AppShell;
use crate::navigation::{HOME, replace_history};
use crate::pages::{
    AuditPage, ClusterPage, DevicesPage, GeneralPage, ImportPatchPage, InstallPage, LoginPage,
    MaintenancePage, NotFound, NotificationsPage, PatchDetailsPage, RollbackPage, UpdatePage,
};

/// The whole app: the login page, the admin pages inside the app shell, and "not found".
#[component]
pub fn App() -> impl IntoView {
    view! {
        <Router>
            <Routes fallback=|| view! { <NotFound/> }>
                <Route path=path!("/") view=GoHome/>
                <Route path=path!("/login") view=LoginPage/>
                <ParentRoute path=path!("/admin") view=AppShell>
                    <Route path=path!("") view=GoHome/>
                    <Route path=path!("/general") view=GeneralPage/>
                    <Route path=path!("/patches/import") view=ImportPatchPage/>
                    <Route path=path!("/patches/update") view=UpdatePage/>
                    <Route path=path!("/patches/install/:id") view=InstallPage/>
                    <Route path=path!("/patches/rollback") view=RollbackPage/>
                    <Route path=path!("/audit") view=AuditPage/>
                    <Route path=path!("/devices") view=DevicesPage/>
                    <Route path=path!("/cluster") view=ClusterPage/>
                    <Route path=path!("/maintenance") view=MaintenancePage/>
                    <Route path=path!("/notifications") view=NotificationsPage/>
                </ParentRoute>
                <ParentRoute path=path!("/patches") view=AppShell>
                    <Route path=path!("/:id") view=PatchDetailsPage/>
                </ParentRoute>
            </Routes>
        </Router>
        <ClientMismatchModal/>
    }
}

/// Sends `/` and `/admin` to the home page without leaving a history step behind.
#[component]
fn GoHome() -> impl IntoView {
    view! { <Redirect path=HOME options=replace_history()/> }
}
