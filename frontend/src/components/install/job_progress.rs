//! The stages of a running install or rollback, live, with its outcome once it ends.

use leptos::prelude::*;
use leptos_router::components::A;
use shared::panel::{JobInfo, JobKind, JobState, StageOutcome};

use crate::api;
use crate::live::use_live;
use crate::navigation::HOME;

/// How far a job got: ended jobs first, then by stages ended and started.
fn progress(job: &JobInfo) -> (bool, usize, usize) {
    (
        job.state.is_final(),
        job.stages.iter().filter(|s| s.ended_at.is_some()).count(),
        job.stages.iter().filter(|s| s.started_at.is_some()).count(),
    )
}

/// The stages of a running install or rollback, live: from the event stream while it is open,
/// and fetched again whenever the page reconnects after the restart.
#[component]
pub fn JobProgress(
    /// The job as the server answered when it started.
    started: JobInfo,
    /// The patch's name (installs), for the outcome's words.
    what: String,
) -> impl IntoView {
    let live = use_live();
    let id = started.id;
    let fetched = LocalResource::new(move || {
        live.patches_changed.track();
        async move { api::get_job(id).await.ok() }
    });
    let job = Memo::new(move |_| {
        let mut best = started.clone();
        let candidates = [
            live.jobs.with(|jobs| jobs.get(&id).cloned()),
            fetched.get().flatten(),
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
            (_, JobState::Running) => (
                "job-outcome-running",
                match job.kind {
                    JobKind::Rollback => "Rolling back…".to_owned(),
                    _ => format!("Installing {what}…"),
                },
            ),
            (JobKind::Rollback, JobState::Succeeded) => (
                "job-outcome-ok",
                "Rolled back: the server runs the base release (no patch).".to_owned(),
            ),
            (_, JobState::Succeeded) => (
                "job-outcome-ok",
                format!("Installed: {what} runs on this server."),
            ),
            (kind, _) => (
                "job-outcome-failed",
                format!(
                    "The {} failed: {}",
                    kind.as_str(),
                    job.error.map(|e| e.message).unwrap_or_default()
                ),
            ),
        };
        view! {
            <p id="job-status" class=class data-state=job.state.as_str() role="status" aria-live="polite">
                {words}
            </p>
        }
    };
    view! {
        <section class="card" aria-labelledby="stages-heading">
            <h2 id="stages-heading">"Progress"</h2>
            {outcome}
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
            {move || job.get().state.is_final().then(|| view! {
                <A href=HOME attr:id="job-done-link" attr:class="button">"Back to General"</A>
            })}
        </section>
    }
}
