//! The history of the SMS Patches panel: installs, rollbacks and restores, newest first, with
//! the one scheduled for a maintenance window (and, for admins, its Cancel button); older ones a
//! page at a time ("Show older").

use leptos::prelude::*;
use shared::panel::{HISTORY_PER_PAGE, HistoryEntry, JobKind, JobState};
use web_core::restore::restore_in_history;
use web_core::times::in_utc;
use web_core::words::tenths;

use crate::api::{self, ApiError};
use crate::components::error::ErrorDisplay;
use crate::components::local_time::LocalTime;
use crate::components::table::DataTable;
use crate::live::use_live;
use crate::load::{action, run};

/// Installs and rollbacks, newest first: when, what, who, from and to which level, how it
/// ended and how long it took; a scheduled one says when it starts.
#[component]
pub fn History(
    /// The newest entries (the first page), newest first.
    entries: Vec<HistoryEntry>,
    /// How many entries there are in all.
    total: u64,
    /// Whether the user may cancel a scheduled job (admins).
    is_admin: bool,
) -> impl IntoView {
    if entries.is_empty() {
        return view! {
            <div class="field">
                <span class="field-label">"History"</span>
                <div class="field-value" id="patch-history">
                    <span class="muted">"No installs or rollbacks yet."</span>
                </div>
            </div>
        }
        .into_any();
    }
    let first_ids = StoredValue::new(entries.iter().map(|e| e.job).collect::<Vec<i64>>());
    let first_count = entries.len() as u64;
    // The older pages fetched so far, and the next one to fetch.
    let older = RwSignal::new(Vec::<HistoryEntry>::new());
    let next_page = RwSignal::new(2_u64);
    // Set once a page reaches the end: skipped duplicates must not leave the button forever.
    let at_end = RwSignal::new(false);
    let shown = move || first_count + older.with(|o| o.len() as u64);
    let show_older = action(move |_: &()| {
        run(async move {
            let page = api::get_history(next_page.get_untracked(), HISTORY_PER_PAGE).await?;
            next_page.update(|n| *n += 1);
            if page.page.saturating_mul(page.per_page) >= page.total {
                at_end.set(true);
            }
            older.update(|o| {
                // A new job pushes every entry one place down: skip what is already shown.
                let seen = |job: i64| {
                    o.iter().any(|e| e.job == job) || first_ids.with_value(|ids| ids.contains(&job))
                };
                let fresh: Vec<HistoryEntry> =
                    page.entries.into_iter().filter(|e| !seen(e.job)).collect();
                o.extend(fresh);
            });
            Ok::<(), ApiError>(())
        })
    });
    let pending = show_older.pending();
    let more = move || {
        if at_end.get() {
            0
        } else {
            total.saturating_sub(shown())
        }
    };
    view! {
        <div class="field">
            <span class="field-label">"History"</span>
            <div class="field-value" id="patch-history">
                <DataTable
                    label="Installs and rollbacks, newest first"
                    class="table history-table"
                    columns=&["Started", "Action", "By", "Levels", "Outcome", "Took"]
                >
                    {entries
                        .into_iter()
                        .map(|e| view! { <HistoryRow entry=e is_admin/> })
                        .collect_view()}
                    {move || older
                        .get()
                        .into_iter()
                        .map(|e| view! { <HistoryRow entry=e is_admin/> })
                        .collect_view()}
                </DataTable>
                <p class="history-count muted small" id="history-count">
                    {move || format!("{} of {total} shown", shown().min(total))}
                </p>
                {move || (more() > 0).then(|| view! {
                    <button
                        type="button"
                        class="button"
                        id="history-older"
                        disabled=move || pending.get()
                        aria-busy=move || pending.get().to_string()
                        on:click=move |_| { show_older.dispatch(()); }
                    >
                        {move || if pending.get() {
                            "Loading…".to_owned()
                        } else {
                            format!("Show older ({} more)", more())
                        }}
                    </button>
                })}
                {move || show_older.value().get().and_then(Result::err).map(|error| view! { <ErrorDisplay error/> })}
            </div>
        </div>
    }
    .into_any()
}

#[component]
fn HistoryRow(entry: HistoryEntry, is_admin: bool) -> impl IntoView {
    let action = match (entry.kind, entry.patch) {
        (JobKind::Rollback, _) => match entry.backup.as_deref() {
            Some(id) => format!("Rollback, restoring backup {id}").into_any(),
            None => "Rollback".into_any(),
        },
        (JobKind::Restore, _) => restore_in_history(entry.backup.as_deref()).into_any(),
        (JobKind::Install | JobKind::Download | JobKind::Backup, Some(patch)) => {
            format!("Install {}", patch.level()).into_any()
        }
        (kind @ (JobKind::Install | JobKind::Download | JobKind::Backup), None) => {
            kind.as_str().into_any()
        }
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
            let ms = (end - entry.started_at)
                .num_milliseconds()
                .max(0)
                .unsigned_abs();
            format!("{} s", tenths((ms + 50) / 100))
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
    let cancel = action(move |_: &()| {
        run(async move {
            api::cancel_job(job).await?;
            // The panel's data is fetched again: the row then says "Cancelled".
            live.bump();
            Ok::<(), ApiError>(())
        })
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
