//! `/api/v1/backups`: the database's backups (docs/backups.md): list, take one (a job),
//! download, remove.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use shared::api::ErrorResponse;
use shared::backup::{BackupInfo, BackupList};
use shared::panel::JobInfo;

use crate::http::error::{ApiError, Json, Path};
use crate::http::extract::{Admin, CurrentUser, Source};
use crate::http::state::AppState;
use crate::service::backups::BackupsError;
use crate::storage::backup::BackupError;

/// Every backup, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/backups",
    operation_id = "backups",
    tag = "backups",
    responses(
        (status = 200, description = "The backups, newest first, and where they are kept", body = BackupList),
        (status = 401, description = "Not logged in", body = ErrorResponse),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    CurrentUser(_user): CurrentUser,
) -> Result<Json<BackupList>, ApiError> {
    let backups = state.backups.list().await.map_err(from_backup)?;
    Ok(Json(BackupList {
        backups,
        dir: state.backups.dir(),
    }))
}

/// Takes a backup of the database now, as a job: follow it at `/api/v1/jobs/{id}`.
#[utoipa::path(
    post,
    path = "/api/v1/backups",
    operation_id = "take_backup",
    tag = "backups",
    responses(
        (status = 202, description = "The backup job started; it ends `succeeded`, or `failed` with `backup_failed` and why", body = JobInfo),
        (status = 401, description = "Not logged in", body = ErrorResponse),
        (status = 403, description = "Not an admin (`admin_required`), or X-SMS-Client missing (`client_header_missing`)", body = ErrorResponse),
        (status = 409, description = "An install or rollback runs (`job_running`)", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user = %admin.username))]
pub async fn take(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Source(source): Source,
) -> Result<(StatusCode, Json<JobInfo>), ApiError> {
    let job = state.backups.start(&admin.username, source).await?;
    Ok((StatusCode::ACCEPTED, Json(job)))
}

/// One backup's manifest.
#[utoipa::path(
    get,
    path = "/api/v1/backups/{backup}",
    operation_id = "backup",
    tag = "backups",
    params(("backup" = String, Path, description = "The backup's name (its `id`), e.g. `20261207-035300-manual`")),
    responses(
        (status = 200, description = "The backup", body = BackupInfo),
        (status = 401, description = "Not logged in", body = ErrorResponse),
        (status = 404, description = "No such backup (`backup_not_found`)", body = ErrorResponse),
    )
)]
pub async fn get(
    State(state): State<AppState>,
    CurrentUser(_user): CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<BackupInfo>, ApiError> {
    Ok(Json(state.backups.get(&id).await.map_err(from_backup)?))
}

/// The backup's file, streamed (a SQLite database, or a `pg_dump` archive in its custom
/// format); `X-SMS-SHA256` carries its checksum. Admins only: it holds every record.
#[utoipa::path(
    get,
    path = "/api/v1/backups/{backup}/download",
    operation_id = "download_backup",
    tag = "backups",
    params(("backup" = String, Path, description = "The backup's name (its `id`)")),
    responses(
        (status = 200, description = "The file", content_type = "application/octet-stream"),
        (status = 401, description = "Not logged in", body = ErrorResponse),
        (status = 403, description = "Not an admin (`admin_required`)", body = ErrorResponse),
        (status = 404, description = "No such backup (`backup_not_found`)", body = ErrorResponse),
    )
)]
pub async fn download(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    // A read (a browser's plain link needs no client header), but of every record: admins only.
    if !user.role.is_admin() {
        return Err(ApiError::AdminRequired);
    }
    let info = state.backups.get(&id).await.map_err(from_backup)?;
    let path = state.backups.file_of(&info);
    let file = tokio::fs::File::open(&path)
        .await
        .map_err(|err| ApiError::Internal(format!("cannot open {}: {err}", path.display())))?;
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let body = Body::from_stream(tokio_util::io::ReaderStream::with_capacity(file, 1 << 16));
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(info.size));
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    if let Ok(value) = HeaderValue::from_str(&info.sha256) {
        headers.insert("X-SMS-SHA256", value);
    }
    Ok(response)
}

/// Removes a backup (its manifest first: it stops counting at once).
#[utoipa::path(
    delete,
    path = "/api/v1/backups/{backup}",
    operation_id = "delete_backup",
    tag = "backups",
    params(("backup" = String, Path, description = "The backup's name (its `id`)")),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "Not logged in", body = ErrorResponse),
        (status = 403, description = "Not an admin (`admin_required`), or X-SMS-Client missing (`client_header_missing`)", body = ErrorResponse),
        (status = 404, description = "No such backup (`backup_not_found`)", body = ErrorResponse),
    )
)]
pub async fn delete(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Source(source): Source,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state
        .backups
        .delete(&id, &admin.username, source)
        .await
        .map_err(|err| match err {
            BackupsError::Backup(err) => from_backup(err),
            BackupsError::Service(err) => err.into(),
        })?;
    Ok(StatusCode::NO_CONTENT)
}

/// Restores a backup, as a job like an install: answers at once with the job, whose stages
/// (`verify`, `precheck`, `stop_clients`, `stage_payload` when the backup's level must be
/// staged, `restore_database`, `switch` when the level differs, `restart`, `postcheck`,
/// `done`) are reported like an install's. Everything written since the backup is lost, except
/// the server's own records (docs/backups.md).
#[utoipa::path(
    post,
    path = "/api/v1/backups/{backup}/restore",
    operation_id = "restore_backup",
    tag = "backups",
    params(("backup" = String, Path, description = "The backup's name (its `id`)")),
    responses(
        (status = 202, description = "The restore job started; it fails with `backup_corrupt` when the file changed since it was taken, `restore_failed` when the swap fails (nothing changed)", body = JobInfo),
        (status = 401, description = "Not logged in", body = ErrorResponse),
        (status = 403, description = "Not an admin (`admin_required`), or X-SMS-Client missing (`client_header_missing`)", body = ErrorResponse),
        (status = 404, description = "No such backup (`backup_not_found`)", body = ErrorResponse),
        (status = 409, description = "Another job runs (`job_running`)", body = ErrorResponse),
        (status = 412, description = "HA clustering is enabled (`ha_cluster_enabled`), or the backup is of another database, product version or a level whose package is gone (`backup_mismatch`)", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user = %admin.username))]
pub async fn restore(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Source(source): Source,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<JobInfo>), ApiError> {
    let job = state
        .patching
        .start_restore(&id, &admin.username, source)
        .await?;
    Ok((StatusCode::ACCEPTED, Json(job)))
}

fn from_backup(err: BackupError) -> ApiError {
    match err {
        BackupError::NotFound(id) => ApiError::NotFound {
            code: "backup_not_found",
            message: format!(
                "There is no backup {id}. GET /api/v1/backups lists the backups there are."
            ),
        },
        BackupError::Io(io) => ApiError::from_io("the backups folder", io),
        other => ApiError::Internal(other.to_string()),
    }
}
