//! The parts of Admin > Notifications: the targets with "Send a test" and Remove, the "Add a
//! target" form, and the delivery log, over the page's two lists (`Lists`). (The SMS Patch
//! Notifications field of the General page is `components::notifications`.)

pub mod deliveries;
pub mod target_form;
pub mod targets;

pub use deliveries::DeliveriesTable;
pub use target_form::AddTargetForm;
pub use targets::TargetsTable;

use leptos::prelude::*;
use shared::notify::{DeliveryLog, TargetList};

use crate::api;
use crate::live::Live;
use crate::load::{Loaded, resource};

/// The page's two resources, for the parts that change them.
#[derive(Clone, Copy)]
pub struct Lists {
    pub targets: Loaded<TargetList>,
    pub deliveries: Loaded<DeliveryLog>,
    /// Counts the fetches an action asked for: a look started before one is older than its
    /// answer, and is dropped.
    generation: StoredValue<u64>,
}

impl Lists {
    pub fn new(live: Live) -> Self {
        let generation = StoredValue::new(0);
        Self {
            targets: resource(api::list_targets),
            deliveries: resource(move || {
                live.deliveries_changed.track();
                generation.update_value(|n| *n += 1);
                api::deliveries()
            }),
            generation,
        }
    }

    /// Fetches both again at once (after an action changed them).
    pub fn reload(self) {
        self.generation.update_value(|n| *n += 1);
        self.targets.refetch();
        // Counted again by the fetch itself.
        self.deliveries.refetch();
    }

    /// Looks at both again, and shows them only when they changed (so nothing is drawn again
    /// under the admin's cursor for nothing).
    pub async fn refresh(self) {
        let started = self.generation.get_value();
        let current = move || self.generation.try_get_value() == Some(started);
        let deliveries = api::deliveries().await;
        // A receiver that answered 410 Gone disables its target.
        let targets = api::list_targets().await;
        if !current() {
            return;
        }
        if let Ok(fresh) = deliveries {
            let shown = self.deliveries.get_untracked().and_then(Result::ok);
            if shown.as_ref() != Some(&fresh) {
                self.deliveries.set(Some(Ok(fresh)));
            }
        }
        if let Ok(fresh) = targets {
            let shown = self.targets.get_untracked().and_then(Result::ok);
            if shown.as_ref() != Some(&fresh) {
                self.targets.set(Some(Ok(fresh)));
            }
        }
    }
}
