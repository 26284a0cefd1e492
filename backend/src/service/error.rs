//! What the services can fail with. The HTTP layer maps each variant to a status and a code.

use sea_orm::DbErr;

/// What the services (auth, audit, settings, installed state, jobs, ...) can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("database error: {0}")]
    Db(#[from] DbErr),
    #[error("wrong username or password")]
    InvalidCredentials,
    #[error("too many failed logins; retry in {retry_after_secs} s")]
    LoginLocked { retry_after_secs: u64 },
    /// Every slot for the work asked for is taken: try again shortly.
    #[error("the server is busy; retry in {retry_after_secs} s")]
    Busy { retry_after_secs: u64 },
    #[error("a user named `{0}` already exists")]
    UserExists(String),
    #[error("there is no user named `{0}`")]
    UserNotFound(String),
    #[error("{0}")]
    InvalidInput(String),
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),
    #[error("password hashing failed: {0}")]
    Hashing(String),
    /// A patch's database migrations could not bring the schema to a level.
    #[error("{0}")]
    Migration(#[from] crate::service::schema::MigrationError),
    /// Another job is in the way: installs and rollbacks run alone.
    #[error("{message}")]
    JobRunning { job: i64, message: String },
    /// A scheduled job is no longer waiting (it started, or was cancelled) (409
    /// `job_not_scheduled`).
    #[error("Job {job} is no longer scheduled.")]
    NotScheduled { job: i64 },
    /// A password change whose current password is not the user's.
    #[error("The current password is wrong: type the one you logged in with.")]
    WrongPassword,
    /// A new password that is the current one.
    #[error("The new password is the current one: choose another.")]
    SamePassword,
    /// There is no job with this id.
    #[error("There is no job {0}.")]
    JobNotFound(i64),
    /// Another install or rollback already waits for its window: one waits at a time.
    #[error(
        "{what} is already scheduled for {when} (job {job}); only one waits at a time. Replace \
         it, or cancel it first."
    )]
    AlreadyScheduled {
        what: String,
        when: String,
        job: i64,
    },
    /// A time to run at that has passed.
    #[error("{when} is in the past (the server's time is {now}); give a later time, or \"now\".")]
    TimeInPast { when: String, now: String },
    /// "In the next window" with no window set.
    #[error("No maintenance window is set: add one under Admin > Maintenance, or install now.")]
    NoMaintenanceWindow,
    /// A maintenance window (the `position`-th, from 1) that cannot be read.
    #[error("Window {position}: {error}")]
    BadWindow {
        position: usize,
        error: shared::window::WindowError,
    },
    /// A patch to schedule that is neither in the repository nor downloadable.
    #[error("Patch {patch} is not in the patch repository and cannot be downloaded: {reason}.")]
    CannotDownload {
        patch: shared::PatchId,
        reason: String,
    },
    /// There is no notification target with this id.
    #[error("There is no notification target {0}.")]
    TargetNotFound(i64),
    /// A webhook address that cannot be used.
    #[error("`{url}` is not a webhook URL: {why}.")]
    BadWebhookUrl { url: String, why: String },
    /// A webhook secret that cannot sign (its words say why).
    #[error("{0}")]
    BadWebhookSecret(String),
    /// An email address that cannot be sent to (its words say why).
    #[error("{0}")]
    BadEmailAddress(String),
    /// An email target with no mail server configured.
    #[error(
        "No mail server is set: add an [smtp] section to the configuration \
         (docs/notifications.md) and restart the server, then add the email target."
    )]
    EmailNotConfigured,
}

impl ServiceError {
    /// The stable code of an error a client can act on (docs/api.md); `internal_error` for a
    /// fault of the server's own. The HTTP layer picks the status.
    pub fn code(&self) -> &'static str {
        match self {
            ServiceError::InvalidCredentials => "invalid_credentials",
            ServiceError::LoginLocked { .. } => "too_many_login_attempts",
            ServiceError::Busy { .. } => "busy",
            ServiceError::UserExists(_) => "user_exists",
            ServiceError::UserNotFound(_) => "user_not_found",
            ServiceError::InvalidInput(_) => "invalid_input",
            ServiceError::JobRunning { .. } => "job_running",
            ServiceError::NotScheduled { .. } => "job_not_scheduled",
            ServiceError::WrongPassword => "wrong_password",
            ServiceError::SamePassword => "same_password",
            ServiceError::JobNotFound(_) => "job_not_found",
            ServiceError::AlreadyScheduled { .. } => "job_already_scheduled",
            ServiceError::TimeInPast { .. } => "invalid_when",
            ServiceError::NoMaintenanceWindow => "no_maintenance_window",
            ServiceError::BadWindow { error, .. } => error.code(),
            ServiceError::CannotDownload { .. } => "download_failed",
            ServiceError::TargetNotFound(_) => "target_not_found",
            ServiceError::BadWebhookUrl { .. } => "invalid_target_url",
            ServiceError::BadWebhookSecret(_) => "invalid_secret",
            ServiceError::BadEmailAddress(_) => "invalid_email_address",
            ServiceError::EmailNotConfigured => "email_not_configured",
            ServiceError::Migration(err) => err.code(),
            ServiceError::Db(_) | ServiceError::Corrupt(_) | ServiceError::Hashing(_) => {
                "internal_error"
            }
        }
    }

    /// Whether the error is the state of things refusing what was asked (another job waits,
    /// no window, nothing to download): a scheduler records it as its decision and goes on.
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            ServiceError::AlreadyScheduled { .. }
                | ServiceError::NoMaintenanceWindow
                | ServiceError::CannotDownload { .. }
        )
    }
}

/// An error in words with every cause behind it, `: `-separated (an HTTP client's own words
/// stop at "error sending request"; the reason is in its causes).
pub fn causes(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
