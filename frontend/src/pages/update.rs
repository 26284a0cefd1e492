//! The Update wizard's first steps: choose the source (the TMC or a file from storage media),
//! pick the patch (SMS Patch File), read its release notes, and download it with a progress bar.

use leptos::prelude::*;
use shared::PatchId;
use shared::panel::{AvailablePatch, JobKind, JobState, PatchesView};
use web_core::paths::{HOME, IMPORT_PATCH};
use web_core::words::size_in_mb;

use crate::api::{self, ApiError};
use crate::components::error::ErrorDisplay;
use crate::components::loaded::{Place, loaded};
use crate::components::patch_details::ReleaseNotes;
use crate::components::set_page_title;
use crate::components::shell_data::use_shell;
use crate::live::use_live;
use crate::load::{action, both, run};

#[component]
pub fn UpdatePage() -> impl IntoView {
    set_page_title("Update");
    let shell = use_shell();
    view! {
        <div id="update-page" class="page">
            <nav class="breadcrumb" aria-label="Breadcrumb">
                <a href=HOME>"General"</a>
                <span aria-hidden="true">" › "</span>
                <span aria-current="page">"Update"</span>
            </nav>
            <h1>"Update the SMS server"</h1>
            <section class="card" aria-labelledby="source-heading">
                <h2 id="source-heading">"1. Source"</h2>
                <ul class="choices">
                    <li>
                        <strong>"Download from the TMC"</strong>
                        <span class="muted">" (below)"</span>
                    </li>
                    <li>
                        <a href=IMPORT_PATCH id="update-import-link">
                            "Import a patch file from storage media"
                        </a>
                    </li>
                </ul>
            </section>
            {loaded(
                move || both(shell.patches.get(), shell.session.get()),
                Place::Card,
                "the patches",
                |(view, session)| view! { <TmcStep view is_admin=session.role.is_admin()/> }.into_any(),
            )}
        </div>
    }
}

/// Patches the admin can pick: newest first, without the installed and inapplicable ones.
fn choices(view: &PatchesView) -> Vec<AvailablePatch> {
    view.available
        .iter()
        .filter(|a| a.can_be_chosen())
        .cloned()
        .collect()
}

#[component]
fn TmcStep(view: PatchesView, is_admin: bool) -> impl IntoView {
    let live = use_live();
    let choices = choices(&view);
    if choices.is_empty() {
        return view! {
            <section class="card">
                <h2>"2. SMS Patch File"</h2>
                <p id="update-no-patches" class="muted">
                    "No patch newer than the installed one is known. Check the TMC from the \
                     SMS Patches panel, or import a patch file."
                </p>
            </section>
        }
        .into_any();
    }
    let first = choices
        .iter()
        .find(|c| c.recommended)
        .or(choices.first())
        .map(|c| c.patch.id);
    let selected = RwSignal::new(first);
    let options = choices.clone();
    let current = Signal::derive(move || {
        let id = selected.get()?;
        options.iter().find(|c| c.patch.id == id).cloned()
    });
    let download = action(move |id: &PatchId| {
        let id = *id;
        run(async move {
            let job = api::download_patch(id).await?;
            live.jobs.update(|jobs| jobs.insert_new(job));
            Ok::<(), ApiError>(())
        })
    });
    // The newest download job of the selected patch, live.
    let job = Signal::derive(move || {
        let id = selected.get()?;
        live.jobs.with(|jobs| {
            jobs.iter()
                .filter(|j| j.kind == JobKind::Download && j.patch == Some(id))
                .max_by_key(|j| j.id)
                .cloned()
        })
    });
    view! {
        <section class="card" aria-labelledby="patch-file-heading">
            <h2 id="patch-file-heading">"2. SMS Patch File"</h2>
            <div class="field">
                <label class="field-label" for="patch-file">"SMS Patch File"</label>
                <div class="field-value">
                    <select
                        id="patch-file"
                        on:change=move |ev| {
                            selected.set(event_target_value(&ev).parse().ok());
                        }
                    >
                        {choices
                            .iter()
                            .map(|c| {
                                let id = c.patch.id;
                                let label = if c.recommended {
                                    format!("{} (recommended)", c.patch.display_name)
                                } else {
                                    c.patch.display_name.clone()
                                };
                                view! {
                                    <option value=id.to_string() selected=move || selected.get() == Some(id)>
                                        {label}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                </div>
            </div>
            {move || current.get().map(|c| {
                let facts = format!(
                    "{} · released {} · {}",
                    c.patch.title,
                    c.patch.released,
                    size_in_mb(c.patch.size),
                );
                view! {
                    <p id="update-patch-facts" class="muted">{facts}</p>
                    <ReleaseNotes html=c.patch.release_notes_html.clone()/>
                }
            })}
        </section>
        <section class="card" aria-labelledby="download-heading">
            <h2 id="download-heading">"3. Download"</h2>
            // Announced as it changes: Downloading… 40%, Downloaded and verified, a failure.
            <div id="update-download-announcer" aria-live="polite">
            {move || {
                let Some(c) = current.get() else { return ().into_any() };
                let running = job.get().filter(|j| j.state == JobState::Running);
                let finished = job.get().filter(|j| j.state.is_final());
                if let Some(j) = running {
                    let percent = j.percent();
                    return view! {
                        <p id="update-download-status">{format!("Downloading… {percent}%")}</p>
                        <progress id="update-download-progress" max="100" value=percent.to_string()
                            aria-label="Download progress">{format!("{percent}%")}</progress>
                    }.into_any();
                }
                if c.in_repository || finished.as_ref().is_some_and(|j| j.state == JobState::Succeeded) {
                    return view! {
                        <p id="update-download-status" class="ok">
                            "Downloaded and verified: the patch is in the patch repository, ready \
                             to install."
                        </p>
                        {(is_admin && c.can_be_chosen()).then(|| view! {
                            <a href=web_core::paths::install_patch(c.patch.id)
                                id="update-install" class="button button-primary">
                                "Install…"
                            </a>
                        })}
                    }.into_any();
                }
                let failure = finished.and_then(|j| j.error);
                view! {
                    {failure.map(|e| view! {
                        <p id="update-download-error" class="download-error" role="alert">{e.message}</p>
                    })}
                    {is_admin.then(|| view! {
                        <button
                            id="update-download"
                            type="button"
                            class="button button-primary"
                            disabled=move || download.pending().get()
                            on:click=move |_| { if let Some(id) = selected.get_untracked() { download.dispatch(id); } }
                        >
                            "Download"
                        </button>
                    })}
                    {(!is_admin).then(|| view! { <p class="muted">"Only admins can download patches."</p> })}
                    {move || download.value().get().and_then(Result::err).map(|error| view! { <ErrorDisplay error/> })}
                }.into_any()
            }}
            </div>
        </section>
    }
    .into_any()
}
