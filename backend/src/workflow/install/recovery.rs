//! At start: the install root and the database must agree, and a job cut off by a stop is
//! finished from its journal.

use shared::panel::JobInfo;
use shared::panel::{Stage, StageOutcome};
use shared::{PatchLevel, level_in_words};

use crate::service::ServiceError;
use crate::service::jobs::JobHandle;
use crate::storage::levels::StartFailure;

use super::engine::{InstallEngine, blocking};
use super::error::PatchJobError;
use super::run::{Ending, conclude, finish_at_new_level};
use super::steps::{build_of_level, clean_install_root};

/// On every start, before anything else changes: the install root and the database must agree,
/// and an install or rollback cut off by a stop (crash, power cut, reboot) is finished from its
/// journal: completed when its switch happened, failed (nothing changed) when not.
pub async fn resume_interrupted(
    engine: &InstallEngine,
    interrupted: Vec<(JobInfo, JobHandle)>,
) -> Result<(), ServiceError> {
    let root = engine.install_root.clone();
    let current = blocking(move || root.current())
        .await
        .map_err(|err| ServiceError::Corrupt(format!("the install root: {err}")))?;
    let recorded = engine.installed.get().await?;
    let root = engine.install_root.clone();
    let start_failure = blocking(move || root.start_failure())
        .await
        .unwrap_or_else(|err| {
            tracing::error!("cannot read the record of a level that did not come up: {err}");
            None
        });
    tracing::info!(
        install_root = current.0,
        database = recorded.patch_level.0,
        interrupted = interrupted.len(),
        "install root and database at start"
    );
    if interrupted.is_empty() {
        if current != recorded.patch_level {
            tracing::error!(
                install_root = current.0,
                database = recorded.patch_level.0,
                "the install root and the database disagree and no install explains it; \
                 following the database"
            );
            let root = engine.install_root.clone();
            let level = recorded.patch_level;
            if let Err(err) = blocking(move || root.switch(level)).await {
                tracing::error!("cannot switch the install root to the recorded level: {err}");
            }
        }
        clean_install_root(engine).await;
        return Ok(());
    }
    for (job, handle) in interrupted {
        let from = job.from_level.unwrap_or(PatchLevel::NONE);
        let to = job.to_level.unwrap_or(PatchLevel::NONE);
        if job.backup.is_some() {
            // A restore: the database, not the install root, decides.
            let ending =
                super::restore::resume(engine, &job, &handle, current, recorded.patch_level).await;
            clean_install_root(engine).await;
            conclude(
                engine,
                &handle,
                ending,
                &job.started_by,
                None,
                None,
                from,
                to,
            )
            .await;
            continue;
        }
        // The stage the stop cut: the first one that did not end (it may not have started).
        let cut_at = job
            .stages
            .iter()
            .find(|s| s.ended_at.is_none())
            .map(|s| (s.name, s.started_at.is_some()));
        let actor = job.started_by.clone();
        let ending = if current == to && from != to {
            tracing::info!(
                job = job.id,
                "the switch to {} happened before the stop: finishing",
                level_in_words(to)
            );
            // The record follows the install root (the pointer is written first).
            if recorded.patch_level != to {
                record_level(engine, to, &actor).await;
            }
            // This start is the restart (or the reboot) the job was waiting for.
            for name in [Stage::Switch, Stage::Restart, Stage::Reboot] {
                if job
                    .stages
                    .iter()
                    .any(|s| s.name == name && s.ended_at.is_none())
                {
                    if job
                        .stages
                        .iter()
                        .any(|s| s.name == name && s.started_at.is_none())
                    {
                        // The journal may lag; the install root decided the outcome.
                        let _ = handle.stage_started(name).await;
                    }
                    // As above: a journal entry that cannot be written does not undo the switch.
                    let _ = handle.stage_ended(name, true).await;
                }
            }
            finish_at_new_level(engine, &handle, from, &actor).await
        } else {
            // Not at the target: before the switch, or switched back. The record follows the
            // install root here too (a switch back also writes the pointer first).
            let kept = if recorded.patch_level != current {
                record_level(engine, current, &actor).await
            } else {
                Vec::new()
            };
            if let Some((name, true)) = &cut_at {
                // The job is failed below either way; the journal entry is a detail.
                let _ = handle.stage_ended(*name, false).await;
            }
            let switched_before = job
                .stages
                .iter()
                .any(|s| s.name == Stage::Switch && s.outcome == Some(StageOutcome::Ok));
            let stage = cut_at.map_or("start", |(name, _)| name.as_str());
            if let Some(failure) = start_failure
                .as_ref()
                .filter(|f| f.level == to && f.back_to == current)
            {
                let ending = Ending::Failed(start_failed(failure, &kept));
                clean_install_root(engine).await;
                conclude(engine, &handle, ending, &actor, None, job.patch, from, to).await;
                continue;
            }
            let when = if switched_before {
                "while switching back after a failed check"
            } else {
                "before the switch"
            };
            Ending::Failed(PatchJobError::failed(
                "server_stopped",
                format!(
                    "The server stopped during stage {stage}, {when}: it stays at {}. Start the \
                     {} again.",
                    level_in_words(current),
                    job.kind.as_str()
                ),
            ))
        };
        clean_install_root(engine).await;
        conclude(engine, &handle, ending, &actor, None, job.patch, from, to).await;
    }
    if let Some(failure) = start_failure {
        tracing::warn!(
            level = failure.level.0,
            back_to = failure.back_to.0,
            "{} did not come up and the server switched back to {}: {}",
            level_in_words(failure.level),
            level_in_words(failure.back_to),
            failure.reason
        );
        let root = engine.install_root.clone();
        if let Err(err) = blocking(move || root.clear_start_failure()).await {
            tracing::error!("cannot remove the record of the level that did not come up: {err}");
        }
    }
    // The level may have been settled here: the client version follows it.
    engine.client.refresh().await?;
    Ok(())
}

/// The job's failure when the supervisor left a level that did not come up.
fn start_failed(failure: &StartFailure, kept: &[String]) -> PatchJobError {
    let output = if failure.output.is_empty() {
        "It wrote nothing.".to_owned()
    } else {
        format!(
            "Its last lines:\n{}",
            failure
                .output
                .iter()
                .map(|line| format!("    {line}"))
                .collect::<Vec<_>>()
                .join("\n")
        )
    };
    let schema = if kept.is_empty() {
        String::new()
    } else {
        format!(
            " The database keeps its migrations {}: its patch cannot undo them.",
            kept.join(", ")
        )
    };
    PatchJobError::failed(
        "server_start_failed",
        format!(
            "The server of {} did not come up: {}. The server switched back to {} by \
             itself.{schema} {}",
            level_in_words(failure.level),
            failure.reason,
            level_in_words(failure.back_to),
            output
        ),
    )
}

/// Records `level` (with its build) as installed and brings the schema to it, as the install
/// root already says; logs why when it cannot. Returns the migrations that stay because they
/// cannot be undone.
pub(super) async fn record_level(
    engine: &InstallEngine,
    level: PatchLevel,
    actor: &str,
) -> Vec<String> {
    let root = engine.install_root.clone();
    let migrations = match blocking(move || root.migrations(level)).await {
        Ok(migrations) => migrations,
        Err(err) => {
            tracing::error!(
                "cannot record {} as installed: its migrations cannot be read: {err}",
                level_in_words(level)
            );
            return Vec::new();
        }
    };
    let recorded = match build_of_level(engine, level).await {
        Ok(build) => engine
            .installed
            .switch_level(level, &build, actor, &migrations, || {})
            .await
            .map_err(|err| err.to_string()),
        Err(err) => Err(err.message),
    };
    match recorded {
        Ok(report) => {
            if !report.kept.is_empty() {
                tracing::warn!(
                    kept = %report.kept.join(", "),
                    "database migrations that cannot be undone stay in the schema of {}",
                    level_in_words(level)
                );
            }
            report.kept
        }
        Err(why) => {
            tracing::error!(
                "cannot record {} as installed: {why}",
                level_in_words(level)
            );
            Vec::new()
        }
    }
}

/// Takes the installs and rollbacks a stopped server left running back into the running set,
/// before the server serves, so no new job can start until they are finished.
pub async fn adopt_interrupted(
    engine: &InstallEngine,
) -> Result<Vec<(JobInfo, JobHandle)>, ServiceError> {
    let mut adopted = Vec::new();
    for job in engine.jobs.interrupted_patch_jobs().await? {
        let handle = engine.jobs.adopt(job.clone()).await;
        adopted.push((job, handle));
    }
    Ok(adopted)
}
