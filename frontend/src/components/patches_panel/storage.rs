//! The Disk space field of the SMS Patches panel: the data dir's free space, and the server's
//! warning when it is low.

use leptos::prelude::*;
use shared::panel::StorageStatus;
use web_core::storage::{free_space_in_words, low_space_warning};

/// "Data dir /var/lib/sms: 12.3 GiB free of 50.0 GiB", with a warning under it while the server
/// says the space is low.
#[component]
pub fn StorageField(storage: StorageStatus) -> impl IntoView {
    let low = storage.low;
    // A status, not an alert: the panel is drawn again each time its view is fetched again, and
    // an alert would be read out anew each time.
    let warning = low.then(|| {
        view! {
            <p id="storage-low" class="warning" role="status">
                <strong>"Low disk space. "</strong>
                {low_space_warning(&storage)}
            </p>
        }
    });
    view! {
        <div class="field" role="group" aria-labelledby="storage-label">
            <span class="field-label" id="storage-label">"Disk space"</span>
            <div class="field-value">
                <span
                    id="storage-free"
                    class=if low { "storage-free storage-low" } else { "storage-free" }
                >
                    {free_space_in_words(&storage)}
                </span>
            </div>
            {warning}
        </div>
    }
}
