//! Database backups (docs/backups.md): taken on demand (a job), before the install of a patch
//! that changes the database, listed, downloaded and removed; every one audited and told
//! (`backup.succeeded`, `backup.failed`); the oldest removed by the retention rules after each.

use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use shared::api::ErrorBody;
use shared::backup::{BackupInfo, BackupReason, DatabaseKind};
use shared::notify::EventType;
use shared::panel::{JobInfo, JobKind};

use crate::clock::Clock;
use crate::service::audit::{Audit, AuditEvent};
use crate::service::jobs::Jobs;
use crate::service::notify::{Notice, Notifier};
use crate::service::schema::applied;
use crate::service::{Installed, ServiceError};
use crate::storage::backup::{BackupDir, BackupError, Facts, Request};
use crate::storage::db::Db;
use crate::storage::restore::{Mark, swap_sqlite};
use crate::values;
use serde::Deserialize;

/// `[backups]`: where database backups go and how long they are kept (docs/backups.md).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupsConfig {
    /// The backups folder (`DATA_DIR/backups` unless set).
    #[serde(default)]
    pub dir: PathBuf,
    /// The `pg_dump` program for a PostgreSQL database; `pg_restore` is looked for beside it.
    pub pg_dump: PathBuf,
    /// Keep at least this many of the newest backups.
    pub keep_last: usize,
    /// Remove backups older than this many days beyond those.
    pub keep_days: u32,
    /// When to take a backup by itself: five cron fields, e.g. `0 3 * * *` (none: never).
    pub schedule: Option<String>,
    /// The IANA time zone `schedule` is read in.
    #[serde(deserialize_with = "values::time_zone")]
    pub time_zone: chrono_tz::Tz,
}

impl BackupsConfig {
    /// When the next scheduled backup is due after `now`; `None`: never.
    pub fn next_after(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let schedule = self.schedule.as_deref()?;
        shared::window::Window::new(schedule, 1, self.time_zone, now)
            .ok()?
            .next_after(now)
            .map(|opening| opening.start)
    }

    /// Refuses a schedule that is not five cron fields.
    pub fn check(&self, from: &dyn Fn(&str) -> String) -> anyhow::Result<()> {
        if let Some(schedule) = &self.schedule {
            shared::window::Window::new(schedule, 1, self.time_zone, Utc::now()).map_err(
                |err| anyhow::anyhow!("`backups.schedule`{}: {err}", from("backups.schedule")),
            )?;
        }
        Ok(())
    }
}

/// What taking, listing or removing a backup can fail with.
#[derive(Debug, thiserror::Error)]
pub enum BackupsError {
    #[error(transparent)]
    Backup(#[from] BackupError),
    #[error(transparent)]
    Service(#[from] ServiceError),
}

/// The backups of this server's database.
#[derive(Clone)]
pub struct Backups {
    db: Db,
    database_url: String,
    dir: BackupDir,
    keep_last: usize,
    keep_days: u32,
    /// `[backups]`, for its schedule.
    config: BackupsConfig,
    installed: Installed,
    audit: Audit,
    notifier: Notifier,
    jobs: Jobs,
    node_name: String,
    /// One backup at a time.
    taking: Arc<tokio::sync::Mutex<()>>,
}

impl Backups {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        db: Db,
        database_url: String,
        config: &BackupsConfig,
        installed: Installed,
        audit: Audit,
        notifier: Notifier,
        jobs: Jobs,
        node_name: String,
    ) -> Self {
        Self {
            db,
            database_url,
            dir: BackupDir::new(config.dir.clone(), config.pg_dump.clone()),
            keep_last: config.keep_last,
            keep_days: config.keep_days,
            config: config.clone(),
            installed,
            audit,
            notifier,
            jobs,
            node_name,
            taking: Arc::default(),
        }
    }

    /// The backups folder, as the console shows it.
    pub fn dir(&self) -> String {
        self.dir.dir().display().to_string()
    }

    /// Makes the folder and removes what a crash left of an unfinished backup.
    pub async fn open(&self) -> std::io::Result<usize> {
        self.dir.open().await
    }

    /// Starts a backup as a job (`POST /api/v1/backups`); the job runs on after this returns.
    pub async fn start(
        &self,
        actor: &str,
        source: Option<String>,
    ) -> Result<JobInfo, ServiceError> {
        let estimate = self.estimate().await.unwrap_or(0);
        let (info, handle) = self
            .jobs
            .start(JobKind::Backup, None, estimate, actor)
            .await?;
        let this = self.clone();
        let actor = actor.to_owned();
        tokio::spawn(async move {
            let request = Request {
                reason: BackupReason::Manual,
                taken_by: actor,
                patch: None,
            };
            let outcome = match this.take(request, source).await {
                Ok(info) => {
                    handle.progress(info.size).await;
                    Ok(())
                }
                Err(err) => Err(ErrorBody {
                    code: "backup_failed".into(),
                    message: format!("{err}. Nothing was kept; try again once that is mended."),
                }),
            };
            if let Err(err) = handle.finish(outcome).await {
                tracing::error!(job = handle.id, "cannot record the backup's outcome: {err}");
            }
        });
        Ok(info)
    }

    /// Takes the scheduled backups (`[backups] schedule`, read on `clock`); until the task is
    /// stopped. A failed one is audited and told like any other, and the next is due as
    /// scheduled.
    pub async fn run_schedule(self, clock: Clock) {
        if self.config.schedule.is_none() {
            return;
        }
        loop {
            let Some(due) = self.config.next_after(clock.now()) else {
                tracing::warn!("the backup schedule never comes round again");
                return;
            };
            tokio::time::sleep(clock.until(due)).await;
            let request = Request {
                reason: BackupReason::Scheduled,
                taken_by: "system".into(),
                patch: None,
            };
            match self.take(request, None).await {
                Ok(info) => tracing::info!(backup = %info.id, "took the scheduled backup"),
                Err(err) => tracing::error!("the scheduled backup failed: {err}"),
            }
        }
    }

    /// Takes a backup now (the install's `backup` stage, the schedule, the job above), audits
    /// it, tells the notification targets, and applies the retention rules.
    pub async fn take(
        &self,
        request: Request,
        source: Option<String>,
    ) -> Result<BackupInfo, BackupsError> {
        let _one = self.taking.lock().await;
        let actor = request.taken_by.clone();
        let reason = request.reason;
        let taken = async {
            let facts = self.facts().await?;
            Ok::<_, BackupsError>(
                self.dir
                    .take(&self.db, &self.database_url, facts, request)
                    .await?,
            )
        }
        .await;
        match &taken {
            Ok(info) => {
                let event = AuditEvent::success("backup_create", &actor)
                    .target(info.id.clone())
                    .source(source)
                    .details(format!("{}, {} bytes", reason.as_str(), info.size));
                self.audit.record(event).await?;
                self.notifier
                    .emit(
                        Notice::new(
                            EventType::BackupSucceeded,
                            format!(
                                "SMS server {} took the database backup {} ({} MiB, {}).",
                                self.node_name,
                                info.id,
                                info.size.div_ceil(1 << 20),
                                reason.as_str()
                            ),
                        )
                        .with("backup", info.id.clone())
                        .with("reason", reason.as_str()),
                    )
                    .await;
                if let Err(err) = self.prune().await {
                    tracing::warn!("cannot apply the backups' retention: {err}");
                }
            }
            Err(err) => {
                let event = AuditEvent::failure("backup_create", &actor)
                    .source(source)
                    .details(format!("{}: {err}", reason.as_str()));
                if let Err(audit) = self.audit.record(event).await {
                    tracing::error!("cannot audit a failed backup: {audit}");
                }
                self.notifier
                    .emit(
                        Notice::new(
                            EventType::BackupFailed,
                            format!(
                                "SMS server {} could not take a database backup ({}): {err}",
                                self.node_name,
                                reason.as_str()
                            ),
                        )
                        .with("reason", reason.as_str()),
                    )
                    .await;
            }
        }
        taken
    }

    async fn facts(&self) -> Result<Facts, ServiceError> {
        facts(&self.db, &self.installed).await
    }

    /// About how large a backup would be, in bytes: the database's size.
    pub async fn estimate(&self) -> Result<u64, ServiceError> {
        let backend = self.db.get_database_backend();
        let sql = match backend {
            DbBackend::Postgres => "SELECT pg_database_size(current_database())::BIGINT AS size",
            _ => {
                "SELECT (SELECT page_count FROM pragma_page_count()) * \
                 (SELECT page_size FROM pragma_page_size()) AS size"
            }
        };
        let row = self
            .db
            .query_one_raw(Statement::from_string(backend, sql))
            .await?;
        let size: i64 = match row {
            Some(row) => row.try_get("", "size")?,
            None => 0,
        };
        Ok(u64::try_from(size).unwrap_or(0))
    }

    /// Every backup, newest first.
    pub async fn list(&self) -> Result<Vec<BackupInfo>, BackupError> {
        self.dir.list().await
    }

    /// One backup.
    pub async fn get(&self, id: &str) -> Result<BackupInfo, BackupError> {
        self.dir.get(id).await
    }

    /// A backup's file, for its download.
    pub fn file_of(&self, info: &BackupInfo) -> PathBuf {
        self.dir.file_path(info)
    }

    /// The kind of database this server runs on.
    pub fn database(&self) -> DatabaseKind {
        match self.db.get_database_backend() {
            DbBackend::Postgres => DatabaseKind::Postgres,
            _ => DatabaseKind::Sqlite,
        }
    }

    /// Checks a backup's file before it is restored: of this server's kind of database, whole
    /// (it opens as one), and the file its manifest describes.
    pub async fn verify(&self, info: &BackupInfo) -> Result<(), BackupError> {
        if info.database != self.database() {
            return Err(BackupError::Mismatch(format!(
                "the backup {} is of a {} database, and this server's is {}",
                info.id,
                info.database.as_str(),
                self.database().as_str()
            )));
        }
        self.dir.verify(info, &self.dir.file_path(info)).await
    }

    /// Puts the backup's database in place of the running one, in one transaction that also
    /// marks `mark` (docs/backups.md): the server's own records stay. `before_commit` runs
    /// just before the commit (fault injection).
    pub async fn restore(
        &self,
        info: &BackupInfo,
        mark: Mark,
        before_commit: impl FnOnce(),
    ) -> Result<(), BackupError> {
        let file = self.dir.file_path(info);
        match self.database() {
            DatabaseKind::Sqlite => swap_sqlite(&self.db, &file, mark, before_commit).await,
            DatabaseKind::Postgres => {
                self.dir
                    .swap_postgres(&self.database_url, &file, mark, before_commit)
                    .await
            }
        }
    }

    /// Removes a backup an admin names; audited.
    pub async fn delete(
        &self,
        id: &str,
        actor: &str,
        source: Option<String>,
    ) -> Result<BackupInfo, BackupsError> {
        let _one = self.taking.lock().await;
        let info = self.dir.delete(id).await?;
        self.audit
            .record(
                AuditEvent::success("backup_delete", actor)
                    .target(info.id.clone())
                    .source(source),
            )
            .await?;
        Ok(info)
    }

    /// The retention rules: the newest `keep_last` stay, and so does every backup younger than
    /// `keep_days`, and a backup taken before the install of the patch installed now (until
    /// that patch is rolled back or superseded); the rest are removed.
    async fn prune(&self) -> Result<usize, BackupsError> {
        let installed = self.installed.get().await?;
        let now = Utc::now();
        let backups = self.dir.list().await?;
        let mut removed = 0;
        for (index, info) in backups.iter().enumerate() {
            if !expired(
                info,
                index,
                now,
                self.keep_last,
                self.keep_days,
                installed.patch_level.0,
            ) {
                continue;
            }
            self.dir.delete(&info.id).await?;
            self.audit
                .record(
                    AuditEvent::success("backup_delete", "system")
                        .target(info.id.clone())
                        .details("retention"),
                )
                .await?;
            removed += 1;
        }
        Ok(removed)
    }
}

/// What the installed state and the applied migrations say the database is.
pub async fn facts(db: &Db, installed: &Installed) -> Result<Facts, ServiceError> {
    let installed = installed.get().await?;
    let migrations = applied(db)
        .await?
        .into_iter()
        .map(|row| format!("{:04}-{}", row.number, row.name))
        .collect();
    Ok(Facts {
        product_version: installed.product_version.to_string(),
        build: installed.build.to_string(),
        patch_level: installed.patch_level.0,
        migrations,
    })
}

/// Whether the retention rules let a backup go: `index` is its place, newest first.
fn expired(
    info: &BackupInfo,
    index: usize,
    now: chrono::DateTime<Utc>,
    keep_last: usize,
    keep_days: u32,
    installed_level: u32,
) -> bool {
    if index < keep_last {
        return false;
    }
    if now - info.taken_at < chrono::Duration::days(i64::from(keep_days)) {
        return false;
    }
    let guards_install = info.reason == BackupReason::BeforeInstall
        && info
            .patch
            .as_deref()
            .and_then(|patch| patch.parse::<shared::PatchId>().ok())
            .is_some_and(|patch| patch.patch() == installed_level);
    !guards_install
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::backup::DatabaseKind;

    fn backup(days_old: i64, reason: BackupReason, patch: Option<&str>) -> BackupInfo {
        BackupInfo {
            id: format!("b{days_old}"),
            database: DatabaseKind::Sqlite,
            product_version: "6.4.0".into(),
            patch_level: 0,
            build: "6.4.0.9001".into(),
            migrations: Vec::new(),
            size: 1,
            sha256: String::new(),
            taken_at: Utc::now() - chrono::Duration::days(days_old),
            reason,
            taken_by: "admin".into(),
            patch: patch.map(str::to_owned),
        }
    }

    #[test]
    fn the_newest_the_young_and_the_guard_of_the_installed_patch_are_kept() {
        let now = Utc::now();
        let old = backup(40, BackupReason::Manual, None);
        assert!(!expired(&old, 2, now, 3, 30, 0), "among the newest 3");
        assert!(
            expired(&old, 3, now, 3, 30, 0),
            "old and beyond the newest 3"
        );
        let young = backup(5, BackupReason::Scheduled, None);
        assert!(!expired(&young, 9, now, 3, 30, 0), "younger than 30 days");
        let guard = backup(90, BackupReason::BeforeInstall, Some("6.4.0.3"));
        assert!(!expired(&guard, 9, now, 3, 30, 3), "Patch 3 is installed");
        assert!(expired(&guard, 9, now, 3, 30, 4), "superseded by Patch 4");
        assert!(expired(&guard, 9, now, 3, 30, 0), "rolled back");
    }
}
