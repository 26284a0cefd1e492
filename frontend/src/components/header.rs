//! The header of the admin pages: product, navigation, server version, user and logout.

use leptos::prelude::*;
use shared::api::{ServerInfo, SessionInfo};
use web_core::paths::{BACKUPS, LOGIN, MAINTENANCE, NOTIFICATIONS};

use crate::api::{self, ApiError};
use crate::components::error::ErrorDisplay;
use crate::components::shell_data::use_shell;
use crate::load::{action, run};
use crate::router::{History, navigate, use_location};

/// The top bar of every admin page.
#[component]
pub fn AppHeader(
    /// Who is logged in.
    session: SessionInfo,
) -> impl IntoView {
    let server = use_shell().server;
    let user = format!("{} ({})", session.username, session.role);

    view! {
        <header id="app-header" class="app-header">
            <div class="header-bar">
                <a class="brand" href="/admin/general" title="Security Management System">
                    <span class="brand-name">"SMS"</span>
                    <span class="brand-full">"Security Management System"</span>
                </a>
                <div class="header-meta">
                    {move || match server.get() {
                        None => view! { <span class="server-summary muted">"SMS …"</span> }.into_any(),
                        Some(Ok(info)) => view! { <ServerSummary info/> }.into_any(),
                        Some(Err(error)) => view! {
                            <span class="server-summary">
                                <ErrorDisplay error/>
                            </span>
                        }
                        .into_any(),
                    }}
                    <span id="current-user" class="current-user" title="Logged in as">
                        <span class="user-icon" aria-hidden="true"></span>
                        {user}
                    </span>
                    <LogoutButton/>
                </div>
            </div>
            <nav class="main-nav" aria-label="Main">
                <span class="nav-group-label" id="nav-admin">"Admin"</span>
                <ul class="nav-list" aria-labelledby="nav-admin">
                    <li><NavLink href="/admin/general" id="nav-general" label="General"/></li>
                    <li><NavLink href="/admin/devices" id="nav-devices" label="Devices"/></li>
                    <li><NavLink href="/admin/cluster" id="nav-cluster" label="HA cluster"/></li>
                    <li><NavLink href=MAINTENANCE id="nav-maintenance" label="Maintenance"/></li>
                    <li><NavLink href=NOTIFICATIONS id="nav-notifications" label="Notifications"/></li>
                    <li><NavLink href=BACKUPS id="nav-backups" label="Backups"/></li>
                    <li><NavLink href="/admin/audit" id="nav-audit" label="Audit log"/></li>
                </ul>
            </nav>
        </header>
    }
}

/// A link of the main navigation, marked as the page shown (`aria-current="page"`) while its
/// page, or one below it, is on the screen.
#[component]
fn NavLink(href: &'static str, id: &'static str, label: &'static str) -> impl IntoView {
    let location = use_location();
    let current = move || {
        location.with_path(|path| {
            let below = path
                .strip_prefix(href)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'));
            below.then_some("page")
        })
    };
    view! { <a href=href id=id aria-current=current>{label}</a> }
}

/// "SMS 6.4.0 · Patch 3", with the build in small text and in the tooltip.
#[component]
fn ServerSummary(
    /// The installed state of the server.
    info: ServerInfo,
) -> impl IntoView {
    let title = format!(
        "SMS {} {} (build {}) on {}",
        info.product_version, info.patch_level, info.build, info.node_name
    );
    view! {
        <span class="server-summary" title=title>
            <span id="server-version">{format!("SMS {}", info.product_version)}</span>
            <span aria-hidden="true">" · "</span>
            <span id="server-patch-level">{info.patch_level.to_string()}</span>
            <small class="build">{format!("build {}", info.build)}</small>
        </span>
    }
}

/// Ends the session and shows the login page.
#[component]
fn LogoutButton() -> impl IntoView {
    let logout = action(move |_: &()| {
        run(async move {
            match api::logout().await {
                // A 401 means the session had already ended: the login page is right either way.
                Err(error) if !error.is_unauthorized() => Err(error),
                _ => {
                    navigate(LOGIN, History::Replace);
                    Ok::<(), ApiError>(())
                }
            }
        })
    });
    let pending = logout.pending();

    view! {
        <button
            id="logout"
            type="button"
            class="button button-secondary"
            on:click=move |_| {
                logout.dispatch(());
            }
            disabled=move || pending.get()
            aria-busy=move || pending.get().to_string()
        >
            {move || if pending.get() { "Logging out…" } else { "Log out" }}
        </button>
        {move || logout.value().get().and_then(Result::err).map(|error| view! {
            <ErrorDisplay error/>
        })}
    }
}
