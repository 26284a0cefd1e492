//! `/api/v1/jobs/{id}`: a job's state and progress; cancelling a running job.

use axum::extract::State;
use shared::api::ErrorResponse;
use shared::panel::JobInfo;

use crate::http::error::{ApiError, Json, Path};
use crate::http::extract::{Admin, CurrentUser, Source};
use crate::http::state::AppState;
use crate::service::AuditEvent;

fn not_found(id: i64) -> ApiError {
    ApiError::NotFound {
        code: "job_not_found",
        message: format!("There is no job {id}."),
    }
}

/// A job: kind, patch, state, stage, progress, and the error when it failed.
#[utoipa::path(
    get,
    path = "/api/v1/jobs/{id}",
    operation_id = "job",
    tag = "jobs",
    params(("id" = i64, Path, description = "The job's id")),
    responses(
        (status = 200, description = "The job", body = JobInfo),
        (status = 401, description = "Not logged in", body = ErrorResponse),
        (status = 404, description = "No such job (`job_not_found`)", body = ErrorResponse),
    )
)]
pub async fn get(
    State(state): State<AppState>,
    CurrentUser(_user): CurrentUser,
    Path(id): Path<i64>,
) -> Result<Json<JobInfo>, ApiError> {
    let job = state.jobs.get(id).await?.ok_or_else(|| not_found(id))?;
    Ok(Json(job))
}

/// Asks a running download to stop (it leaves nothing behind), or cancels a scheduled install
/// or rollback before it starts.
#[utoipa::path(
    post,
    path = "/api/v1/jobs/{id}/cancel",
    operation_id = "cancel_job",
    tag = "jobs",
    params(("id" = i64, Path, description = "The job's id")),
    responses(
        (status = 202, description = "The job is stopping; its events tell when it has", body = JobInfo),
        (status = 401, description = "Not logged in", body = ErrorResponse),
        (status = 403, description = "Not an admin (`admin_required`), or X-SMS-Client missing (`client_header_missing`)", body = ErrorResponse),
        (status = 404, description = "No such job (`job_not_found`)", body = ErrorResponse),
        (status = 409, description = "The job has ended (`job_not_running`)", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user = %admin.username))]
pub async fn cancel(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Source(source): Source,
    Path(id): Path<i64>,
) -> Result<(axum::http::StatusCode, Json<JobInfo>), ApiError> {
    let job = state.jobs.get(id).await?.ok_or_else(|| not_found(id))?;
    if job.state == shared::panel::JobState::Scheduled {
        let Some(cancelled) = state.maintenance.cancel(id, &admin.username).await? else {
            return Err(ApiError::Conflict {
                code: "job_not_running",
                message: format!("Job {id} has started or ended; it can no longer be cancelled."),
            });
        };
        state
            .audit
            .record(
                AuditEvent::success("job_cancel", &admin.username)
                    .target(id.to_string())
                    .details(format!("scheduled {} job", job.kind.as_str()))
                    .source(source),
            )
            .await?;
        return Ok((axum::http::StatusCode::ACCEPTED, Json(cancelled)));
    }
    if job.kind != shared::panel::JobKind::Download && !job.state.is_final() {
        return Err(ApiError::Conflict {
            code: "job_not_cancellable",
            message: format!(
                "Job {id} is an {} and cannot be cancelled: it ends by itself, at the new level \
                 or back at the old one.",
                job.kind.as_str()
            ),
        });
    }
    if !state.jobs.cancel(id).await {
        return Err(ApiError::Conflict {
            code: "job_not_running",
            message: format!("Job {id} has already ended ({}).", job.state.as_str()),
        });
    }
    state
        .audit
        .record(
            AuditEvent::success("job_cancel", &admin.username)
                .target(id.to_string())
                .details(format!("{} job", job.kind.as_str()))
                .source(source),
        )
        .await?;
    Ok((axum::http::StatusCode::ACCEPTED, Json(job)))
}
