//! Admin > Maintenance: the maintenance windows (when the server may be patched with no one
//! watching), the automatic install policy, the next openings in the admin's own time zone,
//! and the install or rollback scheduled for a window, with Cancel.
//!
//! The windows and the policy are edited on the page and saved together (`PUT
//! /api/v1/maintenance`); the server checks them and its refusal names the window.

use leptos::prelude::*;
use shared::maintenance::{AutoInstallPolicy, MaintenanceSettings, MaintenanceView};
use shared::panel::{JobInfo, JobKind};
use shared::window::{MaintenanceWindow, Opening};
use web_core::restore::restore_in_history;
use web_core::words::duration_in_words;

use crate::api::{self, ApiError};
use crate::components::error::ErrorDisplay;
use crate::components::loaded::{Place, loaded};
use crate::components::local_time::{LocalTime, browser_time_zone, now};
use crate::components::set_page_title;
use crate::components::shell_data::use_shell;
use crate::live::use_live;
use crate::load::{Act, Loaded, action, resource, run};

/// The duration a new window is given until the admin says otherwise, in minutes.
const DEFAULT_DURATION_MINUTES: u32 = 120;

/// The maintenance view as loaded, and the admin's changes not saved yet.
#[derive(Clone, Copy)]
struct Editor {
    /// The server's view, fetched again when a job was scheduled, started or ended.
    view: Loaded<MaintenanceView>,
    /// The settings as the admin changed them; `None` while they are the server's.
    draft: RwSignal<Option<MaintenanceSettings>>,
}

impl Editor {
    /// The view, once loaded.
    fn loaded(&self) -> Option<MaintenanceView> {
        self.view.get().and_then(Result::ok)
    }

    /// The settings as the page shows them: the admin's changes, or else the server's.
    fn current(&self) -> Option<MaintenanceSettings> {
        self.draft
            .get()
            .or_else(|| self.loaded().map(|view| view.settings))
    }

    /// Whether the page shows settings the server does not have yet.
    fn unsaved(&self) -> bool {
        let saved = self.loaded().map(|view| view.settings);
        self.draft.get().is_some_and(|draft| Some(draft) != saved)
    }

    /// Changes the settings on the page (not saved yet); whether it could (not before they
    /// are loaded).
    fn change(&self, edit: impl FnOnce(&mut MaintenanceSettings)) -> bool {
        let current = self.draft.get_untracked().or_else(|| {
            self.view
                .get_untracked()
                .and_then(Result::ok)
                .map(|view| view.settings)
        });
        let Some(mut settings) = current else {
            return false;
        };
        edit(&mut settings);
        self.draft.set(Some(settings));
        true
    }
}

/// The fields of the "Add a window" form, as typed.
#[derive(Clone, Copy)]
struct NewWindow {
    schedule: RwSignal<String>,
    duration: RwSignal<String>,
    time_zone: RwSignal<String>,
    /// Why the typed window cannot be added (the duration is not a number).
    problem: RwSignal<Option<String>>,
}

impl NewWindow {
    fn new() -> Self {
        Self {
            schedule: RwSignal::new(String::new()),
            duration: RwSignal::new(DEFAULT_DURATION_MINUTES.to_string()),
            // The admin's own zone: the one their "02:00" means.
            time_zone: RwSignal::new(browser_time_zone().unwrap_or_else(|| "UTC".to_owned())),
            problem: RwSignal::new(None),
        }
    }

    /// The typed window (`None` when no schedule is typed), or what is wrong with it. Whether
    /// the schedule, duration and zone make a window is the server's to say.
    fn typed(&self) -> Result<Option<MaintenanceWindow>, String> {
        let schedule = self.schedule.get_untracked().trim().to_owned();
        if schedule.is_empty() {
            return Ok(None);
        }
        let duration = self.duration.get_untracked();
        let duration_minutes = duration.trim().parse::<u32>().map_err(|_| {
            format!(
                "The duration \"{}\" is not a whole number of minutes: give e.g. 120 for two hours.",
                duration.trim()
            )
        })?;
        Ok(Some(MaintenanceWindow {
            schedule,
            duration_minutes,
            time_zone: self.time_zone.get_untracked().trim().to_owned(),
        }))
    }

    /// Moves the typed window, if one is typed, into the settings on the page. False when
    /// it cannot (the form then says why).
    fn add_to(&self, editor: Editor) -> bool {
        let problem = match self.typed() {
            Ok(Some(window)) => {
                if editor.change(|settings| settings.windows.push(window)) {
                    self.schedule.set(String::new());
                    None
                } else {
                    Some("The settings are still loading: add the window in a moment.".to_owned())
                }
            }
            Ok(None) => None,
            Err(problem) => Some(problem),
        };
        let fine = problem.is_none();
        self.problem.set(problem);
        fine
    }
}

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
    let form = NewWindow::new();
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
                    {match browser_time_zone() {
                        Some(zone) => format!("In your browser's time zone ({zone})."),
                        None => "In your browser's time zone.".to_owned(),
                    }}
                </p>
                {move || editor.loaded().map(|loaded| view! { <Openings openings=loaded.openings/> })}
            </section>
        </div>
    }
}

/// The windows as the page shows them, each with Remove (admins).
#[component]
fn WindowList(editor: Editor, #[prop(into)] is_admin: Signal<bool>) -> impl IntoView {
    move || {
        let windows = editor
            .current()
            .map(|settings| settings.windows)
            .unwrap_or_default();
        if windows.is_empty() {
            return view! {
                <p id="no-windows" class="muted">
                    "No maintenance window is set: installs and rollbacks start only when an \
                     admin starts them."
                </p>
            }
            .into_any();
        }
        view! {
            <div class="table-scroll" tabindex="0" role="region" aria-label="Maintenance windows">
                <table id="maintenance-windows" class="table">
                    <caption class="visually-hidden">"Maintenance windows"</caption>
                    <thead>
                        <tr>
                            <th scope="col">"Schedule"</th>
                            <th scope="col">"Duration"</th>
                            <th scope="col">"Time zone"</th>
                            <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                        </tr>
                    </thead>
                    <tbody>
                        {windows
                            .into_iter()
                            .enumerate()
                            .map(|(index, window)| {
                                let label = format!("Remove the window {}", window.schedule);
                                view! {
                                    <tr data-window=index.to_string()>
                                        <td class="window-schedule"><code>{window.schedule.clone()}</code></td>
                                        <td class="window-duration">{duration_in_words(window.duration_minutes)}</td>
                                        <td class="window-time-zone">{window.time_zone.clone()}</td>
                                        <td>
                                            {move || is_admin.get().then(|| view! {
                                                <button
                                                    type="button"
                                                    class="button button-secondary window-remove"
                                                    aria-label=label.clone()
                                                    on:click=move |_| {
                                                        editor.change(|settings| {
                                                            if index < settings.windows.len() {
                                                                settings.windows.remove(index);
                                                            }
                                                        });
                                                    }
                                                >
                                                    "Remove"
                                                </button>
                                            })}
                                        </td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </div>
        }
        .into_any()
    }
}

/// "Add a window": schedule, duration and time zone (the browser's own by default).
#[component]
fn AddWindowForm(editor: Editor, form: NewWindow) -> impl IntoView {
    let on_submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        form.add_to(editor);
    };
    view! {
        <form id="window-form" class="window-form" on:submit=on_submit>
            <h3>"Add a window"</h3>
            <div class="form-row">
                <label for="window-schedule">"Schedule"</label>
                <input
                    id="window-schedule"
                    type="text"
                    placeholder="0 2 * * SAT"
                    spellcheck="false"
                    autocomplete="off"
                    aria-describedby="window-schedule-help"
                    prop:value=move || form.schedule.get()
                    on:input=move |event| form.schedule.set(event_target_value(&event))
                />
                <p id="window-schedule-help" class="field-help">
                    "Five cron fields, read on the window's own clock: minute, hour, day of month, \
                     month, day of week. \"0 2 * * SAT\" opens every Saturday at 02:00; \
                     \"30 1 * * 1-5\" at 01:30 on weekdays."
                </p>
            </div>
            <div class="form-row">
                <label for="window-duration">"Duration (minutes)"</label>
                <input
                    id="window-duration"
                    type="number"
                    min="1"
                    step="1"
                    inputmode="numeric"
                    aria-describedby="window-duration-help"
                    prop:value=move || form.duration.get()
                    on:input=move |event| form.duration.set(event_target_value(&event))
                />
                <p id="window-duration-help" class="field-help">
                    "How long the window stays open, up to a week (10080 minutes). A job starts \
                     only while its window is open."
                </p>
            </div>
            <div class="form-row">
                <label for="window-time-zone">"Time zone"</label>
                <input
                    id="window-time-zone"
                    type="text"
                    placeholder="Europe/Berlin"
                    spellcheck="false"
                    autocomplete="off"
                    aria-describedby="window-time-zone-help"
                    prop:value=move || form.time_zone.get()
                    on:input=move |event| form.time_zone.set(event_target_value(&event))
                />
                <p id="window-time-zone-help" class="field-help">
                    "An IANA name such as UTC, Europe/Berlin or America/New_York; your browser's \
                     own to start with."
                </p>
            </div>
            <button id="window-add" type="submit" class="button">"Add window"</button>
            {move || form.problem.get().map(|problem| view! {
                <p id="window-form-error" class="error-message" role="alert">{problem}</p>
            })}
        </form>
    }
}

/// How one checkbox reads and sets its part of the policy.
type PolicyPart = (
    fn(&AutoInstallPolicy) -> bool,
    fn(&mut AutoInstallPolicy, bool),
);

/// The automatic install policy's checkboxes, as the page shows the policy.
#[component]
fn PolicyFields(editor: Editor, #[prop(into)] is_admin: Signal<bool>) -> impl IntoView {
    let locked = move || !is_admin.get();
    let checkbox = move |id: &'static str, label: &'static str, (get, set): PolicyPart| {
        let checked = move || {
            editor
                .current()
                .is_some_and(|settings| get(&settings.policy))
        };
        view! {
            <div class="check-row">
                <input
                    id=id
                    type="checkbox"
                    prop:checked=checked
                    disabled=locked
                    on:change=move |event| {
                        let on = event_target_checked(&event);
                        editor.change(|settings| set(&mut settings.policy, on));
                    }
                />
                <label for=id>{label}</label>
            </div>
        }
    };
    view! {
        <fieldset id="maintenance-policy" class="policy">
            <legend class="visually-hidden">"Automatic install policy"</legend>
            {checkbox(
                "policy-enabled",
                "Install the recommended patch in the next window by itself",
                (|policy| policy.enabled, |policy, on| policy.enabled = on),
            )}
            <div class="policy-limits">
                {checkbox(
                    "policy-allow-reboot",
                    "Also a patch that reboots the server",
                    (|policy| policy.allow_reboot, |policy, on| policy.allow_reboot = on),
                )}
                {checkbox(
                    "policy-allow-database-changes",
                    "Also a patch that changes the database",
                    (
                        |policy| policy.allow_database_changes,
                        |policy, on| policy.allow_database_changes = on,
                    ),
                )}
                {checkbox(
                    "policy-allow-no-rollback",
                    "Also a patch that cannot be rolled back",
                    (
                        |policy| policy.allow_no_rollback,
                        |policy, on| policy.allow_no_rollback = on,
                    ),
                )}
            </div>
        </fieldset>
        <p class="field-help">
            "The server looks after every TMC check and every change here. It never schedules a \
             patch while HA clustering is enabled or without a window, and never replaces a job \
             an admin scheduled. Each decision, and why a patch was left alone, is in the audit \
             log (auto_install)."
        </p>
    }
}

/// The next openings of all windows, soonest first, in the browser's time zone.
#[component]
fn Openings(openings: Vec<Opening>) -> impl IntoView {
    if openings.is_empty() {
        return view! {
            <p id="maintenance-no-openings" class="muted">
                "No openings: no window is saved."
            </p>
        }
        .into_any();
    }
    let at = now();
    view! {
        <ul id="maintenance-openings" class="openings">
            {openings
                .into_iter()
                .map(|opening| view! {
                    <li data-start=opening.start.to_rfc3339() data-end=opening.end.to_rfc3339()>
                        <LocalTime at=opening.start/>
                        " – "
                        <LocalTime at=opening.end/>
                        {opening.contains(at).then_some(" (open now)")}
                    </li>
                })
                .collect_view()}
        </ul>
    }
    .into_any()
}

/// The install or rollback waiting for its window: what, when, why it waits, and Cancel.
#[component]
fn ScheduledJob(
    /// The job, in state `scheduled`.
    job: JobInfo,
    /// Cancels a job by its id.
    cancel: Act<i64, Result<(), ApiError>>,
    #[prop(into)] is_admin: Signal<bool>,
) -> impl IntoView {
    let id = job.id;
    let what = match (job.kind, job.patch) {
        (JobKind::Rollback, _) => "Rollback to the base release (no patch)".to_owned(),
        (JobKind::Restore, _) => restore_in_history(job.backup.as_deref()),
        (JobKind::Install | JobKind::Download | JobKind::Backup, Some(patch)) => {
            format!("Install of {} ({patch})", patch.level())
        }
        (kind @ (JobKind::Install | JobKind::Download | JobKind::Backup), None) => {
            kind.as_str().to_owned()
        }
    };
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
