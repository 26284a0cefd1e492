//! Installing and rolling back patches: the journaled jobs behind
//! `POST /api/v1/patches/{id}/install` and `POST /api/v1/rollback`, and finishing the job a
//! stopped server left behind (crash, reboot) from its journal.
//!
//! An install runs `verify`, `precheck`, `stop_clients`, `stage_payload`, `switch`, `restart`
//! (or `reboot`), `postcheck`, `done` (on the active node of an HA cluster also `peer_push`
//! after the pre-check and `peer_install` before `done`: the passive node installs it too); a
//! rollback `precheck`, `stop_clients`, `switch`, `restart`, `postcheck`, `done`. The switch is the one step that changes what runs: before
//! it, a failure leaves the old level; after it, the new level stands once the post-check
//! passes, and the server switches back by itself when it does not.

use std::path::PathBuf;
use std::time::Duration;

use shared::api::{ErrorBody, HealthResponse, PatchInfo, ServerState};
use shared::effects::Restart;
use shared::panel::{
    JobInfo, JobKind, ROLLBACK_STAGES, ServerEvent, clustered_install_stages, install_stages,
};
use shared::{Build, PatchId, PatchLevel};

use crate::error::{ApiError, ServiceError};
use crate::lifecycle::crash_point;
use crate::package::verify::{InstalledLevel, Verifier, check_applicable};
use crate::service::AuditEvent;
use crate::service::installed::InstalledState;
use crate::service::jobs::JobHandle;
use crate::state::AppState;

/// Room kept free beyond twice the payload, so an install never fills the disk.
pub const DISK_MARGIN: u64 = 64 << 20;

/// Under `fault-injection`, `SMS_FREE_BYTES=<n>` pretends the disk has `n` bytes free.
pub const FREE_BYTES_ENV: &str = "SMS_FREE_BYTES";

/// Why an install or rollback cannot start or failed: a stable code, an HTTP status, words.
#[derive(Debug, Clone)]
pub struct PatchJobError {
    pub status: axum::http::StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl PatchJobError {
    fn precondition(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status: axum::http::StatusCode::PRECONDITION_FAILED,
            code,
            message: message.into(),
        }
    }

    fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status: axum::http::StatusCode::CONFLICT,
            code,
            message: message.into(),
        }
    }

    fn failed(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status: axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            code,
            message: message.into(),
        }
    }

    fn body(&self) -> ErrorBody {
        ErrorBody {
            code: self.code.to_owned(),
            message: self.message.clone(),
        }
    }
}

impl From<ServiceError> for PatchJobError {
    fn from(err: ServiceError) -> Self {
        match err {
            ServiceError::JobRunning { message, .. } => Self::conflict("job_running", message),
            other => Self::failed("internal_error", format!("{other}")),
        }
    }
}

impl From<PatchJobError> for ApiError {
    fn from(err: PatchJobError) -> Self {
        if err.status.is_server_error() {
            return ApiError::Internal(err.message);
        }
        ApiError::Status {
            status: err.status,
            code: err.code,
            message: err.message,
        }
    }
}

/// What an install works from.
#[derive(Debug, Clone)]
struct InstallPlan {
    patch: PatchInfo,
    package: PathBuf,
    from: InstalledState,
}

/// The checks that need no reading of the package: known, downloaded, applicable.
async fn plan_install(state: &AppState, id: PatchId) -> Result<InstallPlan, PatchJobError> {
    let from = state.installed.get().await?;
    let Some(patch) = state.repository.find(id).await? else {
        let offered = state
            .tmc
            .catalog()
            .await
            .map_err(PatchJobError::from)?
            .iter()
            .any(|row| crate::service::tmc::row_id(row) == Some(id));
        return Err(if offered {
            PatchJobError::precondition(
                "patch_not_downloaded",
                format!(
                    "Patch {id} is offered by the TMC but not downloaded yet. Download it first, \
                     then install it."
                ),
            )
        } else {
            PatchJobError {
                status: axum::http::StatusCode::NOT_FOUND,
                code: "patch_not_found",
                message: format!(
                    "Patch {id} is neither in the patch repository nor offered by the TMC. \
                     Import its package file, or check the TMC."
                ),
            }
        });
    };
    applicable(&patch, &from)?;
    ha_precheck(state, &patch).await?;
    let package = state.repository.package_path(id).await?.ok_or_else(|| {
        PatchJobError::precondition(
            "patch_not_downloaded",
            format!("The package of Patch {id} is missing from the patch repository; download or import it again."),
        )
    })?;
    Ok(InstallPlan {
        patch,
        package,
        from,
    })
}

fn applicable(patch: &PatchInfo, from: &InstalledState) -> Result<(), PatchJobError> {
    let installed = from.patch_level.0;
    if patch.product_version != from.product_version {
        return Err(PatchJobError::precondition(
            "not_applicable",
            format!(
                "{} is for SMS {}, but this server runs SMS {}: it does not apply here.",
                patch.display_name, patch.product_version, from.product_version
            ),
        ));
    }
    if patch.patch == installed {
        return Err(PatchJobError::conflict(
            "already_installed",
            format!("{} is already installed.", patch.display_name),
        ));
    }
    if patch.patch < installed {
        return Err(PatchJobError::conflict(
            "older_than_installed",
            format!(
                "{} is older than the installed Patch {installed}. Patches are cumulative, so \
                 the installed one already contains it; to go back, roll back.",
                patch.display_name
            ),
        ));
    }
    Ok(())
}

/// Starts installing patch `id`: checks it can, records the job, and runs it in the
/// background. Refused while another job runs.
pub async fn start_install(
    state: &AppState,
    id: PatchId,
    actor: &str,
    source: Option<String>,
) -> Result<JobInfo, PatchJobError> {
    let plan = plan_install(state, id).await?;
    // The active node of an enabled cluster installs on both nodes.
    let stages = if state.cluster.is_active_in_cluster() {
        clustered_install_stages(plan.patch.restart)
    } else {
        install_stages(plan.patch.restart).to_vec()
    };
    let (info, handle) = state
        .jobs
        .start_exclusive(
            JobKind::Install,
            Some(id),
            (plan.from.patch_level.0, plan.patch.patch),
            &stages,
            actor,
        )
        .await?;
    tracing::info!(job = info.id, patch = %id, by = actor, "install started");
    let state = state.clone();
    let actor = actor.to_owned();
    tokio::spawn(async move {
        run_install(state, handle, plan, actor, source).await;
    });
    Ok(info)
}

/// Starts rolling back to level 0. Refused at level 0, when the installed patch cannot be
/// rolled back, and while another job runs.
pub async fn start_rollback(
    state: &AppState,
    actor: &str,
    source: Option<String>,
) -> Result<JobInfo, PatchJobError> {
    let from = state.installed.get().await?;
    rollback_allowed(state, &from).await?;
    let (info, handle) = state
        .jobs
        .start_exclusive(
            JobKind::Rollback,
            None,
            (from.patch_level.0, 0),
            &ROLLBACK_STAGES,
            actor,
        )
        .await?;
    tracing::info!(
        job = info.id,
        from = from.patch_level.0,
        by = actor,
        "rollback started"
    );
    let state = state.clone();
    let actor = actor.to_owned();
    tokio::spawn(async move {
        run_rollback(state, handle, from, actor, source).await;
    });
    Ok(info)
}

async fn rollback_allowed(state: &AppState, from: &InstalledState) -> Result<(), PatchJobError> {
    if from.patch_level == PatchLevel::NONE {
        return Err(PatchJobError::conflict(
            "no_patch_installed",
            "No patch is installed, so there is nothing to roll back.",
        ));
    }
    let id = PatchId::new(from.product_version, from.patch_level.0)
        .map_err(|err| PatchJobError::failed("internal_error", err.to_string()))?;
    if let Some(patch) = state.repository.find(id).await?
        && !patch.rollback
    {
        return Err(PatchJobError::precondition(
            "rollback_not_supported",
            format!(
                "{} cannot be rolled back (its vendor says so). To leave it, install a newer \
                 patch when one is released.",
                patch.display_name
            ),
        ));
    }
    Ok(())
}

/// The level the job was planned from must still be the installed one.
fn level_unchanged(planned: PatchLevel, now: PatchLevel) -> Result<(), PatchJobError> {
    if planned == now {
        return Ok(());
    }
    Err(PatchJobError::conflict(
        "level_changed",
        format!(
            "The installed level changed from {} to {} since the job was started. Start it again.",
            level_in_words(planned),
            level_in_words(now)
        ),
    ))
}

/// Runs one stage: the crash point, the journal's start, the work, the journal's end.
async fn stage<T>(
    handle: &JobHandle,
    name: &str,
    work: impl Future<Output = Result<T, PatchJobError>>,
) -> Result<T, PatchJobError> {
    crash_point(name);
    handle.stage_started(name).await?;
    let outcome = work.await;
    // The work decides the outcome; a journal that cannot record the end does not undo it (on
    // a restart the install root, not the journal, says whether the switch happened).
    if let Err(err) = handle.stage_ended(name, outcome.is_ok()).await {
        tracing::error!(
            job = handle.id,
            stage = name,
            "cannot journal the end of the stage: {err}"
        );
    }
    outcome
}

/// What happened to the job, for the audit log and the caller.
enum Ending {
    /// The new level runs.
    Done,
    /// Failed, saying why (and, when the switch had happened, that it was undone).
    Failed(PatchJobError),
    /// The server reboots; the next start finishes the job.
    Rebooting,
}

async fn run_install(
    state: AppState,
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
        let manifest_payload = stage(&handle, "verify", verify(&state, &plan)).await?;
        stage(&handle, "precheck", async {
            let current = state.installed.get().await?;
            level_unchanged(from, current.patch_level)?;
            applicable(&plan.patch, &current)?;
            ha_precheck(&state, &plan.patch).await?;
            enough_disk(&state, manifest_payload).await
        })
        .await?;
        if has_stage(&handle, "peer_push").await {
            stage(&handle, "peer_push", async {
                state
                    .cluster
                    .push_install(&state, handle.id, plan.patch.id, &actor)
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
        stage(&handle, "stop_clients", async {
            let server_state = match restart {
                Restart::Application => ServerState::Restarting,
                Restart::Reboot => ServerState::Rebooting,
            };
            state
                .lifecycle
                .stop_clients(&state.events, server_state)
                .await;
            Ok(())
        })
        .await?;
        clients_stopped = true;
        stage(&handle, "stage_payload", async {
            let root = state.install_root.clone();
            let package = plan.package.clone();
            blocking(move || root.stage(target, &package))
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
                state.lifecycle.resume_clients();
            }
            clean_install_root(&state).await;
            Ending::Failed(err)
        }
        Ok(()) => {
            let build = plan.patch.build;
            let switched = stage(
                &handle,
                "switch",
                switch(&state, target, &build, &actor, from),
            )
            .await;
            match switched {
                Err(err) => {
                    state.lifecycle.resume_clients();
                    clean_install_root(&state).await;
                    Ending::Failed(err)
                }
                Ok(()) => match restart {
                    Restart::Reboot => {
                        crash_point("reboot");
                        match handle.stage_started("reboot").await {
                            Ok(()) => match state.lifecycle.reboot().await {
                                Ok(()) => Ending::Rebooting,
                                Err(err) => {
                                    let _ = handle.stage_ended("reboot", false).await;
                                    let why = PatchJobError::failed(
                                        "reboot_failed",
                                        format!("The server could not reboot: {err}."),
                                    );
                                    switch_back(&state, from, &actor, why).await
                                }
                            },
                            Err(err) => switch_back(&state, from, &actor, err.into()).await,
                        }
                    }
                    Restart::Application => {
                        after_switch(state.clone(), &handle, "restart", from, &actor).await
                    }
                },
            }
        }
    };
    conclude(
        &state,
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

async fn run_rollback(
    state: AppState,
    handle: JobHandle,
    from: InstalledState,
    actor: String,
    source: Option<String>,
) {
    let from_level = from.patch_level;
    let mut clients_stopped = false;
    let before_switch = async {
        stage(&handle, "precheck", async {
            let current = state.installed.get().await?;
            level_unchanged(from_level, current.patch_level)?;
            rollback_allowed(&state, &current).await
        })
        .await?;
        stage(&handle, "stop_clients", async {
            state
                .lifecycle
                .stop_clients(&state.events, ServerState::Restarting)
                .await;
            Ok(())
        })
        .await?;
        clients_stopped = true;
        let base = state.config.initial.build;
        stage(
            &handle,
            "switch",
            switch(&state, PatchLevel::NONE, &base, &actor, from_level),
        )
        .await
    }
    .await;
    let ending = match before_switch {
        Err(err) => {
            if clients_stopped {
                state.lifecycle.resume_clients();
            }
            Ending::Failed(err)
        }
        Ok(()) => after_switch(state.clone(), &handle, "restart", from_level, &actor).await,
    };
    conclude(
        &state,
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
async fn after_switch(
    state: AppState,
    handle: &JobHandle,
    restart_stage: &str,
    from: PatchLevel,
    actor: &str,
) -> Ending {
    let restarted = stage(handle, restart_stage, async {
        state.lifecycle.restart(&state).await.map_err(|err| {
            PatchJobError::failed(
                "restart_failed",
                format!("The application could not restart: {err}"),
            )
        })
    })
    .await;
    let state = match restarted {
        Ok(new_state) => new_state,
        // The old application still serves; go back to the old level.
        Err(err) => return switch_back(&state, from, actor, err).await,
    };
    finish_at_new_level(&state, handle, from, actor).await
}

/// The post-check and `done`, on the application that runs the new level.
async fn finish_at_new_level(
    state: &AppState,
    handle: &JobHandle,
    from: PatchLevel,
    actor: &str,
) -> Ending {
    let target = match handle.info().await.and_then(|job| job.to_level) {
        Some(level) => PatchLevel(level),
        None => {
            return Ending::Failed(PatchJobError::failed(
                "internal_error",
                "the job lost its target level",
            ));
        }
    };
    let checked = stage(handle, "postcheck", postcheck(state, target)).await;
    if let Err(err) = checked {
        return switch_back(state, from, actor, err).await;
    }
    if has_stage(handle, "peer_install").await {
        let peer = stage(handle, "peer_install", async {
            state
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
            clean_install_root(state).await;
            state.events.publish(ServerEvent::ClusterChanged);
            return Ending::Failed(err);
        }
        state.events.publish(ServerEvent::ClusterChanged);
    }
    let done = stage(handle, "done", async {
        clean_install_root(state).await;
        Ok(())
    })
    .await;
    match done {
        Ok(()) => Ending::Done,
        Err(err) => Ending::Failed(err),
    }
}

/// The new level failed its check: switch back to `from`, restart, and say why.
async fn switch_back(
    state: &AppState,
    from: PatchLevel,
    actor: &str,
    why: PatchJobError,
) -> Ending {
    tracing::error!(level = from.0, "switching back: {}", why.message);
    let leaving = {
        let root = state.install_root.clone();
        blocking(move || root.current()).await.unwrap_or(from)
    };
    let reverted = match build_of_level(state, from).await {
        Ok(build) => switch(state, from, &build, actor, leaving).await,
        Err(err) => Err(err),
    };
    if let Err(err) = reverted {
        // Whatever runs now, the clients must get an answer again.
        state.lifecycle.resume_clients();
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
    state
        .lifecycle
        .stop_clients(&state.events, ServerState::Restarting)
        .await;
    if let Err(err) = state.lifecycle.restart(state).await {
        tracing::error!("the restart after switching back failed: {err}");
        state.lifecycle.resume_clients();
    }
    clean_install_root(state).await;
    Ending::Failed(PatchJobError {
        status: why.status,
        code: why.code,
        message: format!(
            "{} The server switched back to {} by itself.",
            why.message.trim_end_matches('.').to_owned() + ".",
            level_in_words(from)
        ),
    })
}

/// Records the outcome: the job, the audit log, the panel.
#[allow(clippy::too_many_arguments)]
async fn conclude(
    state: &AppState,
    handle: &JobHandle,
    ending: Ending,
    actor: &str,
    source: Option<String>,
    patch: Option<PatchId>,
    from: PatchLevel,
    to: PatchLevel,
) {
    let (kind, action) = match patch {
        Some(_) => ("install", "patch_install"),
        None => ("rollback", "patch_rollback"),
    };
    let started = handle.info().await.map(|job| job.started_at);
    let seconds = started
        .map(|at| (chrono::Utc::now() - at).num_milliseconds() as f64 / 1000.0)
        .unwrap_or(0.0);
    let target = patch.map_or_else(|| "rollback".to_owned(), |id| id.to_string());
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
                    "from {} to {} in {seconds:.1} s",
                    level_in_words(from),
                    level_in_words(to)
                )),
            )
        }
        Ending::Failed(err) => {
            tracing::warn!(
                job = handle.id,
                code = err.code,
                "{kind} failed: {}",
                err.message
            );
            (
                Err(err.body()),
                AuditEvent::failure(action, actor).details(format!(
                    "from {} to {}, after {seconds:.1} s: {}",
                    level_in_words(from),
                    level_in_words(to),
                    err.message
                )),
            )
        }
    };
    if let Err(err) = handle.finish(outcome).await {
        tracing::error!(job = handle.id, "cannot record the {kind}'s outcome: {err}");
    }
    if let Err(err) = state
        .audit
        .record(event.target(target).source(source))
        .await
    {
        tracing::error!(job = handle.id, "cannot audit the {kind}: {err}");
    }
    state.events.publish(ServerEvent::PatchesChanged);
}

/// `level 0 (no patch)` or `Patch 3`.
pub fn level_in_words(level: PatchLevel) -> String {
    match level.0 {
        0 => "level 0 (no patch)".to_owned(),
        n => format!("Patch {n}"),
    }
}

/// Reads the stored package again through the verifier (signature and every file's hash), and
/// returns the payload's size.
async fn verify(state: &AppState, plan: &InstallPlan) -> Result<u64, PatchJobError> {
    let keys = state.repository.keys();
    let limits = state.repository.limits();
    let path = plan.package.clone();
    let installed = InstalledLevel {
        product_version: plan.from.product_version,
        patch_level: plan.from.patch_level,
    };
    let verified = blocking(move || {
        use std::io::Read;
        let mut file = std::fs::File::open(&path)?;
        let mut verifier = Verifier::new(&keys, limits, None);
        let mut buffer = vec![0u8; 256 * 1024];
        loop {
            let n = file.read(&mut buffer)?;
            if n == 0 {
                break;
            }
            if let Err(err) = verifier.update(&buffer[..n]) {
                return Ok(Err(err));
            }
        }
        Ok(verifier.finish())
    })
    .await
    .map_err(|err| {
        PatchJobError::precondition(
            "package_unreadable",
            format!("The package could not be read from the patch repository: {err}. Download or import it again."),
        )
    })?
    .map_err(|err| {
        PatchJobError::precondition(
            "package_invalid",
            format!(
                "The stored package no longer verifies ({}: {}). Delete it, then download or import it again.",
                err.code.as_str(),
                err.message
            ),
        )
    })?;
    if verified.sha256 != plan.patch.sha256 {
        return Err(PatchJobError::precondition(
            "package_invalid",
            "The stored package changed since it was verified. Download or import it again.",
        ));
    }
    check_applicable(&verified.manifest, installed).map_err(|err| {
        PatchJobError::precondition(err.code.as_str(), format!("{}.", err.message))
    })?;
    Ok(verified.manifest.files.iter().map(|f| f.size).sum())
}

/// How long the active node waits for the passive one to install a patch.
const PEER_INSTALL_LIMIT: Duration = Duration::from_secs(15 * 60);

/// Whether the job was planned with this stage (the clustered stages).
async fn has_stage(handle: &JobHandle, name: &str) -> bool {
    handle
        .info()
        .await
        .is_some_and(|job| job.stages.iter().any(|stage| stage.name == name))
}

/// The HA rule: while clustering is enabled, a patch with database changes is refused with
/// the documented procedure.
async fn ha_precheck(state: &AppState, patch: &PatchInfo) -> Result<(), PatchJobError> {
    if !patch.database_changes
        || !shared::cluster::ha_refuses(patch.database_changes, state.cluster.enabled().await?)
    {
        return Ok(());
    }
    Err(PatchJobError::precondition(
        "ha_cluster_enabled",
        format!(
            "{} changes the database, and this server is in an HA cluster with clustering \
             enabled, so it cannot be installed now. {}",
            patch.display_name,
            shared::cluster::HA_PROCEDURE
        ),
    ))
}

/// Free space for the payload twice (staging and the level itself) plus a margin.
async fn enough_disk(state: &AppState, payload: u64) -> Result<(), PatchJobError> {
    let dir = state.install_root.dir().to_owned();
    let free = free_bytes(dir).await.map_err(|err| {
        PatchJobError::failed(
            "internal_error",
            format!("cannot tell the free disk space: {err}"),
        )
    })?;
    let needed = payload.saturating_mul(2).saturating_add(DISK_MARGIN);
    if free < needed {
        return Err(PatchJobError::precondition(
            "insufficient_disk_space",
            format!(
                "The install needs {} MB free in the data folder and only {} MB are free. Free \
                 some space, then install again.",
                needed.div_ceil(1_000_000),
                free / 1_000_000
            ),
        ));
    }
    Ok(())
}

async fn free_bytes(dir: PathBuf) -> std::io::Result<u64> {
    if cfg!(feature = "fault-injection")
        && let Some(pretend) = std::env::var(FREE_BYTES_ENV)
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
    {
        return Ok(pretend);
    }
    blocking(move || {
        let stat = rustix::fs::statvfs(&dir).map_err(std::io::Error::from)?;
        Ok(stat.f_bavail.saturating_mul(stat.f_frsize))
    })
    .await
}

/// The switch: the install root's pointer first (atomic), then the database's record. When the
/// record fails, the pointer goes back to `previous`.
async fn switch(
    state: &AppState,
    level: PatchLevel,
    build: &Build,
    actor: &str,
    previous: PatchLevel,
) -> Result<(), PatchJobError> {
    let root = state.install_root.clone();
    blocking(move || root.switch(level)).await.map_err(|err| {
        PatchJobError::failed(
            "switch_failed",
            format!("The switch to {} failed: {err}.", level_in_words(level)),
        )
    })?;
    if let Err(err) = state.installed.set_level(level, build, actor).await {
        // The record failed: the pointer goes back to what the database still says.
        let root = state.install_root.clone();
        if let Err(undo) = blocking(move || root.switch(previous)).await {
            tracing::error!(
                "cannot put the install pointer back to {}: {undo}",
                previous.0
            );
            return Err(PatchJobError::failed(
                "switch_failed",
                format!(
                    "The new level could not be recorded ({err}) and the install pointer could \
                     not be put back ({undo}). The next start settles them; check the log."
                ),
            ));
        }
        return Err(PatchJobError::failed(
            "switch_failed",
            format!("The new level could not be recorded: {err}. Nothing was changed."),
        ));
    }
    Ok(())
}

/// The build that `level` runs: the base release's, or the patch's.
async fn build_of_level(state: &AppState, level: PatchLevel) -> Result<Build, PatchJobError> {
    if level == PatchLevel::NONE {
        return Ok(state.config.initial.build);
    }
    let installed = state.installed.get().await?;
    let id = PatchId::new(installed.product_version, level.0)
        .map_err(|err| PatchJobError::failed("internal_error", err.to_string()))?;
    state
        .repository
        .find(id)
        .await?
        .map(|patch| patch.build)
        .ok_or_else(|| {
            PatchJobError::failed(
                "internal_error",
                format!(
                    "the package of {} is no longer in the repository",
                    level_in_words(level)
                ),
            )
        })
}

/// Health and version at the new level, asked over HTTP as a client would; the install root
/// and the database must agree with it.
async fn postcheck(state: &AppState, target: PatchLevel) -> Result<(), PatchJobError> {
    let fail = |why: String| {
        PatchJobError::failed(
            "postcheck_failed",
            format!("The check after the switch failed: {why}."),
        )
    };
    if crate::lifecycle::postcheck_fault(&state.config.node_name) {
        return Err(fail(
            "the post-check was made to fail (fault injection)".into(),
        ));
    }
    let root = state.install_root.clone();
    let current = blocking(move || root.current())
        .await
        .map_err(|err| fail(format!("the install root cannot be read: {err}")))?;
    if current != target {
        return Err(fail(format!(
            "the install root is at {}, not {}",
            level_in_words(current),
            level_in_words(target)
        )));
    }
    let url = format!("{}/api/v1/health", state.lifecycle.local_url());
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .no_proxy()
        .build()
        .map_err(|err| fail(err.to_string()))?;
    let response = client
        .get(&url)
        .send()
        .await
        .map_err(|err| fail(format!("the server does not answer at {url}: {err}")))?;
    if !response.status().is_success() {
        return Err(fail(format!("health answered {}", response.status())));
    }
    let health: HealthResponse = response
        .json()
        .await
        .map_err(|err| fail(format!("health answered something else: {err}")))?;
    if health.patch_level != target {
        return Err(fail(format!(
            "the server reports {} instead of {}",
            level_in_words(health.patch_level),
            level_in_words(target)
        )));
    }
    Ok(())
}

/// Removes what no level needs (stagings, levels that are neither current nor the base),
/// saying so in the log; not while the install root and the database disagree (the next start
/// settles them first).
async fn clean_install_root(state: &AppState) {
    let root = state.install_root.clone();
    let current = blocking(move || root.current()).await;
    let recorded = state.installed.get().await.map(|s| s.patch_level);
    match (current, recorded) {
        (Ok(current), Ok(recorded)) if current == recorded => {}
        (current, recorded) => {
            tracing::error!(
                ?current,
                ?recorded,
                "the install root and the database disagree: nothing is removed until they agree"
            );
            return;
        }
    }
    let root = state.install_root.clone();
    match blocking(move || root.reconcile()).await {
        Ok(reconciled) if !reconciled.removed.is_empty() => tracing::info!(
            removed = %reconciled.removed.join(", "),
            "removed install root folders no level needs"
        ),
        Ok(_) => {}
        Err(err) => tracing::error!("cannot clean the install root: {err}"),
    }
}

/// On every start, before anything else changes: the install root and the database must agree,
/// and an install or rollback cut off by a stop (crash, power cut, reboot) is finished from its
/// journal: completed when its switch happened, failed (nothing changed) when not.
pub async fn resume_interrupted(
    state: &AppState,
    interrupted: Vec<(JobInfo, JobHandle)>,
) -> Result<(), ServiceError> {
    let root = state.install_root.clone();
    let current = blocking(move || root.current())
        .await
        .map_err(|err| ServiceError::Corrupt(format!("the install root: {err}")))?;
    let recorded = state.installed.get().await?;
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
            let root = state.install_root.clone();
            let level = recorded.patch_level;
            if let Err(err) = blocking(move || root.switch(level)).await {
                tracing::error!("cannot switch the install root to the recorded level: {err}");
            }
        }
        clean_install_root(state).await;
        return Ok(());
    }
    for (job, handle) in interrupted {
        let from = PatchLevel(job.from_level.unwrap_or(0));
        let to = PatchLevel(job.to_level.unwrap_or(0));
        // The stage the stop cut: the first one that did not end (it may not have started).
        let cut_at = job
            .stages
            .iter()
            .find(|s| s.ended_at.is_none())
            .map(|s| (s.name.clone(), s.started_at.is_some()));
        let actor = job.started_by.clone();
        let ending = if current == to && from != to {
            tracing::info!(
                job = job.id,
                "the switch to {} happened before the stop: finishing",
                level_in_words(to)
            );
            // The record follows the install root (the pointer is written first).
            if recorded.patch_level != to {
                record_level(state, to, &actor).await;
            }
            // This start is the restart (or the reboot) the job was waiting for.
            for name in ["switch", "restart", "reboot"] {
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
                        let _ = handle.stage_started(name).await;
                    }
                    let _ = handle.stage_ended(name, true).await;
                }
            }
            finish_at_new_level(state, &handle, from, &actor).await
        } else {
            // Not at the target: before the switch, or switched back. The record follows the
            // install root here too (a switch back also writes the pointer first).
            if recorded.patch_level != current {
                record_level(state, current, &actor).await;
            }
            if let Some((name, true)) = &cut_at {
                let _ = handle.stage_ended(name, false).await;
            }
            let switched_before = job
                .stages
                .iter()
                .any(|s| s.name == "switch" && s.outcome.as_deref() == Some("ok"));
            let stage = cut_at.map_or_else(|| "start".to_owned(), |(name, _)| name);
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
        clean_install_root(state).await;
        conclude(state, &handle, ending, &actor, None, job.patch, from, to).await;
    }
    // The level may have been settled here: the client version follows it.
    state.refresh_client().await?;
    Ok(())
}

/// Records `level` (with its build) as installed, as the install root already says; logs why
/// when it cannot.
async fn record_level(state: &AppState, level: PatchLevel, actor: &str) {
    let recorded = match build_of_level(state, level).await {
        Ok(build) => state
            .installed
            .set_level(level, &build, actor)
            .await
            .map(|_| ())
            .map_err(|err| err.to_string()),
        Err(err) => Err(err.message),
    };
    if let Err(why) = recorded {
        tracing::error!(
            "cannot record {} as installed: {why}",
            level_in_words(level)
        );
    }
}

/// Takes the installs and rollbacks a stopped server left running back into the running set,
/// before the server serves, so no new job can start until they are finished.
pub async fn adopt_interrupted(
    state: &AppState,
) -> Result<Vec<(JobInfo, JobHandle)>, ServiceError> {
    let mut adopted = Vec::new();
    for job in state.jobs.interrupted_patch_jobs().await? {
        let handle = state.jobs.adopt(job.clone()).await;
        adopted.push((job, handle));
    }
    Ok(adopted)
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> std::io::Result<T> + Send + 'static,
) -> std::io::Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(std::io::Error::other)?
}
