//! Admin > General > Import a patch file: the Update wizard's import step. The admin uploads a
//! patch file from storage media; the server verifies it while it arrives and keeps it in its
//! patch repository, or says why not.

use leptos::prelude::*;
use web_core::paths::HOME;

use crate::components::import::ImportForm;
use crate::components::loaded::{Place, loaded};
use crate::components::set_page_title;
use crate::components::shell_data::use_shell;

/// The import page: the form for admins, a note for everyone else.
#[component]
pub fn ImportPatchPage() -> impl IntoView {
    set_page_title("Import a patch file");
    let shell = use_shell();

    view! {
        <div id="import-page" class="page">
            <nav class="breadcrumb" aria-label="Breadcrumb">
                <a href=HOME>"General"</a>
                <span aria-hidden="true">" › "</span>
                <span aria-current="page">"Import a patch file"</span>
            </nav>
            <h1>"Import a patch file"</h1>
            <p class="page-intro">
                "Import a patch file from storage media (USB drive, hard drive): it is verified \
                 before it is kept."
            </p>
            {loaded(move || shell.session.get(), Place::Card, "your session", |session| {
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
            })}
        </div>
    }
}
