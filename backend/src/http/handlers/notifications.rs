//! `/api/v1/notifications/...`: the notification targets, a test per target, and the delivery
//! log (docs/notifications.md).

use axum::extract::State;
use axum::http::StatusCode;
use shared::api::ErrorResponse;
use shared::notify::{CreatedTarget, Delivery, DeliveryLog, NewTarget, TargetList};

use crate::http::error::{ApiError, Json, Path};
use crate::http::extract::{Admin, CurrentUser, Source};
use crate::http::state::AppState;
use crate::service::notify::LOG_LIMIT;

/// The targets (never their secrets), and whether email can be sent.
#[utoipa::path(
    get,
    path = "/api/v1/notifications/targets",
    operation_id = "notification_targets",
    tag = "notifications",
    responses(
        (status = 200, description = "The targets", body = TargetList),
        (status = 401, description = "Not logged in", body = ErrorResponse),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    CurrentUser(_user): CurrentUser,
) -> Result<Json<TargetList>, ApiError> {
    Ok(Json(TargetList {
        targets: state.notifier.targets().await?,
        email_configured: state.notifier.email_configured(),
    }))
}

/// Adds a webhook or an email target (admin; audited). A webhook without a secret gets one,
/// answered this once.
#[utoipa::path(
    post,
    path = "/api/v1/notifications/targets",
    operation_id = "add_notification_target",
    tag = "notifications",
    request_body = NewTarget,
    responses(
        (status = 201, description = "The target, and the secret the server made", body = CreatedTarget),
        (status = 400, description = "Not a webhook URL (`invalid_target_url`), not a `whsec_` secret (`invalid_secret`), not an address (`invalid_email_address`), a bad body (`invalid_json`, `invalid_body`)", body = ErrorResponse),
        (status = 401, description = "Not logged in", body = ErrorResponse),
        (status = 403, description = "Not an admin (`admin_required`), or X-SMS-Client missing (`client_header_missing`)", body = ErrorResponse),
        (status = 409, description = "No `[smtp]` server for an email target (`email_not_configured`)", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user = %admin.username))]
pub async fn add(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Source(source): Source,
    Json(body): Json<NewTarget>,
) -> Result<(StatusCode, Json<CreatedTarget>), ApiError> {
    let created = state
        .notifier
        .add_target(body, &admin.username, source)
        .await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Removes a target (admin; audited); what waits for it is dropped.
#[utoipa::path(
    delete,
    path = "/api/v1/notifications/targets/{id}",
    operation_id = "remove_notification_target",
    tag = "notifications",
    params(("id" = i64, Path, description = "The target's id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "Not logged in", body = ErrorResponse),
        (status = 403, description = "Not an admin (`admin_required`), or X-SMS-Client missing (`client_header_missing`)", body = ErrorResponse),
        (status = 404, description = "No such target (`target_not_found`)", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user = %admin.username))]
pub async fn remove(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Source(source): Source,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    state
        .notifier
        .remove_target(id, &admin.username, source)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sends a `test` event to one target now (admin; audited): answers the queued delivery.
#[utoipa::path(
    post,
    path = "/api/v1/notifications/targets/{id}/test",
    operation_id = "test_notification_target",
    tag = "notifications",
    params(("id" = i64, Path, description = "The target's id")),
    responses(
        (status = 202, description = "Queued; the delivery log tells how it went", body = Delivery),
        (status = 401, description = "Not logged in", body = ErrorResponse),
        (status = 403, description = "Not an admin (`admin_required`), or X-SMS-Client missing (`client_header_missing`)", body = ErrorResponse),
        (status = 404, description = "No such target (`target_not_found`)", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user = %admin.username))]
pub async fn test(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Source(source): Source,
    Path(id): Path<i64>,
) -> Result<(StatusCode, Json<Delivery>), ApiError> {
    let delivery = state
        .notifier
        .send_test(id, &admin.username, source)
        .await?;
    Ok((StatusCode::ACCEPTED, Json(delivery)))
}

/// The delivery log: time, event, target, outcome and next try of each delivery, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/notifications/deliveries",
    operation_id = "notification_deliveries",
    tag = "notifications",
    responses(
        (status = 200, description = "The newest deliveries (200 at most)", body = DeliveryLog),
        (status = 401, description = "Not logged in", body = ErrorResponse),
    )
)]
pub async fn deliveries(
    State(state): State<AppState>,
    CurrentUser(_user): CurrentUser,
) -> Result<Json<DeliveryLog>, ApiError> {
    Ok(Json(DeliveryLog {
        deliveries: state.notifier.deliveries(LOG_LIMIT).await?,
    }))
}
