//! The placeholder shown while data is on its way.

use leptos::prelude::*;

/// A calm "Loading…" line that screen readers announce politely.
#[component]
pub fn Loading(
    /// What is loading, e.g. "server details".
    #[prop(into)]
    what: String,
) -> impl IntoView {
    view! {
        <p class="loading" role="status" aria-live="polite">
            <span class="spinner" aria-hidden="true"></span>
            {format!("Loading {what}…")}
        </p>
    }
}
