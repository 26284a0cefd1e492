//! Admin > General > Import a patch file: the Update wizard's import step. The admin uploads a
//! patch file from storage media; the server verifies it while it arrives and keeps it in its
//! patch repository, or says why not.

use leptos::html::{Div, Input, Section};
use leptos::prelude::*;
use leptos_router::components::A;
use shared::api::PatchInfo;
use web_sys::File;

use crate::api::{self, ApiError, UploadProgress};
use crate::components::error::{ErrorDisplay, ErrorList};
use crate::components::loading::Loading;
use crate::components::patch_details::{PatchFacts, ReleaseNotes};
use crate::components::set_page_title;
use crate::components::shell::use_shell;
use crate::navigation::HOME;

/// The import page: the form for admins, a note for everyone else.
#[component]
pub fn ImportPatchPage() -> impl IntoView {
    set_page_title("Import a patch file");
    let shell = use_shell();

    view! {
        <div id="import-page" class="page">
            <nav class="breadcrumb" aria-label="Breadcrumb">
                <A href=HOME>"General"</A>
                <span aria-hidden="true">" › "</span>
                <span aria-current="page">"Import a patch file"</span>
            </nav>
            <h1>"Import a patch file"</h1>
            <p class="page-intro">
                "Import a patch file from storage media (USB drive, hard drive): it is verified \
                 before it is kept."
            </p>
            <Transition fallback=|| view! { <div class="card"><Loading what="your session"/></div> }>
                <ErrorBoundary fallback=|errors| view! { <div class="card"><ErrorList errors/></div> }>
                    {move || Suspend::new(async move {
                        shell.session.await.map(|session| {
                            if session.role.is_admin() {
                                view! { <ImportForm/> }.into_any()
                            } else {
                                view! {
                                    <section class="card">
                                        <p id="import-admins-only" class="notice">
                                            "Only admins can import patch files. You are logged in as "
                                            {format!("{} ({})", session.username, session.role)}
                                            "; ask an admin to import the file."
                                        </p>
                                    </section>
                                }
                                .into_any()
                            }
                        })
                    })}
                </ErrorBoundary>
            </Transition>
        </div>
    }
}

/// The file picker, the upload with its progress bar, and the verdict.
#[component]
fn ImportForm() -> impl IntoView {
    let input: NodeRef<Input> = NodeRef::new();
    let chosen = RwSignal::new(None::<String>);
    let progress = RwSignal::new(UploadProgress::default());
    let import = Action::new_local(move |file: &File| {
        let file = file.clone();
        progress.set(UploadProgress {
            sent: 0,
            total: file.size() as u64,
        });
        api::import_patch(file, move |now| progress.set(now))
    });
    let pending = import.pending();

    let chosen_file = move || {
        input
            .get()
            .and_then(|i| i.files())
            .and_then(|files| files.get(0))
    };
    let on_change = move |_| {
        // A new file makes the last verdict stale.
        import.clear();
        chosen.set(chosen_file().map(|file| file.name()));
    };
    let on_submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        if pending.get_untracked() {
            return;
        }
        if let Some(file) = chosen_file() {
            import.clear();
            import.dispatch_local(file);
        }
    };

    view! {
        <section class="card" aria-labelledby="import-form-heading">
            <h2 id="import-form-heading">"Patch file"</h2>
            <form id="import-form" class="import-form" on:submit=on_submit>
                <div class="form-row">
                    <label for="import-file">"Patch file (.pkg)"</label>
                    <input
                        id="import-file"
                        name="patch-file"
                        type="file"
                        accept=".pkg"
                        aria-describedby="import-file-help"
                        disabled=move || pending.get()
                        node_ref=input
                        on:change=on_change
                    />
                    <p id="import-file-help" class="field-help">
                        "Choose the patch file you got from the vendor, e.g. on a USB drive."
                    </p>
                </div>
                <button
                    id="import-submit"
                    type="submit"
                    class="button button-primary"
                    disabled=move || chosen.get().is_none() || pending.get()
                    aria-busy=move || pending.get().to_string()
                >
                    {move || if pending.get() { "Uploading…" } else { "Upload and verify" }}
                </button>
            </form>
            <Show when=move || pending.get()>
                <UploadStatus name=chosen.get_untracked().unwrap_or_default() progress/>
            </Show>
        </section>
        {move || import.value().get().map(|verdict| match verdict {
            Ok(info) => view! { <Imported info/> }.into_any(),
            Err(error) => view! { <Rejected error/> }.into_any(),
        })}
    }
}

/// The progress bar while the file goes up, then "Verifying…" while the server finishes.
#[component]
fn UploadStatus(
    /// The file's name.
    name: String,
    /// How far the upload is.
    progress: RwSignal<UploadProgress>,
) -> impl IntoView {
    let percent = move || progress.get().percent();
    let complete = move || progress.get().is_complete();
    view! {
        <div id="import-uploading" class="upload-status">
            <p class="upload-label" id="import-progress-label" role="status">
                {move || if complete() {
                    format!("Verifying {name}…")
                } else {
                    format!("Uploading {name}…")
                }}
            </p>
            <div class="upload-bar">
                <progress
                    id="import-progress"
                    max="100"
                    value=move || percent().to_string()
                    aria-labelledby="import-progress-label"
                >
                    {move || format!("{}%", percent())}
                </progress>
                <span id="import-progress-text" class="upload-percent" aria-hidden="true">
                    {move || format!("{}%", percent())}
                </span>
            </div>
        </div>
    }
}

/// The verified patch: its name, facts and release notes.
#[component]
fn Imported(
    /// What the server kept.
    info: PatchInfo,
) -> impl IntoView {
    let notes = info.release_notes_html.clone();
    let region: NodeRef<Section> = NodeRef::new();
    // Bring the verdict into view and put keyboard users where the news is.
    region.on_load(|region| {
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
fn Rejected(
    /// The server's answer (or why there was none).
    error: ApiError,
) -> impl IntoView {
    if error.is_unauthorized() {
        // The session ended: the usual trip to the login page and back.
        return view! { <ErrorDisplay error/> }.into_any();
    }
    let region: NodeRef<Div> = NodeRef::new();
    region.on_load(|region| {
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
    let message = message.trim();
    let mut chars = message.chars();
    let mut sentence = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect::<String>(),
        None => return String::new(),
    };
    if !sentence.ends_with(['.', '!', '?']) {
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
