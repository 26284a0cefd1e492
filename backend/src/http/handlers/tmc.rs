//! `/api/v1/tmc`: the TMC status, and Check now.

use axum::extract::State;
use shared::api::ErrorResponse;
use shared::panel::TmcStatus;

use crate::http::error::{ApiError, Json};
use crate::http::extract::{Admin, CurrentUser, Source};
use crate::http::state::AppState;
use crate::service::AuditEvent;

/// The TMC connection status.
#[utoipa::path(
    get,
    path = "/api/v1/tmc",
    operation_id = "tmc_status",
    tag = "tmc",
    responses(
        (status = 200, description = "The TMC status", body = TmcStatus),
        (status = 401, description = "Not logged in", body = ErrorResponse),
    )
)]
pub async fn status(
    State(state): State<AppState>,
    CurrentUser(_user): CurrentUser,
) -> Result<Json<TmcStatus>, ApiError> {
    Ok(Json(state.tmc.status().await))
}

/// Check now: fetches and verifies the TMC catalog, and answers with the status after it.
#[utoipa::path(
    post,
    path = "/api/v1/tmc/check",
    operation_id = "tmc_check",
    tag = "tmc",
    responses(
        (status = 200, description = "The check ran; the status says how it went", body = TmcStatus),
        (status = 401, description = "Not logged in", body = ErrorResponse),
        (status = 403, description = "Not an admin (`admin_required`), or X-SMS-Client missing (`client_header_missing`)", body = ErrorResponse),
        (status = 412, description = "No TMC is configured (`tmc_not_configured`)", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user = %admin.username))]
pub async fn check(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Source(source): Source,
) -> Result<Json<TmcStatus>, ApiError> {
    if !state.tmc.is_configured() {
        return Err(ApiError::Status {
            status: axum::http::StatusCode::PRECONDITION_FAILED,
            code: "tmc_not_configured",
            message: "No TMC is configured, so there is nothing to check. Start the server with \
                      --tmc-url, or import patch files instead."
                .into(),
        });
    }
    let (status, outcome) = state.tmc.check().await;
    if let Some(outcome) = outcome {
        state.panel.after_tmc_check(outcome).await;
    }
    let event = match &status.message {
        None => AuditEvent::success("tmc_check", &admin.username)
            .details(format!("catalog serial {}", status.serial.unwrap_or(0))),
        Some(message) => AuditEvent::failure("tmc_check", &admin.username).details(message.clone()),
    };
    state.audit.record(event.source(source)).await?;
    Ok(Json(status))
}
