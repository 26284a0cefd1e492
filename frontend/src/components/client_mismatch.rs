//! The client version prompt: when the server refuses this client's version (426), a modal
//! says which version the server requires and which this client is, and its one button loads
//! the server's client. It cannot be dismissed into a half-working client.
//!
//! It is a real modal dialog: the focus moves to its button and stays there (Tab and Shift+Tab
//! go nowhere else, as it is the only control), the rest of the page is `inert` (neither the
//! mouse, the keyboard nor a screen reader reaches it), and it is named by its heading.

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
    let backdrop = NodeRef::<leptos::html::Div>::new();
    // The only way on: give the button the focus, and make everything behind the dialog inert.
    Effect::new(move || {
        if let Some(button) = button.get() {
            // Focus is a help, not a must: the dialog works without it.
            let _ = button.focus();
        }
        if let Some(backdrop) = backdrop.get() {
            make_the_rest_inert(&backdrop);
        }
    });
    // Tab and Shift+Tab stay on the dialog's one control.
    let keep_focus = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Tab" {
            ev.prevent_default();
            if let Some(button) = button.get_untracked() {
                let _ = button.focus();
            }
        }
    };
    view! {
        <div class="modal-backdrop" node_ref=backdrop on:keydown=keep_focus>
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

/// Marks every other child of the page's `<body>` `inert`. The prompt never closes (its button
/// loads another page), so nothing needs to be given back.
fn make_the_rest_inert(backdrop: &web_sys::HtmlDivElement) {
    let Some(body) = backdrop.owner_document().and_then(|d| d.body()) else {
        return;
    };
    let children = body.children();
    for i in 0..children.length() {
        if let Some(child) = children.item(i)
            && !child.contains(Some(backdrop))
        {
            let _ = child.set_attribute("inert", "");
        }
    }
}
