//! The install or rollback waiting for its maintenance window: what, when, why it waits, and
//! Cancel (admins).

use leptos::prelude::*;
use shared::panel::JobInfo;
use web_core::maintenance::scheduled_in_words;

use crate::api::ApiError;
use crate::components::local_time::LocalTime;
use crate::load::Act;

/// The install or rollback waiting for its window: what, when, why it waits, and Cancel.
#[component]
pub fn ScheduledJob(
    /// The job, in state `scheduled`.
    job: JobInfo,
    /// Cancels a job by its id.
    cancel: Act<i64, Result<(), ApiError>>,
    #[prop(into)] is_admin: Signal<bool>,
) -> impl IntoView {
    let id = job.id;
    let what = scheduled_in_words(job.kind, job.patch, job.backup.as_deref());
    let pending = cancel.pending();
    view! {
        <div class="scheduled-job" data-job=id.to_string() data-kind=job.kind.as_str()>
            <p>
                <strong id="scheduled-what">{what}</strong>
                {format!(", scheduled by {}.", job.started_by)}
            </p>
            <dl class="facts">
                <dt>"Starts"</dt>
                <dd id="scheduled-for">
                    {match job.scheduled_for {
                        Some(at) => view! { <LocalTime at/> }.into_any(),
                        None => "when the next window opens".into_any(),
                    }}
                </dd>
                {job.window_end.map(|end| view! {
                    <dt>"Latest start"</dt>
                    <dd id="scheduled-window-end"><LocalTime at=end/>" (the window closes)"</dd>
                })}
                {job.schedule_note.map(|note| view! {
                    <dt>"Note"</dt>
                    <dd id="scheduled-note">{note}</dd>
                })}
            </dl>
            {move || is_admin.get().then(|| view! {
                <button
                    id="scheduled-cancel"
                    type="button"
                    class="button"
                    disabled=move || pending.get()
                    aria-busy=move || pending.get().to_string()
                    on:click=move |_| { cancel.dispatch(id); }
                >
                    {move || if pending.get() { "Cancelling…" } else { "Cancel it" }}
                </button>
            })}
        </div>
    }
}
