//! Why an install or rollback cannot start or failed: a kind, a stable code, words. The HTTP
//! layer turns the kind into a status.

use shared::api::ErrorBody;
use shared::{InstallRefusal, RollbackRefusal};

use crate::service::ServiceError;

/// What sort of refusal or failure it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobErrorKind {
    /// The patch is not known here.
    NotFound,
    /// In the way of what is installed or running (already installed, another job).
    Conflict,
    /// A precondition does not hold (not applicable, HA, disk space).
    Precondition,
    /// The patch is not in the patch repository: it must be downloaded (or imported) first.
    NotDownloaded,
    /// Another job runs: installs, rollbacks and restores run alone.
    AnotherJobRuns,
    /// A scheduled job is no longer waiting: it started, or was cancelled.
    NoLongerScheduled,
    /// Too little room on the data dir's disk, or the database is full (507).
    InsufficientStorage,
    /// The job ran and failed.
    Failed,
}

/// Why an install or rollback cannot start or failed.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct PatchJobError {
    pub kind: JobErrorKind,
    pub code: &'static str,
    pub message: String,
}

impl PatchJobError {
    pub(super) fn precondition(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            kind: JobErrorKind::Precondition,
            code,
            message: message.into(),
        }
    }

    /// The patch's package is not in the patch repository.
    pub(super) fn not_downloaded(message: impl Into<String>) -> Self {
        Self {
            kind: JobErrorKind::NotDownloaded,
            code: "patch_not_downloaded",
            message: message.into(),
        }
    }

    pub(super) fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            kind: JobErrorKind::Conflict,
            code,
            message: message.into(),
        }
    }

    pub(super) fn failed(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            kind: JobErrorKind::Failed,
            code,
            message: message.into(),
        }
    }

    /// The error as a job's record keeps it.
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            code: self.code.to_owned(),
            message: self.message.clone(),
        }
    }
}

impl From<crate::storage::space::Shortfall> for PatchJobError {
    fn from(shortfall: crate::storage::space::Shortfall) -> Self {
        Self {
            kind: JobErrorKind::InsufficientStorage,
            code: INSUFFICIENT_STORAGE,
            message: shortfall.message(),
        }
    }
}

/// The code of a refusal or failure for lack of space.
pub const INSUFFICIENT_STORAGE: &str = "insufficient_storage";

impl From<ServiceError> for PatchJobError {
    fn from(err: ServiceError) -> Self {
        match err {
            ServiceError::Db(db) if crate::storage::space::db_is_full(&db).is_some() => Self {
                kind: JobErrorKind::InsufficientStorage,
                code: INSUFFICIENT_STORAGE,
                message: format!(
                    "The database is full and could not record the job's progress ({db}). Free \
                     space, then try again."
                ),
            },
            ServiceError::JobRunning { message, .. } => Self {
                kind: JobErrorKind::AnotherJobRuns,
                code: "job_running",
                message,
            },
            err @ ServiceError::NotScheduled { .. } => Self {
                kind: JobErrorKind::NoLongerScheduled,
                code: "job_not_scheduled",
                message: err.to_string(),
            },
            err if err.is_refusal() => Self::conflict(err.code(), err.to_string()),
            ServiceError::Migration(err) => Self::failed(err.code(), err.to_string()),
            other => Self::failed("internal_error", format!("{other}")),
        }
    }
}

impl From<InstallRefusal> for PatchJobError {
    /// Not known: not found; the installed patch or a newer one: conflict; the rest:
    /// precondition.
    fn from(refusal: InstallRefusal) -> Self {
        let kind = match &refusal {
            InstallRefusal::Unknown { .. } => JobErrorKind::NotFound,
            InstallRefusal::NotDownloaded { .. } => JobErrorKind::NotDownloaded,
            InstallRefusal::NotApplicable(shared::Applicability::AlreadyInstalled)
            | InstallRefusal::NotApplicable(shared::Applicability::OlderThanInstalled { .. }) => {
                JobErrorKind::Conflict
            }
            _ => JobErrorKind::Precondition,
        };
        Self {
            kind,
            code: refusal.code(),
            message: refusal.message(),
        }
    }
}

impl From<RollbackRefusal> for PatchJobError {
    /// Nothing installed: conflict; the vendor says no: precondition.
    fn from(refusal: RollbackRefusal) -> Self {
        let kind = match &refusal {
            RollbackRefusal::NothingInstalled => JobErrorKind::Conflict,
            RollbackRefusal::NotSupported { .. } => JobErrorKind::Precondition,
        };
        Self {
            kind,
            code: refusal.code(),
            message: refusal.message(),
        }
    }
}
