//! How errors are shown: the server's own words in an alert, or a trip to the login page when
//! the session has ended.

use leptos::error::Errors;
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

/// The fallback of an `<ErrorBoundary>`: every error it caught, in words.
#[component]
pub fn ErrorList(
    /// The errors the boundary caught.
    errors: ArcRwSignal<Errors>,
) -> impl IntoView {
    move || {
        errors
            .get()
            .into_iter()
            .map(|(_, error)| match error.downcast_ref::<ApiError>() {
                Some(api_error) => view! { <ErrorDisplay error=api_error.clone()/> }.into_any(),
                None => view! {
                    <p class="error-message" role="alert">
                        {format!("Something went wrong: {error}. Reload the page to try again.")}
                    </p>
                }
                .into_any(),
            })
            .collect_view()
    }
}
