//! The rollback confirmation: what rolling back the installed patch will do, why the server
//! would refuse it (the shared rollback rule), and the choice: Roll back now, or in the next
//! maintenance window.

use leptos::prelude::*;
use shared::maintenance::When;
use shared::panel::{JobInfo, PatchState, PatchesView};
use web_core::paths::{HOME, ROLLBACK};

use crate::api::{self, ApiError};
use crate::components::error::ErrorDisplay;
use crate::components::install::schedule::{NextWindowButton, ScheduleAction, ScheduleRefusal};
use crate::load::{action, run};
use crate::router::{History, navigate};

/// What rolling back the installed patch will do, and the buttons: Roll back now, or in the
/// next window.
#[component]
pub fn ConfirmRollback(
    /// The SMS Patches panel's data: the installed level and patch.
    view: PatchesView,
    /// Set once the rollback started or was scheduled.
    job: RwSignal<Option<JobInfo>>,
) -> impl IntoView {
    let installed = view.installed.clone();
    let level = installed.patch_level;
    let installed_patch = view
        .available
        .iter()
        .find(|a| a.state == PatchState::Installed)
        .map(|a| a.patch.clone());
    // The rule the server enforces, in its words.
    let blocker = shared::rollback_refusal(
        level,
        installed_patch
            .as_ref()
            .map(|p| (p.display_name.as_str(), p.rollback)),
    )
    .map(|why| why.message());
    let rollback = action(move |_: &()| {
        run(async move {
            let started = api::rollback().await?;
            navigate(&format!("{ROLLBACK}?job={}", started.id), History::Replace);
            job.set(Some(started));
            Ok::<(), ApiError>(())
        })
    });
    let schedule: ScheduleAction = action(move |replace: &bool| {
        let replace = *replace;
        // The last answer of Roll back now no longer applies.
        rollback.clear();
        run(async move {
            let scheduled = api::schedule_rollback(When::NextWindow, replace).await?;
            // Followed like a started rollback: its time, then its stages once the window opens.
            navigate(
                &format!("{ROLLBACK}?job={}", scheduled.id),
                History::Replace,
            );
            job.set(Some(scheduled));
            Ok::<(), ApiError>(())
        })
    });
    let pending = rollback.pending();
    let busy = Signal::derive(move || pending.get() || schedule.pending().get());
    let error = move || rollback.value().get().and_then(Result::err);
    let refused = blocker.is_some();
    let cannot = Signal::derive(move || busy.get() || refused);
    let client = installed_patch
        .as_ref()
        .filter(|p| p.updates.updates_client())
        .map(|_| {
            view! {
                <li data-effect="client-switch">
                    "The installed patch updated the SMS client: every client is asked to switch back to the base release's client when it reconnects."
                </li>
            }
        });
    view! {
        <h1 id="rollback-title">{format!("Roll back SMS {} {}", installed.product_version, level)}</h1>
        <section class="card" aria-labelledby="effects-heading">
            <h2 id="effects-heading">"What will happen"</h2>
            <ul id="rollback-effects" class="effects">
                <li data-effect="level-0">
                    <strong>{format!("The whole patch is removed: the server goes back to the SMS {} base release, with no patch.", installed.product_version)}</strong>
                    " A rollback always returns to level 0, never to an earlier patch."
                </li>
                <li data-effect="restart">
                    <strong>"The SMS server application restarts."</strong>
                    " It is unavailable for a few seconds."
                </li>
                <li data-effect="clients">
                    <strong>"All client connections are stopped."</strong>
                    " Every open SMS client, this one included, is disconnected and reconnects by itself afterwards."
                </li>
                {client}
                <li data-effect="devices">
                    "Managed devices keep running and inspecting traffic the whole time."
                </li>
            </ul>
            {blocker.clone().map(|why| view! { <p id="rollback-blocked" class="notice" role="status">{why}</p> })}
            <div class="actions">
                <button
                    id="rollback-confirm"
                    type="button"
                    class="button button-primary"
                    disabled=move || cannot.get()
                    aria-busy=move || pending.get().to_string()
                    on:click=move |_| {
                        schedule.clear();
                        rollback.dispatch(());
                    }
                >
                    {move || if pending.get() { "Starting…" } else { "Roll back now" }}
                </button>
                <NextWindowButton what="rollback" disabled=cannot schedule/>
                <a href=HOME class="button button-secondary" id="rollback-cancel">"Cancel"</a>
            </div>
            <ScheduleRefusal what="rollback" schedule/>
            {move || error().map(|error| view! { <ErrorDisplay error/> })}
        </section>
    }
}
