//! The HA cluster actions (disable, re-establish, swap roles), each confirmed first.

use leptos::prelude::*;
use shared::cluster::{ClusterAction, ClusterInfo, ClusterRole};

use crate::api::{self, ApiError};
use crate::components::error::ErrorDisplay;
use crate::load::{Act, action, run};

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
pub struct ActionState {
    /// The action awaiting confirmation.
    pub asked: RwSignal<Option<ClusterAction>>,
    /// The action running (or last run) and its outcome.
    pub run: Act<ClusterAction, Result<(), ApiError>>,
}

impl ActionState {
    /// Nothing asked, nothing running.
    pub(crate) fn new() -> Self {
        let asked = RwSignal::new(None::<ClusterAction>);
        let run = action(move |action: &ClusterAction| {
            let action = *action;
            run(async move {
                let done = api::cluster_action(action).await;
                asked.set(None);
                done.map(|_| ())
            })
        });
        Self { asked, run }
    }
}

/// The action buttons, the confirmation of the one asked for, and its error.
#[component]
pub fn ClusterActions(info: ClusterInfo, actions: ActionState) -> impl IntoView {
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
