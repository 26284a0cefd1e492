//! The import form: the file picker, the upload with its progress bar, then the verdict.

use leptos::html::Input;
use leptos::prelude::*;
use web_core::upload::UploadProgress;
use web_sys::File;

use crate::api;
use crate::components::import::verdict::{Imported, Rejected};
use crate::load::action;

/// The file picker, the upload with its progress bar, and the verdict.
#[component]
pub fn ImportForm() -> impl IntoView {
    let input: NodeRef<Input> = NodeRef::new();
    let chosen = RwSignal::new(None::<String>);
    let progress = RwSignal::new(UploadProgress::default());
    let import = action(move |file: &File| {
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
            import.dispatch(file);
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
            {move || pending.get().then(|| view! {
                <UploadStatus name=chosen.get_untracked().unwrap_or_default() progress/>
            })}
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
