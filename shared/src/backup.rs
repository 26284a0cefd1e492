//! Database backups as the API and the console see them (docs/backups.md): one file per backup
//! with a manifest that says what it holds and why it was taken.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// Why a backup was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum BackupReason {
    /// An admin asked for it.
    Manual,
    /// The install of a patch that changes the database took it first.
    BeforeInstall,
    /// The backup schedule.
    Scheduled,
}

impl BackupReason {
    /// The `snake_case` name.
    pub fn as_str(self) -> &'static str {
        match self {
            BackupReason::Manual => "manual",
            BackupReason::BeforeInstall => "before_install",
            BackupReason::Scheduled => "scheduled",
        }
    }
}

/// Which database a backup is of; a backup restores only into the same kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DatabaseKind {
    /// A copy of the SQLite file (`VACUUM INTO`).
    Sqlite,
    /// A `pg_dump` archive in its custom format.
    Postgres,
}

impl DatabaseKind {
    /// `sqlite` or `postgres`.
    pub fn as_str(self) -> &'static str {
        match self {
            DatabaseKind::Sqlite => "sqlite",
            DatabaseKind::Postgres => "postgres",
        }
    }
}

/// One backup: its manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct BackupInfo {
    /// The backup's name, e.g. `20261207-035300-manual`.
    pub id: String,
    pub database: DatabaseKind,
    /// The product version the database belonged to, e.g. `6.4.0`.
    pub product_version: String,
    /// The patch level installed when it was taken.
    pub patch_level: u32,
    /// The installed build, e.g. `6.4.0.9203`.
    pub build: String,
    /// The patches' migrations applied to it (`patch_migrations`), as `NNNN-name`.
    pub migrations: Vec<String>,
    /// The file's size in bytes.
    pub size: u64,
    /// The file's SHA-256, lowercase hex.
    pub sha256: String,
    #[serde(deserialize_with = "crate::time::utc")]
    pub taken_at: DateTime<Utc>,
    pub reason: BackupReason,
    /// Who asked for it (`system` for the schedule).
    pub taken_by: String,
    /// A backup taken before an install: the patch installed, e.g. `6.4.0.3`.
    #[serde(default)]
    pub patch: Option<String>,
}

/// The backup a rollback of the installed patch `patch` (e.g. `6.4.0.3`) can restore
/// (`{"restore_backup": true}`): the newest of `backups` (newest first) taken before that
/// patch's install at level 0, the base release a rollback returns to.
pub fn rollback_backup<'a>(backups: &'a [BackupInfo], patch: &str) -> Option<&'a BackupInfo> {
    backups.iter().find(|backup| {
        backup.reason == BackupReason::BeforeInstall
            && backup.patch.as_deref() == Some(patch)
            && backup.patch_level == 0
    })
}

/// `GET /api/v1/backups`: every backup, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct BackupList {
    pub backups: Vec<BackupInfo>,
    /// Where they are kept.
    pub dir: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn backup(id: &str, reason: BackupReason, level: u32, patch: Option<&str>) -> BackupInfo {
        BackupInfo {
            id: id.into(),
            database: DatabaseKind::Sqlite,
            product_version: "6.4.0".into(),
            patch_level: level,
            build: "6.4.0.9001".into(),
            migrations: Vec::new(),
            size: 1,
            sha256: String::new(),
            taken_at: Utc::now(),
            reason,
            taken_by: "admin".into(),
            patch: patch.map(str::to_owned),
        }
    }

    #[test]
    fn a_rollback_restores_the_newest_backup_taken_at_level_0_before_its_patch() {
        let backups = [
            backup("d", BackupReason::Manual, 3, None),
            backup("c", BackupReason::BeforeInstall, 2, Some("6.4.0.3")),
            backup("b", BackupReason::BeforeInstall, 0, Some("6.4.0.3")),
            backup("a", BackupReason::BeforeInstall, 0, Some("6.4.0.3")),
        ];
        assert_eq!(
            rollback_backup(&backups, "6.4.0.3").map(|b| b.id.as_str()),
            Some("b")
        );
        assert_eq!(rollback_backup(&backups, "6.4.0.4"), None);
        assert_eq!(rollback_backup(&backups[..2], "6.4.0.3"), None);
    }
}
