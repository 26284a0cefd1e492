//! The HA cluster page's content: whether clustering is enabled, what differs between the
//! nodes, a card per node, the patch procedure, and (for admins) the actions.

use leptos::prelude::*;
use shared::cluster::{ClusterInfo, ClusterRole, HA_PROCEDURE, NodeInfo};
use web_core::times::in_utc;

use crate::components::cluster::actions::{ActionState, ClusterActions};

fn role_words(role: ClusterRole) -> &'static str {
    match role {
        ClusterRole::Active => "Active",
        ClusterRole::Passive => "Passive",
        ClusterRole::Standalone => "Standalone (clustering disabled)",
    }
}

/// The cluster's state, both nodes, the patch procedure, and the actions for admins.
#[component]
pub fn ClusterView(info: ClusterInfo, admin: bool, actions: ActionState) -> impl IntoView {
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
        (Some(by), Some(at)) => format!(" (changed by {by}, {})", in_utc(at)),
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

/// One node: its name, role, version and patch level, or why it does not answer.
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
                        {n.patch_level.to_string()}
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
