//! The available patches of the SMS Patches panel: one row per patch with its facts (what its
//! payload changes under its title) and its state (live download progress), and the Download,
//! Install and Cancel buttons for admins.

use leptos::prelude::*;
use shared::PatchId;
use shared::effects::changes_fact;
use shared::panel::{AvailablePatch, JobKind, JobState, PatchState};
use web_core::paths::{install_patch, patch_details};
use web_core::words::size_in_mb;

use crate::api::{self, ApiError};
use crate::components::error::ErrorDisplay;
use crate::components::patch_details::state_in_words;
use crate::components::table::DataTable;
use crate::live::use_live;
use crate::load::{action, run};

/// The available patches, newest first.
#[component]
pub fn AvailableTable(patches: Vec<AvailablePatch>, is_admin: bool) -> impl IntoView {
    if patches.is_empty() {
        return view! {
            <p id="no-patches" class="muted">
                "No patches are known yet: the TMC has none for this server, or it was not \
                 reached yet. Imported patch files show here too."
            </p>
        }
        .into_any();
    }
    view! {
        <DataTable
            label="Available patches, newest first"
            id="patches-table"
            columns=&["Patch", "Released", "Size", "Updates client", "Reboot required", "Database changes", "State"]
        >
            {patches
                .into_iter()
                .map(|patch| view! { <PatchRow patch is_admin/> })
                .collect_view()}
        </DataTable>
    }
    .into_any()
}

#[component]
fn PatchRow(patch: AvailablePatch, is_admin: bool) -> impl IntoView {
    let live = use_live();
    let id = patch.patch.id;
    let facts = patch.patch.clone();
    let state = patch.state.clone();
    // Live download progress overrides the state the view was loaded with; when the job ends
    // the view is fetched again.
    let live_state = Signal::derive(move || {
        live.jobs.with(|jobs| {
            let running = jobs
                .iter()
                .filter(|j| {
                    j.patch == Some(id)
                        && j.kind == JobKind::Download
                        && j.state == JobState::Running
                })
                .max_by_key(|j| j.id);
            match (running, &state) {
                (
                    Some(job),
                    PatchState::Available
                    | PatchState::Superseded { .. }
                    | PatchState::Downloading { .. },
                ) => PatchState::Downloading {
                    job: job.id,
                    percent: job.percent(),
                },
                _ => state.clone(),
            }
        })
    });
    let download = action(move |id: &PatchId| {
        let id = *id;
        run(async move {
            let job = api::download_patch(id).await?;
            live.jobs.update(|jobs| jobs.insert_new(job));
            Ok::<(), ApiError>(())
        })
    });
    let cancel = action(move |job: &i64| {
        let job = *job;
        run(async move { api::cancel_job(job).await.map(|_| ()) })
    });
    let error = move || {
        download
            .value()
            .get()
            .and_then(Result::err)
            .or_else(|| cancel.value().get().and_then(Result::err))
    };
    let failed = move || {
        live.jobs.with(|jobs| {
            jobs.iter()
                .filter(|j| j.patch == Some(id) && j.state == JobState::Failed)
                .max_by_key(|j| j.id)
                .and_then(|j| j.error.clone())
        })
    };
    let released = facts.released.to_string();
    let name = facts.display_name.clone();
    view! {
        <tr data-patch=id.to_string() class:recommended=patch.recommended>
            <th scope="row">
                <a href=patch_details(id) class="patch-name">{name.clone()}</a>
                {patch.recommended.then(|| view! { <span class="badge badge-recommended">"Recommended"</span> })}
                <div class="muted small">{facts.title.clone()}</div>
                <div class="patch-changes small">
                    <span class="muted">"Changes: "</span>
                    {changes_fact(facts.changes.as_ref(), patch.in_repository)}
                </div>
            </th>
            <td><time datetime=released.clone()>{released.clone()}</time></td>
            <td title=format!("{} bytes", facts.size)>{size_in_mb(facts.size)}</td>
            <td class="updates-client">{yes_no(facts.updates.updates_client())}</td>
            <td class="reboot-required">{yes_no(facts.restart == shared::effects::Restart::Reboot)}</td>
            <td class="database-changes">{facts.database_changes_in_words()}</td>
            <td class="patch-state">
                // Announced as it changes: Downloading… 40%, Downloaded.
                <span class="state-announcer" aria-live="polite">
                    {move || state_view(&live_state.get())}
                </span>
                {move || failed().map(|e| view! {
                    <div class="download-error small" role="alert">{e.message}</div>
                })}
                {move || error().map(|error| view! { <ErrorDisplay error/> })}
            {is_admin.then(|| view! {
                <div class="actions">
                    {move || match live_state.get() {
                        PatchState::Available | PatchState::Superseded { .. } if !patch.in_repository => view! {
                            <button
                                type="button"
                                class="button download"
                                disabled=move || download.pending().get()
                                on:click=move |_| { download.dispatch(id); }
                                aria-label=format!("Download {}", facts.display_name)
                            >
                                "Download"
                            </button>
                        }.into_any(),
                        PatchState::Downloaded | PatchState::Superseded { .. } if patch.in_repository => view! {
                            <a
                                href=install_patch(id)
                                class="button button-primary install"
                                aria-label=format!("Install {}", facts.display_name)
                            >
                                "Install…"
                            </a>
                        }.into_any(),
                        PatchState::Downloading { job, .. } => view! {
                            <button
                                type="button"
                                class="button cancel"
                                on:click=move |_| { cancel.dispatch(job); }
                                aria-label=format!("Cancel the download of {}", facts.display_name)
                            >
                                "Cancel"
                            </button>
                        }.into_any(),
                        _ => ().into_any(),
                    }}
                </div>
            })}
            </td>
        </tr>
    }
}

fn state_view(state: &PatchState) -> AnyView {
    let words = state_in_words(state);
    match state {
        PatchState::Downloading { percent, .. } => {
            let percent = *percent;
            view! {
                <span class="state">{words}</span>
                <progress class="download-progress" max="100" value=percent.to_string()
                    aria-label="Download progress">{format!("{percent}%")}</progress>
            }
            .into_any()
        }
        PatchState::NotApplicable { .. } => {
            view! { <span class="state muted">{words}</span> }.into_any()
        }
        _ => view! { <span class="state">{words}</span> }.into_any(),
    }
}

fn yes_no(value: bool) -> &'static str {
    if value { "Yes" } else { "No" }
}
