//! Where the app sends people: to the login page and back again. The addresses of the pages,
//! and which one is safe to open after login, are `web_core::paths`.

use leptos::prelude::untrack;
use web_core::paths::LOGIN;

use crate::router::{History, escape, navigate, use_location};

/// The login page's address that returns to `here` after login.
pub fn login_path(here: &str) -> String {
    format!("{LOGIN}?next={}", escape(here))
}

/// Returns a function that sends the user to the login page (their session ended) and brings
/// them back to the page they are on now once they have logged in again.
pub fn use_login_redirect() -> impl Fn() + Clone + 'static {
    let location = use_location();
    move || {
        if untrack(|| location.path()) == LOGIN {
            return;
        }
        navigate(&login_path(&location.here()), History::Replace);
    }
}
