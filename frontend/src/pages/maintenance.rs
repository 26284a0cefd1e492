//! Admin > Maintenance: the maintenance windows (when the server may be patched with no one
//! watching), the automatic install policy, the next openings in the admin's own time zone,
//! and the install or rollback scheduled for a window, with Cancel.
//!
//! The windows and the policy are edited on the page and saved together (`PUT
//! /api/v1/maintenance`); the server checks them and its refusal names the window.

use leptos::prelude::*;
use shared::maintenance::MaintenanceSettings;
use web_core::maintenance::openings_zone_words;

use crate::api::{self, ApiError};
use crate::components::error::ErrorDisplay;
use crate::components::loaded::{Place, loaded};
use crate::components::local_time::browser_time_zone;
use crate::components::maintenance::{
    AddWindowForm, Editor, NewWindow, Openings, PolicyFields, ScheduledJob, WindowList,
};
use crate::components::set_page_title;
use crate::components::shell_data::use_shell;
use crate::live::use_live;
use crate::load::{action, resource, run};

/// The Maintenance page.
#[component]
pub fn MaintenancePage() -> impl IntoView {
    set_page_title("Maintenance");
    let shell = use_shell();
    let live = use_live();
    // Fetched again when a job was scheduled, started, cancelled or ended, and when another
    // admin changed the settings.
    let view = resource(move || {
        live.patches_changed.track();
        live.maintenance_changed.track();
        api::get_maintenance()
    });
    let editor = Editor {
        view,
        draft: RwSignal::new(None),
    };
    let is_admin = Signal::derive(move || {
        shell
            .session
            .get()
            .and_then(Result::ok)
            .is_some_and(|session| session.role.is_admin())
    });
    let form = NewWindow::default();
    // Drawn once the settings are there, not again at each edit of them.
    let has_policy = Memo::new(move |_| editor.current().is_some());
    let cancel = action(move |job: &i64| {
        let job = *job;
        run(async move {
            api::cancel_job(job).await?;
            view.refetch();
            // The panel's history says it too.
            live.bump();
            Ok::<(), ApiError>(())
        })
    });
    let save = action(move |settings: &MaintenanceSettings| {
        let settings = settings.clone();
        // The last answer of Cancel no longer applies.
        cancel.clear();
        run(async move {
            let saved = api::put_maintenance(settings).await?;
            view.set(Some(Ok(saved)));
            editor.draft.set(None);
            Ok::<(), ApiError>(())
        })
    });

    view! {
        <div id="maintenance-page" class="page">
            <h1>"Maintenance"</h1>
            <p class="page-intro">
                "A maintenance window says when this server may be patched with no one watching. \
                 On a patch's install page, choose \"In the next window\" to install it then; the \
                 automatic policy below can schedule the recommended patch by itself."
            </p>

            <section class="card" aria-labelledby="windows-heading">
                <h2 id="windows-heading">"Maintenance windows"</h2>
                {loaded(
                    move || view.get().map(|found| found.map(|_| ())),
                    Place::Bare,
                    "the maintenance windows",
                    move |()| view! { <WindowList editor is_admin/> }.into_any(),
                )}
                {move || is_admin.get().then(|| view! {
                    <AddWindowForm editor form/>
                })}
            </section>

            <section class="card" aria-labelledby="policy-heading">
                <h2 id="policy-heading">"Automatic installs"</h2>
                {move || has_policy.get().then(|| view! {
                    <PolicyFields editor is_admin/>
                })}
            </section>

            <div class="actions save-bar">
                {move || if is_admin.get() {
                    view! {
                        <button
                            id="maintenance-save"
                            type="button"
                            class="button button-primary"
                            disabled=move || save.pending().get() || editor.loaded().is_none()
                            aria-busy=move || save.pending().get().to_string()
                            on:click=move |_| {
                                // A window typed but not added yet is saved too.
                                if !form.add_to(editor) {
                                    return;
                                }
                                if let Some(settings) = editor.draft.get_untracked() {
                                    save.dispatch(settings);
                                } else if let Some(view) = editor.view.get_untracked().and_then(Result::ok) {
                                    // Nothing changed: saving again just checks them again.
                                    save.dispatch(view.settings);
                                }
                            }
                        >
                            {move || if save.pending().get() { "Saving…" } else { "Save" }}
                        </button>
                    }
                    .into_any()
                } else {
                    view! {
                        <p class="note">"Only admins can change the maintenance settings."</p>
                    }
                    .into_any()
                }}
                {move || editor.unsaved().then(|| view! {
                    <span id="maintenance-unsaved" class="muted" role="status">
                        "Not saved yet: press Save to keep these changes."
                    </span>
                })}
                {move || {
                    let saved = matches!(save.value().get(), Some(Ok(()))) && !editor.unsaved();
                    saved.then(|| view! {
                        <span id="maintenance-saved" class="ok" role="status">"Saved."</span>
                    })
                }}
            </div>
            {move || {
                save.value()
                    .get()
                    .and_then(Result::err)
                    .or_else(|| cancel.value().get().and_then(Result::err))
                    .map(|error| view! { <div id="maintenance-error"><ErrorDisplay error/></div> })
            }}

            <section id="maintenance-scheduled" class="card" aria-labelledby="scheduled-heading">
                <h2 id="scheduled-heading">"Scheduled install or rollback"</h2>
                {move || editor.loaded().map(|loaded| match loaded.scheduled {
                    Some(job) => view! { <ScheduledJob job cancel is_admin/> }.into_any(),
                    None => view! {
                        <p id="scheduled-none" class="muted">
                            "Nothing is scheduled. On a patch's install page, \"In the next \
                             window\" schedules its install."
                        </p>
                    }
                    .into_any(),
                })}
            </section>

            <section class="card" aria-labelledby="openings-heading">
                <h2 id="openings-heading">"Next openings"</h2>
                <p class="field-help">
                    {openings_zone_words(browser_time_zone().as_deref())}
                </p>
                {move || editor.loaded().map(|loaded| view! { <Openings openings=loaded.openings/> })}
            </section>
        </div>
    }
}
