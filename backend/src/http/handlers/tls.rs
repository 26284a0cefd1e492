//! `GET /api/v1/tls` and `PUT /api/v1/tls`: the certificate this server serves HTTPS with, and
//! replacing it without a restart.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::http::header::HOST;
use shared::api::ErrorResponse;
use shared::tls::{CertificateInfo, CertificateUpload, TlsStatus};

use crate::http::error::{ApiError, Json};
use crate::http::extract::{Admin, CurrentUser, Source};
use crate::http::state::AppState;
use crate::service::certificate::CertificateError;

/// Whether the server serves HTTPS, and the certificate's subject, names, issuer, validity
/// and fingerprint.
#[utoipa::path(
    get,
    path = "/api/v1/tls",
    operation_id = "tls",
    tag = "settings",
    responses(
        (status = 200, description = "HTTPS and the served certificate", body = TlsStatus),
        (status = 401, description = "Not logged in", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all)]
pub async fn get(
    State(state): State<AppState>,
    CurrentUser(_user): CurrentUser,
) -> Result<Json<TlsStatus>, ApiError> {
    let certificate = state
        .certificate
        .as_ref()
        .map(|certificate| certificate.info(chrono::Utc::now()));
    Ok(Json(TlsStatus {
        https: certificate.is_some(),
        certificate,
    }))
}

/// Replaces the served certificate (admin; audited). The chain and key are checked first: the
/// key belongs to the certificate, the certificate is valid now and holds the name this
/// console is reached by. New connections get it at once; open ones finish on the old one.
#[utoipa::path(
    put,
    path = "/api/v1/tls",
    operation_id = "replace_tls_certificate",
    tag = "settings",
    request_body = CertificateUpload,
    responses(
        (status = 200, description = "The certificate now served", body = CertificateInfo),
        (status = 400, description = "Refused, and the code says why: `certificate_unreadable`, `key_unreadable`, `key_mismatch` (the key is another certificate's), `certificate_expired`, `certificate_not_yet_valid`, `certificate_name_mismatch` (it does not hold the name the console is reached by)", body = ErrorResponse),
        (status = 401, description = "Not logged in", body = ErrorResponse),
        (status = 403, description = "Not an admin (`admin_required`), or X-SMS-Client missing (`client_header_missing`)", body = ErrorResponse),
        (status = 409, description = "The server serves plain HTTP (`tls_not_enabled`)", body = ErrorResponse),
        (status = 500, description = "The files could not be written (`certificate_not_saved`); the current certificate is still served", body = ErrorResponse),
    )
)]
#[tracing::instrument(skip_all, fields(user = %admin.username))]
pub async fn replace(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Source(source): Source,
    headers: HeaderMap,
    Json(upload): Json<CertificateUpload>,
) -> Result<Json<CertificateInfo>, ApiError> {
    let Some(certificate) = &state.certificate else {
        return Err(CertificateError::NotServingHttps.into());
    };
    let reached_as = reached_as(&headers);
    let info = certificate
        .replace(&upload, &reached_as, &state.audit, &admin.username, source)
        .await?;
    Ok(Json(info))
}

/// The host name or address in the request's `Host` header, without port or brackets.
fn reached_as(headers: &HeaderMap) -> String {
    let host = headers
        .get(HOST)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<axum::http::uri::Authority>().ok());
    host.map(|authority| {
        authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned()
    })
    .unwrap_or_default()
}
