//! "In the next window": scheduling an install or a rollback for the next maintenance window
//! instead of now, and the question whether to replace the job already scheduled.

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use shared::window::Opening;
use web_core::paths::MAINTENANCE;

use crate::api::{self, ApiError};
use crate::components::error::ErrorDisplay;
use crate::components::local_time::{local_time, now};
use crate::load::{Act, resource};

/// The server's code for "another install or rollback is already scheduled".
pub const JOB_ALREADY_SCHEDULED: &str = "job_already_scheduled";

/// Schedules the page's job for the next window; its input says whether to replace the job
/// already scheduled.
pub type ScheduleAction = Act<bool, Result<(), ApiError>>;

/// The next window in words, in the browser's time zone: "opens Sat, May 4, 2027, 02:00 AM
/// GMT", or "open now, until …" when it has started by `now`.
pub fn next_window_in_words(opening: &Opening, now: DateTime<Utc>) -> String {
    if opening.start <= now {
        format!("open now, until {}", local_time(opening.end))
    } else {
        format!("opens {}", local_time(opening.start))
    }
}

/// "In the next window (opens …)" (`#install-next-window` or `#rollback-next-window`), or,
/// without a window, why not and the way to Admin > Maintenance.
#[component]
pub fn NextWindowButton(
    /// `install` or `rollback`: the ids and the words.
    what: &'static str,
    /// Whether the job cannot be scheduled (the confirmation says why, or a request is on its
    /// way).
    #[prop(into)]
    disabled: Signal<bool>,
    /// Schedules the job.
    schedule: ScheduleAction,
) -> impl IntoView {
    let maintenance = resource(api::get_maintenance);
    let pending = schedule.pending();
    let id = format!("{what}-next-window");
    move || {
        let id = id.clone();
        match maintenance.get() {
            None => view! {
                <button id=id type="button" class="button" disabled=true>
                    "In the next window…"
                </button>
            }
            .into_any(),
            Some(Ok(found)) => match found.next_window {
                Some(opening) => {
                    let words = next_window_in_words(&opening, now());
                    view! {
                        <button
                            id=id
                            type="button"
                            class="button"
                            disabled=move || disabled.get() || pending.get()
                            aria-busy=move || pending.get().to_string()
                            on:click=move |_| { schedule.dispatch(false); }
                        >
                            {move || if pending.get() {
                                "Scheduling…".to_owned()
                            } else {
                                format!("In the next window ({words})")
                            }}
                        </button>
                    }
                    .into_any()
                }
                None => view! {
                    <span id=format!("{what}-no-window") class="muted">
                        {format!(
                            "No maintenance window is set, so the {what} can only \
                             start now. "
                        )}
                        <a href=MAINTENANCE id=format!("{what}-maintenance-link")>
                            "Set a window in Admin > Maintenance"
                        </a>
                        " to schedule it for later."
                    </span>
                }
                .into_any(),
            },
            Some(Err(error)) => view! {
                <span id=format!("{what}-no-window") class="muted">
                    {format!(
                        "Scheduling for a window is not offered: the maintenance \
                         windows cannot be read ({})",
                        error.message
                    )}
                </span>
            }
            .into_any(),
        }
    }
}

/// The server's refusal to schedule: when another job is already scheduled, the question
/// whether to replace it (`#replace-scheduled-confirm`); anything else as it is.
#[component]
pub fn ScheduleRefusal(
    /// `install` or `rollback`, for the words.
    what: &'static str,
    /// The action whose refusal this shows; sent again with `true` to replace.
    schedule: ScheduleAction,
) -> impl IntoView {
    let pending = schedule.pending();
    move || {
        schedule.value().get().and_then(Result::err).map(|error| {
            if error.code != JOB_ALREADY_SCHEDULED {
                return view! { <ErrorDisplay error/> }.into_any();
            }
            view! {
                <div
                    id="replace-scheduled"
                    class="notice confirm"
                    role="alertdialog"
                    aria-labelledby="replace-scheduled-title"
                    aria-describedby="replace-scheduled-message"
                >
                    <p>
                        <strong id="replace-scheduled-title">
                            "Another install or rollback is already scheduled."
                        </strong>
                    </p>
                    <p id="replace-scheduled-message">{error.message}</p>
                    <p>
                        {format!(
                            "Only one job waits for a window at a time. Replace the \
                             scheduled one with this {what}? It is cancelled, and its note \
                             says it was replaced."
                        )}
                    </p>
                    <div class="actions">
                        <button
                            id="replace-scheduled-confirm"
                            type="button"
                            class="button button-primary"
                            disabled=move || pending.get()
                            aria-busy=move || pending.get().to_string()
                            on:click=move |_| { schedule.dispatch(true); }
                        >
                            {move || if pending.get() {
                                "Replacing…".to_owned()
                            } else {
                                format!("Replace it with this {what}")
                            }}
                        </button>
                        <button
                            id="replace-scheduled-keep"
                            type="button"
                            class="button button-secondary"
                            disabled=move || pending.get()
                            on:click=move |_| schedule.clear()
                        >
                            "Keep the scheduled one"
                        </button>
                    </div>
                </div>
            }
            .into_any()
        })
    }
}
