//! Reusable pieces of the app's pages.

pub mod backups;
pub mod certificate;
pub mod change_password;
pub mod client_mismatch;
pub mod cluster;
pub mod error;
pub mod header;
pub mod import;
pub mod install;
pub mod loaded;
pub mod loading;
pub mod local_time;
pub mod maintenance;
pub mod notifications;
pub mod notify;
pub mod patch_details;
pub mod patches_panel;
pub mod shell;
pub mod shell_data;
pub mod table;

use leptos::prelude::document;

/// Sets the browser tab's title to `page · SMS`.
pub fn set_page_title(page: &str) {
    document().set_title(&format!("{page} · SMS"));
}
