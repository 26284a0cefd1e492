//! `ApiError`, the API's error answers, and the one place that maps the errors of the layers
//! below (service, workflow, package) to an HTTP status and a stable code.
//!
//! Every HTTP error has the shape `{"error": {"code", "message"}}`. Internal details are logged,
//! never sent to the client.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use shared::api::{ErrorBody, ErrorResponse};

use crate::service::ServiceError;
use crate::storage::space::{Full, Shortfall, db_is_full, io_is_full};

/// An error answer of the JSON API.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("not logged in")]
    NotLoggedIn,
    #[error("wrong username or password")]
    InvalidCredentials,
    #[error("login locked")]
    LoginLocked { retry_after_secs: u64 },
    #[error("busy")]
    Busy { retry_after_secs: u64 },
    #[error("admin role required")]
    AdminRequired,
    #[error("client header missing")]
    ClientHeaderMissing,
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    #[error("{message}")]
    UnsupportedMediaType { message: String },
    #[error("{message}")]
    NotFound { code: &'static str, message: String },
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    #[error("method not allowed")]
    MethodNotAllowed,
    /// Any other answer with its own status and code (package rejections, ...).
    #[error("{message}")]
    Status {
        status: StatusCode,
        code: &'static str,
        message: String,
    },
    /// Too little room for what the request would write, with the figures (507).
    #[error("{0}")]
    InsufficientStorage(String),
    /// A write failed because the disk or the database is full (507); on the data dir, the
    /// `storage_full_figures` middleware adds what is free.
    #[error("storage full: {detail}")]
    StorageFull { full: Full, detail: String },
    #[error("internal error: {0}")]
    Internal(String),
}

/// Marks a 507 answer to a write that found the data dir full, so the middleware that knows
/// the data dir says how much is free there.
#[derive(Debug, Clone, Copy)]
pub struct DataDirFull;

/// The code of every answer for lack of space.
pub const INSUFFICIENT_STORAGE: &str = "insufficient_storage";

impl ApiError {
    /// The answer to a database error: 507 when the disk is full, 500 otherwise.
    pub fn from_db(err: sea_orm::DbErr) -> Self {
        match db_is_full(&err) {
            Some(full) => ApiError::StorageFull {
                full,
                detail: err.to_string(),
            },
            None => ApiError::Internal(format!("database error: {err}")),
        }
    }

    /// The answer to a failed file write: 507 when the disk is full, 500 otherwise.
    pub fn from_io(context: &str, err: std::io::Error) -> Self {
        if io_is_full(&err) {
            ApiError::StorageFull {
                full: Full::DataDir,
                detail: format!("{context}: {err}"),
            }
        } else {
            ApiError::Internal(format!("{context}: {err}"))
        }
    }
}

impl ApiError {
    fn status_code_message(&self) -> (StatusCode, &'static str, String) {
        match self {
            ApiError::NotLoggedIn => (
                StatusCode::UNAUTHORIZED,
                "not_logged_in",
                "You are not logged in, or your session has ended. Log in and try again.".into(),
            ),
            ApiError::InvalidCredentials => (
                StatusCode::UNAUTHORIZED,
                "invalid_credentials",
                "Wrong username or password. Check both and try again.".into(),
            ),
            ApiError::LoginLocked { retry_after_secs } => (
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_login_attempts",
                format!(
                    "Too many wrong passwords from your address. Logins and password changes \
                     from it are refused for another {}; wait, and check the user name and \
                     password. Other addresses are not affected.",
                    human_duration(*retry_after_secs)
                ),
            ),
            ApiError::Busy { .. } => (
                StatusCode::SERVICE_UNAVAILABLE,
                "busy",
                "The server is checking too many passwords at once. Try again in a moment.".into(),
            ),
            ApiError::AdminRequired => (
                StatusCode::FORBIDDEN,
                "admin_required",
                "This action needs an admin. Your role can only view; ask an admin to do it."
                    .into(),
            ),
            ApiError::ClientHeaderMissing => (
                StatusCode::FORBIDDEN,
                "client_header_missing",
                "State-changing requests must carry the X-SMS-Client header \
                 (for scripts: `X-SMS-Client: api/<version>`)."
                    .into(),
            ),
            ApiError::BadRequest { code, message } => {
                (StatusCode::BAD_REQUEST, code, message.clone())
            }
            ApiError::UnsupportedMediaType { message } => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                message.clone(),
            ),
            ApiError::NotFound { code, message } => (StatusCode::NOT_FOUND, code, message.clone()),
            ApiError::Conflict { code, message } => (StatusCode::CONFLICT, code, message.clone()),
            ApiError::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "This path does not accept that HTTP method. See /api/v1/openapi.json.".into(),
            ),
            ApiError::Status {
                status,
                code,
                message,
            } => (*status, code, message.clone()),
            ApiError::InsufficientStorage(message) => (
                StatusCode::INSUFFICIENT_STORAGE,
                INSUFFICIENT_STORAGE,
                message.clone(),
            ),
            ApiError::StorageFull {
                full: Full::DataDir,
                ..
            } => (
                StatusCode::INSUFFICIENT_STORAGE,
                INSUFFICIENT_STORAGE,
                "The data dir is full: what this request would write was not recorded. Free \
                 space there, then try again."
                    .into(),
            ),
            ApiError::StorageFull {
                full: Full::DatabaseServer,
                ..
            } => (
                StatusCode::INSUFFICIENT_STORAGE,
                INSUFFICIENT_STORAGE,
                "The database server's disk is full: what this request would write was not \
                 recorded. Free space on the database server, then try again."
                    .into(),
            ),
            ApiError::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal_error",
                "The server hit an unexpected error. It was logged; try again, and tell the \
                 administrator if it persists."
                    .into(),
            ),
        }
    }

    /// The answer to an unknown path under `/api`.
    pub fn unknown_api_path(path: &str) -> Self {
        ApiError::NotFound {
            code: "not_found",
            message: format!(
                "There is no API endpoint at {path}. The endpoints are listed in /api/v1/openapi.json."
            ),
        }
    }
}

fn human_duration(secs: u64) -> String {
    match secs {
        0..=1 => "1 second".into(),
        2..=90 => format!("{secs} seconds"),
        _ => format!("{} minutes", secs.div_ceil(60)),
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match &self {
            ApiError::Internal(detail) => tracing::error!(error = %detail, "request failed"),
            ApiError::StorageFull { detail, .. } => {
                tracing::warn!(error = %detail, "a write found no space: answered 507");
            }
            _ => {}
        }
        let (status, code, message) = self.status_code_message();
        let body = ErrorResponse {
            error: ErrorBody {
                code: code.to_owned(),
                message,
            },
        };
        let mut response = (status, axum::Json(body)).into_response();
        if let ApiError::LoginLocked { retry_after_secs } | ApiError::Busy { retry_after_secs } =
            self
            && let Ok(value) = HeaderValue::from_str(&retry_after_secs.max(1).to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        if let ApiError::StorageFull {
            full: Full::DataDir,
            ..
        } = self
        {
            response.extensions_mut().insert(DataDirFull);
        }
        response
    }
}

impl From<Shortfall> for ApiError {
    fn from(shortfall: Shortfall) -> Self {
        ApiError::InsufficientStorage(shortfall.message())
    }
}

impl From<ServiceError> for ApiError {
    fn from(err: ServiceError) -> Self {
        match err {
            ServiceError::InvalidCredentials => ApiError::InvalidCredentials,
            ServiceError::LoginLocked { retry_after_secs } => {
                ApiError::LoginLocked { retry_after_secs }
            }
            ServiceError::Busy { retry_after_secs } => ApiError::Busy { retry_after_secs },
            ServiceError::JobRunning { message, .. } => ApiError::Conflict {
                code: "job_running",
                message,
            },
            err @ (ServiceError::NotScheduled { .. }
            | ServiceError::AlreadyScheduled { .. }
            | ServiceError::NoMaintenanceWindow
            | ServiceError::CannotDownload { .. }
            | ServiceError::EmailNotConfigured) => ApiError::Conflict {
                code: err.code(),
                message: err.to_string(),
            },
            err @ (ServiceError::SamePassword
            | ServiceError::TimeInPast { .. }
            | ServiceError::BadWindow { .. }
            | ServiceError::BadWebhookUrl { .. }
            | ServiceError::BadWebhookSecret(_)
            | ServiceError::BadEmailAddress(_)) => ApiError::BadRequest {
                code: err.code(),
                message: err.to_string(),
            },
            err @ (ServiceError::JobNotFound(_) | ServiceError::TargetNotFound(_)) => {
                ApiError::NotFound {
                    code: err.code(),
                    message: err.to_string(),
                }
            }
            err @ ServiceError::WrongPassword => ApiError::Status {
                status: StatusCode::FORBIDDEN,
                code: err.code(),
                message: err.to_string(),
            },
            ServiceError::UserExists(_) => ApiError::Conflict {
                code: "user_exists",
                message: err.to_string(),
            },
            ServiceError::UserNotFound(_) => ApiError::NotFound {
                code: "user_not_found",
                message: err.to_string(),
            },
            ServiceError::InvalidInput(message) => ApiError::BadRequest {
                code: "invalid_input",
                message,
            },
            ServiceError::Db(err) => ApiError::from_db(err),
            ServiceError::Corrupt(_) | ServiceError::Hashing(_) | ServiceError::Migration(_) => {
                ApiError::Internal(err.to_string())
            }
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            return ApiError::Status {
                status: StatusCode::PAYLOAD_TOO_LARGE,
                code: "body_too_large",
                message: "The request body is larger than this server accepts for JSON \
                          (`[http] max_body_bytes`). Send less."
                    .into(),
            };
        }
        match rejection {
            JsonRejection::MissingJsonContentType(_) => ApiError::UnsupportedMediaType {
                message: "Send the request body as JSON with `Content-Type: application/json`."
                    .into(),
            },
            JsonRejection::JsonDataError(err) => ApiError::BadRequest {
                code: "invalid_body",
                message: format!(
                    "The request body does not have the expected fields: {}",
                    err.body_text()
                ),
            },
            JsonRejection::JsonSyntaxError(err) => ApiError::BadRequest {
                code: "invalid_json",
                message: format!("The request body is not valid JSON: {}", err.body_text()),
            },
            other => ApiError::BadRequest {
                code: "invalid_body",
                message: format!("The request body could not be read: {}", other.body_text()),
            },
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        ApiError::BadRequest {
            code: "invalid_query",
            message: format!("The query string is not valid: {}", rejection.body_text()),
        }
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        ApiError::BadRequest {
            code: "invalid_query",
            message: format!("The path is not valid: {}", rejection.body_text()),
        }
    }
}

/// `axum::extract::Path` whose rejections answer 400 `invalid_query` in the API's error shape.
#[derive(Debug, Clone, Copy, Default, axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct Path<T>(pub T);

/// `axum::Json` whose rejections answer in the API's error shape.
#[derive(Debug, Clone, Copy, Default, axum::extract::FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct Json<T>(pub T);

impl<T: serde::Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// `axum::extract::Query` whose rejections answer in the API's error shape.
#[derive(Debug, Clone, Copy, Default, axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct Query<T>(pub T);

impl From<crate::package::PackageError> for ApiError {
    /// 413 over a limit, 409 already installed, 412 not applicable here, 422 an invalid package.
    fn from(err: crate::package::PackageError) -> Self {
        use crate::package::RejectCode;
        let status = match err.code {
            RejectCode::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            RejectCode::AlreadyInstalled => StatusCode::CONFLICT,
            RejectCode::WrongProductVersion | RejectCode::OlderThanInstalled => {
                StatusCode::PRECONDITION_FAILED
            }
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        };
        ApiError::Status {
            status,
            code: err.code.as_str(),
            message: format!("The package was rejected: {}.", err.message),
        }
    }
}

impl From<crate::service::repository::ImportError> for ApiError {
    fn from(err: crate::service::repository::ImportError) -> Self {
        use crate::service::repository::ImportError;
        match err {
            ImportError::Rejected(rejection) => rejection.into(),
            ImportError::Exists(name) => ApiError::Conflict {
                code: "already_in_repository",
                message: format!(
                    "{name} is already in the patch repository; there is no need to import it again."
                ),
            },
            ImportError::Interrupted(why) => ApiError::BadRequest {
                code: "upload_interrupted",
                message: format!("The upload broke off ({why}); nothing was kept. Try again."),
            },
            ImportError::Mismatch(why) => ApiError::Status {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                code: "catalog_mismatch",
                message: why,
            },
            ImportError::Service(service) => service.into(),
            ImportError::NoRoom(shortfall) => shortfall.into(),
            ImportError::Io(io) => ApiError::from_io("patch repository", io),
        }
    }
}

impl From<crate::workflow::download::DownloadError> for ApiError {
    fn from(err: crate::workflow::download::DownloadError) -> Self {
        use crate::workflow::download::DownloadError;
        match err {
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
            DownloadError::NoRoom(shortfall) => shortfall.into(),
            DownloadError::Service(service) => service.into(),
        }
    }
}

impl From<crate::workflow::cluster::ClusterError> for ApiError {
    /// 409 refused, 412 the nodes differ, 502 the peer does not answer.
    fn from(err: crate::workflow::cluster::ClusterError) -> Self {
        use crate::workflow::cluster::ClusterError;
        match err {
            ClusterError::Refused { code, message } => ApiError::Conflict { code, message },
            ClusterError::Mismatch(message) => ApiError::Status {
                status: StatusCode::PRECONDITION_FAILED,
                code: "cluster_mismatch",
                message,
            },
            ClusterError::PeerUnreachable(message) => ApiError::Status {
                status: StatusCode::BAD_GATEWAY,
                code: "peer_unreachable",
                message,
            },
            ClusterError::Service(service) => service.into(),
        }
    }
}

impl From<crate::workflow::install::PatchJobError> for ApiError {
    /// 404 not known, 409 in the way, 412 a precondition; a failure is logged as internal.
    fn from(err: crate::workflow::install::PatchJobError) -> Self {
        use crate::workflow::install::JobErrorKind;
        let status = match err.kind {
            JobErrorKind::NotFound => StatusCode::NOT_FOUND,
            JobErrorKind::Conflict
            | JobErrorKind::AnotherJobRuns
            | JobErrorKind::NoLongerScheduled => StatusCode::CONFLICT,
            JobErrorKind::Precondition | JobErrorKind::NotDownloaded => {
                StatusCode::PRECONDITION_FAILED
            }
            JobErrorKind::InsufficientStorage => StatusCode::INSUFFICIENT_STORAGE,
            JobErrorKind::Failed => return ApiError::Internal(err.message),
        };
        ApiError::Status {
            status,
            code: err.code,
            message: err.message,
        }
    }
}

impl From<crate::service::certificate::CertificateError> for ApiError {
    fn from(err: crate::service::certificate::CertificateError) -> Self {
        use crate::service::certificate::CertificateError as E;
        let code = match &err {
            E::CertificateUnreadable(_) => "certificate_unreadable",
            E::KeyUnreadable(_) => "key_unreadable",
            E::KeyMismatch => "key_mismatch",
            E::Expired { .. } => "certificate_expired",
            E::NotYetValid { .. } => "certificate_not_yet_valid",
            E::NameMismatch { .. } => "certificate_name_mismatch",
            E::NotServingHttps => {
                return ApiError::Conflict {
                    code: "tls_not_enabled",
                    message: err.to_string(),
                };
            }
            E::NotSaved(_) => {
                return ApiError::Status {
                    status: StatusCode::INTERNAL_SERVER_ERROR,
                    code: "certificate_not_saved",
                    message: err.to_string(),
                };
            }
        };
        ApiError::BadRequest {
            code,
            message: err.to_string(),
        }
    }
}

impl From<crate::workflow::maintenance::ScheduleError> for ApiError {
    fn from(err: crate::workflow::maintenance::ScheduleError) -> Self {
        use crate::workflow::maintenance::ScheduleError;
        match err {
            ScheduleError::Service(err) => err.into(),
            ScheduleError::Refused(err) => err.into(),
        }
    }
}

/// An optional JSON body: none, only whitespace, or `null` is `T::default()`.
pub fn optional_json<T: serde::de::DeserializeOwned + Default>(body: &[u8]) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    let parsed = serde_json::from_slice::<Option<T>>(body);
    parsed.map(Option::unwrap_or_default).map_err(|err| {
        if err.is_syntax() || err.is_eof() {
            ApiError::BadRequest {
                code: "invalid_json",
                message: format!("The request body is not valid JSON: {err}"),
            }
        } else {
            ApiError::BadRequest {
                code: "invalid_body",
                message: format!("The request body does not have the expected fields: {err}"),
            }
        }
    })
}
