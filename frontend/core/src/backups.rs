//! Database backups in the words of Admin > Backups: why each was taken and what it holds, the
//! addresses of its file, the job that takes one, and the question before one is deleted.

use shared::backup::{BackupInfo, BackupReason, DatabaseKind};
use shared::panel::{JobInfo, JobState};
use shared::{Build, PatchLevel, ProductVersion};

use crate::words::space_in_words;

/// Why a backup was taken: "On demand", "Before installing 6.4.0.3", "Scheduled".
pub fn reason_in_words(info: &BackupInfo) -> String {
    match (info.reason, &info.patch) {
        (BackupReason::Manual, _) => "On demand".to_owned(),
        (BackupReason::BeforeInstall, Some(patch)) => format!("Before installing {patch}"),
        (BackupReason::BeforeInstall, None) => "Before an install".to_owned(),
        (BackupReason::Scheduled, _) => "Scheduled".to_owned(),
    }
}

/// The level the database belonged to, as the console names levels:
/// "SMS 6.4.0 Patch 2 (build 6.4.0.9202)", or "SMS 6.4.0 (build 6.4.0.9100)" for the base
/// release. A version or build the client cannot read is shown as the server wrote it.
pub fn level_in_words(info: &BackupInfo) -> String {
    let version = info.product_version.parse::<ProductVersion>();
    let build = info.build.parse::<Build>();
    match (version, build) {
        (Ok(version), Ok(build)) => shared::display_name(version, info.patch_level, &build),
        _ if info.patch_level == 0 => {
            format!("SMS {} (build {})", info.product_version, info.build)
        }
        _ => format!(
            "SMS {} {} (build {})",
            info.product_version,
            shared::level_in_words(PatchLevel(info.patch_level)),
            info.build
        ),
    }
}

/// "SQLite" or "PostgreSQL": a backup restores only into the same kind of database.
pub fn database_in_words(kind: DatabaseKind) -> &'static str {
    match kind {
        DatabaseKind::Sqlite => "SQLite",
        DatabaseKind::Postgres => "PostgreSQL",
    }
}

/// One row of the backups table, in words (the time is the browser's to write: its zone).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowWords {
    /// "On demand", "Before installing 6.4.0.3", "Scheduled".
    pub reason: String,
    /// "SMS 6.4.0 Patch 2 (build 6.4.0.9202)".
    pub level: String,
    /// "SQLite database" or "PostgreSQL database".
    pub database: String,
    /// "12 MiB".
    pub size: String,
    /// The exact size, for the size's tooltip: "12582912 bytes".
    pub exact_size: String,
    /// Who asked for it (`system` for the schedule).
    pub who: String,
    /// The file's address (a plain link downloads it).
    pub download: String,
    /// The Download link's accessible name.
    pub download_label: String,
    /// The Delete button's accessible name.
    pub delete_label: String,
}

/// The words of `info`'s row.
pub fn row_words(info: &BackupInfo) -> RowWords {
    RowWords {
        reason: reason_in_words(info),
        level: level_in_words(info),
        database: format!("{} database", database_in_words(info.database)),
        size: space_in_words(info.size),
        exact_size: format!("{} bytes", info.size),
        who: info.taken_by.clone(),
        download: download_path(&info.id),
        download_label: format!("Download the backup {}", info.id),
        delete_label: format!("Delete the backup {}", info.id),
    }
}

/// `/api/v1/backups/{id}`: one backup in the API (read, or deleted).
pub fn backup_path(id: &str) -> String {
    format!("/api/v1/backups/{}", path_segment(id))
}

/// `/api/v1/backups/{id}/download`: the backup's file.
pub fn download_path(id: &str) -> String {
    format!("{}/download", backup_path(id))
}

/// `text` as one segment of a path: letters, digits and `-._~` as they are, every other byte
/// as `%XX`, so that no name can reach another address.
fn path_segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// "Kept on the server in /var/lib/sms/backups."
pub fn kept_in(dir: &str) -> String {
    format!("Kept on the server in {dir}.")
}

/// What an empty list says: that there is none, and what "Back up now" does (for those who
/// may press it).
pub fn empty_words(is_admin: bool) -> &'static str {
    if is_admin {
        "No backups yet. \"Back up now\" copies the whole database into a file in this folder; \
         the install of a patch that changes the database also takes one first."
    } else {
        "No backups yet. The install of a patch that changes the database takes one first, and \
         admins can take one at any time."
    }
}

/// What operators read in place of the buttons.
pub const ADMINS_ONLY: &str = "Only admins can take, download, restore or delete backups.";

/// Where a backup job is, for the page's status line and its `data-state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

impl Progress {
    /// `running`, `succeeded`, `failed`, `cancelled`.
    pub fn as_str(self) -> &'static str {
        match self {
            Progress::Running => "running",
            Progress::Succeeded => "succeeded",
            Progress::Failed => "failed",
            Progress::Cancelled => "cancelled",
        }
    }
}

/// The backup job's state in words: running, then its outcome (a failure in the server's
/// own words).
pub fn job_in_words(job: &JobInfo) -> (Progress, String) {
    match job.state {
        JobState::Running | JobState::Scheduled => (
            Progress::Running,
            "Backing up the database… The list shows the backup once it is taken.".to_owned(),
        ),
        JobState::Succeeded => (Progress::Succeeded, "Backup taken and verified.".to_owned()),
        JobState::Failed => (
            Progress::Failed,
            match &job.error {
                Some(error) => format!("The backup failed: {}", error.message),
                None => "The backup failed; the server gave no reason.".to_owned(),
            },
        ),
        JobState::Cancelled => (
            Progress::Cancelled,
            "The backup was cancelled: nothing was kept.".to_owned(),
        ),
    }
}

/// The question asked before a backup is deleted: its title and what deleting means.
pub fn delete_question(info: &BackupInfo) -> (String, String) {
    (
        format!("Delete the backup {}?", info.id),
        format!(
            "Its file ({}, {}, taken {}) is removed from the server for good: it cannot be \
             downloaded or restored from afterwards. Download it first to keep a copy.",
            space_in_words(info.size),
            level_in_words(info),
            reason_mid_sentence(info),
        ),
    )
}

/// Why it was taken, after "taken": "on demand", "before installing 6.4.0.3", "on schedule".
/// (Not by lowering [`reason_in_words`]: `to_lowercase` would bring Unicode's case tables into
/// the wasm.)
fn reason_mid_sentence(info: &BackupInfo) -> String {
    match (info.reason, &info.patch) {
        (BackupReason::Manual, _) => "on demand".to_owned(),
        (BackupReason::BeforeInstall, Some(patch)) => format!("before installing {patch}"),
        (BackupReason::BeforeInstall, None) => "before an install".to_owned(),
        (BackupReason::Scheduled, _) => "on schedule".to_owned(),
    }
}

/// What the page says once a backup is deleted.
pub fn deleted_words(id: &str) -> String {
    format!("The backup {id} was deleted.")
}

#[cfg(test)]
mod tests {
    use shared::backup::{BackupInfo, BackupReason, DatabaseKind};
    use shared::panel::{JobInfo, JobState};

    use super::*;

    fn backup(reason: BackupReason, patch: Option<&str>, level: u32) -> BackupInfo {
        BackupInfo {
            id: "20261207-035300-manual".into(),
            database: DatabaseKind::Sqlite,
            product_version: "6.4.0".into(),
            patch_level: level,
            build: format!("6.4.0.{}", 9100 + level),
            migrations: Vec::new(),
            size: 12 << 20,
            sha256: "ab".repeat(32),
            taken_at: "2026-12-07T03:53:00Z".parse().unwrap(),
            reason,
            taken_by: "admin".into(),
            patch: patch.map(str::to_owned),
        }
    }

    fn job(state: JobState, error: Option<&str>) -> JobInfo {
        serde_json::from_value(serde_json::json!({
            "id": 7,
            "kind": "backup",
            "state": state,
            "done_bytes": 0,
            "total_bytes": 0,
            "started_by": "admin",
            "started_at": "2026-12-07T03:53:00Z",
            "error": error.map(|message| serde_json::json!({
                "code": "backup_failed",
                "message": message,
            })),
        }))
        .unwrap()
    }

    #[test]
    fn each_reason_reads_as_words() {
        let manual = backup(BackupReason::Manual, None, 2);
        assert_eq!(reason_in_words(&manual), "On demand");
        let before = backup(BackupReason::BeforeInstall, Some("6.4.0.3"), 2);
        assert_eq!(reason_in_words(&before), "Before installing 6.4.0.3");
        let unnamed = backup(BackupReason::BeforeInstall, None, 2);
        assert_eq!(reason_in_words(&unnamed), "Before an install");
        let scheduled = backup(BackupReason::Scheduled, None, 0);
        assert_eq!(reason_in_words(&scheduled), "Scheduled");
    }

    #[test]
    fn the_level_is_named_as_the_console_names_levels() {
        let patched = backup(BackupReason::Manual, None, 2);
        assert_eq!(
            level_in_words(&patched),
            "SMS 6.4.0 Patch 2 (build 6.4.0.9102)"
        );
        let base = backup(BackupReason::Manual, None, 0);
        assert_eq!(level_in_words(&base), "SMS 6.4.0 (build 6.4.0.9100)");
        // What the client cannot parse is shown as the server wrote it.
        let mut odd = backup(BackupReason::Manual, None, 3);
        odd.product_version = "7.0".into();
        assert_eq!(level_in_words(&odd), "SMS 7.0 Patch 3 (build 6.4.0.9103)");
        odd.patch_level = 0;
        assert_eq!(level_in_words(&odd), "SMS 7.0 (build 6.4.0.9103)");
    }

    #[test]
    fn a_row_says_why_what_how_large_and_who_and_links_its_file() {
        let mut info = backup(BackupReason::BeforeInstall, Some("6.4.0.3"), 2);
        info.database = DatabaseKind::Postgres;
        let words = row_words(&info);
        assert_eq!(words.reason, "Before installing 6.4.0.3");
        assert_eq!(words.level, "SMS 6.4.0 Patch 2 (build 6.4.0.9102)");
        assert_eq!(words.database, "PostgreSQL database");
        assert_eq!(words.size, "12 MiB");
        assert_eq!(words.exact_size, "12582912 bytes");
        assert_eq!(words.who, "admin");
        assert_eq!(
            words.download,
            "/api/v1/backups/20261207-035300-manual/download"
        );
        assert_eq!(
            words.download_label,
            "Download the backup 20261207-035300-manual"
        );
        assert_eq!(
            words.delete_label,
            "Delete the backup 20261207-035300-manual"
        );
        assert_eq!(database_in_words(DatabaseKind::Sqlite), "SQLite");
    }

    #[test]
    fn a_name_never_leaves_its_path_segment() {
        assert_eq!(
            backup_path("a b/../c?d"),
            "/api/v1/backups/a%20b%2F..%2Fc%3Fd"
        );
        assert_eq!(download_path("é"), "/api/v1/backups/%C3%A9/download");
        assert_eq!(backup_path("x-1.db_~"), "/api/v1/backups/x-1.db_~");
    }

    #[test]
    fn the_job_reads_running_then_its_outcome() {
        let (progress, words) = job_in_words(&job(JobState::Running, None));
        assert_eq!(progress, Progress::Running);
        assert!(words.starts_with("Backing up the database…"), "{words}");
        assert_eq!(
            job_in_words(&job(JobState::Succeeded, None)),
            (Progress::Succeeded, "Backup taken and verified.".to_owned())
        );
        assert_eq!(
            job_in_words(&job(JobState::Failed, Some("disk full. Nothing was kept"))),
            (
                Progress::Failed,
                "The backup failed: disk full. Nothing was kept".to_owned()
            )
        );
        assert_eq!(
            job_in_words(&job(JobState::Failed, None)).1,
            "The backup failed; the server gave no reason."
        );
        assert_eq!(
            job_in_words(&job(JobState::Cancelled, None)).0.as_str(),
            "cancelled"
        );
        assert_eq!(Progress::Failed.as_str(), "failed");
    }

    #[test]
    fn deleting_asks_first_and_says_the_file_goes_for_good() {
        let info = backup(BackupReason::BeforeInstall, Some("6.4.0.3"), 2);
        let (title, what) = delete_question(&info);
        assert_eq!(title, "Delete the backup 20261207-035300-manual?");
        assert_eq!(
            what,
            "Its file (12 MiB, SMS 6.4.0 Patch 2 (build 6.4.0.9102), taken before installing \
             6.4.0.3) is removed from the server for good: it cannot be downloaded or restored \
             from afterwards. Download it first to keep a copy."
        );
        let (_, scheduled) = delete_question(&backup(BackupReason::Scheduled, None, 0));
        assert!(scheduled.contains("taken on schedule)"), "{scheduled}");
        let (_, manual) = delete_question(&backup(BackupReason::Manual, None, 0));
        assert!(manual.contains("taken on demand)"), "{manual}");
        assert_eq!(
            deleted_words("20261207-035300-manual"),
            "The backup 20261207-035300-manual was deleted."
        );
    }

    #[test]
    fn the_folder_and_the_empty_list_are_explained() {
        assert_eq!(
            kept_in("/var/lib/sms/backups"),
            "Kept on the server in /var/lib/sms/backups."
        );
        assert!(empty_words(true).contains("\"Back up now\" copies the whole database"));
        assert!(!empty_words(false).contains("Back up now"));
        assert!(empty_words(false).starts_with("No backups yet."));
    }
}
