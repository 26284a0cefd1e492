//! `GET /api/v1/devices`, `POST /api/v1/devices`, `DELETE /api/v1/devices/{id}`: the managed
//! IPS devices.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use shared::api::ErrorResponse;
use shared::devices::{AddDevice, DeviceInfo};

use crate::http::error::{ApiError, Json};
use crate::http::extract::{Admin, CurrentUser, Source};
use crate::http::state::AppState;
use crate::service::AuditEvent;
use crate::service::devices::AddError;

/// Every managed device with its last polled status.
#[utoipa::path(
    get,
    path = "/api/v1/devices",
    tag = "devices",
    responses(
        (status = 200, description = "The managed devices, by name", body = Vec<DeviceInfo>),
        (status = 401, description = "Not logged in", body = ErrorResponse),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    CurrentUser(_user): CurrentUser,
) -> Result<Json<Vec<DeviceInfo>>, ApiError> {
    Ok(Json(state.devices.list().await?))
}

/// Manages the device whose status endpoint is `url` (it must answer).
#[utoipa::path(
    post,
    path = "/api/v1/devices",
    tag = "devices",
    request_body = AddDevice,
    responses(
        (status = 201, description = "The device is managed", body = DeviceInfo),
        (status = 400, description = "Not an http:// address (`invalid_device_url`)", body = ErrorResponse),
        (status = 401, description = "Not logged in", body = ErrorResponse),
        (status = 403, description = "Not an admin", body = ErrorResponse),
        (status = 409, description = "Managed already (`device_exists`)", body = ErrorResponse),
        (status = 422, description = "It does not answer with a device status (`device_unreachable`)", body = ErrorResponse),
    )
)]
pub async fn add(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Source(source): Source,
    Json(body): Json<AddDevice>,
) -> Result<(StatusCode, Json<DeviceInfo>), ApiError> {
    let added = state.devices.add(&body.url, &admin.username).await;
    let event = match &added {
        Ok(device) => AuditEvent::success("device_add", &admin.username)
            .target(device.name.clone())
            .details(body.url.clone()),
        Err(err) => AuditEvent::failure("device_add", &admin.username)
            .target(body.url.clone())
            .details(err.to_string()),
    };
    state.audit.record(event.source(source)).await?;
    let device = added.map_err(|err| match err {
        AddError::BadUrl(_) => ApiError::BadRequest {
            code: "invalid_device_url",
            message: format!("{err}, e.g. http://10.0.0.5:8443/v1/devices/ips-01/status."),
        },
        AddError::Unreachable { .. } => ApiError::Status {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: "device_unreachable",
            message: format!("{err}. Check the address and that the device is running."),
        },
        AddError::Exists(_) => ApiError::Conflict {
            code: "device_exists",
            message: format!("{err}."),
        },
        AddError::Service(service) => service.into(),
    })?;
    Ok((StatusCode::CREATED, Json(device)))
}

/// Stops managing a device (the device itself is not touched).
#[utoipa::path(
    delete,
    path = "/api/v1/devices/{id}",
    tag = "devices",
    params(("id" = i64, Path, description = "The device's id")),
    responses(
        (status = 204, description = "No longer managed"),
        (status = 401, description = "Not logged in", body = ErrorResponse),
        (status = 403, description = "Not an admin", body = ErrorResponse),
        (status = 404, description = "No such device (`device_not_found`)", body = ErrorResponse),
    )
)]
pub async fn remove(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Source(source): Source,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    let removed = state.devices.remove(id).await?.ok_or(ApiError::NotFound {
        code: "device_not_found",
        message: format!("There is no managed device {id}."),
    })?;
    state
        .audit
        .record(
            AuditEvent::success("device_remove", &admin.username)
                .target(removed.name)
                .details(removed.url)
                .source(source),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
