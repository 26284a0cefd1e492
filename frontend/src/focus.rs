//! Moving the keyboard focus to an element by its id, as a question appears or goes.

use leptos::prelude::document;
use wasm_bindgen::JsCast;

/// Moves the focus to the element with this id, if it is on the page.
pub fn focus(id: &str) {
    let element = document()
        .get_element_by_id(id)
        .and_then(|element| element.dyn_into::<web_sys::HtmlElement>().ok());
    if let Some(element) = element {
        // Focusing an element on the page does not fail.
        let _ = element.focus();
    }
}
