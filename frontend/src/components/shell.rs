//! The frame around the admin pages: it checks the session first, then shows the header and the
//! page. Without a session it sends the user to the login page.

use leptos::prelude::*;

use crate::api;
use crate::components::error::ErrorList;
use crate::components::header::AppHeader;
use crate::components::loading::Loading;
use crate::components::shell_data::{ShellData, use_shell};

/// Loads the session; once it is known shows the header and the current admin page.
#[component]
pub fn AppShell(
    /// The current admin page.
    children: ChildrenFn,
) -> impl IntoView {
    let session = LocalResource::new(api::get_session);
    let live = crate::live::provide_live();
    // Ask for the server's details only with a session: without one the answer is a second 401.
    // Fetched again when the server's data changed (e.g. a new level after a restart).
    let server = LocalResource::new(move || {
        live.patches_changed.track();
        async move {
            session.await?;
            api::get_server().await
        }
    });
    let patches = LocalResource::new(move || {
        live.patches_changed.track();
        async move {
            session.await?;
            api::get_patches().await
        }
    });
    let cluster = LocalResource::new(move || {
        live.cluster_changed.track();
        live.patches_changed.track();
        async move {
            session.await?;
            api::get_cluster().await
        }
    });
    let shell = ShellData {
        session,
        server,
        patches,
        cluster,
    };
    provide_context(shell);
    let cluster_at_start = LocalResource::new(move || async move {
        session.await?;
        api::get_cluster().await
    });

    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <div class="app">
            <Transition fallback=|| view! { <div class="shell-loading"><Loading what="your session"/></div> }>
                <ErrorBoundary fallback=|errors| view! {
                    <div class="shell-error"><ErrorList errors/></div>
                }>
                    {move || {
                        let children = children.clone();
                        Suspend::new(async move {
                            let session = shell.session.await;
                            // A passive node refuses the pages' requests: know it before they run.
                            // (Its own resource, fetched once, so that a refetch of the cluster does
                            // not draw the whole frame again.)
                            let passive_at_start = cluster_at_start
                                .await
                                .is_ok_and(|info| info.active_url.is_some());
                            let passive = Memo::new(move |_| {
                                cluster
                                    .get()
                                    .and_then(Result::ok)
                                    .map_or(passive_at_start, |info| info.active_url.is_some())
                            });
                            session.map(|session| view! {
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
                            })
                        })
                    }}
                </ErrorBoundary>
            </Transition>
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
                "The server application restarts to finish a patch install or rollback. Managed                  devices keep running. This page reconnects by itself in a few seconds.",
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
