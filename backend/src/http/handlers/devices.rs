//! `GET /api/v1/devices`, `POST /api/v1/devices`, `DELETE /api/v1/devices/{id}`: the managed
//! IPS devices.

use axum::extract::State;
use axum::http::StatusCode;
use shared::api::ErrorResponse;
use shared::devices::{AddDevice, DeviceInfo};

use crate::http::error::{ApiError, Json, Path};
use crate::http::extract::{Admin, CurrentUser, Source};
use crate::http::state::AppState;
use crate::service::AuditEvent;
use crate::service::devices::AddError;

/// Every managed device with its last polled status.
#[utoipa::path(
    get,
    path = "/api/v1/devices",
    operation_id = "devices",
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
    operation_id = "add_device",
    tag = "devices",
    request_body = AddDevice,
    responses(
        (status = 201, description = "The device is managed", body = DeviceInfo),
        (status = 400, description = "Not an http:// address (`invalid_device_url`); or a link-local, unspecified, multicast or broadcast address, given or resolved (IPv4-mapped forms too), which the server never connects to (`device_address_refused`)", body = ErrorResponse),
        (status = 401, description = "Not logged in", body = ErrorResponse),
        (status = 403, description = "Not an admin (`admin_required`), or X-SMS-Client missing (`client_header_missing`)", body = ErrorResponse),
        (status = 409, description = "Managed already (`device_exists`); or as many devices are managed as `[devices] max_devices` allows (`device_limit_reached`)", body = ErrorResponse),
        (status = 422, description = "It does not answer with a device status (`device_unreachable`): the connection is refused or times out, it answers with a redirect (never followed) or a non-2xx status, or its answer is larger than 64 KiB or not a device status", body = ErrorResponse),
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
        AddError::AddressRefused { .. } => ApiError::BadRequest {
            code: "device_address_refused",
            message: format!(
                "{err}. No device has such an address, and the server does not connect there so \
                 that a device address cannot reach other services. Give the address the device \
                 has on its management network (a private or loopback one), e.g. \
                 http://10.0.0.5:8443/v1/devices/ips-01/status."
            ),
        },
        AddError::LimitReached { .. } => ApiError::Conflict {
            code: "device_limit_reached",
            message: format!(
                "{err} (`max_devices` in the `[devices]` section of its configuration file). \
                 Remove a device that is no longer managed, or raise the limit and restart the \
                 server."
            ),
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
    operation_id = "remove_device",
    tag = "devices",
    params(("id" = i64, Path, description = "The device's id")),
    responses(
        (status = 204, description = "No longer managed"),
        (status = 401, description = "Not logged in", body = ErrorResponse),
        (status = 403, description = "Not an admin (`admin_required`), or X-SMS-Client missing (`client_header_missing`)", body = ErrorResponse),
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
