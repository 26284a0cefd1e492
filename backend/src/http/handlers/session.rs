//! `/api/v1/session`: log in, say who is logged in, log out; `/api/v1/session/password`: the
//! logged-in user changes their own password.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cookie::{Cookie, SameSite};
use shared::api::{ErrorResponse, LoginRequest, PasswordChange, SessionInfo};

use crate::http::error::{ApiError, Json};
use crate::http::extract::{CurrentUser, Https, SESSION_COOKIE, Source, require_client_header};
use crate::http::state::AppState;

/// Who is logged in.
#[utoipa::path(
    get,
    path = "/api/v1/session",
    operation_id = "session",
    tag = "session",
    responses(
        (status = 200, description = "The logged-in user", body = SessionInfo),
        (status = 401, description = "Not logged in", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all)]
pub async fn get(CurrentUser(user): CurrentUser) -> Json<SessionInfo> {
    Json(user.session_info())
}

/// Logs in and sets the session cookie (HttpOnly, SameSite=Strict, Secure under TLS).
#[utoipa::path(
    post,
    path = "/api/v1/session",
    operation_id = "login",
    tag = "session",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in; the session cookie is set", body = SessionInfo),
        (status = 400, description = "Invalid body", body = ErrorResponse),
        (status = 401, description = "Wrong username or password", body = ErrorResponse),
        (status = 403, description = "The X-SMS-Client header is missing (`client_header_missing`)", body = ErrorResponse),
        (status = 413, description = "The body is larger than `[http] max_body_bytes` (`body_too_large`)", body = ErrorResponse),
        (status = 415, description = "The body is not JSON (`unsupported_media_type`)", body = ErrorResponse),
        (status = 429, description = "Too many failed logins from this address, or for this user from it (`too_many_login_attempts`, with `Retry-After`)", body = ErrorResponse),
        (status = 503, description = "Every password-hashing slot is taken (`busy`, with `Retry-After`)", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(username = %body.username))]
pub async fn login(
    State(state): State<AppState>,
    Source(source): Source,
    Https(https): Https,
    headers: HeaderMap,
    Json(body): Json<LoginRequest>,
) -> Result<Response, ApiError> {
    require_client_header(&headers)?;
    let (token, user) = state
        .auth
        .login(&body.username, &body.password, source)
        .await?;
    let cookie = Cookie::build((SESSION_COOKIE, token))
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(https)
        .path("/")
        .build();
    Ok(with_cookie(
        Json(user.session_info()).into_response(),
        &cookie,
    ))
}

/// Logs out: ends the session and clears the cookie.
#[utoipa::path(
    delete,
    path = "/api/v1/session",
    operation_id = "logout",
    tag = "session",
    responses(
        (status = 204, description = "Logged out"),
        (status = 401, description = "Not logged in", body = ErrorResponse),
        (status = 403, description = "The X-SMS-Client header is missing (`client_header_missing`)", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user = %user.username))]
pub async fn logout(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Source(source): Source,
    Https(https): Https,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    require_client_header(&headers)?;
    state.auth.logout(&user, source).await?;
    let cookie = Cookie::build((SESSION_COOKIE, ""))
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(https)
        .path("/")
        .max_age(cookie::time::Duration::ZERO)
        .build();
    Ok(with_cookie(StatusCode::NO_CONTENT.into_response(), &cookie))
}

/// The logged-in user changes their own password (any role): the first admin must, at the
/// first login with the password the server printed (`must_change_password`). Their other
/// sessions end; this one goes on.
#[utoipa::path(
    put,
    path = "/api/v1/session/password",
    operation_id = "change_password",
    tag = "session",
    request_body = PasswordChange,
    responses(
        (status = 200, description = "Changed; the session as it is now", body = SessionInfo),
        (status = 400, description = "The new password is the current one (`same_password`) or too short or long (`invalid_input`), or the body is invalid", body = ErrorResponse),
        (status = 401, description = "Not logged in", body = ErrorResponse),
        (status = 403, description = "The current password is wrong (`wrong_password`), or the X-SMS-Client header is missing (`client_header_missing`)", body = ErrorResponse),
        (status = 413, description = "The body is larger than `[http] max_body_bytes` (`body_too_large`)", body = ErrorResponse),
        (status = 415, description = "The body is not JSON (`unsupported_media_type`)", body = ErrorResponse),
        (status = 429, description = "Too many wrong passwords for this user from this address, or from this address (`too_many_login_attempts`, with `Retry-After`)", body = ErrorResponse),
        (status = 503, description = "Every password-hashing slot is taken (`busy`, with `Retry-After`)", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user = %user.username))]
pub async fn change_password(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Source(source): Source,
    headers: HeaderMap,
    Json(body): Json<PasswordChange>,
) -> Result<Json<SessionInfo>, ApiError> {
    require_client_header(&headers)?;
    let changed = state
        .auth
        .change_own_password(&user, &body.current_password, &body.new_password, source)
        .await?;
    Ok(Json(changed.session_info()))
}

fn with_cookie(mut response: Response, cookie: &Cookie<'_>) -> Response {
    if let Ok(value) = HeaderValue::from_str(&cookie.to_string()) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}
