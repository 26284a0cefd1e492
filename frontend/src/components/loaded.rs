//! A loaded value drawn in one shape (see `crate::load`): "Loading…" until it is there, then the
//! value, or the error; a later value replaces the drawing only once it is there.

use leptos::prelude::*;

use crate::api::ApiError;
use crate::components::error::ErrorDisplay;
use crate::components::loading::Loading;

/// Where a loaded value is drawn: how its "Loading…" line and its error look.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// Inside a card that is already there.
    Bare,
    /// In a card of its own.
    Card,
    /// In the admin frame, before its header is there.
    Shell,
}

impl Place {
    /// The class of the box around the "Loading…" line or the error, if any.
    fn class(self, error: bool) -> Option<&'static str> {
        match (self, error) {
            (Self::Bare, _) => None,
            (Self::Card, _) => Some("card"),
            (Self::Shell, false) => Some("shell-loading"),
            (Self::Shell, true) => Some("shell-error"),
        }
    }

    fn around(self, error: bool, inner: AnyView) -> AnyView {
        match self.class(error) {
            None => inner,
            Some(class) => view! { <div class=class>{inner}</div> }.into_any(),
        }
    }
}

/// Draws the value `value` reads: "Loading {what}…" until it first has one, then `show` with
/// it, or the error (a 401 takes the user to the login page). A later value replaces the drawing
/// only once it is there.
pub fn loaded<T: 'static>(
    value: impl Fn() -> Option<Result<T, ApiError>> + Send + Sync + 'static,
    place: Place,
    what: &'static str,
    show: impl Fn(T) -> AnyView + Send + Sync + 'static,
) -> AnyView {
    let value: Box<dyn Fn() -> Option<Result<T, ApiError>> + Send + Sync> = Box::new(value);
    let show: Box<dyn Fn(T) -> AnyView + Send + Sync> = Box::new(show);
    (move || match value() {
        Some(Ok(value)) => show(value),
        Some(Err(error)) => place.around(true, view! { <ErrorDisplay error/> }.into_any()),
        None => place.around(false, view! { <Loading what/> }.into_any()),
    })
    .into_any()
}
