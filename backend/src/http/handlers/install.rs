//! `POST /api/v1/patches/{id}/install` and `POST /api/v1/rollback`: the install and rollback
//! jobs (see `docs/api.md` for the stages and the codes).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use shared::api::ErrorResponse;
use shared::maintenance::{RollbackRequest, ScheduleRequest};
use shared::panel::JobInfo;

use crate::http::error::{ApiError, Json, Path, optional_json};
use crate::http::extract::{Admin, Source};
use crate::http::state::AppState;
use crate::workflow::maintenance::Later;

/// Installs a patch from the patch repository: answers at once with the job, whose stages
/// (`verify`, `precheck`, `stop_clients`, `stage_payload`, `switch`, `restart` or `reboot`,
/// `postcheck`, `done`) are reported on the event stream and by `GET /api/v1/jobs/{id}`. The
/// server restarts (or reboots) during the job. With `{"when": "next_window"}` or a time, the
/// job is `scheduled` instead (docs/maintenance.md).
#[utoipa::path(
    post,
    path = "/api/v1/patches/{id}/install",
    operation_id = "install_patch",
    tag = "patches",
    params(("id" = shared::PatchId, Path, description = "The patch's short form, e.g. `6.4.0.3`")),
    request_body(content = Option<ScheduleRequest>, description = "When: `now` (no body), `next_window` or an RFC 3339 time"),
    responses(
        (status = 202, description = "The install job started, or is scheduled", body = JobInfo),
        (status = 400, description = "Not a patch id (`invalid_patch_id`), a time in the past (`invalid_when`), a bad body (`invalid_json`, `invalid_body`)", body = ErrorResponse),
        (status = 401, description = "Not logged in", body = ErrorResponse),
        (status = 403, description = "Not an admin (`admin_required`), or X-SMS-Client missing (`client_header_missing`)", body = ErrorResponse),
        (status = 404, description = "Unknown patch (`patch_not_found`)", body = ErrorResponse),
        (status = 409, description = "Another job runs (`job_running`), another is scheduled (`job_already_scheduled`), no window is set (`no_maintenance_window`), or the patch is installed (`already_installed`) or older than the installed one (`older_than_installed`)", body = ErrorResponse),
        (status = 412, description = "Not downloaded (`patch_not_downloaded`), for another product version (`not_applicable`)", body = ErrorResponse),
    )
)]
pub async fn install(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Source(source): Source,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<JobInfo>), ApiError> {
    let id = super::patches::parse_id(&id)?;
    let request: ScheduleRequest = optional_json(&body)?;
    let job = match Later::of(request.when) {
        None => {
            state
                .patching
                .start_install(id, &admin.username, source)
                .await?
        }
        Some(later) => {
            state
                .maintenance
                .schedule_install(id, later, request.replace, &admin.username, source)
                .await?
        }
    };
    Ok((StatusCode::ACCEPTED, Json(job)))
}

/// Rolls the installed patch back, always to level 0 (the base release): answers at once with
/// the job, whose stages (`precheck`, `stop_clients`, `switch`, `restart`, `postcheck`, `done`)
/// are reported like an install's. It can be scheduled like an install. With
/// `{"restore_backup": true}` it restores the backup taken before the patch's install instead
/// of undoing its migrations, as a restore's stages (docs/backups.md).
#[utoipa::path(
    post,
    path = "/api/v1/rollback",
    operation_id = "rollback",
    tag = "patches",
    request_body(content = Option<RollbackRequest>, description = "When: `now` (no body), `next_window` or an RFC 3339 time; `restore_backup` to restore the backup taken before the patch's install (now only)"),
    responses(
        (status = 202, description = "The rollback job started, or is scheduled", body = JobInfo),
        (status = 400, description = "A time in the past (`invalid_when`), a bad body (`invalid_json`, `invalid_body`)", body = ErrorResponse),
        (status = 401, description = "Not logged in", body = ErrorResponse),
        (status = 403, description = "Not an admin (`admin_required`), or X-SMS-Client missing (`client_header_missing`)", body = ErrorResponse),
        (status = 409, description = "At level 0 (`no_patch_installed`), another job runs (`job_running`), another is scheduled (`job_already_scheduled`), or no window is set (`no_maintenance_window`)", body = ErrorResponse),
        (status = 412, description = "The installed patch cannot be rolled back (`rollback_not_supported`), `restore_backup` without a backup taken before its install (`no_rollback_backup`), or while HA clustering is enabled (`ha_cluster_enabled`)", body = ErrorResponse),
    )
)]
pub async fn rollback(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Source(source): Source,
    body: Bytes,
) -> Result<(StatusCode, Json<JobInfo>), ApiError> {
    let request: RollbackRequest = optional_json(&body)?;
    let later = Later::of(request.schedule.when);
    let job = match (later, request.restore_backup) {
        (None, false) => {
            state
                .patching
                .start_rollback(&admin.username, source)
                .await?
        }
        (None, true) => {
            state
                .patching
                .start_rollback_restoring(&admin.username, source)
                .await?
        }
        (Some(later), false) => {
            state
                .maintenance
                .schedule_rollback(later, request.schedule.replace, &admin.username, source)
                .await?
        }
        (Some(_), true) => {
            return Err(ApiError::BadRequest {
                code: "invalid_when",
                message: "A rollback that restores a backup runs now: leave out `when`, or \
                          schedule a rollback without `restore_backup`."
                    .into(),
            });
        }
    };
    Ok((StatusCode::ACCEPTED, Json(job)))
}
