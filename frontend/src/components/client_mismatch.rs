//! The client version prompt: when the server refuses this client's version (426), a modal
//! says which version the server requires and which this client is, and its one button loads
//! the server's client. It cannot be dismissed into a half-working client.

use leptos::prelude::*;
use shared::client::{ClientMismatch, compatibility};

/// The modal, shown over every page once the server refused this client's version.
#[component]
pub fn ClientMismatchModal() -> impl IntoView {
    let mismatch = crate::api::client_mismatch();
    move || mismatch.get().map(|m| view! { <Prompt mismatch=m/> })
}

#[component]
fn Prompt(mismatch: ClientMismatch) -> impl IntoView {
    let switch = mismatch.error.code == "client_switch_required"
        || matches!(
            (mismatch.required.parse(), mismatch.current.parse()),
            (Ok(required), Ok(current))
                if matches!(compatibility(required, current), shared::client::Compatibility::SwitchRequired { .. })
        );
    let (kind, title, action) = if switch {
        ("switch", "Switch to the server's SMS client", "Switch")
    } else {
        ("upgrade", "Upgrade the SMS client", "Upgrade")
    };
    let explanation = if switch {
        "The SMS server runs an older client than this one (a patch was rolled back). Switch to \
         the server's client to go on."
    } else {
        "The SMS server was patched and now requires a newer client. Upgrade to go on; nothing \
         you saved is lost."
    };
    let button = NodeRef::<leptos::html::Button>::new();
    // The only way on: give the button the focus.
    Effect::new(move || {
        if let Some(button) = button.get() {
            // Focus is a help, not a must: the dialog works without it.
            let _ = button.focus();
        }
    });
    view! {
        <div class="modal-backdrop">
            <div
                id="client-mismatch"
                class="modal"
                role="alertdialog"
                aria-modal="true"
                aria-labelledby="client-mismatch-title"
                aria-describedby="client-mismatch-text"
                data-kind=kind
            >
                <h2 id="client-mismatch-title">{title}</h2>
                <p id="client-mismatch-text">{explanation}</p>
                <dl class="facts">
                    <dt>"The server requires"</dt>
                    <dd id="client-required">{format!("SMS client {}", mismatch.required)}</dd>
                    <dt>"This client is"</dt>
                    <dd id="client-current">{format!("SMS client {}", mismatch.current)}</dd>
                </dl>
                <button
                    id="client-reload"
                    type="button"
                    class="button button-primary"
                    node_ref=button
                    on:click=move |_| {
                        if let Some(window) = web_sys::window() {
                            // A reload that fails leaves the prompt up, to be pressed again.
                            let _ = window.location().reload();
                        }
                    }
                >
                    {action}
                </button>
            </div>
        </div>
    }
}
