//! Admin > Backups: the database's backups (when, why, the level each holds, its size, who
//! asked) and where they are kept; "Back up now" (admins), followed to its outcome; each
//! backup's Download link, Restore and Delete buttons (admins; a restore or a deletion is
//! confirmed first), and the restore followed through the server's restart.

use std::time::Duration;

use leptos::prelude::*;
use shared::backup::BackupList;
use web_core::backups::{ADMINS_ONLY, Progress, job_in_words, kept_in};

use crate::api::{self, ApiError};
use crate::components::backups::restore::{RestoreConfirm, RestoreProgress, Restoring};
use crate::components::backups::{BackupsTable, DeleteConfirm, Deleting};
use crate::components::error::ErrorDisplay;
use crate::components::install::job_progress::followed_job;
use crate::components::loaded::{Place, loaded};
use crate::components::set_page_title;
use crate::components::shell_data::use_shell;
use crate::live::{Live, use_live};
use crate::load::{Loaded, action, resource, run};
use crate::poll;

/// How often the page asks after the backup it started while it runs, besides the event
/// stream (which tells its end at once, but may be down).
const FOLLOW_MS: u64 = 1000;

/// The Backups page.
#[component]
pub fn BackupsPage() -> impl IntoView {
    set_page_title("Backups");
    let shell = use_shell();
    let live = use_live();
    let is_admin = Signal::derive(move || {
        shell
            .session
            .get()
            .and_then(Result::ok)
            .is_some_and(|session| session.role.is_admin())
    });
    // Fetched again whenever the server's data changed (a job ended, such as an install that
    // took a backup first; the event stream came back), and drawn again only if it changed.
    let fetched = resource(move || {
        live.patches_changed.track();
        api::list_backups()
    });
    let list = Memo::new(move |_| fetched.get());
    let deleting = Deleting::new(fetched);
    let restoring = Restoring::default();
    // The restore the address names (`?job=`): followed again after a reload.
    let followed = followed_job();
    let dir = move || {
        list.with(|list| {
            let list = list.as_ref()?.as_ref().ok()?;
            Some(view! { <p id="backups-dir" class="backups-dir muted">{kept_in(&list.dir)}</p> })
        })
    };

    view! {
        <div id="backups-page" class="page">
            <h1>"Backups"</h1>
            <p class="page-intro">
                "Copies of the SMS server's database, each in a file of its own: taken on \
                 demand, before the install of a patch that changes the database, and on \
                 schedule. Download one to keep a copy away from this server."
            </p>
            <p id="backups-restore-how" class="note">
                "Restoring one (admins: its Restore button) returns the database to how it was \
                 when the backup was taken: everything written since is lost, and the server \
                 restarts. When this console cannot be reached, stop the SMS server and run "
                <code>"sms backup restore NAME"</code>
                " on it."
            </p>
            <RestoreProgress restoring followed/>
            <section class="card" aria-labelledby="backups-heading">
                // Focusable, so that the focus has somewhere to go once a backup is deleted.
                <h2 id="backups-heading" tabindex="-1">"Database backups"</h2>
                {dir}
                {move || if is_admin.get() {
                    view! { <TakeBackup list=fetched live deleting/> }.into_any()
                } else {
                    view! { <p id="backups-admins-only" class="note">{ADMINS_ONLY}</p> }.into_any()
                }}
                {loaded(move || list.get(), Place::Bare, "the backups", move |list| {
                    view! { <BackupsTable backups=list.backups is_admin deleting restoring/> }
                        .into_any()
                })}
                <RestoreConfirm restoring/>
                <DeleteConfirm deleting/>
            </section>
        </div>
    }
}

/// "Back up now": starts the backup job, follows it (the event stream, and a look every
/// second while it runs), says that it runs and then how it ended, and shows the new backup
/// in the list once it is there.
#[component]
fn TakeBackup(
    /// The backups list, fetched again once the job ended.
    list: Loaded<BackupList>,
    /// The event stream's news: the job's state.
    live: Live,
    /// The deletions, whose last word goes once a backup is taken.
    deleting: Deleting,
) -> impl IntoView {
    let take = action(move |_: &()| {
        run(async move {
            let job = api::take_backup().await?;
            let id = job.id;
            // The stream may have told more of it already, even its end.
            live.jobs.update(|jobs| jobs.insert_new(job));
            Ok::<i64, ApiError>(id)
        })
    });
    // The job this page started, as last seen.
    let job = Memo::new(move |_| {
        let id = take.value().get().and_then(Result::ok)?;
        live.jobs.with(|jobs| jobs.get(id).cloned())
    });
    let running = Signal::derive(move || {
        take.pending().get() || job.with(|job| job.as_ref().is_some_and(|j| !j.state.is_final()))
    });
    poll::every(Duration::from_millis(FOLLOW_MS), move || {
        let id = job
            .try_with_untracked(|job| job.as_ref().filter(|j| !j.state.is_final()).map(|j| j.id))
            .flatten()?;
        Some(run(async move {
            if let Ok(fresh) = api::get_job(id).await {
                live.jobs.try_update(|jobs| jobs.insert_unless_ended(fresh));
            }
        }))
    });
    // Once it ended the list shows the new backup without a reload (the stream's news of the
    // end fetches it too, when the stream is up).
    Effect::new(move |was_ended: Option<bool>| {
        let ended = job.with(|job| job.as_ref().is_some_and(|j| j.state.is_final()));
        if ended && was_ended == Some(false) {
            list.refetch();
        }
        ended
    });
    let status = move || {
        job.get().map(|job| {
            let (progress, words) = job_in_words(&job);
            let class = match progress {
                Progress::Running => "backup-running",
                Progress::Succeeded => "job-outcome-ok",
                Progress::Failed => "job-outcome-failed",
                Progress::Cancelled => "job-outcome-cancelled",
            };
            view! {
                <p id="backup-status" class=class data-state=progress.as_str()>
                    {(progress == Progress::Running)
                        .then(|| view! { <span class="spinner" aria-hidden="true"></span> })}
                    <span>{words}</span>
                </p>
            }
        })
    };

    view! {
        <div class="actions backup-actions">
            <button
                id="backup-now"
                type="button"
                class="button button-primary"
                aria-describedby="backup-now-help"
                disabled=move || running.get()
                aria-busy=move || running.get().to_string()
                on:click=move |_| {
                    if !running.get_untracked() {
                        deleting.remove.clear();
                        take.dispatch(());
                    }
                }
            >
                {move || if running.get() { "Backing up…" } else { "Back up now" }}
            </button>
            <span id="backup-now-help" class="muted small">
                "Copies the whole database into a new file in this folder."
            </span>
        </div>
        // A live region that stays while its words change: each change is announced.
        <div id="backup-announcer" role="status" aria-live="polite">{status}</div>
        {move || take.value().get().and_then(Result::err).map(|error| view! {
            <div id="backup-error"><ErrorDisplay error/></div>
        })}
    }
}
