//! The history of the SMS Patches panel: installs and rollbacks, newest first, with the one
//! scheduled for a maintenance window (and, for admins, its Cancel button).

use leptos::prelude::*;
use shared::panel::{HistoryEntry, JobKind, JobState};

use crate::api::{self, ApiError};
use crate::components::error::ErrorDisplay;
use crate::components::local_time::{LocalTime, in_utc};
use crate::live::use_live;

/// Installs and rollbacks, newest first: when, what, who, from and to which level, how it
/// ended and how long it took; a scheduled one says when it starts.
#[component]
pub fn History(
    /// The entries, newest first.
    entries: Vec<HistoryEntry>,
    /// Whether the user may cancel a scheduled job (admins).
    is_admin: bool,
) -> impl IntoView {
    view! {
        <div class="field">
            <span class="field-label">"History"</span>
            <div class="field-value" id="patch-history">
                {if entries.is_empty() {
                    view! { <span class="muted">"No installs or rollbacks yet."</span> }.into_any()
                } else {
                    view! {
                        <div class="table-scroll">
                            <table class="table history-table">
                                <caption class="visually-hidden">"Installs and rollbacks, newest first"</caption>
                                <thead>
                                    <tr>
                                        <th scope="col">"Started"</th>
                                        <th scope="col">"Action"</th>
                                        <th scope="col">"By"</th>
                                        <th scope="col">"Levels"</th>
                                        <th scope="col">"Outcome"</th>
                                        <th scope="col">"Took"</th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {entries
                                        .into_iter()
                                        .map(|e| view! { <HistoryRow entry=e is_admin/> })
                                        .collect_view()}
                                </tbody>
                            </table>
                        </div>
                    }.into_any()
                }}
            </div>
        </div>
    }
}

#[component]
fn HistoryRow(entry: HistoryEntry, is_admin: bool) -> impl IntoView {
    let action = match (entry.kind, entry.patch) {
        (JobKind::Rollback, _) => "Rollback".to_owned(),
        (_, Some(patch)) => format!("Install {}", patch.level()),
        (kind, None) => kind.as_str().to_owned(),
    };
    let outcome = match entry.state {
        JobState::Scheduled => {
            view! { <ScheduledOutcome entry=entry.clone() is_admin/> }.into_any()
        }
        JobState::Running => "Running".into_any(),
        JobState::Succeeded => "Succeeded".into_any(),
        JobState::Cancelled => "Cancelled".into_any(),
        JobState::Failed => {
            format!("Failed: {}", entry.message.clone().unwrap_or_default()).into_any()
        }
    };
    let took = entry
        .finished_at
        .map(|end| {
            let ms = (end - entry.started_at).num_milliseconds().max(0);
            format!("{:.1} s", ms as f64 / 1000.0)
        })
        .unwrap_or_default();
    let started = in_utc(entry.started_at);
    view! {
        <tr data-job=entry.job.to_string() data-kind=entry.kind.as_str() data-state=entry.state.as_str()>
            <td><time datetime=entry.started_at.to_rfc3339()>{started}</time></td>
            <td class="history-action">{action}</td>
            <td class="history-by">{entry.by.clone()}</td>
            <td class="history-levels">{format!("{} → {}", entry.from_level, entry.to_level)}</td>
            <td class="history-message">{outcome}</td>
            <td class="history-took">{took}</td>
        </tr>
    }
}

/// "Scheduled for <time>" (in the browser's time zone) and, for admins, Cancel.
#[component]
fn ScheduledOutcome(
    /// The scheduled job's entry.
    entry: HistoryEntry,
    /// Whether the user may cancel it.
    is_admin: bool,
) -> impl IntoView {
    let live = use_live();
    let job = entry.job;
    let cancel = Action::new_unsync(move |_: &()| async move {
        api::cancel_job(job).await?;
        // The panel's data is fetched again: the row then says "Cancelled".
        live.bump();
        Ok::<(), ApiError>(())
    });
    let pending = cancel.pending();
    let label = match (entry.kind, entry.patch) {
        (JobKind::Install, Some(patch)) => {
            format!("Cancel the scheduled install of {}", patch.level())
        }
        (kind, _) => format!("Cancel the scheduled {}", kind.as_str()),
    };
    view! {
        <span class="history-scheduled">
            {match entry.scheduled_for {
                Some(at) => view! { "Scheduled for " <LocalTime at/> }.into_any(),
                None => "Scheduled".into_any(),
            }}
        </span>
        {is_admin.then(|| view! {
            <div class="actions">
                <button
                    type="button"
                    class="button history-cancel"
                    disabled=move || pending.get()
                    aria-busy=move || pending.get().to_string()
                    aria-label=label
                    on:click=move |_| { cancel.dispatch(()); }
                >
                    {move || if pending.get() { "Cancelling…" } else { "Cancel" }}
                </button>
            </div>
        })}
        {move || cancel.value().get().and_then(Result::err).map(|error| view! { <ErrorDisplay error/> })}
    }
}
