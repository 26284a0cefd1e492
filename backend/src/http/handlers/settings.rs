//! `GET /api/v1/settings` and `PUT /api/v1/settings/notifications`.

use axum::extract::State;
use shared::api::{ErrorResponse, NotificationsSetting, Settings};

use crate::http::error::{ApiError, Json};
use crate::http::extract::{Admin, CurrentUser, Source};
use crate::http::state::AppState;

/// The server's settings.
#[utoipa::path(
    get,
    path = "/api/v1/settings",
    operation_id = "settings",
    tag = "settings",
    responses(
        (status = 200, description = "Current settings", body = Settings),
        (status = 401, description = "Not logged in", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all)]
pub async fn get(
    State(state): State<AppState>,
    CurrentUser(_user): CurrentUser,
) -> Result<Json<Settings>, ApiError> {
    Ok(Json(state.settings.get().await?))
}

/// Turns SMS patch notifications on or off (admin; audited).
#[utoipa::path(
    put,
    path = "/api/v1/settings/notifications",
    operation_id = "set_notifications",
    tag = "settings",
    request_body = NotificationsSetting,
    responses(
        (status = 200, description = "The settings after the change", body = Settings),
        (status = 400, description = "Invalid body", body = ErrorResponse),
        (status = 401, description = "Not logged in", body = ErrorResponse),
        (status = 403, description = "Not an admin (`admin_required`), or X-SMS-Client missing (`client_header_missing`)", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user = %admin.username))]
pub async fn set_notifications(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Source(source): Source,
    Json(body): Json<NotificationsSetting>,
) -> Result<Json<Settings>, ApiError> {
    let settings = state
        .settings
        .set_notifications(body.enabled, &admin.username, source)
        .await?;
    // Every open client shows or hides its patch notice.
    state
        .events
        .publish(shared::panel::ServerEvent::PatchesChanged);
    Ok(Json(settings))
}
