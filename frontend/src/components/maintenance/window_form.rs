//! "Add a window": schedule, duration and time zone (the browser's own by default), and the
//! fields as typed, which Save also adds.

use leptos::prelude::*;
use web_core::maintenance::{DEFAULT_DURATION_MINUTES, typed_window};

use super::Editor;
use crate::components::local_time::browser_time_zone;

/// The fields of the "Add a window" form, as typed.
#[derive(Clone, Copy)]
pub struct NewWindow {
    schedule: RwSignal<String>,
    duration: RwSignal<String>,
    time_zone: RwSignal<String>,
    /// Why the typed window cannot be added (the duration is not a number).
    problem: RwSignal<Option<String>>,
}

impl Default for NewWindow {
    /// The form as it opens: no schedule, two hours, the browser's zone.
    fn default() -> Self {
        Self {
            schedule: RwSignal::new(String::new()),
            duration: RwSignal::new(DEFAULT_DURATION_MINUTES.to_string()),
            // The admin's own zone: the one their "02:00" means.
            time_zone: RwSignal::new(browser_time_zone().unwrap_or_else(|| "UTC".to_owned())),
            problem: RwSignal::new(None),
        }
    }
}

impl NewWindow {
    /// Moves the typed window, if one is typed, into the settings on the page. False when
    /// it cannot (the form then says why).
    pub fn add_to(&self, editor: Editor) -> bool {
        let typed = typed_window(
            &self.schedule.get_untracked(),
            &self.duration.get_untracked(),
            &self.time_zone.get_untracked(),
        );
        let problem = match typed {
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

/// "Add a window": schedule, duration and time zone (the browser's own by default).
#[component]
pub fn AddWindowForm(editor: Editor, form: NewWindow) -> impl IntoView {
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
