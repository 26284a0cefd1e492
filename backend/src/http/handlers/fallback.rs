//! Answers for unknown `/api` paths and wrong methods, in the API's error shape.

use axum::http::Uri;

use crate::http::error::ApiError;

/// Any path under `/api` that no route matches.
pub async fn api_not_found(uri: Uri) -> ApiError {
    ApiError::unknown_api_path(uri.path())
}

/// A known path asked with a method it does not take.
pub async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}
