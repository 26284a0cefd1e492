//! The next openings of the maintenance windows, in the browser's time zone.

use leptos::prelude::*;
use shared::window::Opening;

use crate::components::local_time::{LocalTime, now};

/// The next openings of all windows, soonest first, in the browser's time zone.
#[component]
pub fn Openings(openings: Vec<Opening>) -> impl IntoView {
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
