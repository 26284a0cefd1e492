//! The import's verdict: the verified patch with its facts and release notes, or why the server
//! refused the file and what to do about it.

use leptos::html::{Div, Section};
use leptos::prelude::*;
use shared::api::PatchInfo;

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

/// The server's message with a capital first letter and a full stop.
fn as_sentence(message: &str) -> String {
    let mut sentence = shared::text::capitalized(message.trim());
    if !sentence.is_empty() && !sentence.ends_with(['.', '!', '?']) {
        sentence.push('.');
    }
    sentence
}

/// The next step for each kind of rejection.
fn what_to_do(code: &str) -> &'static str {
    match code {
        "not_a_package" => {
            "Check that you chose the patch file (.pkg) from the vendor and not another file. If \
             it is the right file, get a fresh copy from the vendor."
        }
        "signature_invalid" | "checksum_mismatch" | "truncated" | "size_mismatch"
        | "manifest_invalid" | "missing_entry" | "unexpected_entry" | "duplicate_entry"
        | "path_traversal" | "link_entry" => {
            "Do not install this file. Get a fresh copy of the file from the vendor and import it \
             again."
        }
        "unknown_key" => {
            "The file is signed with a key this server does not trust. Get the patch from the \
             vendor's update service (TMC); if it is genuine, ask whoever runs this server to \
             add the vendor's key."
        }
        "too_large" => "Check that you chose the right file; a patch file is never this large.",
        "wrong_product_version" => {
            "Get the patch for the version this server runs (shown at the top of the page)."
        }
        "older_than_installed" | "already_installed" => {
            "Nothing to do: this server already runs this patch or a newer one."
        }
        "already_in_repository" => {
            "Nothing to do: this patch is already in the server's patch repository."
        }
        "admin_required" => "Log in as an admin to import patch files.",
        "upload_interrupted" | ApiError::NETWORK_ERROR | ApiError::UNEXPECTED_RESPONSE => {
            "Choose the file again and press Upload and verify."
        }
        _ => "Check the file and try again; if it keeps happening, check the server's log.",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_become_sentences() {
        assert_eq!(
            as_sentence("the package ends early: the file is incomplete"),
            "The package ends early: the file is incomplete."
        );
        assert_eq!(as_sentence("Already there."), "Already there.");
        assert_eq!(as_sentence("  "), "");
    }

    #[test]
    fn every_damaged_file_says_get_a_fresh_copy() {
        for code in ["checksum_mismatch", "signature_invalid", "truncated"] {
            assert!(what_to_do(code).contains("fresh copy"), "{code}");
        }
    }
}
