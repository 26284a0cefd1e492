//! The SMS Patches panel: what is installed, the TMC status with Check now, the data dir's free
//! space (with the server's warning when it is low), the available patches with their states
//! (live), and the history of installs and rollbacks (with the one scheduled for a maintenance
//! window).

mod available;
mod history;
mod storage;
mod tmc;

use leptos::prelude::*;
use shared::PatchLevel;
use shared::panel::PatchesView;
use web_core::paths::{ROLLBACK, UPDATE_PATCH};
use web_core::times::in_utc;

use available::AvailableTable;
use history::History;
use storage::StorageField;
use tmc::TmcField;

/// The panel's content once the view is loaded.
#[component]
pub fn PatchesPanel(
    /// The panel's data (fetched again whenever the server says it changed).
    view: PatchesView,
    /// Whether the user may act (admins).
    is_admin: bool,
) -> impl IntoView {
    let installed = view.installed.clone();
    let installed_on = in_utc(installed.installed_at);
    let level = installed_level_in_words(installed.patch_level);
    view! {
        <div class="field">
            <span class="field-label">"Installed"</span>
            <div class="field-value" id="installed-patch">
                <strong>{format!("SMS {} ", installed.product_version)}</strong>
                {level}
                <span class="muted">
                    {format!(" · build {} · installed on ", installed.build)}
                    <time datetime=installed.installed_at.to_rfc3339()>{installed_on}</time>
                    {format!(" by {}", installed.installed_by)}
                </span>
                {(is_admin && !installed.patch_level.is_none()).then(|| view! {
                    " "
                    <a href=ROLLBACK id="rollback-link" class="button">"Roll back…"</a>
                })}
            </div>
        </div>
        <TmcField status=view.tmc.clone() is_admin/>
        {view.storage.clone().map(|storage| view! { <StorageField storage/> })}
        {is_admin.then(|| view! {
            <div class="field">
                <span class="field-label">"Update"</span>
                <div class="field-value">
                    <a href=UPDATE_PATCH id="update-link" class="button button-primary">"Update…"</a>
                    <span class="muted">" Download a patch from the TMC or import a patch file."</span>
                </div>
            </div>
        })}
        <AvailableTable patches=view.available.clone() is_admin/>
        <History entries=view.history.clone() total=view.history_total is_admin/>
    }
}

/// The installed level as the panel and the General page show it: "No patch installed (base
/// version)" or "Patch 3 installed".
pub fn installed_level_in_words(level: PatchLevel) -> String {
    if level.is_none() {
        "No patch installed (base version)".to_owned()
    } else {
        format!("{level} installed")
    }
}
