//! `GET /api/v1/health`: liveness and the installed level, without login.

use axum::extract::State;
use shared::api::HealthResponse;

use crate::http::error::{ApiError, Json};
use crate::http::state::AppState;

/// Whether the server answers, with its product version and patch level.
#[utoipa::path(
    get,
    path = "/api/v1/health",
    operation_id = "health",
    tag = "server",
    responses((status = 200, description = "The server is up", body = HealthResponse))
)]
#[tracing::instrument(skip_all)]
pub async fn get(State(state): State<AppState>) -> Result<Json<HealthResponse>, ApiError> {
    let installed = state.installed.get().await?;
    Ok(Json(HealthResponse {
        status: "ok".to_owned(),
        product_version: installed.product_version,
        patch_level: installed.patch_level,
    }))
}
