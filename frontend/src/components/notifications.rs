//! The SMS Patch Notifications field: whether open clients are told about newer patches.

use leptos::prelude::*;

use crate::api::{self, ApiError};
use crate::components::error::ErrorDisplay;
use crate::load::{action, run};

/// "✓ Enabled" or "Disabled", with a button to its right that toggles it (admins only).
#[component]
pub fn NotificationsField(
    /// The setting as the server last reported it.
    enabled: bool,
    /// Whether the logged-in user may change it (admins only).
    can_change: bool,
) -> impl IntoView {
    let enabled = RwSignal::new(enabled);
    let toggle = action(move |wanted: &bool| {
        let wanted = *wanted;
        run(async move {
            let settings = api::set_notifications(wanted).await?;
            enabled.set(settings.notifications_enabled);
            Ok::<(), ApiError>(())
        })
    });
    let pending = toggle.pending();

    let button = can_change.then(|| {
        view! {
            <button
                id="notifications-toggle"
                type="button"
                class="button"
                aria-describedby="notifications-label"
                disabled=move || pending.get()
                aria-busy=move || pending.get().to_string()
                on:click=move |_| {
                    toggle.dispatch(!enabled.get_untracked());
                }
            >
                {move || match (pending.get(), enabled.get()) {
                    (true, true) => "Disabling…",
                    (true, false) => "Enabling…",
                    (false, true) => "Disable",
                    (false, false) => "Enable",
                }}
            </button>
        }
    });

    view! {
        <div class="field">
            <span class="field-label" id="notifications-label">"SMS Patch Notifications"</span>
            <div class="field-value">
                <span class="status" class:status-on=move || enabled.get()>
                    {move || enabled.get().then(|| view! {
                        <svg class="check" viewBox="0 0 20 20" width="18" height="18" aria-hidden="true">
                            <path d="M4 10.5l4 4 8-9" fill="none" stroke="currentColor" stroke-width="2.5"
                                stroke-linecap="round" stroke-linejoin="round"/>
                        </svg>
                    })}
                    <span id="notifications-status" aria-live="polite">
                        {move || if enabled.get() { "Enabled" } else { "Disabled" }}
                    </span>
                </span>
                {button}
            </div>
            <p class="field-help">
                "While enabled, every open client shows a notice as soon as a patch newer than the \
                 installed one is known."
            </p>
            {(!can_change).then(|| view! {
                <p class="note">"Only admins can change this setting."</p>
            })}
            {move || toggle.value().get().and_then(Result::err).map(|error| view! {
                <ErrorDisplay error/>
            })}
        </div>
    }
}
