//! A patch's manifest facts and its release notes, as the import step and the Software Details
//! page show them.

use leptos::prelude::*;
use shared::api::PatchInfo;
use shared::effects::{Restart, changes_fact};
use web_core::times::in_utc;
use web_core::words::size_in_mb;

/// Everything the manifest says about the patch, as a list of facts.
#[component]
pub fn PatchFacts(
    /// The patch.
    info: PatchInfo,
) -> impl IntoView {
    let updates_client = if info.updates.updates_client() {
        match &info.client_version {
            Some(version) => format!("Yes: clients must upgrade to {version}"),
            None => "Yes: clients must upgrade".to_owned(),
        }
    } else {
        "No".to_owned()
    };
    let restart = match info.restart {
        Restart::Application => "Application restart",
        Restart::Reboot => "Reboot of the server",
    };
    let imported_at = in_utc(info.imported_at);
    view! {
        <dl id="patch-facts" class="facts">
            <dt>"Build"</dt>
            <dd id="patch-build">{info.build.to_string()}</dd>
            <dt>"Released"</dt>
            <dd id="patch-released">
                <time datetime=info.released.to_string()>{info.released.to_string()}</time>
            </dd>
            <dt>"Size"</dt>
            <dd id="patch-size" title=format!("{} bytes", info.size)>{size_in_mb(info.size)}</dd>
            <dt>"Updates the client"</dt>
            <dd id="patch-updates-client">{updates_client}</dd>
            <dt>"Restart"</dt>
            <dd id="patch-restart">{restart}</dd>
            <dt>"Database changes"</dt>
            <dd id="patch-database-changes">{info.database_changes_in_words()}</dd>
            <dt>"Changes"</dt>
            <dd id="patch-changes">{changes_fact(info.changes.as_ref(), true)}</dd>
            <dt>"Can be rolled back"</dt>
            <dd id="patch-rollback">{yes_no(info.rollback)}</dd>
            <dt>"Signed by"</dt>
            <dd id="patch-key">
                <code>{info.key_id}</code>
                {info.demo_key.then(|| view! {
                    <span
                        id="patch-demo-key"
                        class="badge badge-demo"
                        title="Signed with the demo vendor key, which only a server in demo mode \
                               trusts. Never install it on a production server."
                    >
                        "Demo key"
                    </span>
                })}
            </dd>
            <dt>"SHA-256"</dt>
            <dd class="checksum"><code>{info.sha256}</code></dd>
            <dt>"Imported"</dt>
            <dd>
                <time datetime=info.imported_at.to_rfc3339()>{imported_at}</time>
                {format!(" by {}", info.imported_by)}
            </dd>
        </dl>
    }
}

/// The release notes, as the server rendered and sanitized them.
#[component]
pub fn ReleaseNotes(
    /// Sanitized HTML from the server (`PatchInfo::release_notes_html`); never anything else.
    html: String,
) -> impl IntoView {
    view! {
        <section class="release-notes-section" aria-labelledby="release-notes-heading">
            <h3 id="release-notes-heading">"Release Notes"</h3>
            {if html.trim().is_empty() {
                view! { <p class="muted">"This patch has no release notes."</p> }.into_any()
            } else {
                // The server sanitized this HTML (no scripts, no event handlers, no styles).
                view! { <div id="release-notes" class="release-notes" inner_html=html></div> }.into_any()
            }}
        </section>
    }
}

/// A patch's state in the panel's words.
pub fn state_in_words(state: &shared::panel::PatchState) -> String {
    use shared::panel::PatchState;
    match state {
        PatchState::Available => "Available".to_owned(),
        PatchState::Downloading { percent, .. } => format!("Downloading {percent}%"),
        PatchState::Downloaded => "Downloaded".to_owned(),
        PatchState::Superseded { by } => {
            format!("Superseded by {}", shared::PatchLevel(*by))
        }
        PatchState::Installed => "Installed".to_owned(),
        PatchState::NotApplicable { reason } => format!("Not applicable: {reason}"),
    }
}

fn yes_no(value: bool) -> &'static str {
    if value { "Yes" } else { "No" }
}
