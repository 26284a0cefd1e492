//! `GET /api/v1/patches` (the SMS Patches panel in one answer) and
//! `POST /api/v1/patches/{id}/download`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use shared::api::{ErrorResponse, PatchInfo, ServerInfo, ServerState};
use shared::panel::{
    AvailablePatch, CatalogPatch, JobInfo, JobKind, PatchNotice, PatchPresence, PatchState,
    PatchesView, panel_states,
};
use shared::{PatchId, display_name};

use crate::entity::tmc_patch;
use crate::error::{ApiError, Json, ServiceError};
use crate::extract::{Admin, CurrentUser, Source};
use crate::service::download::{DownloadError, installed_level};
use crate::service::tmc::row_id;
use crate::state::AppState;

/// Installed state, history, available patches with their states, TMC status, notifications.
#[utoipa::path(
    get,
    path = "/api/v1/patches",
    tag = "patches",
    responses(
        (status = 200, description = "The SMS Patches panel", body = PatchesView),
        (status = 401, description = "Not logged in", body = ErrorResponse),
    )
)]
pub async fn view(
    State(state): State<AppState>,
    CurrentUser(_user): CurrentUser,
) -> Result<Json<PatchesView>, ApiError> {
    Ok(Json(build_view(&state).await?))
}

/// Starts downloading a patch of the TMC catalog into the patch repository.
#[utoipa::path(
    post,
    path = "/api/v1/patches/{id}/download",
    tag = "patches",
    params(("id" = String, Path, description = "The patch's short form, e.g. `6.4.0.3`")),
    responses(
        (status = 202, description = "The download job started", body = JobInfo),
        (status = 400, description = "Not a patch id (`invalid_patch_id`)", body = ErrorResponse),
        (status = 401, description = "Not logged in", body = ErrorResponse),
        (status = 403, description = "Not an admin, or X-SMS-Client missing", body = ErrorResponse),
        (status = 404, description = "Not in the TMC catalog (`patch_not_found`)", body = ErrorResponse),
        (status = 409, description = "Already downloaded (`already_in_repository`) or downloading (`download_running`)", body = ErrorResponse),
        (status = 412, description = "No TMC configured (`tmc_not_configured`)", body = ErrorResponse),
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
        .downloader()
        .start(id, level, &admin.username, source)
        .await
        .map_err(|err| match err {
            DownloadError::NotInCatalog(_) => ApiError::NotFound {
                code: "patch_not_found",
                message: format!("{err}."),
            },
            DownloadError::AlreadyDownloaded(_) => ApiError::Conflict {
                code: "already_in_repository",
                message: format!("{err}: it is ready to install."),
            },
            DownloadError::Running(..) => ApiError::Conflict {
                code: "download_running",
                message: format!("{err}; wait for it to finish."),
            },
            DownloadError::NoTmc => ApiError::Status {
                status: StatusCode::PRECONDITION_FAILED,
                code: "tmc_not_configured",
                message: format!("{err}."),
            },
            DownloadError::Service(service) => service.into(),
        })?;
    state
        .events
        .publish(shared::panel::ServerEvent::PatchesChanged);
    Ok((StatusCode::ACCEPTED, Json(job)))
}

/// One patch's facts, state and rendered release notes (the Software Details page).
#[utoipa::path(
    get,
    path = "/api/v1/patches/{id}",
    tag = "patches",
    params(("id" = String, Path, description = "The patch's short form, e.g. `6.4.0.3`")),
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
    let view = build_view(&state).await?;
    if let Some(found) = view.available.into_iter().find(|a| a.patch.id == id) {
        return Ok(Json(found));
    }
    // Not offered (older than the installed level): still described.
    let installed = state.installed.get().await?;
    let reason = shared::applicability(installed.product_version, installed.patch_level, id);
    let in_repository = state.repository.find(id).await?;
    let patch = match &in_repository {
        Some(info) => Some(from_repository(info)),
        None => match state
            .tmc
            .catalog()
            .await?
            .iter()
            .find(|row| row_id(row) == Some(id))
        {
            Some(row) => Some(from_catalog(row, id)?),
            None => None,
        },
    };
    let patch = patch.ok_or_else(|| ApiError::NotFound {
        code: "patch_not_found",
        message: format!("Patch {id} is neither in the TMC catalog nor in the patch repository."),
    })?;
    Ok(Json(AvailablePatch {
        patch,
        state: PatchState::NotApplicable { reason },
        recommended: false,
        in_repository: in_repository.is_some(),
    }))
}

fn parse_id(id: &str) -> Result<PatchId, ApiError> {
    id.parse().map_err(|err| ApiError::BadRequest {
        code: "invalid_patch_id",
        message: format!("`{id}` is not a patch id like 6.4.0.3: {err}"),
    })
}

/// The whole panel.
pub async fn build_view(state: &AppState) -> Result<PatchesView, ServiceError> {
    let installed = state.installed.get().await?;
    let catalog = state.tmc.catalog().await?;
    let repository = state.repository.list().await?;
    let running = state.jobs.running().await;

    let mut facts: Vec<CatalogPatch> = Vec::new();
    for patch in &repository {
        facts.push(from_repository(patch));
    }
    for row in &catalog {
        let Some(id) = row_id(row) else { continue };
        if !facts.iter().any(|f| f.id == id) {
            facts.push(from_catalog(row, id)?);
        }
    }
    let presences: Vec<PatchPresence> = facts
        .iter()
        .map(|f| PatchPresence {
            id: f.id,
            in_repository: repository.iter().any(|p| p.id == f.id),
            downloading: running
                .iter()
                .find(|job| job.kind == JobKind::Download && job.patch == Some(f.id))
                .map(|job| (job.id, job.percent())),
        })
        .collect();
    let mut states = panel_states(installed.product_version, installed.patch_level, &presences);
    // Patches for another product version come last, under the ones that apply here.
    states.sort_by_key(|(_, state, _)| matches!(state, PatchState::NotApplicable { .. }));
    let available: Vec<AvailablePatch> = states
        .into_iter()
        .filter_map(|(presence, state, recommended)| {
            let patch = facts.iter().find(|f| f.id == presence.id)?.clone();
            Some(AvailablePatch {
                patch,
                state,
                recommended,
                in_repository: presence.in_repository,
            })
        })
        .collect();
    let newer_patch = available
        .iter()
        .find(|a| a.recommended && a.state != PatchState::Installed)
        .map(|a| PatchNotice {
            id: a.patch.id,
            display_name: a.patch.display_name.clone(),
        });
    let settings = state.settings.get().await?;
    Ok(PatchesView {
        installed: ServerInfo {
            product_version: installed.product_version,
            build: installed.build,
            patch_level: installed.patch_level,
            node_name: state.config.node_name.clone(),
            state: ServerState::Running,
            installed_at: installed.installed_at,
            installed_by: installed.installed_by,
        },
        history: Vec::new(),
        available,
        tmc: state.tmc.status().await,
        notifications_enabled: settings.notifications_enabled,
        newer_patch,
    })
}

fn from_repository(p: &PatchInfo) -> CatalogPatch {
    CatalogPatch {
        id: p.id,
        display_name: p.display_name.clone(),
        product_version: p.product_version,
        patch: p.patch,
        build: p.build,
        title: p.title.clone(),
        released: p.released,
        updates: p.updates,
        client_version: p.client_version,
        restart: p.restart,
        database_changes: p.database_changes,
        rollback: p.rollback,
        key_id: p.key_id.clone(),
        release_notes_html: p.release_notes_html.clone(),
        size: p.size,
        sha256: p.sha256.clone(),
    }
}

fn from_catalog(row: &tmc_patch::Model, id: PatchId) -> Result<CatalogPatch, ServiceError> {
    let corrupt = |what: &str, err: &dyn std::fmt::Display| {
        ServiceError::Corrupt(format!("TMC catalog row {}: {what}: {err}", row.id))
    };
    let build = row.build.parse().map_err(|e| corrupt("build", &e))?;
    Ok(CatalogPatch {
        id,
        display_name: display_name(id.product_version(), id.patch(), &build),
        product_version: id.product_version(),
        patch: id.patch(),
        build,
        title: row.title.clone(),
        released: row.released.parse().map_err(|e| corrupt("released", &e))?,
        updates: row
            .updates
            .parse()
            .map_err(|e: String| corrupt("updates", &e))?,
        client_version: row
            .client_version
            .as_deref()
            .map(str::parse)
            .transpose()
            .map_err(|e| corrupt("client version", &e))?,
        restart: row
            .restart
            .parse()
            .map_err(|e: String| corrupt("restart", &e))?,
        database_changes: row.database_changes,
        rollback: row.rollback,
        key_id: row.key_id.clone(),
        release_notes_html: crate::package::notes::render(&row.release_notes),
        size: u64::try_from(row.size).unwrap_or(0),
        sha256: row.sha256.clone(),
    })
}
