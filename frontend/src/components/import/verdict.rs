//! The import's verdict: the verified patch with its facts and release notes, or why the server
//! refused the file and what to do about it.

use leptos::html::{Div, Section};
use leptos::prelude::*;
use shared::api::PatchInfo;
use web_core::verdict::{as_sentence, what_to_do};

use crate::api::ApiError;
use crate::components::error::ErrorDisplay;
use crate::components::patch_details::{PatchFacts, ReleaseNotes};

/// The verified patch: its name, facts and release notes.
#[component]
pub fn Imported(
    /// What the server kept.
    info: PatchInfo,
) -> impl IntoView {
    let notes = info.release_notes_html.clone();
    let region: NodeRef<Section> = NodeRef::new();
    // Bring the verdict into view and put keyboard users where the news is.
    region.on_load(|region| {
        // Focus is a help for screen readers; the verdict shows without it.
        let _ = region.focus();
    });
    view! {
        <section
            id="import-result"
            class="card result"
            aria-labelledby="import-patch-name"
            tabindex="-1"
            node_ref=region
        >
            <p class="result-status" role="status">
                <svg class="check" viewBox="0 0 20 20" width="18" height="18" aria-hidden="true">
                    <path d="M4 10.5l4 4 8-9" fill="none" stroke="currentColor" stroke-width="2.5"
                        stroke-linecap="round" stroke-linejoin="round"/>
                </svg>
                "Verified and kept in the patch repository"
            </p>
            <h2 id="import-patch-name">{info.display_name.clone()}</h2>
            <p class="patch-title">{info.title.clone()}</p>
            <PatchFacts info/>
            <ReleaseNotes html=notes/>
        </section>
    }
}

/// Why the server refused the file, and what to do about it.
#[component]
pub fn Rejected(
    /// The server's answer (or why there was none).
    error: ApiError,
) -> impl IntoView {
    if error.is_unauthorized() {
        // The session ended: the usual trip to the login page and back.
        return view! { <ErrorDisplay error/> }.into_any();
    }
    let region: NodeRef<Div> = NodeRef::new();
    region.on_load(|region| {
        // Focus is a help for screen readers; the verdict shows without it.
        let _ = region.focus();
    });
    view! {
        <div
            id="import-error"
            class="error-message import-error"
            role="alert"
            tabindex="-1"
            node_ref=region
        >
            <p class="error-title"><strong>"The file was not imported."</strong></p>
            <p id="import-error-message">{as_sentence(&error.message)}</p>
            <p id="import-error-advice">{what_to_do(&error.code)}</p>
            <p class="error-code">
                <small>"Error code: " <code id="import-error-code">{error.code}</code></small>
            </p>
        </div>
    }
    .into_any()
}
