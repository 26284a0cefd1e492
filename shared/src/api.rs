//! Request and response types of the JSON API under `/api/v1`.
//!
//! These are the only types that cross the HTTP boundary; the server's storage entities never do.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{Build, PatchLevel, ProductVersion, Role};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// The header every state-changing request must carry (CSRF defence; later the client version).
pub const CLIENT_HEADER: &str = "X-SMS-Client";

/// Every error answer: `{"error": {"code": "...", "message": "..."}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ErrorResponse {
    /// What went wrong.
    pub error: ErrorBody,
}

/// The body of an error answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ErrorBody {
    /// Stable `snake_case` code for programs, e.g. `not_logged_in`.
    pub code: String,
    /// Human text: what happened and what to do.
    pub message: String,
}

/// `GET /api/v1/health`: whether the server answers, and at which level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct HealthResponse {
    /// `ok` while the server serves requests.
    pub status: String,
    /// The installed product version.
    pub product_version: ProductVersion,
    /// The installed patch level (0: no patch).
    pub patch_level: PatchLevel,
}

/// `POST /api/v1/session`: log in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct LoginRequest {
    /// The user's name: 1 to 64 letters, digits, `.`, `_` or `-`.
    #[cfg_attr(feature = "openapi", schema(pattern = "^[A-Za-z0-9._-]{1,64}$"))]
    pub username: String,
    /// The user's password: at most 1024 bytes (UTF-8), which 256 characters always fit in.
    #[cfg_attr(feature = "openapi", schema(max_length = 256))]
    pub password: String,
}

/// `POST /api/v1/patches/import`: the package file, sent as the raw request body
/// (`application/octet-stream`). Only its schema is used; the server streams the body.
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(value_type = String, format = Binary))]
pub struct PackageFile(pub Vec<u8>);

/// Who is logged in (`GET` and `POST /api/v1/session`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SessionInfo {
    /// The logged-in user.
    pub username: String,
    /// The user's role: `admin` or `operator`.
    pub role: Role,
    /// When the session ends unless it is used again.
    #[serde(deserialize_with = "crate::time::utc")]
    pub expires_at: DateTime<Utc>,
    /// The user must choose a new password before anything else (the first admin, logged in
    /// with the one-time password the server printed): `PUT /api/v1/session/password`.
    #[serde(default)]
    pub must_change_password: bool,
}

/// `PUT /api/v1/session/password`: the logged-in user changes their own password.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PasswordChange {
    /// The password the user logged in with.
    #[cfg_attr(feature = "openapi", schema(max_length = 256))]
    pub current_password: String,
    /// The new password: at least 8 characters, at most 1024 bytes, not the current one.
    #[cfg_attr(feature = "openapi", schema(min_length = 8, max_length = 256))]
    pub new_password: String,
}

impl std::fmt::Debug for PasswordChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the passwords themselves, not even in a log line.
        f.debug_struct("PasswordChange").finish_non_exhaustive()
    }
}

/// What the server is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ServerState {
    /// Serving requests normally.
    Running,
    /// The application is restarting after an install or rollback: back within seconds.
    Restarting,
    /// The server is rebooting after an install: back within minutes.
    Rebooting,
}

/// `GET /api/v1/server`: the installed state of this SMS server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ServerInfo {
    /// The installed product version, e.g. `6.4.0`.
    pub product_version: ProductVersion,
    /// The installed build, e.g. `6.4.0.9203`.
    pub build: Build,
    /// The installed patch level (0: no patch).
    pub patch_level: PatchLevel,
    /// This node's name.
    pub node_name: String,
    /// What the server is doing.
    pub state: ServerState,
    /// When the current level was installed.
    #[serde(deserialize_with = "crate::time::utc")]
    pub installed_at: DateTime<Utc>,
    /// Who installed the current level (`system` for the base release).
    pub installed_by: String,
    /// The server executable that serves this request.
    pub executable: RunningExecutable,
}

/// The server executable that runs: the current level's `server/bin/sms`, or the base
/// executable (level 0, or a level whose package carries none).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RunningExecutable {
    /// The level whose executable runs (0: the base executable).
    pub level: PatchLevel,
    /// Its path on the server.
    pub path: String,
    /// The serving process's id.
    pub pid: u32,
    /// Whether a supervisor (`sms serve`) runs this server and switches back a level that
    /// does not come up; false when the application runs inside the process that started it
    /// (tests, tools).
    pub supervised: bool,
}

/// How an audited action ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AuditOutcome {
    Success,
    Failure,
}

impl AuditOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditOutcome::Success => "success",
            AuditOutcome::Failure => "failure",
        }
    }
}

/// One entry of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AuditEntry {
    /// Increasing identifier.
    pub id: i64,
    /// When it happened.
    #[serde(deserialize_with = "crate::time::utc")]
    pub at: DateTime<Utc>,
    /// Who did it (the username tried, for failed logins; absent for the system itself).
    pub actor: Option<String>,
    /// What was done, e.g. `login`, `logout`, `user_add`, `setting_change`.
    pub action: String,
    /// What it was done to, e.g. a username or a setting name.
    pub target: Option<String>,
    /// How it ended.
    pub outcome: AuditOutcome,
    /// The client's address, or `cli` for the command line.
    pub source: Option<String>,
    /// More words on what happened.
    pub details: Option<String>,
}

/// `GET /api/v1/audit?page=&per_page=`: the audit log, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AuditPage {
    /// The entries of this page, newest first.
    pub entries: Vec<AuditEntry>,
    /// This page's number, from 1.
    pub page: u64,
    /// Entries per page.
    pub per_page: u64,
    /// Number of entries in the whole log.
    pub total: u64,
}

/// Largest page a paged list hands out.
pub const MAX_PER_PAGE: u64 = 200;
/// Highest page number a paged list is asked for (far past any kept list).
pub const MAX_PAGE: u64 = 1_000_000;

/// Query of a paged list (`GET /api/v1/audit`, `GET /api/v1/patches/history`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
pub struct PageQuery {
    /// Page number, from 1 to 1000000 (default 1).
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 1_000_000))]
    pub page: Option<u64>,
    /// Entries per page, 1 to 200 (the default depends on the list).
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 200))]
    pub per_page: Option<u64>,
}

impl PageQuery {
    /// The page and its size asked for, or why they are out of range.
    pub fn checked(self, default_per_page: u64) -> Result<(u64, u64), String> {
        let page = self.page.unwrap_or(1);
        let per_page = self.per_page.unwrap_or(default_per_page);
        if (1..=MAX_PAGE).contains(&page) && (1..=MAX_PER_PAGE).contains(&per_page) {
            Ok((page, per_page))
        } else {
            Err(format!(
                "`page` counts from 1 to {MAX_PAGE} and `per_page` from 1 to {MAX_PER_PAGE}."
            ))
        }
    }
}

/// `GET /api/v1/settings`: the server's settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Settings {
    /// Whether open clients are told about patches newer than the installed one.
    pub notifications_enabled: bool,
}

/// `PUT /api/v1/settings/notifications`: turn SMS patch notifications on or off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct NotificationsSetting {
    /// `true` to enable patch notifications.
    pub enabled: bool,
}

/// Where a package in the patch repository came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PatchSource {
    /// Imported from a file (storage media, upload, `sms patch import`).
    Import,
    /// Downloaded from the TMC.
    Tmc,
}

impl PatchSource {
    pub fn as_str(self) -> &'static str {
        match self {
            PatchSource::Import => "import",
            PatchSource::Tmc => "tmc",
        }
    }
}

/// A verified package in the server's patch repository, with its manifest facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PatchInfo {
    /// Short form, e.g. `6.4.0.3`.
    pub id: crate::PatchId,
    /// E.g. `SMS 6.4.0 Patch 3 (build 6.4.0.9203)`.
    pub display_name: String,
    /// The product version the patch belongs to.
    pub product_version: ProductVersion,
    /// The patch number (1 or more).
    pub patch: u32,
    /// The patch's build.
    pub build: Build,
    /// One-line title.
    pub title: String,
    /// Release date.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    #[serde(deserialize_with = "crate::time::date")]
    pub released: chrono::NaiveDate,
    /// What the patch updates.
    pub updates: crate::effects::Updates,
    /// The client version the patch brings, when it updates the client.
    pub client_version: Option<Build>,
    /// What installing it restarts.
    pub restart: crate::effects::Restart,
    /// Whether it changes the database schema.
    pub database_changes: bool,
    /// Whether it can be rolled back.
    pub rollback: bool,
    /// What its payload changes (server executable, web client, database migrations); `None`
    /// for a package stored before the server recorded it.
    pub changes: Option<crate::effects::PatchChanges>,
    /// The id of the key that signed it.
    pub key_id: String,
    /// Signed with the demo vendor key, which only a server in demo mode trusts.
    #[serde(default)]
    pub demo_key: bool,
    /// Release notes, Markdown as the vendor wrote them.
    pub release_notes: String,
    /// The release notes rendered to HTML and sanitized (no scripts, no event handlers, no
    /// styles): safe to insert into a page.
    pub release_notes_html: String,
    /// Package size in bytes.
    pub size: u64,
    /// SHA-256 of the whole package file, lowercase hex.
    pub sha256: String,
    /// Where it came from.
    pub source: PatchSource,
    /// When it entered the repository.
    #[serde(deserialize_with = "crate::time::utc")]
    pub imported_at: DateTime<Utc>,
    /// Who put it there.
    pub imported_by: String,
    /// The server schema migrations its server executable brings that the server which stored
    /// it does not have (a later release's, docs/schema.md): its install changes the database
    /// whatever `database_changes` says.
    #[serde(default)]
    pub server_migrations: Vec<String>,
}

impl PatchInfo {
    /// Whether installing it changes the database: its own migrations, or the server schema
    /// migrations its executable brings.
    pub fn changes_database(&self) -> bool {
        crate::effects::changes_database(self.database_changes, &self.server_migrations)
    }

    /// "Yes", "No", or "Yes (server schema: m2027..., ...)".
    pub fn database_changes_in_words(&self) -> String {
        crate::effects::database_changes_in_words(self.database_changes, &self.server_migrations)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_have_the_documented_shape() {
        let body = ErrorResponse {
            error: ErrorBody {
                code: "not_logged_in".into(),
                message: "Log in first.".into(),
            },
        };
        let json = serde_json::to_value(&body).unwrap();
        assert_eq!(json["error"]["code"], "not_logged_in");
        assert_eq!(json["error"]["message"], "Log in first.");
    }

    #[test]
    fn roles_and_outcomes_are_lowercase_in_json() {
        assert_eq!(
            serde_json::to_string(&Role::Operator).unwrap(),
            "\"operator\""
        );
        assert_eq!(
            serde_json::to_string(&AuditOutcome::Failure).unwrap(),
            "\"failure\""
        );
    }
}
