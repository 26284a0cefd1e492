//! The frame around the admin pages: it checks the session first, then shows the header and the
//! page. Without a session it sends the user to the login page.

use leptos::prelude::*;

use shared::api::SessionInfo;

use crate::api;
use crate::components::change_password::ChangePassword;
use crate::components::header::AppHeader;
use crate::components::loaded::{Place, loaded};
use crate::components::shell_data::{ShellData, use_shell};
use crate::load::{both, fetch, resource, resource_after};

/// Loads the session; once it is known shows the header and the current admin page.
#[component]
pub fn AppShell(
    /// The current admin page.
    children: ChildrenFn,
) -> impl IntoView {
    let session = resource(api::get_session);
    let live = crate::live::provide_live();
    // Ask for the server's details only with a session: without one the answer is a second 401.
    // Fetched again when the server's data changed (e.g. a new level after a restart).
    let server = resource_after(session, move || {
        live.patches_changed.track();
        api::get_server()
    });
    let patches = resource_after(session, move || {
        live.patches_changed.track();
        api::get_patches()
    });
    let cluster = resource_after(session, move || {
        live.cluster_changed.track();
        live.patches_changed.track();
        api::get_cluster()
    });
    let shell = ShellData {
        session,
        server,
        patches,
        cluster,
    };
    provide_context(shell);
    // A passive node refuses the pages' requests: know it before they run. (Its own resource,
    // fetched once, so that a refetch of the cluster does not draw the whole frame again; a
    // cluster that cannot be read counts as no peer to defer to.)
    let cluster_at_start = resource_after(session, || {
        let asked = api::get_cluster();
        fetch(async move { Ok(asked.await.is_ok_and(|info| info.active_url.is_some())) })
    });
    let frame = move || both(session.get(), cluster_at_start.get());
    let page = move |(session, passive_at_start): (SessionInfo, bool)| {
        if session.must_change_password {
            // The first login with the one-time password: a new one before anything else.
            return view! {
                <main id="main" class="main" tabindex="-1">
                    <ChangePassword session/>
                </main>
            }
            .into_any();
        }
        let children = children.clone();
        let passive = Memo::new(move |_| {
            cluster
                .get()
                .and_then(Result::ok)
                .map_or(passive_at_start, |info| info.active_url.is_some())
        });
        view! {
            <AppHeader session/>
            <ServerLinkBanner/>
            <PassiveNodeBanner/>
            <PatchNoticeBanner/>
            <main id="main" class="main" tabindex="-1">
                {move || if passive.get() {
                    view! {
                        <p id="passive-page" class="muted">
                            "The pages of this SMS open on the active node (link above)."
                        </p>
                    }
                    .into_any()
                } else {
                    children().into_any()
                }}
            </main>
        }
        .into_any()
    };

    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <div class="app">
            {loaded(frame, Place::Shell, "your session", page)}
        </div>
    }
}

/// "SMS server restarting" (or rebooting, or out of reach) while this page has lost the
/// server; it goes away by itself when the event stream is back, and the page's data is
/// fetched again then.
#[component]
fn ServerLinkBanner() -> impl IntoView {
    use crate::live::Link;
    use shared::api::ServerState;

    let link = crate::live::use_live().link;
    move || {
        let (state, title, text) = match link.get() {
            Link::Up => return None,
            Link::Down(ServerState::Rebooting) => (
                "rebooting",
                "SMS server rebooting",
                "The server reboots to finish a patch install. Managed devices keep running.                  This page reconnects by itself when the server is back (usually within a few                  minutes).",
            ),
            Link::Down(_) => (
                "restarting",
                "SMS server restarting",
                "The server application restarts to finish a patch install, a rollback or a restore. Managed                  devices keep running. This page reconnects by itself in a few seconds.",
            ),
            Link::Lost => (
                "lost",
                "Connection to the SMS server lost",
                "Trying again; this page reconnects by itself when the server answers.",
            ),
        };
        Some(view! {
            <div id="server-link" class=format!("server-link-banner server-link-{state}")
                data-state=state role="alert" aria-live="assertive">
                <span class="spinner" aria-hidden="true"></span>
                <div>
                    <strong id="server-link-title">{title}</strong>
                    <div class="small">{text}</div>
                </div>
            </div>
        })
    }
}

/// On the passive node of an HA cluster: clients use the active node, with a link to it.
#[component]
fn PassiveNodeBanner() -> impl IntoView {
    let cluster = use_shell().cluster;
    move || {
        let info = cluster.get().and_then(Result::ok)?;
        let url = info.active_url.clone()?;
        Some(view! {
            <div id="passive-node" class="notice notice-warning passive-banner" role="alert">
                <strong>{format!("{} is the passive node of an HA cluster.", info.node.name)}</strong>
                " It takes over only if the active node stops. Use the active node: "
                <a id="active-node-link" href=url.clone()>{url.clone()}</a>
            </div>
        })
    }
}

/// "A newer patch is available", while SMS patch notifications are enabled. It appears as soon
/// as the server learns of the patch (the event stream makes the panel data fetch again).
#[component]
fn PatchNoticeBanner() -> impl IntoView {
    let patches = use_shell().patches;
    let notice = move || {
        patches
            .get()
            .and_then(Result::ok)
            .filter(|view| view.notifications_enabled)
            .and_then(|view| view.newer_patch)
    };
    // The live region stays on the page, so a screen reader announces a notice that appears.
    let banner = move || {
        notice().map(|notice| {
            view! {
                <div id="patch-notice" class="patch-notice-banner">
                    <span class="notice-text">
                        <strong>{notice.display_name}</strong>
                        " is available for this SMS server."
                    </span>
                    <a href="/admin/general#patches-heading" class="notice-link">"See SMS Patches"</a>
                </div>
            }
        })
    };
    view! { <div id="patch-notices" role="status" aria-live="polite">{banner}</div> }
}
