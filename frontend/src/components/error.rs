//! How errors are shown: the server's own words in an alert, or a trip to the login page when
//! the session has ended.

use leptos::prelude::*;

use crate::api::ApiError;
use crate::navigation::use_login_redirect;

/// Shows one failed API call. A 401 means the session ended: the user is taken to the login page
/// and comes back here after logging in.
#[component]
pub fn ErrorDisplay(
    /// What went wrong.
    error: ApiError,
) -> impl IntoView {
    if error.is_unauthorized() {
        let redirect = use_login_redirect();
        // Navigate after this render, not during it: the navigation replaces this very view.
        Effect::new(redirect);
        view! {
            <p class="notice" role="status">
                "Your session has ended. Taking you to the login page…"
            </p>
        }
        .into_any()
    } else {
        view! {
            <p class="error-message" role="alert">
                {error.message}
            </p>
        }
        .into_any()
    }
}
