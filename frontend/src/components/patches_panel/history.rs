//! The history of the SMS Patches panel: installs and rollbacks, newest first.

use leptos::prelude::*;
use shared::panel::{HistoryEntry, JobKind, JobState};

/// Installs and rollbacks, newest first: when, what, who, from and to which level, how it
/// ended and how long it took.
#[component]
pub fn History(entries: Vec<HistoryEntry>) -> impl IntoView {
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
                                    {entries.into_iter().map(|e| view! { <HistoryRow entry=e/> }).collect_view()}
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
fn HistoryRow(entry: HistoryEntry) -> impl IntoView {
    let action = match (entry.kind, entry.patch) {
        (JobKind::Rollback, _) => "Rollback".to_owned(),
        (_, Some(patch)) => format!("Install {}", patch.level()),
        (kind, None) => kind.as_str().to_owned(),
    };
    let outcome = match entry.state {
        JobState::Running => "Running".to_owned(),
        JobState::Succeeded => "Succeeded".to_owned(),
        JobState::Cancelled => "Cancelled".to_owned(),
        JobState::Failed => format!("Failed: {}", entry.message.clone().unwrap_or_default()),
    };
    let took = entry
        .finished_at
        .map(|end| {
            let ms = (end - entry.started_at).num_milliseconds().max(0);
            format!("{:.1} s", ms as f64 / 1000.0)
        })
        .unwrap_or_default();
    let started = entry.started_at.format("%Y-%m-%d %H:%M UTC").to_string();
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
