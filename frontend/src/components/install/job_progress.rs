//! The stages of a running install, rollback or restore, live, with its outcome once it ends;
//! while it waits for its maintenance window, when it starts and its Cancel button.

use leptos::prelude::*;
use shared::panel::{JobInfo, JobKind, JobState, StageOutcome};
use web_core::paths::{HOME, MAINTENANCE};
use web_core::restore::{RESTORING, restored_words};

use crate::api::{self, ApiError};
use crate::components::error::ErrorDisplay;
use crate::components::local_time::{LocalTime, local_time};
use crate::live::use_live;
use crate::load::{Loaded, action, fetch, resource, run};
use crate::router::use_location;

/// The job a page follows, from its `?job=` (kept in the address so that a reload, e.g. to load
/// the server's new client, comes back to it).
/// A job that cannot be fetched (e.g. the server is restarting right then) is simply not shown:
/// the page's own job, once started, is followed live anyway.
pub fn followed_job() -> Loaded<Option<JobInfo>> {
    let location = use_location();
    let id = move || location.query("job").and_then(|j| j.parse::<i64>().ok());
    resource(move || {
        let id = id();
        fetch(async move {
            Ok(match id {
                Some(id) => api::get_job(id).await.ok(),
                None => None,
            })
        })
    })
}

/// How far a job got: ended jobs first, then started ones (a scheduled job waits), then by
/// stages ended and started.
fn progress(job: &JobInfo) -> (bool, bool, usize, usize) {
    (
        job.state.is_final(),
        job.state != JobState::Scheduled,
        job.stages.iter().filter(|s| s.ended_at.is_some()).count(),
        job.stages.iter().filter(|s| s.started_at.is_some()).count(),
    )
}

/// The stages of a running install, rollback or restore, live: from the event stream while it
/// is open, and fetched again whenever the page reconnects after the restart.
#[component]
pub fn JobProgress(
    /// The job as the server answered when it started.
    started: JobInfo,
    /// The patch's name (installs), for the outcome's words.
    what: String,
) -> impl IntoView {
    let live = use_live();
    let id = started.id;
    let fetched = resource(move || {
        live.patches_changed.track();
        api::get_job(id)
    });
    let job = Memo::new(move |_| {
        let mut best = started.clone();
        let candidates = [
            live.jobs.with(|jobs| jobs.get(id).cloned()),
            fetched.get().and_then(Result::ok),
        ];
        for candidate in candidates.into_iter().flatten() {
            if progress(&candidate) > progress(&best) {
                best = candidate;
            }
        }
        best
    });
    let outcome = move || {
        let job = job.get();
        let (class, words) = match (job.kind, job.state) {
            (kind, JobState::Scheduled) => (
                "job-outcome-scheduled",
                match job.scheduled_for {
                    Some(at) => {
                        format!("The {} is scheduled for {}.", kind.as_str(), local_time(at))
                    }
                    None => format!("The {} is scheduled.", kind.as_str()),
                },
            ),
            (_, JobState::Running) => (
                "job-outcome-running",
                match (job.kind, &job.backup) {
                    (JobKind::Rollback, Some(_)) => {
                        "Rolling back by restoring the database backup…".to_owned()
                    }
                    (JobKind::Rollback, None) => "Rolling back…".to_owned(),
                    (JobKind::Restore, _) => RESTORING.to_owned(),
                    (JobKind::Install | JobKind::Download | JobKind::Backup, _) => {
                        format!("Installing {what}…")
                    }
                },
            ),
            (JobKind::Rollback, JobState::Succeeded) => (
                "job-outcome-ok",
                match &job.backup {
                    Some(id) => format!(
                        "Rolled back: the server runs the base release (no patch), with the \
                         database of the backup {id}."
                    ),
                    None => "Rolled back: the server runs the base release (no patch).".to_owned(),
                },
            ),
            (JobKind::Restore, JobState::Succeeded) => {
                ("job-outcome-ok", restored_words(job.backup.as_deref()))
            }
            (_, JobState::Succeeded) => (
                "job-outcome-ok",
                format!("Installed: {what} runs on this server."),
            ),
            (kind, JobState::Cancelled) => (
                "job-outcome-cancelled",
                format!("The {} was cancelled: nothing was changed.", kind.as_str()),
            ),
            (kind, JobState::Failed) => (
                "job-outcome-failed",
                format!(
                    "The {} failed: {}",
                    kind.as_str(),
                    job.error.map(|e| e.message).unwrap_or_default()
                ),
            ),
        };
        view! {
            <p id="job-status" class=class data-state=job.state.as_str()>
                {words}
            </p>
        }
    };
    let waiting = move || {
        let job = job.get();
        (job.state == JobState::Scheduled).then(|| view! { <ScheduledJob job/> })
    };
    view! {
        <section class="card" aria-labelledby="stages-heading">
            <h2 id="stages-heading">"Progress"</h2>
            // A live region that stays while its words change: each change is announced.
            <div id="job-announcer" role="status" aria-live="polite">{outcome}</div>
            {waiting}
            <ol id="job-stages" class="job-stages">
                {move || job.get().stages.into_iter().map(|stage| {
                    let status = match (&stage.started_at, &stage.ended_at, stage.outcome) {
                        (_, Some(_), Some(StageOutcome::Ok)) => "ok",
                        (_, Some(_), _) => "failed",
                        (Some(_), None, _) => "running",
                        (None, None, _) => "pending",
                    };
                    let mark = match status {
                        "ok" => "✓",
                        "failed" => "✗",
                        "running" => "…",
                        _ => "·",
                    };
                    view! {
                        <li data-stage=stage.name.as_str() data-status=status>
                            <span class="mark" aria-hidden="true">{mark}</span>
                            <span>{stage.name.in_words()}</span>
                            <span class="visually-hidden">{format!(" ({status})")}</span>
                        </li>
                    }
                }).collect_view()}
            </ol>
            {move || {
                let state = job.get().state;
                // A scheduled job runs by itself: the admin may leave.
                let can_leave = state.is_final() || state == JobState::Scheduled;
                can_leave.then(|| view! {
                    <a href=HOME id="job-done-link" class="button">"Back to General"</a>
                })
            }}
        </section>
    }
}

/// A job waiting for its window: when it starts, until when it may, what it waits for, and
/// Cancel (`#install-scheduled` or `#rollback-scheduled`).
#[component]
fn ScheduledJob(
    /// The job, in state `scheduled`.
    job: JobInfo,
) -> impl IntoView {
    let live = use_live();
    let id = job.id;
    let kind = job.kind.as_str();
    let cancel = action(move |_: &()| {
        run(async move {
            let cancelled = api::cancel_job(id).await?;
            live.jobs.update(|jobs| jobs.insert(cancelled));
            live.bump();
            Ok::<(), ApiError>(())
        })
    });
    let pending = cancel.pending();
    view! {
        <div id=format!("{kind}-scheduled") class="notice scheduled-job" role="status">
            <p>
                <strong>
                    {match job.scheduled_for {
                        Some(at) => view! { "Scheduled for " <LocalTime at/> }.into_any(),
                        None => "Scheduled".into_any(),
                    }}
                </strong>
                {job.window_end.map(|end| view! { " (the window closes " <LocalTime at=end/> ")" })}
                "."
            </p>
            {job.schedule_note.map(|note| view! { <p class="schedule-note">{note}</p> })}
            <p>
                {format!(
                    "The {kind} starts by itself when its window opens, and this page follows it. \
                     Until then you can cancel it here, in the SMS Patches panel's history or on "
                )}
                <a href=MAINTENANCE>"Admin > Maintenance"</a>
                "."
            </p>
            <div class="actions">
                <button
                    id="job-cancel"
                    type="button"
                    class="button"
                    disabled=move || pending.get()
                    aria-busy=move || pending.get().to_string()
                    on:click=move |_| { cancel.dispatch(()); }
                >
                    {move || if pending.get() { "Cancelling…".to_owned() } else { format!("Cancel the scheduled {kind}") }}
                </button>
            </div>
            {move || cancel.value().get().and_then(Result::err).map(|error| view! { <ErrorDisplay error/> })}
        </div>
    }
}
