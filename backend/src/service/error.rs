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
    /// What was asked for is not valid, with the code that says why (400).
    #[error("{message}")]
    Invalid { code: &'static str, message: String },
    /// What was asked for does not exist (404).
    #[error("{message}")]
    NotFound { code: &'static str, message: String },
    /// What was asked for conflicts with the state (409).
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// The user may not do this, with the code that says why (403).
    #[error("{message}")]
    Forbidden { code: &'static str, message: String },
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
