//! Software Details: every fact of one patch and its rendered release notes (`/patches/{id}`).

use leptos::prelude::*;
use shared::effects::{Restart, changes_fact};
use shared::panel::{AvailablePatch, CatalogPatch};
use web_core::paths::HOME;
use web_core::words::size_in_mb;

use crate::api;
use crate::components::loaded::{Place, loaded};
use crate::components::patch_details::{ReleaseNotes, state_in_words};
use crate::components::set_page_title;
use crate::load::{fetch, resource};

#[component]
pub fn PatchDetailsPage(
    /// The patch id as the address has it (checked here).
    id: String,
) -> impl IntoView {
    let patch = resource(move || match api::patch_id(&id) {
        Ok(id) => api::get_patch(id),
        Err(error) => fetch(async move { Err(error) }),
    });
    view! {
        <div id="details-page" class="page">
            <nav class="breadcrumb" aria-label="Breadcrumb">
                <a href=HOME>"General"</a>
                <span aria-hidden="true">" › "</span>
                <span aria-current="page">"Software Details"</span>
            </nav>
            {loaded(move || patch.get(), Place::Card, "the patch", |found| {
                view! { <Details found/> }.into_any()
            })}
        </div>
    }
}

#[component]
fn Details(found: AvailablePatch) -> impl IntoView {
    let p: CatalogPatch = found.patch.clone();
    set_page_title(&p.display_name);
    let updates_client = match (p.updates.updates_client(), p.client_version) {
        (true, Some(client)) => format!("Yes: clients must upgrade to {client}"),
        (true, None) => "Yes".to_owned(),
        (false, _) => "No".to_owned(),
    };
    let restart = match p.restart {
        Restart::Application => "Application restart",
        Restart::Reboot => "Reboot of the server",
    };
    let yes_no = |b: bool| if b { "Yes" } else { "No" };
    let released = p.released.to_string();
    view! {
        <h1 id="details-name">{p.display_name.clone()}</h1>
        <p class="page-intro">{p.title.clone()}</p>
        <section class="card" aria-labelledby="details-facts-heading">
            <h2 id="details-facts-heading">"Facts"</h2>
            <dl id="details-facts" class="facts">
                <dt>"State"</dt>
                <dd id="details-state">
                    {state_in_words(&found.state)}
                    {found.recommended.then(|| view! { <span class="badge badge-recommended">"Recommended"</span> })}
                </dd>
                <dt>"Build"</dt>
                <dd>{p.build.to_string()}</dd>
                <dt>"Released"</dt>
                <dd><time datetime=released.clone()>{released.clone()}</time></dd>
                <dt>"Size"</dt>
                <dd title=format!("{} bytes", p.size)>{size_in_mb(p.size)}</dd>
                <dt>"Updates the client"</dt>
                <dd>{updates_client}</dd>
                <dt>"Restart"</dt>
                <dd>{restart}</dd>
                <dt>"Database changes"</dt>
                <dd>{p.database_changes_in_words()}</dd>
                <dt>"Changes"</dt>
                <dd id="details-changes">{changes_fact(p.changes.as_ref(), found.in_repository)}</dd>
                <dt>"Can be rolled back"</dt>
                <dd>{yes_no(p.rollback)}</dd>
                <dt>"Signed by"</dt>
                <dd><code>{p.key_id.clone()}</code></dd>
                <dt>"SHA-256"</dt>
                <dd class="checksum"><code>{p.sha256.clone()}</code></dd>
                <dt>"In the patch repository"</dt>
                <dd>{yes_no(found.in_repository)}</dd>
            </dl>
        </section>
        <section class="card">
            <ReleaseNotes html=p.release_notes_html.clone()/>
        </section>
    }
}
