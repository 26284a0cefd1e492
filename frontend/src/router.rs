//! The address bar, kept by the app itself: the current path and query as signals, the
//! browser's history, and the app's own links followed without loading the page again. Which
//! page an address shows is `web_core::routes`' business.
//!
//! A general router (a table of routes, nested outlets, transitions) would cost the web client
//! more than the app's one match on the path needs (docs/web-client.md).

use leptos::prelude::*;
use wasm_bindgen::{JsCast, JsValue};

thread_local! {
    /// The address shown now: its path and its query (with the `?`, or empty).
    static ADDRESS: (ArcRwSignal<String>, ArcRwSignal<String>) = {
        let (path, query) = address_now();
        (ArcRwSignal::new(path), ArcRwSignal::new(query))
    };
}

/// The address the page is at: its path (`/admin/audit`) and its query (`?page=2`). Reading
/// the path or the query subscribes to its changes.
#[derive(Debug, Clone, Copy)]
pub struct Location;

impl Location {
    /// The path (reactive).
    pub fn path(self) -> String {
        self.with_path(str::to_owned)
    }

    /// `read` of the path (reactive).
    pub fn with_path<T>(self, read: impl FnOnce(&str) -> T) -> T {
        ADDRESS.with(|(path, _)| path.with(|path| read(path)))
    }

    /// The query's value for `key` (decoded), if the address has one (reactive).
    pub fn query(self, key: &str) -> Option<String> {
        ADDRESS.with(|(_, search)| search.with(|search| query_value(search, key)))
    }

    /// The path and query, as a link back here would have them (not reactive).
    pub fn here(self) -> String {
        ADDRESS.with(|(path, search)| format!("{}{}", path.get_untracked(), search.get_untracked()))
    }
}

/// The current address.
pub fn use_location() -> Location {
    Location
}

/// How a navigation treats the browser's history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum History {
    /// A new step: Back returns to the page before.
    Push,
    /// In place of the current step (a redirect): Back does not bounce straight back here.
    Replace,
}

/// Shows the page at `to` (a path on this site, with its query), without loading the page.
pub fn navigate(to: &str, history: History) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let here = use_location().here();
    let stepped = match window.history() {
        Ok(browser) if history == History::Push && to != here => {
            browser.push_state_with_url(&JsValue::NULL, "", Some(to))
        }
        Ok(browser) => browser.replace_state_with_url(&JsValue::NULL, "", Some(to)),
        Err(err) => Err(err),
    };
    if stepped.is_err() {
        // No history to write to: load the page instead.
        let _ = window.location().set_href(to);
        return;
    }
    follow_address();
    if history == History::Push {
        window.scroll_to_with_x_and_y(0.0, 0.0);
    }
}

/// Follows the browser's Back and Forward, and the clicks on the app's own links, for as long
/// as the page lives (called once, by `App`).
pub fn listen() {
    // The listeners live as long as the page: their handles are never removed.
    let _ = window_event_listener(leptos::ev::popstate, |_| follow_address());
    let _ = window_event_listener(leptos::ev::click, |event| {
        if let Some(to) = link_to_follow(&event) {
            event.prevent_default();
            navigate(&to, History::Push);
        }
    });
}

/// The path and query a click on a link should show in the app, if the app should follow it:
/// a plain left click (no modifier key) on a link to a page of this site that opens in this
/// tab. A link within the page (`#main`) and a download are left to the browser.
fn link_to_follow(event: &web_sys::MouseEvent) -> Option<String> {
    if event.default_prevented()
        || event.button() != 0
        || event.meta_key()
        || event.ctrl_key()
        || event.shift_key()
        || event.alt_key()
    {
        return None;
    }
    let target = event.target()?.dyn_into::<web_sys::Element>().ok()?;
    let link = target
        .closest("a[href]")
        .ok()??
        .dyn_into::<web_sys::HtmlAnchorElement>()
        .ok()?;
    let href = link.get_attribute("href")?;
    let opens_here = matches!(link.target().as_str(), "" | "_self");
    if href.starts_with('#') || !opens_here || link.has_attribute("download") {
        return None;
    }
    let origin = web_sys::window()?.location().origin().ok()?;
    if link.origin() != origin {
        return None;
    }
    Some(format!(
        "{}{}{}",
        link.pathname(),
        link.search(),
        link.hash()
    ))
}

/// Sets the address signals to what the browser shows now.
fn follow_address() {
    let (path, query) = address_now();
    ADDRESS.with(|(pathname, search)| {
        if *pathname.read_untracked() != path {
            pathname.set(path);
        }
        if *search.read_untracked() != query {
            search.set(query);
        }
    });
}

/// The browser's current path and query.
fn address_now() -> (String, String) {
    let location = web_sys::window().map(|window| window.location());
    let read = |part: fn(&web_sys::Location) -> Result<String, JsValue>| {
        location
            .as_ref()
            .and_then(|location| part(location).ok())
            .unwrap_or_default()
    };
    let path = read(web_sys::Location::pathname);
    let path = if path.is_empty() {
        "/".to_owned()
    } else {
        path
    };
    (path, read(web_sys::Location::search))
}

/// The value of `key` in a query string (`?a=1&b=2`), decoded.
fn query_value(search: &str, key: &str) -> Option<String> {
    web_sys::UrlSearchParams::new_with_str(search)
        .ok()?
        .get(key)
}

/// `text` escaped for a query's value.
pub fn escape(text: &str) -> String {
    web_sys::js_sys::encode_uri_component(text).into()
}
