//! Installing and rolling back patches: the journaled jobs behind
//! `POST /api/v1/patches/{id}/install` and `POST /api/v1/rollback`, and finishing the job a
//! stopped server left behind (crash, reboot) from its journal.
//!
//! An install runs `verify`, `precheck`, `stop_clients`, `stage_payload`, `switch`, `restart`
//! (or `reboot`), `postcheck`, `done` (on the active node of an HA cluster also `peer_push`
//! after the pre-check and `peer_install` before `done`: the passive node installs it too); a
//! rollback `precheck`, `stop_clients`, `switch`, `restart`, `postcheck`, `done`. The switch is
//! the one step that changes what runs: before it, a failure leaves the old level; after it, the new level stands once the post-check
//! passes, and the server switches back by itself when it does not.

mod checks;
mod engine;
pub mod error;
mod recovery;
mod restore;
mod run;
mod schema;
mod steps;

use shared::panel::{
    JobInfo, JobKind, ROLLBACK_STAGES, Stage, clustered_install_stages, install_stages, with_backup,
};
use shared::{PatchId, PatchLevel};

use crate::service::ServiceError;
use crate::service::jobs::JobHandle;

use checks::{InstallPlan, plan_install, rollback_allowed};
pub use engine::{InstallEngine, blocking};
use recovery::{adopt_interrupted, resume_interrupted};
use run::{run_install, run_rollback};

pub use error::{JobErrorKind, PatchJobError};

impl InstallEngine {
    /// Starts installing patch `id`: checks it can, records the job, and runs it in the
    /// background. Refused while another job runs.
    pub async fn start_install(
        &self,
        id: PatchId,
        actor: &str,
        source: Option<String>,
    ) -> Result<JobInfo, PatchJobError> {
        let plan = plan_install(self, id).await?;
        let stages = stages_of(self, &plan);
        let (info, handle) = self
            .jobs
            .start_exclusive(
                (JobKind::Install, Some(id), None),
                (plan.from.patch_level, PatchLevel(plan.patch.patch)),
                &stages,
                actor,
            )
            .await?;
        tracing::info!(job = info.id, patch = %id, by = actor, "install started");
        let engine = self.clone();
        let actor = actor.to_owned();
        tokio::spawn(async move {
            run_install(engine, handle, plan, actor, source).await;
        });
        Ok(info)
    }

    /// Starts rolling back to level 0. Refused at level 0, when the installed patch cannot be
    /// rolled back, and while another job runs.
    pub async fn start_rollback(
        &self,
        actor: &str,
        source: Option<String>,
    ) -> Result<JobInfo, PatchJobError> {
        let from = self.installed.get().await?;
        rollback_allowed(self, &from).await?;
        schema::of_level(self, PatchLevel::NONE).await?;
        let (info, handle) = self
            .jobs
            .start_exclusive(
                (JobKind::Rollback, None, None),
                (from.patch_level, PatchLevel::NONE),
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
        let engine = self.clone();
        let actor = actor.to_owned();
        tokio::spawn(async move {
            run_rollback(engine, handle, from, actor, source).await;
        });
        Ok(info)
    }

    /// Takes the installs and rollbacks a stopped server left running back into the running
    /// set, before the server serves, so no new job can start until they are finished.
    pub async fn adopt_interrupted(&self) -> Result<Vec<(JobInfo, JobHandle)>, ServiceError> {
        adopt_interrupted(self).await
    }

    /// On every start, before anything else changes: the install root and the database must
    /// agree, and an install or rollback cut off by a stop is finished from its journal.
    pub async fn resume_interrupted(
        &self,
        interrupted: Vec<(JobInfo, JobHandle)>,
    ) -> Result<(), ServiceError> {
        resume_interrupted(self, interrupted).await
    }
}

/// The stages of an install: on the active node of an enabled cluster it installs on both
/// nodes; a patch that changes the database is preceded by a backup of it.
fn stages_of(engine: &InstallEngine, plan: &InstallPlan) -> Vec<Stage> {
    let stages = if engine.cluster.is_active_in_cluster() {
        clustered_install_stages(plan.patch.restart)
    } else {
        install_stages(plan.patch.restart).to_vec()
    };
    if plan.changes_database() {
        with_backup(stages)
    } else {
        stages
    }
}

/// What the checks of a scheduled install found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InstallCheck {
    pub from: PatchLevel,
    pub to: PatchLevel,
    /// The TMC offers it but it is not in the patch repository yet.
    pub needs_download: bool,
}

impl InstallEngine {
    /// The checks of an install that is scheduled: the same refusals as an install now,
    /// except that a patch the TMC offers may still have to be downloaded.
    pub async fn check_install(&self, id: PatchId) -> Result<InstallCheck, PatchJobError> {
        match plan_install(self, id).await {
            Ok(plan) => Ok(InstallCheck {
                from: plan.from.patch_level,
                to: PatchLevel(plan.patch.patch),
                needs_download: false,
            }),
            Err(err) if err.kind == JobErrorKind::NotDownloaded => {
                let from = self.installed.get().await?.patch_level;
                Ok(InstallCheck {
                    from,
                    to: PatchLevel(id.patch()),
                    needs_download: true,
                })
            }
            Err(err) => Err(err),
        }
    }

    /// The checks of a rollback that is scheduled; answers the level it rolls back from.
    pub async fn check_rollback(&self) -> Result<PatchLevel, PatchJobError> {
        let from = self.installed.get().await?;
        rollback_allowed(self, &from).await?;
        schema::of_level(self, PatchLevel::NONE).await?;
        Ok(from.patch_level)
    }

    /// Starts the scheduled install `job` of patch `id`: the checks again, then the same run as
    /// an install now, under the job's own id.
    pub async fn start_scheduled_install(
        &self,
        job: i64,
        id: PatchId,
    ) -> Result<JobInfo, PatchJobError> {
        let plan = plan_install(self, id).await?;
        let stages = stages_of(self, &plan);
        let (info, handle) = self
            .jobs
            .start_scheduled(
                job,
                (plan.from.patch_level, PatchLevel(plan.patch.patch)),
                &stages,
            )
            .await?;
        let actor = info.started_by.clone();
        tracing::info!(job, patch = %id, by = actor, "scheduled install started");
        let engine = self.clone();
        tokio::spawn(async move {
            run_install(engine, handle, plan, actor, None).await;
        });
        Ok(info)
    }

    /// Starts the scheduled rollback `job`: the checks again, then the same run as a rollback
    /// now.
    pub async fn start_scheduled_rollback(&self, job: i64) -> Result<JobInfo, PatchJobError> {
        let from = self.installed.get().await?;
        rollback_allowed(self, &from).await?;
        schema::of_level(self, PatchLevel::NONE).await?;
        let (info, handle) = self
            .jobs
            .start_scheduled(job, (from.patch_level, PatchLevel::NONE), &ROLLBACK_STAGES)
            .await?;
        let actor = info.started_by.clone();
        tracing::info!(
            job,
            from = from.patch_level.0,
            by = actor,
            "scheduled rollback started"
        );
        let engine = self.clone();
        tokio::spawn(async move {
            run_rollback(engine, handle, from, actor, None).await;
        });
        Ok(info)
    }
}
