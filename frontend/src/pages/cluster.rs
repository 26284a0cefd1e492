//! Admin > HA cluster: this node and its peer (role, address, version, patch level), whether
//! clustering is enabled, what differs between the nodes, the patch procedure, and the actions
//! it needs (disable, re-establish, swap roles), each confirmed first. Live.

use leptos::prelude::*;
use shared::PatchLevel;
use shared::cluster::{ClusterAction, ClusterInfo, ClusterRole, HA_PROCEDURE, NodeInfo};

use crate::api::{self, ApiError};
use crate::components::error::{ErrorDisplay, ErrorList};
use crate::components::loading::Loading;
use crate::components::set_page_title;
use crate::components::shell::use_shell;

/// How often the cluster page asks again for the peer's state.
const PEER_REFRESH_MS: u64 = 2000;

#[component]
pub fn ClusterPage() -> impl IntoView {
    set_page_title("HA cluster");
    let shell = use_shell();
    // The peer changes without telling this node (its level after an install, going down):
    // look again every few seconds while the page is open.
    let actions = ActionState::new();
    let refresh = set_interval_with_handle(
        move || {
            // Not under an open confirmation: it would be drawn again under the admin's cursor.
            if actions.asked.get_untracked().is_some() || actions.run.pending().get_untracked() {
                return;
            }
            // Drawn again only when something changed.
            leptos::task::spawn_local(async move {
                let fresh = api::get_cluster().await.ok();
                let shown = shell.cluster.get_untracked().and_then(Result::ok);
                if fresh.is_some() && fresh != shown {
                    shell.cluster.refetch();
                }
            });
        },
        std::time::Duration::from_millis(PEER_REFRESH_MS),
    );
    on_cleanup(move || {
        if let Ok(handle) = refresh {
            handle.clear();
        }
    });
    view! {
        <div id="cluster-page" class="page">
            <h1>"HA cluster"</h1>
            <Transition fallback=|| view! { <div class="card"><Loading what="the cluster"/></div> }>
                <ErrorBoundary fallback=|errors| view! { <div class="card"><ErrorList errors/></div> }>
                    {move || Suspend::new(async move {
                        let info = shell.cluster.await?;
                        let admin = shell
                            .session
                            .await
                            .map(|s| s.role.is_admin())
                            .unwrap_or(false);
                        Ok::<_, ApiError>(view! { <ClusterView info admin actions/> })
                    })}
                </ErrorBoundary>
            </Transition>
        </div>
    }
}

fn level_words(level: PatchLevel) -> String {
    match level.0 {
        0 => "no patch".to_owned(),
        n => format!("Patch {n}"),
    }
}

fn role_words(role: ClusterRole) -> &'static str {
    match role {
        ClusterRole::Active => "Active",
        ClusterRole::Passive => "Passive",
        ClusterRole::Standalone => "Standalone (clustering disabled)",
    }
}

#[component]
fn ClusterView(info: ClusterInfo, admin: bool, actions: ActionState) -> impl IntoView {
    if !info.configured {
        return view! {
            <section class="card">
                <p id="cluster-not-configured">
                    "This SMS server runs on its own, not in an HA cluster. To make a pair, start \
                     both servers on one PostgreSQL database with --cluster-peer and \
                     --cluster-secret-file."
                </p>
            </section>
        }
        .into_any();
    }
    let enabled = info.enabled;
    let peer = info.peer.clone();
    let changed = match (&info.changed_by, info.changed_at) {
        (Some(by), Some(at)) => format!(" (changed by {by}, {})", at.format("%Y-%m-%d %H:%M UTC")),
        _ => String::new(),
    };
    view! {
        <section class="card" aria-labelledby="cluster-state-heading">
            <h2 id="cluster-state-heading">"Clustering"</h2>
            <p id="cluster-enabled" data-enabled=enabled.to_string()>
                {if enabled {
                    view! { <span class="status-ok">"✓ Enabled"</span> }.into_any()
                } else {
                    view! { <strong>"Disabled"</strong> }.into_any()
                }}
                <span class="muted">{changed}</span>
            </p>
            <p class="muted">
                {if enabled {
                    "One node is active and serves the clients; the passive node takes over \
                     within seconds if the active one stops."
                } else {
                    "Both nodes serve on their own, so each can be patched separately. \
                     Re-establish the cluster when both run the same version and patch level."
                }}
            </p>
            {info.mismatch.clone().map(|why| view! {
                <p id="cluster-mismatch" class="notice notice-warning" role="alert">
                    <strong>"The nodes differ. "</strong>{why}
                </p>
            })}
        </section>
        <div class="cluster-nodes">
            <NodeCard id="cluster-node" heading="This node" node=Some(info.node.clone())
                address=None error=None/>
            <NodeCard id="cluster-peer" heading="Peer node"
                node=peer.as_ref().and_then(|p| p.node.clone())
                address=peer.as_ref().map(|p| p.url.clone())
                error=peer.as_ref().and_then(|p| p.error.clone())/>
        </div>
        <section id="cluster-procedure" class="card" aria-labelledby="procedure-heading">
            <h2 id="procedure-heading">"Patching a cluster"</h2>
            <p>
                "A patch without database changes is installed from the active node: it sends \
                 the patch to the passive node, and both install it and restart."
            </p>
            <p>"A patch with database changes cannot be installed while clustering is enabled. "
                {HA_PROCEDURE}
            </p>
            <ol class="steps">
                <li data-step="disable">"Disable clustering."</li>
                <li data-step="patch">"Install the patch on each node (log in to each node's own address)."</li>
                <li data-step="establish">"Re-establish the cluster."</li>
            </ol>
        </section>
        {admin.then(|| view! { <ClusterActions info actions/> })}
    }
    .into_any()
}

#[component]
fn NodeCard(
    id: &'static str,
    heading: &'static str,
    node: Option<NodeInfo>,
    address: Option<String>,
    error: Option<String>,
) -> impl IntoView {
    let reachable = node.is_some();
    let role = node.as_ref().map(|n| n.role.as_str()).unwrap_or("unknown");
    view! {
        <section id=id class="card node-card" data-reachable=reachable.to_string() data-role=role
            aria-labelledby=format!("{id}-heading")>
            <h2 id=format!("{id}-heading")>{heading}</h2>
            <dl class="facts">
                {node.clone().map(|n| view! {
                    <dt>"Name"</dt>
                    <dd class="node-name">{n.name.clone()}</dd>
                    <dt>"Role"</dt>
                    <dd class="node-role" data-role=n.role.as_str()>{role_words(n.role)}</dd>
                    <dt>"Version"</dt>
                    <dd class="node-version">{format!("SMS {} (build {})", n.product_version, n.build)}</dd>
                    <dt>"Patch level"</dt>
                    <dd class="node-level" data-level=n.patch_level.0.to_string()>
                        {level_words(n.patch_level)}
                    </dd>
                })}
                {address.map(|url| view! {
                    <dt>"Address"</dt>
                    <dd class="node-address"><a href=url.clone()>{url.clone()}</a></dd>
                })}
            </dl>
            {error.map(|why| view! {
                <p class="node-error notice notice-warning" role="status">
                    {format!("The peer does not answer: {why}.")}
                </p>
            })}
        </section>
    }
}

/// What each action does, for its confirmation.
fn action_words(action: ClusterAction, info: &ClusterInfo) -> (&'static str, String) {
    let peer = info
        .peer
        .as_ref()
        .and_then(|p| p.node.as_ref())
        .map(|n| n.name.clone())
        .unwrap_or_else(|| "the peer".to_owned());
    match action {
        ClusterAction::Disable => (
            "Disable clustering",
            "Both nodes will serve on their own and no node takes over if the other stops. \
             Do this to patch each node separately."
                .to_owned(),
        ),
        ClusterAction::Establish => (
            "Re-establish the cluster",
            format!(
                "{} and {peer} must run the same version and patch level. One node becomes \
                 active, the other passive; clients of the passive node are sent to the active one.",
                info.node.name
            ),
        ),
        ClusterAction::Swap => (
            "Swap roles",
            format!(
                "{peer} becomes the active node and this node passive. Clients of this node are \
                 sent to {peer}."
            ),
        ),
    }
}

/// The action asked for (awaiting confirmation) and the one running: kept by the page, so the
/// panel can be drawn again with fresh data without losing them.
#[derive(Clone, Copy)]
struct ActionState {
    asked: RwSignal<Option<ClusterAction>>,
    run: Action<ClusterAction, Result<(), ApiError>>,
}

impl ActionState {
    fn new() -> Self {
        let asked = RwSignal::new(None::<ClusterAction>);
        let run = Action::new_unsync(move |action: &ClusterAction| {
            let action = *action;
            async move {
                let done = api::cluster_action(action).await;
                asked.set(None);
                done.map(|_| ())
            }
        });
        Self { asked, run }
    }
}

#[component]
fn ClusterActions(info: ClusterInfo, actions: ActionState) -> impl IntoView {
    let ActionState { asked, run } = actions;
    let pending = run.pending();
    let enabled = info.enabled;
    let active = info.node.role == ClusterRole::Active;
    let info_for_confirm = info.clone();
    let button = move |action: ClusterAction, id: &'static str, label: &'static str| {
        view! {
            <button id=id type="button" class="button button-secondary"
                disabled=move || pending.get()
                on:click=move |_| asked.set(Some(action))>
                {label}
            </button>
        }
    };
    view! {
        <section class="card" aria-labelledby="cluster-actions-heading">
            <h2 id="cluster-actions-heading">"Actions"</h2>
            <div class="actions">
                {enabled.then(|| button(ClusterAction::Disable, "cluster-disable", "Disable clustering…"))}
                {(!enabled).then(|| button(ClusterAction::Establish, "cluster-establish", "Re-establish the cluster…"))}
                {(enabled && active).then(|| button(ClusterAction::Swap, "cluster-swap", "Swap roles…"))}
            </div>
            {move || asked.get().map(|action| {
                let (title, what) = action_words(action, &info_for_confirm);
                view! {
                    <div id="cluster-confirm" class="confirm" role="alertdialog"
                        aria-labelledby="cluster-confirm-title" data-action=action.as_str()>
                        <p><strong id="cluster-confirm-title">{format!("{title}?")}</strong></p>
                        <p>{what}</p>
                        <div class="actions">
                            <button id="cluster-confirm-yes" type="button" class="button button-primary"
                                disabled=move || pending.get()
                                on:click=move |_| { run.dispatch(action); }>
                                {move || if pending.get() { "Working…" } else { title }}
                            </button>
                            <button id="cluster-confirm-no" type="button" class="button button-secondary"
                                on:click=move |_| asked.set(None)>
                                "Cancel"
                            </button>
                        </div>
                    </div>
                }
            })}
            {move || run.value().get().and_then(Result::err).map(|error| view! {
                <div id="cluster-error"><ErrorDisplay error/></div>
            })}
        </section>
    }
}
