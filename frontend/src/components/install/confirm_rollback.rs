//! The rollback confirmation: what rolling back the installed patch will do, why the server
//! would refuse it (the shared rollback rule), whether to restore the database backup taken
//! before the patch's install (when one is kept), and the choice: Roll back now, or in the next
//! maintenance window.

use leptos::prelude::*;
use shared::PatchId;
use shared::api::ServerInfo;
use shared::backup::rollback_backup;
use shared::maintenance::When;
use shared::panel::{JobInfo, PatchState, PatchesView};
use web_core::paths::{HOME, ROLLBACK};
use web_core::restore::{ROLLBACK_RESTORE_HELP, no_rollback_backup, rollback_restore_label};

use crate::api::{self, ApiError};
use crate::components::error::ErrorDisplay;
use crate::components::install::schedule::{NextWindowButton, ScheduleAction, ScheduleRefusal};
use crate::components::local_time::local_time;
use crate::load::{action, resource, run};
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
    // Whether the rollback restores the backup taken before the patch's install (now only).
    let restore = RwSignal::new(false);
    let rollback = action(move |restoring: &bool| {
        let restoring = *restoring;
        run(async move {
            let started = if restoring {
                api::rollback_restoring().await?
            } else {
                api::rollback().await?
            };
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
    let not_scheduled = Signal::derive(move || cannot.get() || restore.get());
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
            <RestoreBackupOption installed=installed.clone() restore disabled=cannot/>
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
                        rollback.dispatch(restore.get_untracked());
                    }
                >
                    {move || if pending.get() { "Starting…" } else { "Roll back now" }}
                </button>
                <NextWindowButton what="rollback" disabled=not_scheduled schedule/>
                <a href=HOME class="button button-secondary" id="rollback-cancel">"Cancel"</a>
            </div>
            <ScheduleRefusal what="rollback" schedule/>
            {move || error().map(|error| view! { <ErrorDisplay error/> })}
        </section>
    }
}

/// "Restore the database backup taken before Patch N was installed": offered when a backup
/// taken before the installed patch's install is kept ([`rollback_backup`], the rule the server
/// uses), with what it loses and keeps; without it, the patch's migrations are undone.
#[component]
fn RestoreBackupOption(
    /// What the server runs now.
    installed: ServerInfo,
    /// Whether the rollback restores the backup.
    restore: RwSignal<bool>,
    /// Whether the choice cannot be made (the rollback is refused, or on its way).
    #[prop(into)]
    disabled: Signal<bool>,
) -> impl IntoView {
    let level = installed.patch_level;
    let Ok(patch) = PatchId::new(installed.product_version, level.0) else {
        // No patch installed: nothing to roll back, nothing to restore.
        return None;
    };
    let patch = patch.to_string();
    let backups = resource(api::list_backups);
    // The backup the rollback would restore, once the list is there.
    let offered = Memo::new(move |_| {
        backups
            .get()
            .map(|answer| answer.map(|list| rollback_backup(&list.backups, &patch).cloned()))
    });
    // A choice made before the offer went away must not go out unseen.
    Effect::new(move || {
        if !offered.with(|offered| matches!(offered, Some(Ok(Some(_))))) {
            restore.set(false);
        }
    });
    let offer = move || match offered.get()? {
        Ok(None) => Some(
            view! {
                <p id="rollback-restore-none" class="muted">{no_rollback_backup(level)}</p>
            }
            .into_any(),
        ),
        Ok(Some(backup)) => {
            let label = rollback_restore_label(level, &local_time(backup.taken_at));
            Some(
                view! {
                    <div id="rollback-restore" class="field" data-backup=backup.id.clone()>
                        <div class="check-row">
                            <input
                                id="rollback-restore-backup"
                                type="checkbox"
                                aria-describedby="rollback-restore-help"
                                prop:checked=move || restore.get()
                                disabled=move || disabled.get()
                                on:change=move |event| restore.set(event_target_checked(&event))
                            />
                            <label for="rollback-restore-backup">{label}</label>
                        </div>
                        <p id="rollback-restore-help" class="muted small">{ROLLBACK_RESTORE_HELP}</p>
                    </div>
                }
                .into_any(),
            )
        }
        Err(error) => Some(
            view! {
                <p id="rollback-restore-unknown" class="muted">
                    {format!(
                        "Restoring the backup taken before the install is not offered: the \
                         backups cannot be read ({})",
                        error.message
                    )}
                </p>
            }
            .into_any(),
        ),
    };
    Some(offer)
}
