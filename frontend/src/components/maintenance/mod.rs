//! The parts of Admin > Maintenance: the settings as loaded and as edited (`Editor`), the
//! windows with Remove and the "Add a window" form, the automatic install policy, the next
//! openings, and the job scheduled for a window with Cancel.

pub mod openings;
pub mod policy;
pub mod scheduled;
pub mod window_form;
pub mod windows;

pub use openings::Openings;
pub use policy::PolicyFields;
pub use scheduled::ScheduledJob;
pub use window_form::{AddWindowForm, NewWindow};
pub use windows::WindowList;

use leptos::prelude::*;
use shared::maintenance::{MaintenanceSettings, MaintenanceView};

use crate::load::Loaded;

/// The maintenance view as loaded, and the admin's changes not saved yet.
#[derive(Clone, Copy)]
pub struct Editor {
    /// The server's view, fetched again when a job was scheduled, started or ended.
    pub view: Loaded<MaintenanceView>,
    /// The settings as the admin changed them; `None` while they are the server's.
    pub draft: RwSignal<Option<MaintenanceSettings>>,
}

impl Editor {
    /// The view, once loaded.
    pub fn loaded(&self) -> Option<MaintenanceView> {
        self.view.get().and_then(Result::ok)
    }

    /// The settings as the page shows them: the admin's changes, or else the server's.
    pub fn current(&self) -> Option<MaintenanceSettings> {
        self.draft
            .get()
            .or_else(|| self.loaded().map(|view| view.settings))
    }

    /// Whether the page shows settings the server does not have yet.
    pub fn unsaved(&self) -> bool {
        let saved = self.loaded().map(|view| view.settings);
        self.draft.get().is_some_and(|draft| Some(draft) != saved)
    }

    /// Changes the settings on the page (not saved yet); whether it could (not before they
    /// are loaded).
    pub fn change(&self, edit: impl FnOnce(&mut MaintenanceSettings)) -> bool {
        let current = self.draft.get_untracked().or_else(|| {
            self.view
                .get_untracked()
                .and_then(Result::ok)
                .map(|view| view.settings)
        });
        let Some(mut settings) = current else {
            return false;
        };
        edit(&mut settings);
        self.draft.set(Some(settings));
        true
    }
}
