//! Database backups on disk (docs/backups.md): one file per backup in the backups folder
//! (`DATA_DIR/backups`, `[backups] dir`) and its manifest beside it, `<id>.json`.
//!
//! A backup is written under a temporary name (`.part`), verified (its SHA-256 read back; a
//! SQLite copy passes `PRAGMA integrity_check`, a `pg_dump` archive `pg_restore --list`), then
//! renamed, and its manifest written and renamed last: a backup counts once its manifest is
//! there, and whatever a crash leaves without one is removed at the next start.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbBackend};
use sha2::{Digest, Sha256};
use shared::backup::{BackupInfo, BackupReason, DatabaseKind};
use tokio::io::AsyncReadExt;

use crate::storage::db::Db;
use crate::storage::files::{sync_dir, write_synced};

/// How a backup can fail.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// `pg_dump` (or `pg_restore`) is not where the configuration says.
    #[error(
        "{0} was not found: install PostgreSQL's client programs (package postgresql-client, the \
         server's major version or newer), or set `[backups] pg_dump` to the program"
    )]
    ToolMissing(String),
    /// The copy could not be made.
    #[error("the database could not be copied: {0}")]
    Copy(String),
    /// The copy does not check out.
    #[error("the backup does not verify: {0}")]
    Corrupt(String),
    #[error("there is no backup {0}")]
    NotFound(String),
    /// A restore would give a database this server cannot run as it is.
    #[error("{0}")]
    Mismatch(String),
    #[error("the backups folder: {0}")]
    Io(#[from] std::io::Error),
}

impl BackupError {
    /// The stable code of the error (docs/backups.md).
    pub fn code(&self) -> &'static str {
        match self {
            BackupError::ToolMissing(_) => "backup_tool_missing",
            BackupError::Copy(_) | BackupError::Io(_) => "backup_failed",
            BackupError::Corrupt(_) => "backup_corrupt",
            BackupError::NotFound(_) => "backup_not_found",
            BackupError::Mismatch(_) => "backup_mismatch",
        }
    }
}

/// What a backup records besides its file: the level the database belongs to.
#[derive(Debug, Clone)]
pub struct Facts {
    pub product_version: String,
    pub build: String,
    pub patch_level: u32,
    pub migrations: Vec<String>,
}

/// Why and by whom.
#[derive(Debug, Clone)]
pub struct Request {
    pub reason: BackupReason,
    pub taken_by: String,
    pub patch: Option<String>,
}

/// The backups folder and the programs a PostgreSQL backup needs.
#[derive(Debug, Clone)]
pub struct BackupDir {
    dir: PathBuf,
    pg_dump: PathBuf,
    pg_restore: PathBuf,
    psql: PathBuf,
}

impl BackupDir {
    /// The backups in `dir`; `pg_restore` and `psql` are looked for beside `pg_dump`.
    pub fn new(dir: PathBuf, pg_dump: PathBuf) -> Self {
        let beside = |program: &str| {
            pg_dump.with_file_name(match pg_dump.file_name() {
                Some(name) if name == "pg_dump" => program.into(),
                Some(name) => name.to_string_lossy().replace("pg_dump", program),
                None => program.into(),
            })
        };
        Self {
            pg_restore: beside("pg_restore"),
            psql: beside("psql"),
            dir,
            pg_dump,
        }
    }

    pub(super) fn pg_restore(&self) -> &Path {
        &self.pg_restore
    }

    pub(super) fn psql(&self) -> PathBuf {
        self.psql.clone()
    }

    /// Runs one of PostgreSQL's client programs to its end (see `run_tool`).
    pub(super) async fn run(
        &self,
        command: tokio::process::Command,
        program: &Path,
    ) -> Result<std::process::Output, BackupError> {
        run_tool(program, command).await
    }

    /// Where the backups are.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Makes the folder and removes what a crash left of an unfinished backup.
    pub async fn open(&self) -> std::io::Result<usize> {
        tokio::fs::create_dir_all(&self.dir).await?;
        let mut removed = 0;
        let mut entries = tokio::fs::read_dir(&self.dir).await?;
        while let Some(entry) = entries.next_entry().await? {
            let name = entry.file_name().to_string_lossy().into_owned();
            let orphan = match name
                .strip_suffix(".sqlite")
                .or(name.strip_suffix(".pgdump"))
            {
                _ if name.ends_with(".part") => true,
                Some(id) => !tokio::fs::try_exists(self.manifest_path(id)).await?,
                None => false,
            };
            if orphan {
                tokio::fs::remove_file(entry.path()).await?;
                removed += 1;
            }
        }
        Ok(removed)
    }

    fn manifest_path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.json"))
    }

    /// The file of a backup.
    pub fn file_path(&self, info: &BackupInfo) -> PathBuf {
        self.dir.join(file_name(&info.id, info.database))
    }

    /// Takes a backup of `db`, verifies it, and records it.
    pub async fn take(
        &self,
        db: &Db,
        database_url: &str,
        facts: Facts,
        request: Request,
    ) -> Result<BackupInfo, BackupError> {
        tokio::fs::create_dir_all(&self.dir).await?;
        let taken_at = Utc::now();
        let id = self.free_id(taken_at, request.reason).await?;
        let database = match db.get_database_backend() {
            DbBackend::Postgres => DatabaseKind::Postgres,
            _ => DatabaseKind::Sqlite,
        };
        let file = self.dir.join(file_name(&id, database));
        let part = part_of(&file);
        let copied = match database {
            DatabaseKind::Sqlite => copy_sqlite(db, &part).await,
            DatabaseKind::Postgres => self.copy_postgres(database_url, &part).await,
        };
        let checked = match copied {
            Ok(()) => self.check(database, &part).await,
            Err(err) => Err(err),
        };
        let (size, sha256) = match checked {
            Ok(sum) => sum,
            Err(err) => {
                let _ = tokio::fs::remove_file(&part).await;
                return Err(err);
            }
        };
        tokio::fs::rename(&part, &file).await?;
        let info = BackupInfo {
            id: id.clone(),
            database,
            product_version: facts.product_version,
            patch_level: facts.patch_level,
            build: facts.build,
            migrations: facts.migrations,
            size,
            sha256,
            taken_at,
            reason: request.reason,
            taken_by: request.taken_by,
            patch: request.patch,
        };
        let recorded = self.write_manifest(&info).await;
        if let Err(err) = recorded {
            let _ = tokio::fs::remove_file(&file).await;
            return Err(err);
        }
        Ok(info)
    }

    /// A name no backup has: the time, the reason, and a number when two share a second.
    async fn free_id(&self, at: DateTime<Utc>, reason: BackupReason) -> std::io::Result<String> {
        let base = format!("{}-{}", at.format("%Y%m%d-%H%M%S"), reason.as_str());
        let mut id = base.clone();
        let mut n = 1;
        while tokio::fs::try_exists(self.manifest_path(&id)).await? {
            n += 1;
            id = format!("{base}-{n}");
        }
        Ok(id)
    }

    async fn copy_postgres(&self, database_url: &str, out: &Path) -> Result<(), BackupError> {
        let mut command = tokio::process::Command::new(&self.pg_dump);
        command
            .arg("--format=custom")
            .arg("--no-owner")
            .arg("--file")
            .arg(out)
            .arg("--dbname")
            .arg(database_url);
        let output = run_tool(&self.pg_dump, command).await?;
        if !output.status.success() {
            return Err(BackupError::Copy(format!(
                "pg_dump failed ({}): {}",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            )));
        }
        Ok(())
    }

    /// The file's size and SHA-256, once it checks out as a database of its kind.
    pub async fn check(
        &self,
        database: DatabaseKind,
        file: &Path,
    ) -> Result<(u64, String), BackupError> {
        match database {
            DatabaseKind::Sqlite => check_sqlite(file).await?,
            DatabaseKind::Postgres => {
                let mut command = tokio::process::Command::new(&self.pg_restore);
                command.arg("--list").arg(file);
                let output = run_tool(&self.pg_restore, command).await?;
                if !output.status.success() {
                    return Err(BackupError::Corrupt(format!(
                        "pg_restore cannot read it: {}",
                        String::from_utf8_lossy(&output.stderr).trim()
                    )));
                }
            }
        }
        Ok(sha256_of(file).await?)
    }

    async fn write_manifest(&self, info: &BackupInfo) -> Result<(), BackupError> {
        let path = self.manifest_path(&info.id);
        let part = part_of(&path);
        let json = serde_json::to_vec_pretty(info)
            .map_err(|err| BackupError::Copy(format!("the manifest: {err}")))?;
        let dir = self.dir.clone();
        let written = tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            write_synced(&part, &json)?;
            std::fs::rename(&part, &path)?;
            sync_dir(&dir)
        })
        .await
        .map_err(std::io::Error::other)?;
        Ok(written?)
    }

    /// Every backup, newest first. A manifest that cannot be read is skipped (and logged).
    pub async fn list(&self) -> Result<Vec<BackupInfo>, BackupError> {
        let mut backups = Vec::new();
        let mut entries = match tokio::fs::read_dir(&self.dir).await {
            Ok(entries) => entries,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(backups),
            Err(err) => return Err(err.into()),
        };
        while let Some(entry) = entries.next_entry().await? {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !name.ends_with(".json") {
                continue;
            }
            match read_manifest(&entry.path()).await {
                Ok(info) => backups.push(info),
                Err(err) => tracing::warn!(file = %name, "an unreadable backup manifest: {err}"),
            }
        }
        backups.sort_by(|a, b| b.taken_at.cmp(&a.taken_at).then(b.id.cmp(&a.id)));
        Ok(backups)
    }

    /// One backup's manifest.
    pub async fn get(&self, id: &str) -> Result<BackupInfo, BackupError> {
        if !valid_id(id) {
            return Err(BackupError::NotFound(id.to_owned()));
        }
        match read_manifest(&self.manifest_path(id)).await {
            Ok(info) => Ok(info),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                Err(BackupError::NotFound(id.to_owned()))
            }
            Err(err) => Err(err.into()),
        }
    }

    /// Removes a backup: its manifest first (then it no longer counts), then its file.
    pub async fn delete(&self, id: &str) -> Result<BackupInfo, BackupError> {
        let info = self.get(id).await?;
        tokio::fs::remove_file(self.manifest_path(id)).await?;
        match tokio::fs::remove_file(self.file_path(&info)).await {
            Err(err) if err.kind() != std::io::ErrorKind::NotFound => return Err(err.into()),
            _ => {}
        }
        Ok(info)
    }
}

impl BackupDir {
    /// Checks a backup's file against its manifest before it is restored: it still opens as a
    /// database of its kind, and its size and SHA-256 are the manifest's.
    pub async fn verify(&self, info: &BackupInfo, file: &Path) -> Result<(), BackupError> {
        let (size, sha256) = self.check(info.database, file).await?;
        if size != info.size || sha256 != info.sha256 {
            return Err(BackupError::Corrupt(format!(
                "{} is not the file its manifest describes ({size} bytes, SHA-256 {sha256}; the \
                 manifest says {} bytes, {}): it changed since it was taken",
                file.display(),
                info.size,
                info.sha256
            )));
        }
        Ok(())
    }

    /// Replaces the contents of the PostgreSQL database at `database_url` with the archive
    /// `file`, in one transaction: the old contents stay until it commits.
    pub async fn restore_postgres(
        &self,
        database_url: &str,
        file: &Path,
    ) -> Result<(), BackupError> {
        let mut command = tokio::process::Command::new(&self.pg_restore);
        command
            .args([
                "--clean",
                "--if-exists",
                "--single-transaction",
                "--no-owner",
            ])
            .arg("--dbname")
            .arg(database_url)
            .arg(file);
        let output = run_tool(&self.pg_restore, command).await?;
        if !output.status.success() {
            return Err(BackupError::Copy(format!(
                "pg_restore failed ({}); the database is as it was: {}",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            )));
        }
        Ok(())
    }
}

/// Replaces the SQLite database `db_file` (no server using it) with the copy `file`. The old
/// file is kept beside it as `<db_file>.before-restore-<time>` (returned): its WAL is
/// checkpointed into it first, then the copy, synced under a temporary name, is renamed over
/// `db_file` in one step, so a crash leaves the old database or the new one.
pub async fn restore_sqlite_file(file: &Path, db_file: &Path) -> Result<PathBuf, BackupError> {
    use sea_orm::sqlx::Connection as _;
    let dir = db_file
        .parent()
        .map(Path::to_owned)
        .unwrap_or_else(|| PathBuf::from("."));
    let part = part_of(db_file);
    let kept = {
        let mut name = db_file.as_os_str().to_owned();
        name.push(format!(
            ".before-restore-{}",
            Utc::now().format("%Y%m%d-%H%M%S")
        ));
        PathBuf::from(name)
    };
    tokio::fs::copy(file, &part).await?;
    tokio::fs::File::open(&part).await?.sync_all().await?;
    if tokio::fs::try_exists(db_file).await? {
        let options = sea_orm::sqlx::sqlite::SqliteConnectOptions::new().filename(db_file);
        let mut connection = sea_orm::sqlx::SqliteConnection::connect_with(&options)
            .await
            .map_err(|err| BackupError::Copy(format!("the database does not open: {err}")))?;
        let checkpoint = sea_orm::sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&mut connection)
            .await;
        let _ = connection.close().await;
        checkpoint.map_err(|err| BackupError::Copy(format!("the database's WAL: {err}")))?;
        tokio::fs::hard_link(db_file, &kept).await?;
    }
    for suffix in ["-wal", "-shm"] {
        let mut name = db_file.as_os_str().to_owned();
        name.push(suffix);
        match tokio::fs::remove_file(PathBuf::from(name)).await {
            Err(err) if err.kind() != std::io::ErrorKind::NotFound => return Err(err.into()),
            _ => {}
        }
    }
    tokio::fs::rename(&part, db_file).await?;
    sync_dir(&dir)?;
    Ok(kept)
}

/// Runs one of PostgreSQL's client programs to its end: a program that is not there is
/// `ToolMissing`, one that cannot start `Copy`; how it ended is the caller's to read.
async fn run_tool(
    program: &Path,
    mut command: tokio::process::Command,
) -> Result<std::process::Output, BackupError> {
    command
        .stdin(Stdio::null())
        .output()
        .await
        .map_err(|err| match err.kind() {
            std::io::ErrorKind::NotFound => BackupError::ToolMissing(program.display().to_string()),
            _ => BackupError::Copy(format!("{} cannot run: {err}", program.display())),
        })
}

/// The file of a `sqlite:` database URL.
pub fn sqlite_file(database_url: &str) -> Option<PathBuf> {
    let rest = database_url
        .strip_prefix("sqlite://")
        .or_else(|| database_url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next()?;
    (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
}

/// A backup's name: letters, digits and `-` only (it names files).
pub fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn file_name(id: &str, database: DatabaseKind) -> String {
    match database {
        DatabaseKind::Sqlite => format!("{id}.sqlite"),
        DatabaseKind::Postgres => format!("{id}.pgdump"),
    }
}

fn part_of(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".part");
    PathBuf::from(name)
}

async fn read_manifest(path: &Path) -> std::io::Result<BackupInfo> {
    let bytes = tokio::fs::read(path).await?;
    serde_json::from_slice(&bytes).map_err(std::io::Error::other)
}

/// `VACUUM INTO`: a consistent copy of the live database (one read transaction), compacted.
async fn copy_sqlite(db: &Db, out: &Path) -> Result<(), BackupError> {
    let Some(path) = out.to_str() else {
        return Err(BackupError::Copy(format!(
            "the backups folder's path is not UTF-8: {}",
            out.display()
        )));
    };
    let quoted = path.replace('\'', "''");
    db.execute_unprepared(&format!("VACUUM INTO '{quoted}'"))
        .await
        .map_err(|err| BackupError::Copy(err.to_string()))?;
    Ok(())
}

/// Opens the copy read-only and runs `PRAGMA integrity_check`.
async fn check_sqlite(file: &Path) -> Result<(), BackupError> {
    use sea_orm::sqlx::ConnectOptions as _;
    use sea_orm::sqlx::Connection as _;
    let options = sea_orm::sqlx::sqlite::SqliteConnectOptions::new()
        .filename(file)
        .read_only(true)
        .immutable(true)
        .disable_statement_logging();
    let mut connection = sea_orm::sqlx::SqliteConnection::connect_with(&options)
        .await
        .map_err(|err| BackupError::Corrupt(format!("it does not open as SQLite: {err}")))?;
    let verdict: Result<(String,), _> = sea_orm::sqlx::query_as("PRAGMA integrity_check")
        .fetch_one(&mut connection)
        .await;
    let _ = connection.close().await;
    match verdict {
        Ok((verdict,)) if verdict == "ok" => Ok(()),
        Ok((verdict,)) => Err(BackupError::Corrupt(format!("integrity check: {verdict}"))),
        Err(err) => Err(BackupError::Corrupt(format!("integrity check: {err}"))),
    }
}

/// The size and SHA-256 of a file, read in chunks.
pub async fn sha256_of(path: &Path) -> std::io::Result<(u64, String)> {
    let mut file = tokio::fs::File::open(path).await?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buffer).await?;
        if n == 0 {
            break;
        }
        size += n as u64;
        hasher.update(&buffer[..n]);
    }
    Ok((size, hex::encode(hasher.finalize())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sqlite_url_names_its_file() {
        assert_eq!(
            sqlite_file("sqlite://data/sms.db?mode=rwc"),
            Some(PathBuf::from("data/sms.db"))
        );
        assert_eq!(
            sqlite_file("sqlite:/var/lib/sms/sms.db"),
            Some("/var/lib/sms/sms.db".into())
        );
        assert_eq!(sqlite_file("postgres://x@y/z"), None);
        assert_eq!(sqlite_file("sqlite::memory:"), None);
    }

    #[test]
    fn backup_names_are_plain() {
        assert!(valid_id("20261207-035300-manual"));
        assert!(valid_id("20261207-035300-before_install-2"));
        assert!(!valid_id("../sms"));
        assert!(!valid_id(""));
        assert!(!valid_id("a.json"));
    }

    #[test]
    fn pg_restore_is_found_beside_pg_dump() {
        let dir = BackupDir::new("/b".into(), "/usr/lib/postgresql/15/bin/pg_dump".into());
        assert_eq!(
            dir.pg_restore,
            PathBuf::from("/usr/lib/postgresql/15/bin/pg_restore")
        );
        let dir = BackupDir::new("/b".into(), "pg_dump".into());
        assert_eq!(dir.pg_restore, PathBuf::from("pg_restore"));
    }
}
