//! `GET /api/v1/patches` (the SMS Patches panel in one answer), `GET /api/v1/patches/history`
//! (its older history, paged), `GET /api/v1/patches/{id}` and
//! `POST /api/v1/patches/{id}/download`.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use shared::PatchId;
use shared::api::{ErrorResponse, PageQuery};
use shared::panel::{AvailablePatch, HISTORY_PER_PAGE, HistoryPage, JobInfo, PatchesView};

use crate::http::error::{ApiError, Json, Path, Query};
use crate::http::extract::{Admin, CurrentUser, Source, page_of};
use crate::http::state::AppState;
use crate::workflow::download::installed_level;

/// Installed state, history, available patches with their states, TMC status, notifications.
#[utoipa::path(
    get,
    path = "/api/v1/patches",
    operation_id = "patches",
    tag = "patches",
    responses(
        (status = 200, description = "The SMS Patches panel", body = PatchesView),
        (status = 401, description = "Not logged in", body = ErrorResponse),
    )
)]
pub async fn view(
    State(state): State<AppState>,
    CurrentUser(_user): CurrentUser,
) -> Result<impl IntoResponse, ApiError> {
    // Kept as JSON while nothing it shows changes: many clients at once cost one build.
    let json = state.panel.view_json().await?;
    Ok(([(header::CONTENT_TYPE, "application/json")], json))
}

/// One page of the installs and rollbacks, newest first: the first is the panel's `history`.
#[utoipa::path(
    get,
    path = "/api/v1/patches/history",
    operation_id = "patch_history",
    tag = "patches",
    params(PageQuery),
    responses(
        (status = 200, description = "A page of installs and rollbacks, newest first", body = HistoryPage),
        (status = 400, description = "`page` or `per_page` is not a number or out of range (`invalid_query`)", body = ErrorResponse),
        (status = 401, description = "Not logged in", body = ErrorResponse),
    )
)]
pub async fn history(
    State(state): State<AppState>,
    CurrentUser(_user): CurrentUser,
    Query(query): Query<PageQuery>,
) -> Result<Json<HistoryPage>, ApiError> {
    let (page, per_page) = page_of(query, HISTORY_PER_PAGE)?;
    Ok(Json(state.panel.history(page, per_page).await?))
}

/// Starts downloading a patch of the TMC catalog into the patch repository.
#[utoipa::path(
    post,
    path = "/api/v1/patches/{id}/download",
    operation_id = "download_patch",
    tag = "patches",
    params(("id" = PatchId, Path, description = "The patch's short form, e.g. `6.4.0.3`")),
    responses(
        (status = 202, description = "The download job started", body = JobInfo),
        (status = 400, description = "Not a patch id (`invalid_patch_id`)", body = ErrorResponse),
        (status = 401, description = "Not logged in", body = ErrorResponse),
        (status = 403, description = "Not an admin (`admin_required`), or X-SMS-Client missing (`client_header_missing`)", body = ErrorResponse),
        (status = 404, description = "Not in the TMC catalog (`patch_not_found`)", body = ErrorResponse),
        (status = 409, description = "Already downloaded (`already_in_repository`) or downloading (`download_running`)", body = ErrorResponse),
        (status = 412, description = "No TMC configured (`tmc_not_configured`)", body = ErrorResponse),
        (status = 507, description = "The data dir has no room for the package the catalog describes: `insufficient_storage`, with what is free and what is needed", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user = %admin.username))]
pub async fn download(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Source(source): Source,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<JobInfo>), ApiError> {
    let id = parse_id(&id)?;
    let installed = state.installed.get().await?;
    let level = installed_level(installed.product_version, installed.patch_level);
    let job = state
        .downloads
        .start(id, level, &admin.username, source)
        .await?;
    state
        .events
        .publish(shared::panel::ServerEvent::PatchesChanged);
    Ok((StatusCode::ACCEPTED, Json(job)))
}

/// One patch's facts, state and rendered release notes (the Software Details page).
#[utoipa::path(
    get,
    path = "/api/v1/patches/{id}",
    operation_id = "patch",
    tag = "patches",
    params(("id" = PatchId, Path, description = "The patch's short form, e.g. `6.4.0.3`")),
    responses(
        (status = 200, description = "The patch", body = AvailablePatch),
        (status = 400, description = "Not a patch id (`invalid_patch_id`)", body = ErrorResponse),
        (status = 401, description = "Not logged in", body = ErrorResponse),
        (status = 404, description = "Neither in the TMC catalog nor in the repository (`patch_not_found`)", body = ErrorResponse),
    )
)]
pub async fn details(
    State(state): State<AppState>,
    CurrentUser(_user): CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<AvailablePatch>, ApiError> {
    let id = parse_id(&id)?;
    let found = state
        .panel
        .describe(id)
        .await?
        .ok_or_else(|| ApiError::NotFound {
            code: "patch_not_found",
            message: format!(
                "Patch {id} is neither in the TMC catalog nor in the patch repository."
            ),
        })?;
    Ok(Json(found))
}

/// A patch id from the path, or 400 `invalid_patch_id`.
pub(crate) fn parse_id(id: &str) -> Result<PatchId, ApiError> {
    id.parse().map_err(|err| ApiError::BadRequest {
        code: "invalid_patch_id",
        message: format!("`{id}` is not a patch id like 6.4.0.3: {err}"),
    })
}
