//! Restoring a database backup as a job (docs/backups.md): from the console
//! (`POST /api/v1/backups/{id}/restore`), or as the rollback of a patch that restores the
//! backup taken before its install (`POST /api/v1/rollback` with `{"restore_backup": true}`).
//!
//! Stages: `verify` (the file is whole and of a level this server can run), `precheck`,
//! `stop_clients`, `stage_payload` (only when the backup's level is neither the running one
//! nor the base), `restore_database`, `switch` (only when the level differs), `restart`,
//! `postcheck`, `done`. The one commit point is `restore_database`: its transaction puts the
//! backup's database in place and journals the stage's end, so the journal says which
//! database is there; the install root's pointer follows the database.

use std::path::PathBuf;

use shared::api::ServerState;
use shared::backup::{BackupInfo, rollback_backup};
use shared::panel::{JobInfo, JobKind, Stage, StageOutcome, restore_stages};
use shared::{PatchId, PatchLevel, level_in_words};

use crate::service::installed::InstalledState;
use crate::service::jobs::JobHandle;
use crate::storage::backup::BackupError;
use crate::storage::restore::Mark;
use crate::workflow::faults::crash_point_named;

use super::checks::{level_unchanged, rollback_allowed};
use super::engine::{InstallEngine, blocking};
use super::error::{JobErrorKind, PatchJobError};
use super::run::{Ending, conclude, done, stage};
use super::steps::{clean_install_root, postcheck};

/// What a restore works from.
#[derive(Debug, Clone)]
struct RestorePlan {
    backup: BackupInfo,
    from: InstalledState,
    to: PatchLevel,
    /// The package of the backup's level and its SHA-256, when that level must be staged.
    staging: Option<(PathBuf, String)>,
}

impl InstallEngine {
    /// Starts restoring the backup `id`: checks it can, records the job, and runs it in the
    /// background. Refused while another job runs and while HA clustering is enabled.
    pub async fn start_restore(
        &self,
        id: &str,
        actor: &str,
        source: Option<String>,
    ) -> Result<JobInfo, PatchJobError> {
        let backup = self.backups.get(id).await.map_err(refusal)?;
        let plan = plan(self, backup).await?;
        start(self, plan, JobKind::Restore, actor, source).await
    }

    /// Starts the rollback of the installed patch that restores the backup its install took,
    /// instead of undoing its migrations: everything written since is lost.
    pub async fn start_rollback_restoring(
        &self,
        actor: &str,
        source: Option<String>,
    ) -> Result<JobInfo, PatchJobError> {
        let from = self.installed.get().await?;
        rollback_allowed(self, &from).await?;
        let Some(backup) = self.rollback_backup().await? else {
            return Err(PatchJobError::precondition(
                "no_rollback_backup",
                format!(
                    "No backup taken before the install of {} is kept: roll back without \
                     restoring one (the patch's migrations are undone, the data stays).",
                    level_in_words(from.patch_level)
                ),
            ));
        };
        let plan = plan(self, backup).await?;
        start(self, plan, JobKind::Rollback, actor, source).await
    }

    /// The backup a rollback of the installed patch can restore: the newest taken before its
    /// install at level 0, on this kind of database.
    pub async fn rollback_backup(&self) -> Result<Option<BackupInfo>, PatchJobError> {
        let installed = self.installed.get().await?;
        let Ok(patch) = PatchId::new(installed.product_version, installed.patch_level.0) else {
            return Ok(None);
        };
        let database = self.backups.database();
        let mut backups = self.backups.list().await.map_err(refusal)?;
        backups.retain(|backup| backup.database == database);
        Ok(rollback_backup(&backups, &patch.to_string()).cloned())
    }
}

/// The checks that need no reading of the file: of this server's product and kind of
/// database, of a level it can run, HA clustering off.
async fn plan(engine: &InstallEngine, backup: BackupInfo) -> Result<RestorePlan, PatchJobError> {
    let from = engine.installed.get().await?;
    if backup.database != engine.backups.database() {
        return Err(refusal(BackupError::Mismatch(format!(
            "The backup {} is of a {} database, and this server's is {}.",
            backup.id,
            backup.database.as_str(),
            engine.backups.database().as_str()
        ))));
    }
    if backup.product_version != from.product_version.to_string() {
        return Err(refusal(BackupError::Mismatch(format!(
            "The backup {} is of SMS {}, and this server runs SMS {}.",
            backup.id, backup.product_version, from.product_version
        ))));
    }
    not_clustered(engine).await?;
    let to = PatchLevel(backup.patch_level);
    let staging = if to == PatchLevel::NONE || to == from.patch_level {
        None
    } else {
        let package = match PatchId::new(from.product_version, to.0) {
            Ok(id) => match engine.repository.find(id).await? {
                Some(patch) => engine
                    .repository
                    .package_path(id)
                    .await?
                    .map(|path| (path, patch.sha256)),
                None => None,
            },
            Err(_) => None,
        };
        let Some(package) = package else {
            return Err(refusal(BackupError::Mismatch(format!(
                "The backup {} holds the database of {}, whose package is not in the patch \
                 repository: download or import it again, then restore.",
                backup.id,
                level_in_words(to)
            ))));
        };
        Some(package)
    };
    Ok(RestorePlan {
        backup,
        from,
        to,
        staging,
    })
}

/// A restore replaces the database this node shares with its peer: not while clustered.
async fn not_clustered(engine: &InstallEngine) -> Result<(), PatchJobError> {
    if engine.cluster.enabled().await? {
        return Err(PatchJobError::precondition(
            "ha_cluster_enabled",
            "A backup cannot be restored while HA clustering is enabled. Disable clustering, \
             restore on each node (or once on the database they share), then re-establish \
             the cluster.",
        ));
    }
    Ok(())
}

async fn start(
    engine: &InstallEngine,
    plan: RestorePlan,
    kind: JobKind,
    actor: &str,
    source: Option<String>,
) -> Result<JobInfo, PatchJobError> {
    let stages = restore_stages(plan.staging.is_some(), plan.to != plan.from.patch_level);
    let (info, handle) = engine
        .jobs
        .start_exclusive(
            (kind, None, Some(&plan.backup.id)),
            (plan.from.patch_level, plan.to),
            &stages,
            actor,
        )
        .await?;
    tracing::info!(job = info.id, backup = %plan.backup.id, by = actor, "restore started");
    let engine = engine.clone();
    let actor = actor.to_owned();
    tokio::spawn(async move {
        run(engine, handle, plan, actor, source).await;
    });
    Ok(info)
}

async fn run(
    engine: InstallEngine,
    handle: JobHandle,
    plan: RestorePlan,
    actor: String,
    source: Option<String>,
) {
    let from = plan.from.patch_level;
    let to = plan.to;
    let mut clients_stopped = false;
    let before_commit = async {
        stage(&handle, Stage::Verify, async {
            engine.backups.verify(&plan.backup).await.map_err(failure)
        })
        .await?;
        stage(&handle, Stage::Precheck, async {
            let current = engine.installed.get().await?;
            level_unchanged(from, current.patch_level)?;
            not_clustered(&engine).await?;
            // SQLite: a copy of the backup, and the database it becomes (its WAL).
            let room = match engine.backups.database() {
                shared::backup::DatabaseKind::Sqlite => plan.backup.size.saturating_mul(2),
                shared::backup::DatabaseKind::Postgres => 0,
            };
            crate::storage::space::ensure_room(
                engine.install_root.dir(),
                room,
                crate::storage::space::Purpose::Restore,
            )
            .await
            .map_err(PatchJobError::from)
        })
        .await?;
        stage(&handle, Stage::StopClients, async {
            engine.life.stop_clients(ServerState::Restarting).await;
            Ok(())
        })
        .await?;
        clients_stopped = true;
        if let Some((package, sha256)) = plan.staging.clone() {
            stage(&handle, Stage::StagePayload, async {
                let root = engine.install_root.clone();
                blocking(move || root.stage(to, &package, &sha256))
                    .await
                    .map_err(|err| {
                        PatchJobError::failed(
                            "stage_failed",
                            format!(
                                "The files of {} could not be written: {err}. Nothing was \
                                 changed.",
                                level_in_words(to)
                            ),
                        )
                    })
            })
            .await?;
        }
        stage(&handle, Stage::RestoreDatabase, async {
            let mark = Mark {
                job: handle.id,
                stage: Stage::RestoreDatabase.as_str(),
            };
            engine
                .backups
                .restore(&plan.backup, mark, || crash_point_named("restore_commit"))
                .await
                .map_err(failure)
        })
        .await
    }
    .await;
    let ending = match before_commit {
        Err(err) => {
            if clients_stopped {
                engine.life.resume_clients();
            }
            clean_install_root(&engine).await;
            Ending::Failed(err)
        }
        Ok(()) => {
            crash_point_named("restore_committed");
            after_commit(&engine, &handle, from, to).await
        }
    };
    conclude(&engine, &handle, ending, &actor, source, None, from, to).await;
}

/// The backup's database is in place: the install root follows it, the application restarts
/// on it, and the check runs. Nothing switches back from here: the database decided.
async fn after_commit(
    engine: &InstallEngine,
    handle: &JobHandle,
    from: PatchLevel,
    to: PatchLevel,
) -> Ending {
    if to != from {
        let switched = stage(handle, Stage::Switch, async {
            let root = engine.install_root.clone();
            blocking(move || root.switch(to)).await.map_err(|err| {
                PatchJobError::failed(
                    "switch_failed",
                    format!(
                        "The backup's database is in place, but the install root could not \
                         switch to {}: {err}. Restart the server: it follows the database.",
                        level_in_words(to)
                    ),
                )
            })
        })
        .await;
        if let Err(err) = switched {
            engine.life.resume_clients();
            return Ending::Failed(err);
        }
    }
    let restarted = stage(handle, Stage::Restart, async {
        engine.life.restart().await.map_err(|err| {
            PatchJobError::failed(
                "restart_failed",
                format!(
                    "The backup's database is in place, but the application could not \
                     restart: {err}. Restart the server."
                ),
            )
        })
    })
    .await;
    if let Err(err) = restarted {
        engine.life.resume_clients();
        return Ending::Failed(err);
    }
    finish(engine, handle).await
}

/// The post-check and `done`, on the application that runs on the restored database.
async fn finish(engine: &InstallEngine, handle: &JobHandle) -> Ending {
    let Some(target) = handle.info().await.and_then(|job| job.to_level) else {
        return Ending::Failed(PatchJobError::failed(
            "internal_error",
            "the job lost its target level",
        ));
    };
    let checked = stage(handle, Stage::Postcheck, postcheck(engine, target)).await;
    if let Err(err) = checked {
        return Ending::Failed(PatchJobError {
            message: format!(
                "The backup's database is in place, but {}",
                err.message
                    .strip_prefix("The ")
                    .map_or(err.message.clone(), |rest| format!("the {rest}"))
            ),
            ..err
        });
    }
    done(engine, handle).await
}

/// At start, a restore a stop cut off: the journal's `restore_database` says whether the
/// backup's database is in place (its transaction journaled it). When it is, the install
/// root follows the database and the job finishes; when not, nothing changed and it fails.
pub(super) async fn resume(
    engine: &InstallEngine,
    job: &JobInfo,
    handle: &JobHandle,
    current: PatchLevel,
    recorded: PatchLevel,
) -> Ending {
    let moved = current != recorded;
    if moved {
        tracing::info!(
            install_root = current.0,
            database = recorded.0,
            "the install root follows the database after a restore"
        );
        let root = engine.install_root.clone();
        if let Err(err) = blocking(move || root.switch(recorded)).await {
            return Ending::Failed(PatchJobError::failed(
                "switch_failed",
                format!(
                    "The install root could not follow the database to {}: {err}. Restart \
                     the server.",
                    level_in_words(recorded)
                ),
            ));
        }
    }
    let restored = job
        .stages
        .iter()
        .any(|s| s.name == Stage::RestoreDatabase && s.outcome == Some(StageOutcome::Ok));
    if !restored {
        let cut_at = job.stages.iter().find(|s| s.ended_at.is_none());
        if let Some(cut) = cut_at.filter(|s| s.started_at.is_some()) {
            // The job fails either way; the journal entry is a detail.
            let _ = handle.stage_ended(cut.name, false).await;
        }
        return Ending::Failed(PatchJobError::failed(
            "server_stopped",
            format!(
                "The server stopped during stage {}, before the backup's database was put in \
                 place: the database and {} are as they were. Start the {} again.",
                cut_at.map_or("start", |s| s.name.as_str()),
                level_in_words(recorded),
                job.kind.as_str()
            ),
        ));
    }
    tracing::info!(
        job = job.id,
        "the backup's database was in place before the stop: finishing"
    );
    // The journal may lag; the database decided the outcome.
    journal_done(job, handle, Stage::Switch).await;
    if moved && engine.life.supervised() {
        // This process runs the executable of the level the install root named at the
        // start; the level of the restored database must run: the restart hands over to it,
        // whose start finishes the job.
        if job
            .stages
            .iter()
            .any(|s| s.name == Stage::Restart && s.started_at.is_none())
        {
            let _ = handle.stage_started(Stage::Restart).await;
        }
        engine.life.stop_clients(ServerState::Restarting).await;
        if let Err(err) = engine.life.restart().await {
            engine.life.resume_clients();
            return Ending::Failed(PatchJobError::failed(
                "restart_failed",
                format!(
                    "The backup's database is in place, but the application could not \
                     restart on {}: {err}. Restart the server.",
                    level_in_words(recorded)
                ),
            ));
        }
    }
    // This start is the restart the job was waiting for.
    journal_done(job, handle, Stage::Restart).await;
    finish(engine, handle).await
}

/// Journals `name` as ended well when the job has it and it did not end.
async fn journal_done(job: &JobInfo, handle: &JobHandle, name: Stage) {
    let Some(entry) = job.stages.iter().find(|s| s.name == name) else {
        return;
    };
    if entry.ended_at.is_some() {
        return;
    }
    if entry.started_at.is_none() {
        let _ = handle.stage_started(name).await;
    }
    let _ = handle.stage_ended(name, true).await;
}

/// A backup that cannot be restored, before anything starts.
fn refusal(err: BackupError) -> PatchJobError {
    let kind = match &err {
        BackupError::NotFound(_) => JobErrorKind::NotFound,
        BackupError::Mismatch(_) | BackupError::Corrupt(_) | BackupError::ToolMissing(_) => {
            JobErrorKind::Precondition
        }
        BackupError::Copy(_) | BackupError::Io(_) => JobErrorKind::Failed,
    };
    PatchJobError {
        kind,
        code: err.code(),
        message: capitalized_sentence(&err.to_string()),
    }
}

/// A restore stage that failed with its backup's error; nothing was changed.
fn failure(err: BackupError) -> PatchJobError {
    match &err {
        BackupError::Copy(why) => PatchJobError::failed(
            "restore_failed",
            format!("The backup could not be put in place: {why}."),
        ),
        _ => PatchJobError::failed(
            err.code(),
            format!(
                "{} Nothing was changed.",
                capitalized_sentence(&err.to_string())
            ),
        ),
    }
}

/// "the file is gone" -> "The file is gone."
fn capitalized_sentence(text: &str) -> String {
    let text = shared::text::capitalized(text.trim());
    if text.ends_with('.') {
        text
    } else {
        format!("{text}.")
    }
}
