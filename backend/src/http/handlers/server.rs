//! `GET /api/v1/server`: what runs on this SMS server.

use axum::extract::State;
use shared::api::{ErrorResponse, ServerInfo};

use crate::http::error::{ApiError, Json};
use crate::http::extract::CurrentUser;
use crate::http::state::AppState;

/// Product version, build, patch level, node name and state.
#[utoipa::path(
    get,
    path = "/api/v1/server",
    operation_id = "server",
    tag = "server",
    responses(
        (status = 200, description = "The installed state", body = ServerInfo),
        (status = 401, description = "Not logged in", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all)]
pub async fn get(
    State(state): State<AppState>,
    CurrentUser(_user): CurrentUser,
) -> Result<Json<ServerInfo>, ApiError> {
    crate::workflow::faults::panic_point("server_info");
    let installed = state.installed.get().await?;
    Ok(Json(ServerInfo {
        product_version: installed.product_version,
        build: installed.build,
        patch_level: installed.patch_level,
        node_name: state.config.node_name.clone(),
        state: state.life.state(),
        installed_at: installed.installed_at,
        installed_by: installed.installed_by,
        executable: state.life.executable(),
    }))
}
