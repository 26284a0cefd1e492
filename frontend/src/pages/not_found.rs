//! The page for addresses the app does not know.

use leptos::prelude::*;
use web_core::paths::HOME;

use crate::components::set_page_title;
use crate::router::use_location;

/// "Page not found", with the address that was asked for and a link home.
#[component]
pub fn NotFound() -> impl IntoView {
    set_page_title("Not found");
    let location = use_location();
    view! {
        <main id="not-found" class="centered-page">
            <div class="card narrow">
                <p class="brand-name">"SMS"</p>
                <h1>"Page not found"</h1>
                <p>
                    "There is no page at " <code>{move || location.path()}</code> "."
                </p>
                <p><a href=HOME>"Go to Admin > General"</a></p>
            </div>
        </main>
    }
}
