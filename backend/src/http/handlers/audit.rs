//! `GET /api/v1/audit`: the audit log, newest first, paged.

use axum::extract::State;
use shared::api::{AuditPage, ErrorResponse, PageQuery};

use crate::http::error::{ApiError, Json, Query};
use crate::http::extract::{CurrentUser, page_of};
use crate::http::state::AppState;
use crate::service::audit::DEFAULT_PER_PAGE;

/// One page of the audit log.
#[utoipa::path(
    get,
    path = "/api/v1/audit",
    operation_id = "audit_log",
    tag = "audit",
    params(PageQuery),
    responses(
        (status = 200, description = "A page of entries, newest first", body = AuditPage),
        (status = 400, description = "`page` or `per_page` is not a number or out of range (`invalid_query`)", body = ErrorResponse),
        (status = 401, description = "Not logged in", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all)]
pub async fn list(
    State(state): State<AppState>,
    CurrentUser(_user): CurrentUser,
    Query(query): Query<PageQuery>,
) -> Result<Json<AuditPage>, ApiError> {
    let (page, per_page) = page_of(query, DEFAULT_PER_PAGE)?;
    Ok(Json(state.audit.list(page, per_page).await?))
}
