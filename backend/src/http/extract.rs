//! Extractors for who is asking: the logged-in user, an admin, the client's address.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use shared::api::CLIENT_HEADER;

use crate::http::error::ApiError;
use crate::http::state::AppState;
use crate::service::AuthenticatedUser;

/// The name of the session cookie.
pub const SESSION_COOKIE: &str = "sms_session";

/// The user of a valid session; otherwise the request is answered 401 `not_logged_in`.
#[derive(Debug, Clone)]
pub struct CurrentUser(pub AuthenticatedUser);

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = session_token(&parts.headers).ok_or(ApiError::NotLoggedIn)?;
        let user = state
            .auth
            .authenticate(&token)
            .await?
            .ok_or(ApiError::NotLoggedIn)?;
        Ok(CurrentUser(user))
    }
}

/// A state change by an admin: a valid session (401), the admin role (403 `admin_required`)
/// and the `X-SMS-Client` header (403 `client_header_missing`), checked in that order.
#[derive(Debug, Clone)]
pub struct Admin(pub AuthenticatedUser);

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let CurrentUser(user) = CurrentUser::from_request_parts(parts, state).await?;
        if !user.role.is_admin() {
            return Err(ApiError::AdminRequired);
        }
        require_client_header(&parts.headers)?;
        Ok(Admin(user))
    }
}

/// The client's IP address, for the audit log.
#[derive(Debug, Clone)]
pub struct Source(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for Source {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Source(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(addr)| addr.ip().to_string()),
        ))
    }
}

/// State changes must carry `X-SMS-Client`: a cross-site form cannot set it, so it stops CSRF.
pub fn require_client_header(headers: &HeaderMap) -> Result<(), ApiError> {
    match headers.get(CLIENT_HEADER) {
        Some(value) if !value.is_empty() => Ok(()),
        _ => Err(ApiError::ClientHeaderMissing),
    }
}

/// The session token from the `Cookie` header(s).
pub fn session_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == SESSION_COOKIE)
        .map(|c| c.value().to_owned())
        .filter(|value| !value.is_empty())
}
