//! Admin > HA cluster: this node and its peer (role, address, version, patch level), whether
//! clustering is enabled, what differs between the nodes, the patch procedure, and the actions
//! it needs (disable, re-establish, swap roles), each confirmed first. Live.

use std::time::Duration;

use leptos::prelude::*;

use crate::api;
use crate::components::cluster::{ActionState, ClusterView};
use crate::components::loaded::{Place, loaded};
use crate::components::set_page_title;
use crate::components::shell_data::use_shell;
use crate::load::run;
use crate::poll;

/// How often the cluster page asks again for the peer's state.
const PEER_REFRESH_MS: u64 = 2000;

/// The HA cluster page, looking at the peer again every few seconds.
#[component]
pub fn ClusterPage() -> impl IntoView {
    set_page_title("HA cluster");
    let shell = use_shell();
    // The peer changes without telling this node (its level after an install, going down):
    // look again every few seconds while the page is open.
    let actions = ActionState::new();
    poll::every(Duration::from_millis(PEER_REFRESH_MS), move || {
        // Not under an open confirmation: it would be drawn again under the admin's cursor.
        if actions.asked.get_untracked().is_some() || actions.run.pending().get_untracked() {
            return None;
        }
        Some(run(async move {
            // Drawn again only when something changed.
            let fresh = api::get_cluster().await.ok();
            let shown = shell.cluster.get_untracked().and_then(Result::ok);
            if fresh.is_some() && fresh != shown {
                shell.cluster.refetch();
            }
        }))
    });
    view! {
        <div id="cluster-page" class="page">
            <h1>"HA cluster"</h1>
            {loaded(
                move || {
                    let info = shell.cluster.get()?;
                    let admin = shell.session.get()?.is_ok_and(|s| s.role.is_admin());
                    Some(info.map(|info| (info, admin)))
                },
                Place::Card,
                "the cluster",
                move |(info, admin)| view! { <ClusterView info admin actions/> }.into_any(),
            )}
        </div>
    }
}
