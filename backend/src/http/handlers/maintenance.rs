//! `GET/PUT /api/v1/maintenance`: the maintenance windows, their next openings, the job
//! waiting for one, and the automatic install policy (docs/maintenance.md).

use axum::extract::State;
use shared::api::ErrorResponse;
use shared::maintenance::{MaintenanceSettings, MaintenanceView};

use crate::http::error::{ApiError, Json};
use crate::http::extract::{Admin, CurrentUser, Source};
use crate::http::state::AppState;

/// The windows, the policy, the next openings and the scheduled job.
#[utoipa::path(
    get,
    path = "/api/v1/maintenance",
    operation_id = "maintenance",
    tag = "maintenance",
    responses(
        (status = 200, description = "The maintenance settings and what they mean now", body = MaintenanceView),
        (status = 401, description = "Not logged in", body = ErrorResponse),
    )
)]
pub async fn get(
    State(state): State<AppState>,
    CurrentUser(_user): CurrentUser,
) -> Result<Json<MaintenanceView>, ApiError> {
    Ok(Json(state.maintenance.view().await?))
}

/// Replaces the windows and the policy (admin; audited as `maintenance_change`).
#[utoipa::path(
    put,
    path = "/api/v1/maintenance",
    operation_id = "set_maintenance",
    tag = "maintenance",
    request_body = MaintenanceSettings,
    responses(
        (status = 200, description = "The settings after the change", body = MaintenanceView),
        (status = 400, description = "A window is refused (`invalid_schedule`, `invalid_duration`, `invalid_time_zone`, `window_never_opens`), or the body (`invalid_json`, `invalid_body`)", body = ErrorResponse),
        (status = 401, description = "Not logged in", body = ErrorResponse),
        (status = 403, description = "Not an admin (`admin_required`), or X-SMS-Client missing (`client_header_missing`)", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user = %admin.username))]
pub async fn set(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Source(source): Source,
    Json(body): Json<MaintenanceSettings>,
) -> Result<Json<MaintenanceView>, ApiError> {
    Ok(Json(
        state
            .maintenance
            .update(body, &admin.username, source)
            .await?,
    ))
}
