//! Running an install or a rollback stage by stage, with the journal, the switch back when
//! the new level fails its check, and the record of the outcome.

use std::time::Duration;

use shared::api::ServerState;
use shared::effects::Restart;
use shared::panel::{JobKind, ServerEvent, Stage};
use shared::{PatchId, PatchLevel, level_in_words};

use crate::service::AuditEvent;
use crate::service::installed::InstalledState;
use crate::service::jobs::JobHandle;
use crate::workflow::faults::{crash_point, pause_point};

use super::checks::{
    InstallPlan, enough_disk, level_unchanged, rollback_allowed, still_installable, verify,
};
use super::engine::{InstallEngine, blocking};
use super::error::PatchJobError;
use super::schema::of_level;
use super::steps::{build_of_level, clean_install_root, postcheck, switch};

/// Runs one stage: the crash point, the journal's start, the work, the journal's end.
pub(super) async fn stage<T>(
    handle: &JobHandle,
    name: Stage,
    work: impl Future<Output = Result<T, PatchJobError>>,
) -> Result<T, PatchJobError> {
    crash_point(name);
    handle.stage_started(name).await?;
    pause_point(name).await;
    let outcome = work.await;
    // The work decides the outcome; a journal that cannot record the end does not undo it (on
    // a restart the install root, not the journal, says whether the switch happened).
    if let Err(err) = handle.stage_ended(name, outcome.is_ok()).await {
        tracing::error!(
            job = handle.id,
            stage = name.as_str(),
            "cannot journal the end of the stage: {err}"
        );
    }
    outcome
}

/// What happened to the job, for the audit log and the caller.
pub(super) enum Ending {
    /// The new level runs.
    Done,
    /// Failed, saying why (and, when the switch had happened, that it was undone).
    Failed(PatchJobError),
    /// Switched back to the old level, whose server has yet to start (under a supervisor,
    /// once the outcome is recorded: that restart ends this process).
    SwitchedBack(PatchJobError),
    /// The server reboots; the next start finishes the job.
    Rebooting,
}

pub(super) async fn run_install(
    engine: InstallEngine,
    handle: JobHandle,
    plan: InstallPlan,
    actor: String,
    source: Option<String>,
) {
    let target = PatchLevel(plan.patch.patch);
    let from = plan.from.patch_level;
    let restart = plan.patch.restart;
    let mut clients_stopped = false;
    let before_switch = async {
        let manifest_payload = stage(&handle, Stage::Verify, verify(&engine, &plan)).await?;
        stage(&handle, Stage::Precheck, async {
            let current = engine.installed.get().await?;
            level_unchanged(from, current.patch_level)?;
            still_installable(&engine, &plan, &current).await?;
            let backup = if plan.changes_database() {
                engine.backups.estimate().await?
            } else {
                0
            };
            enough_disk(&engine, manifest_payload, backup).await
        })
        .await?;
        if has_stage(&handle, Stage::Backup).await {
            stage(&handle, Stage::Backup, async {
                let request = crate::storage::backup::Request {
                    reason: shared::backup::BackupReason::BeforeInstall,
                    taken_by: actor.clone(),
                    patch: Some(plan.patch.id.to_string()),
                };
                engine
                    .backups
                    .take(request, source.clone())
                    .await
                    .map(|_| ())
                    .map_err(|err| {
                        PatchJobError::failed(
                            "backup_failed",
                            format!(
                                "The database could not be backed up before {} changes it: \
                                 {err}. Nothing was changed; mend that and install again.",
                                plan.patch.display_name
                            ),
                        )
                    })
            })
            .await?;
        }
        if has_stage(&handle, Stage::PeerPush).await {
            stage(&handle, Stage::PeerPush, async {
                engine
                    .cluster
                    .push_install(handle.id, plan.patch.id, &plan.package, &actor)
                    .await
                    .map(|_| ())
                    .map_err(|err| {
                        PatchJobError::failed(
                            "peer_push_failed",
                            format!(
                                "The passive node could not take {}: {err}. Nothing was changed \
                                 on this node.",
                                plan.patch.display_name
                            ),
                        )
                    })
            })
            .await?;
        }
        stage(&handle, Stage::StopClients, async {
            let server_state = match restart {
                Restart::Application => ServerState::Restarting,
                Restart::Reboot => ServerState::Rebooting,
            };
            engine.life.stop_clients(server_state).await;
            Ok(())
        })
        .await?;
        clients_stopped = true;
        stage(&handle, Stage::StagePayload, async {
            let root = engine.install_root.clone();
            let package = plan.package.clone();
            let verified = plan.patch.sha256.clone();
            blocking(move || root.stage(target, &package, &verified))
                .await
                .map_err(|err| {
                    PatchJobError::failed(
                        "stage_failed",
                        format!(
                            "The patch files could not be written: {err}. Nothing was changed."
                        ),
                    )
                })
        })
        .await?;
        Ok::<(), PatchJobError>(())
    }
    .await;
    let ending = match before_switch {
        Err(err) => {
            if clients_stopped {
                engine.life.resume_clients();
            }
            clean_install_root(&engine).await;
            Ending::Failed(err)
        }
        Ok(()) => {
            let build = plan.patch.build;
            let switched = stage(
                &handle,
                Stage::Switch,
                switch(&engine, target, &build, &actor, from, &[]),
            )
            .await;
            match switched {
                Err(err) => {
                    engine.life.resume_clients();
                    clean_install_root(&engine).await;
                    Ending::Failed(err)
                }
                Ok(()) => match restart {
                    Restart::Reboot => {
                        crash_point(Stage::Reboot);
                        match handle.stage_started(Stage::Reboot).await {
                            Ok(()) => match engine.life.reboot().await {
                                Ok(()) => Ending::Rebooting,
                                Err(err) => {
                                    // The switch back below is what matters; the
                                    // journal entry is a detail.
                                    let _ = handle.stage_ended(Stage::Reboot, false).await;
                                    let why = PatchJobError::failed(
                                        "reboot_failed",
                                        format!("The server could not reboot: {err}."),
                                    );
                                    switch_back(&engine, from, &actor, why).await
                                }
                            },
                            Err(err) => switch_back(&engine, from, &actor, err.into()).await,
                        }
                    }
                    Restart::Application => {
                        after_switch(engine.clone(), &handle, Stage::Restart, from, &actor).await
                    }
                },
            }
        }
    };
    conclude(
        &engine,
        &handle,
        ending,
        &actor,
        source,
        Some(plan.patch.id),
        from,
        target,
    )
    .await;
}

pub(super) async fn run_rollback(
    engine: InstallEngine,
    handle: JobHandle,
    from: InstalledState,
    actor: String,
    source: Option<String>,
) {
    let from_level = from.patch_level;
    let mut clients_stopped = false;
    let before_switch = async {
        let builtin = stage(&handle, Stage::Precheck, async {
            let current = engine.installed.get().await?;
            level_unchanged(from_level, current.patch_level)?;
            rollback_allowed(&engine, &current).await?;
            of_level(&engine, PatchLevel::NONE).await
        })
        .await?;
        stage(&handle, Stage::StopClients, async {
            engine.life.stop_clients(ServerState::Restarting).await;
            Ok(())
        })
        .await?;
        clients_stopped = true;
        let base = engine.base_build;
        stage(
            &handle,
            Stage::Switch,
            switch(
                &engine,
                PatchLevel::NONE,
                &base,
                &actor,
                from_level,
                &builtin.undo,
            ),
        )
        .await
    }
    .await;
    let ending = match before_switch {
        Err(err) => {
            if clients_stopped {
                engine.life.resume_clients();
            }
            Ending::Failed(err)
        }
        Ok(()) => after_switch(engine.clone(), &handle, Stage::Restart, from_level, &actor).await,
    };
    conclude(
        &engine,
        &handle,
        ending,
        &actor,
        source,
        None,
        from_level,
        PatchLevel::NONE,
    )
    .await;
}

/// Restart, post-check (switching back when it fails), done.
pub(super) async fn after_switch(
    engine: InstallEngine,
    handle: &JobHandle,
    restart_stage: Stage,
    from: PatchLevel,
    actor: &str,
) -> Ending {
    let restarted = stage(handle, restart_stage, async {
        engine.life.restart().await.map_err(|err| {
            PatchJobError::failed(
                "restart_failed",
                format!("The application could not restart: {err}"),
            )
        })
    })
    .await;
    if let Err(err) = restarted {
        // The old application still serves; go back to the old level.
        return switch_back(&engine, from, actor, err).await;
    }
    finish_at_new_level(&engine, handle, from, actor).await
}

/// The post-check and `done`, on the application that runs the new level.
pub(super) async fn finish_at_new_level(
    engine: &InstallEngine,
    handle: &JobHandle,
    from: PatchLevel,
    actor: &str,
) -> Ending {
    let target = match handle.info().await.and_then(|job| job.to_level) {
        Some(level) => level,
        None => {
            return Ending::Failed(PatchJobError::failed(
                "internal_error",
                "the job lost its target level",
            ));
        }
    };
    let checked = stage(handle, Stage::Postcheck, postcheck(engine, target)).await;
    if let Err(err) = checked {
        return switch_back(engine, from, actor, err).await;
    }
    if has_stage(handle, Stage::PeerInstall).await {
        let peer = stage(handle, Stage::PeerInstall, async {
            engine
                .cluster
                .wait_peer_install(handle.id, target, PEER_INSTALL_LIMIT)
                .await
                .map_err(|err| {
                    PatchJobError::failed(
                        "peer_install_failed",
                        format!(
                            "This node now runs {}, but the passive node did not install it: \
                             {err}. The cluster panel shows the levels differ: disable \
                             clustering, bring the passive node to the same level, then \
                             re-establish the cluster.",
                            level_in_words(target)
                        ),
                    )
                })
        })
        .await;
        if let Err(err) = peer {
            clean_install_root(engine).await;
            engine.events.publish(ServerEvent::ClusterChanged);
            return Ending::Failed(err);
        }
        engine.events.publish(ServerEvent::ClusterChanged);
    }
    done(engine, handle).await
}

/// The last stage: what no level needs goes, and the job succeeds.
pub(super) async fn done(engine: &InstallEngine, handle: &JobHandle) -> Ending {
    let done = stage(handle, Stage::Done, async {
        clean_install_root(engine).await;
        Ok(())
    })
    .await;
    match done {
        Ok(()) => Ending::Done,
        Err(err) => Ending::Failed(err),
    }
}

/// The new level failed its check: switch back to `from`, restart, and say why.
pub(super) async fn switch_back(
    engine: &InstallEngine,
    from: PatchLevel,
    actor: &str,
    why: PatchJobError,
) -> Ending {
    tracing::error!(level = from.0, "switching back: {}", why.message);
    let leaving = {
        let root = engine.install_root.clone();
        blocking(move || root.current()).await.unwrap_or(from)
    };
    // The level switched back to must be able to run on the schema: what it does not know
    // is undone, as far as it can be.
    let undo = match of_level(engine, from).await {
        Ok(change) => change.undo,
        Err(err) => {
            tracing::error!(
                "switching back keeps the server schema as it is: {}",
                err.message
            );
            Vec::new()
        }
    };
    let reverted = match build_of_level(engine, from).await {
        Ok(build) => switch(engine, from, &build, actor, leaving, &undo).await,
        Err(err) => Err(err),
    };
    if let Err(err) = reverted {
        // Whatever runs now, the clients must get an answer again.
        engine.life.resume_clients();
        return Ending::Failed(PatchJobError::failed(
            "revert_failed",
            format!(
                "{} Switching back failed too: {} The server runs {}; check its log.",
                why.message,
                err.message,
                level_in_words(leaving)
            ),
        ));
    }
    let failed = PatchJobError {
        kind: why.kind,
        code: why.code,
        message: format!(
            "{} The server switched back to {} by itself.",
            why.message.trim_end_matches('.').to_owned() + ".",
            level_in_words(from)
        ),
    };
    clean_install_root(engine).await;
    if engine.life.supervised() {
        // The restart ends this process: the job's outcome is recorded first.
        return Ending::SwitchedBack(failed);
    }
    restart_after_switch_back(engine).await;
    Ending::Failed(failed)
}

/// The old level is back in the install root and the database: its server runs again.
async fn restart_after_switch_back(engine: &InstallEngine) {
    engine.life.stop_clients(ServerState::Restarting).await;
    if let Err(err) = engine.life.restart().await {
        tracing::error!("the restart after switching back failed: {err}");
        engine.life.resume_clients();
    }
}

/// Records the outcome: the job, the audit log, the panel.
#[allow(clippy::too_many_arguments)]
pub(super) async fn conclude(
    engine: &InstallEngine,
    handle: &JobHandle,
    ending: Ending,
    actor: &str,
    source: Option<String>,
    patch: Option<PatchId>,
    from: PatchLevel,
    to: PatchLevel,
) {
    let job = handle.info().await;
    let backup = job.as_ref().and_then(|job| job.backup.clone());
    let (kind, action) = match (patch, job.as_ref().map(|job| job.kind)) {
        (_, Some(JobKind::Restore)) => ("restore", "backup_restore"),
        (Some(_), _) => ("install", "patch_install"),
        (None, _) => ("rollback", "patch_rollback"),
    };
    let seconds = job
        .map(|job| (chrono::Utc::now() - job.started_at).num_milliseconds() as f64 / 1000.0)
        .unwrap_or(0.0);
    let target = match (patch, &backup) {
        (Some(id), _) => id.to_string(),
        (None, Some(backup)) if kind == "restore" => backup.clone(),
        (None, _) => "rollback".to_owned(),
    };
    // A rollback that restores a backup says which; an install whose server brings its own
    // schema migrations names them.
    let restoring = match (&backup, kind, patch) {
        (Some(backup), "rollback", _) => format!(", restoring the backup {backup}"),
        (_, "install", Some(id)) => match engine.repository.find(id).await {
            Ok(Some(info)) if !info.server_migrations.is_empty() => format!(
                ", its server bringing the schema migrations {}",
                info.server_migrations.join(", ")
            ),
            _ => String::new(),
        },
        _ => String::new(),
    };
    let (ending, restart) = match ending {
        Ending::SwitchedBack(err) => (Ending::Failed(err), true),
        other => (other, false),
    };
    let (outcome, event) = match ending {
        Ending::Rebooting => {
            tracing::info!(
                job = handle.id,
                "rebooting; the next start finishes the {kind}"
            );
            return;
        }
        Ending::Done => {
            tracing::info!(
                job = handle.id,
                from = from.0,
                to = to.0,
                seconds,
                "{kind} done"
            );
            (
                Ok(()),
                AuditEvent::success(action, actor).details(format!(
                    "from {} to {}{restoring} in {seconds:.1} s",
                    level_in_words(from),
                    level_in_words(to)
                )),
            )
        }
        Ending::Failed(err) | Ending::SwitchedBack(err) => {
            tracing::warn!(
                job = handle.id,
                code = err.code,
                "{kind} failed: {}",
                err.message
            );
            (
                Err(err.body()),
                AuditEvent::failure(action, actor).details(format!(
                    "from {} to {}{restoring}, after {seconds:.1} s: {}",
                    level_in_words(from),
                    level_in_words(to),
                    err.message
                )),
            )
        }
    };
    // The outcome and its audit entry together: a job whose end is recorded is audited.
    let event = event.target(target).source(source);
    if let Err(err) = handle.finish_audited(outcome, event).await {
        tracing::error!(
            job = handle.id,
            "cannot record the {kind}'s outcome and its audit entry: {err}; the next start \
             concludes it again"
        );
    }
    engine.events.publish(ServerEvent::PatchesChanged);
    if restart {
        restart_after_switch_back(engine).await;
    }
}

/// How long the active node waits for the passive one to install a patch.
pub(super) const PEER_INSTALL_LIMIT: Duration = Duration::from_secs(15 * 60);

/// Whether the job was planned with this stage (the clustered stages).
pub(super) async fn has_stage(handle: &JobHandle, name: Stage) -> bool {
    handle
        .info()
        .await
        .is_some_and(|job| job.stages.iter().any(|stage| stage.name == name))
}
