//! `/api/v1/patches`: importing packages into the patch repository.

use std::time::Duration;

use axum::body::{Body, BodyDataStream};
use axum::extract::State;
use axum::http::{HeaderMap, header};
use futures_util::StreamExt;
use shared::api::{ErrorResponse, PackageFile, PatchInfo};

use crate::http::error::{ApiError, Json};
use crate::http::extract::{Admin, Source};
use crate::http::state::AppState;
use crate::workflow::import::Upload;

/// The optional header naming the uploaded file, for the audit log.
pub const FILE_NAME_HEADER: &str = "X-SMS-File-Name";

/// What is still read of an upload refused halfway (a full disk, an invalid package) before the
/// answer: a client that is still sending then reads the answer instead of a reset connection.
const DRAIN_BYTES: usize = 64 << 20;
const DRAIN_TIME: Duration = Duration::from_secs(10);

/// Imports a signed package (the raw request body), verified while it streams to disk.
#[utoipa::path(
    post,
    path = "/api/v1/patches/import",
    operation_id = "import_patch",
    tag = "patches",
    request_body(content = inline(PackageFile), content_type = "application/octet-stream", description = "The package file"),
    params(("X-SMS-File-Name" = Option<String>, Header, description = "The file's name, for the audit log")),
    responses(
        (status = 200, description = "Imported: the patch's facts", body = PatchInfo),
        (status = 401, description = "Not logged in", body = ErrorResponse),
        (status = 403, description = "Not an admin (`admin_required`), or X-SMS-Client missing (`client_header_missing`)", body = ErrorResponse),
        (status = 409, description = "Already installed (`already_installed`) or already imported (`already_in_repository`)", body = ErrorResponse),
        (status = 412, description = "Not for this server: `wrong_product_version`, `older_than_installed`", body = ErrorResponse),
        (status = 413, description = "Over a limit: `too_large`", body = ErrorResponse),
        (status = 415, description = "Not sent as application/octet-stream", body = ErrorResponse),
        (status = 422, description = "An invalid package; the code says why (see docs/package-format.md)", body = ErrorResponse),
        (status = 507, description = "The data dir has no room for it: `insufficient_storage`, with what is free and what is needed", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user = %admin.username))]
pub async fn import(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Source(source): Source,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<PatchInfo>, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !content_type.starts_with("application/octet-stream") {
        return Err(ApiError::UnsupportedMediaType {
            message: "Send the package file as the request body with \
                      `Content-Type: application/octet-stream`."
                .into(),
        });
    }
    let file_name = headers
        .get(FILE_NAME_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(|name| {
            name.chars()
                .filter(|c| !c.is_control())
                .take(255)
                .collect::<String>()
        })
        .filter(|name| !name.is_empty());
    let upload = Upload {
        actor: admin.username.clone(),
        source,
        file_name,
    };
    let limit = state.imports.max_package_bytes();
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let Some(length) = declared.filter(|length| *length > limit) {
        return Err(state.imports.refuse_oversize(length, upload).await.into());
    }
    if let Some(length) = declared {
        state.imports.ensure_room(length, &upload).await?;
    }
    let mut body = body.into_data_stream();
    let imported = state.imports.import(&mut body, upload).await;
    if imported.is_err() {
        drain(&mut body).await;
    }
    Ok(Json(imported?))
}

/// Reads and drops the rest of a refused upload, at most `DRAIN_BYTES` for `DRAIN_TIME`.
async fn drain(body: &mut BodyDataStream) {
    // Past the time the answer goes anyway: a client still sending then sees the connection
    // close.
    let _ = tokio::time::timeout(DRAIN_TIME, async {
        let mut read = 0;
        while let Some(Ok(chunk)) = body.next().await {
            read += chunk.len();
            if read > DRAIN_BYTES {
                break;
            }
        }
    })
    .await;
}
