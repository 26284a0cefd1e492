//! Jobs: long-running work (downloads, installs, rollbacks) with progress, recorded in the
//! `jobs` table and reported live on the event stream. Installs and rollbacks journal each stage
//! in `job_stages` when it starts and when it ends, and run alone: while one runs no other job
//! starts, and one starts only when no other job runs.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
};
use shared::api::ErrorBody;
use shared::panel::{JobInfo, JobKind, JobState, ServerEvent, Stage, StageInfo, StageOutcome};
use shared::text::capitalized;
use shared::{PatchId, PatchLevel};
use tokio::sync::RwLock;

use crate::service::ServiceError;
use crate::service::audit::{AuditEvent, record_with};
use crate::service::events::Events;
use crate::service::notify::Notifier;
use crate::storage::db::Db;
use crate::storage::entity::{job, job_stage};

mod scheduled;

pub use scheduled::{Scheduled, describe};

/// Progress events are sent at most this often per job.
const PROGRESS_EVERY: Duration = Duration::from_millis(200);

/// The kinds of installs, rollbacks and restores, as stored.
const PATCH_JOBS: [&str; 3] = ["install", "rollback", "restore"];

/// The wait between attempts at recording an outcome the database refused: 0.5 s, doubling,
/// at most 5 s.
const RECORD_RETRY: crate::service::backoff::Backoff = crate::service::backoff::Backoff {
    first: Duration::from_millis(500),
    max: Duration::from_secs(5),
};

/// A running job's live state.
struct Running {
    info: JobInfo,
    cancel: Arc<AtomicBool>,
    last_event: Instant,
}

/// Creates, tracks and finishes jobs; cheap to clone.
#[derive(Clone)]
pub struct Jobs {
    db: Db,
    events: Events,
    running: Arc<RwLock<HashMap<i64, Running>>>,
    /// Held while deciding whether a job may start, so two requests cannot both start one.
    starting: Arc<tokio::sync::Mutex<()>>,
    /// This node's key: each node of a cluster has its own jobs.
    node: String,
    /// Told when an install or rollback starts and when a job ends.
    notifier: Option<Notifier>,
    /// Counts the jobs that end.
    metrics: Option<crate::service::metrics::Metrics>,
}

/// A handle the job's task uses to report.
#[derive(Clone)]
pub struct JobHandle {
    jobs: Jobs,
    pub id: i64,
    pub cancel: Arc<AtomicBool>,
}

impl Jobs {
    pub fn new(db: Db, events: Events, node: &str) -> Self {
        Self {
            node: node.to_owned(),
            db,
            events,
            running: Arc::new(RwLock::new(HashMap::new())),
            starting: Arc::new(tokio::sync::Mutex::new(())),
            notifier: None,
            metrics: None,
        }
    }

    /// Counts every job that ends in `metrics`.
    pub fn with_metrics(mut self, metrics: crate::service::metrics::Metrics) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// Tells `notifier` of installs and rollbacks starting and of every job's end.
    pub fn with_notifier(mut self, notifier: Notifier) -> Self {
        self.notifier = Some(notifier);
        self
    }

    /// Marks downloads and backups left running by a server that stopped as failed; returns
    /// how many. (Installs and rollbacks are finished from their journal instead.)
    pub async fn fail_interrupted(&self) -> Result<usize, ServiceError> {
        let rows = job::Entity::find()
            .filter(job::Column::Node.eq(self.node.as_str()))
            .filter(job::Column::State.eq(JobState::Running.as_str()))
            .filter(job::Column::Kind.is_in([JobKind::Download.as_str(), JobKind::Backup.as_str()]))
            .all(&self.db)
            .await?;
        let count = rows.len();
        for row in rows {
            let kind = row.kind.clone();
            let mut row: job::ActiveModel = row.into();
            row.state = Set(JobState::Failed.as_str().to_owned());
            row.error_code = Set(Some("server_stopped".into()));
            row.error_message = Set(Some(format!(
                "The server stopped while this {kind} was running; start it again."
            )));
            row.finished_at = Set(Some(Utc::now()));
            row.update(&self.db).await?;
        }
        Ok(count)
    }

    /// Records a new running download; refused while an install or rollback runs.
    pub async fn start(
        &self,
        kind: JobKind,
        patch: Option<PatchId>,
        total_bytes: u64,
        started_by: &str,
    ) -> Result<(JobInfo, JobHandle), ServiceError> {
        let _deciding = self.starting.lock().await;
        if let Some(other) = self.running_patch_job().await {
            return Err(busy(&other));
        }
        self.insert(kind, patch, total_bytes, started_by, None, None)
            .await
    }

    /// Records a new install, rollback or restore (of `backup`) with its stages (none started
    /// yet), unless any other job runs: then `JobRunning`.
    pub async fn start_exclusive(
        &self,
        (kind, patch, backup): (JobKind, Option<PatchId>, Option<&str>),
        levels: (PatchLevel, PatchLevel),
        stages: &[Stage],
        started_by: &str,
    ) -> Result<(JobInfo, JobHandle), ServiceError> {
        let _deciding = self.starting.lock().await;
        if let Some(other) = self.running().await.first() {
            return Err(busy(other));
        }
        self.insert(kind, patch, 0, started_by, Some((levels, stages)), backup)
            .await
    }

    async fn insert(
        &self,
        kind: JobKind,
        patch: Option<PatchId>,
        total_bytes: u64,
        started_by: &str,
        plan: Option<((PatchLevel, PatchLevel), &[Stage])>,
        backup: Option<&str>,
    ) -> Result<(JobInfo, JobHandle), ServiceError> {
        let now = Utc::now();
        let level = |n: PatchLevel| i32::try_from(n.0).unwrap_or(i32::MAX);
        let txn = crate::storage::db::begin_write(&self.db).await?;
        let row = job::ActiveModel {
            kind: Set(kind.as_str().to_owned()),
            patch: Set(patch.map(|p| p.to_string())),
            state: Set(JobState::Running.as_str().to_owned()),
            stage: Set(plan.is_none().then(|| Stage::Download.as_str().to_owned())),
            done_bytes: Set(0),
            total_bytes: Set(i64::try_from(total_bytes).unwrap_or(i64::MAX)),
            error_code: Set(None),
            error_message: Set(None),
            started_by: Set(started_by.to_owned()),
            started_at: Set(now),
            finished_at: Set(None),
            from_level: Set(plan.map(|((from, _), _)| level(from))),
            to_level: Set(plan.map(|((_, to), _)| level(to))),
            node: Set(self.node.clone()),
            scheduled_for: Set(None),
            window_end: Set(None),
            schedule_note: Set(None),
            upcoming_sent: Set(false),
            backup: Set(backup.map(str::to_owned)),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        let stage_rows = insert_stages(
            &txn,
            row.id,
            plan.map(|(_, stages)| stages).unwrap_or_default(),
        )
        .await?;
        txn.commit().await?;
        let mut info = info_from_row(row)?;
        info.stages = stage_rows
            .into_iter()
            .map(stage_from_row)
            .collect::<Result<_, _>>()?;
        let cancel = Arc::new(AtomicBool::new(false));
        self.running.write().await.insert(
            info.id,
            Running {
                info: info.clone(),
                cancel: cancel.clone(),
                last_event: Instant::now(),
            },
        );
        self.events.publish(ServerEvent::Job(info.clone()));
        if let Some(notifier) = &self.notifier {
            notifier.job_changed(&info).await;
        }
        let handle = JobHandle {
            jobs: self.clone(),
            id: info.id,
            cancel,
        };
        Ok((info, handle))
    }

    /// A job, live while it runs, from the database afterwards.
    pub async fn get(&self, id: i64) -> Result<Option<JobInfo>, ServiceError> {
        if let Some(running) = self.running.read().await.get(&id) {
            return Ok(Some(running.info.clone()));
        }
        let Ok(key) = i32::try_from(id) else {
            return Ok(None);
        };
        let Some(row) = job::Entity::find_by_id(key)
            .filter(job::Column::Node.eq(self.node.as_str()))
            .one(&self.db)
            .await?
        else {
            return Ok(None);
        };
        let mut info = info_from_row(row)?;
        info.stages = self.stages_of(key).await?;
        Ok(Some(info))
    }

    /// The journal of one job, in order.
    pub async fn stages_of(&self, job: i32) -> Result<Vec<StageInfo>, ServiceError> {
        use sea_orm::QueryOrder;
        job_stage::Entity::find()
            .filter(job_stage::Column::JobId.eq(job))
            .order_by_asc(job_stage::Column::Position)
            .all(&self.db)
            .await?
            .into_iter()
            .map(stage_from_row)
            .collect()
    }

    /// Installs and rollbacks that a stopped server left running (oldest first).
    pub async fn interrupted_patch_jobs(&self) -> Result<Vec<JobInfo>, ServiceError> {
        use sea_orm::QueryOrder;
        let rows = job::Entity::find()
            .filter(job::Column::Node.eq(self.node.as_str()))
            .filter(job::Column::State.eq(JobState::Running.as_str()))
            .filter(job::Column::Kind.is_in(PATCH_JOBS))
            .order_by_asc(job::Column::Id)
            .all(&self.db)
            .await?;
        let mut jobs = Vec::with_capacity(rows.len());
        for row in rows {
            let id = row.id;
            let mut info = info_from_row(row)?;
            info.stages = self.stages_of(id).await?;
            jobs.push(info);
        }
        Ok(jobs)
    }

    /// Takes a job found in the database (left by a stopped server) back into the running set,
    /// so it can be finished with a handle.
    pub async fn adopt(&self, info: JobInfo) -> JobHandle {
        let cancel = Arc::new(AtomicBool::new(false));
        let id = info.id;
        self.running.write().await.insert(
            id,
            Running {
                info,
                cancel: cancel.clone(),
                last_event: Instant::now(),
            },
        );
        JobHandle {
            jobs: self.clone(),
            id,
            cancel,
        }
    }

    /// One page (from 1) of the installs and rollbacks, newest first, and how many there are
    /// in all: the panel's history.
    pub async fn history(
        &self,
        page: u64,
        per_page: u64,
    ) -> Result<(Vec<JobInfo>, u64), ServiceError> {
        use sea_orm::{PaginatorTrait, QueryOrder, QuerySelect};
        let installs_and_rollbacks = || {
            job::Entity::find()
                .filter(job::Column::Node.eq(self.node.as_str()))
                .filter(job::Column::Kind.is_in(PATCH_JOBS))
        };
        let total = installs_and_rollbacks().count(&self.db).await?;
        let rows = installs_and_rollbacks()
            .order_by_desc(job::Column::Id)
            .offset(page.saturating_sub(1).saturating_mul(per_page))
            .limit(per_page)
            .all(&self.db)
            .await?;
        let entries = rows
            .into_iter()
            .map(info_from_row)
            .collect::<Result<_, _>>()?;
        Ok((entries, total))
    }

    /// The install or rollback running now, if one is (they run alone).
    pub async fn running_patch_job(&self) -> Option<JobInfo> {
        self.running()
            .await
            .into_iter()
            .find(|job| job.kind.is_patch_job())
    }

    /// The running jobs.
    pub async fn running(&self) -> Vec<JobInfo> {
        self.running
            .read()
            .await
            .values()
            .map(|r| r.info.clone())
            .collect()
    }

    /// Asks a running job to stop; false when it is not running.
    pub async fn cancel(&self, id: i64) -> bool {
        match self.running.read().await.get(&id) {
            Some(running) => {
                running.cancel.store(true, Ordering::Relaxed);
                true
            }
            None => false,
        }
    }
}

/// Journals an install's or rollback's stages, none started yet.
async fn insert_stages(
    txn: &impl sea_orm::ConnectionTrait,
    job: i32,
    stages: &[Stage],
) -> Result<Vec<job_stage::Model>, ServiceError> {
    let mut rows = Vec::with_capacity(stages.len());
    for (position, name) in stages.iter().enumerate() {
        rows.push(
            job_stage::ActiveModel {
                job_id: Set(job),
                position: Set(i32::try_from(position).unwrap_or(i32::MAX)),
                name: Set(name.as_str().to_owned()),
                started_at: Set(None),
                ended_at: Set(None),
                outcome: Set(None),
                ..Default::default()
            }
            .insert(txn)
            .await?,
        );
    }
    Ok(rows)
}

fn busy(other: &JobInfo) -> ServiceError {
    let what = match other.kind {
        JobKind::Download => "a download",
        JobKind::Install => "an install",
        JobKind::Rollback => "a rollback",
        JobKind::Backup => "a database backup",
        JobKind::Restore => "a restore of a database backup",
    };
    ServiceError::JobRunning {
        job: other.id,
        message: format!(
            "{} (job {}) is running; installs and rollbacks run alone. Wait until it ends, \
             then try again.",
            capitalized(what),
            other.id
        ),
    }
}

impl JobHandle {
    pub fn is_cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    /// The job as it stands.
    pub async fn info(&self) -> Option<JobInfo> {
        self.jobs
            .running
            .read()
            .await
            .get(&self.id)
            .map(|r| r.info.clone())
    }

    /// Journals that `stage` starts (in the database first, then on the event stream).
    pub async fn stage_started(&self, stage: Stage) -> Result<(), ServiceError> {
        self.journal(stage, None).await
    }

    /// Journals that `stage` ended, well or not.
    pub async fn stage_ended(&self, stage: Stage, ok: bool) -> Result<(), ServiceError> {
        self.journal(stage, Some(ok)).await
    }

    async fn journal(&self, stage: Stage, ended: Option<bool>) -> Result<(), ServiceError> {
        let key = i32::try_from(self.id)
            .map_err(|_| ServiceError::Corrupt(format!("job id {} out of range", self.id)))?;
        let now = Utc::now();
        let row = job_stage::Entity::find()
            .filter(job_stage::Column::JobId.eq(key))
            .filter(job_stage::Column::Name.eq(stage.as_str()))
            .one(&self.jobs.db)
            .await?
            .ok_or_else(|| {
                ServiceError::Corrupt(format!("job {} has no stage {stage}", self.id))
            })?;
        let mut row: job_stage::ActiveModel = row.into();
        let outcome = ended.map(StageOutcome::of);
        match ended {
            None => row.started_at = Set(Some(now)),
            Some(_) => {
                row.ended_at = Set(Some(now));
                row.outcome = Set(outcome.map(|o| o.as_str().to_owned()));
            }
        }
        row.update(&self.jobs.db).await?;
        if ended.is_none() {
            job::Entity::update_many()
                .col_expr(
                    job::Column::Stage,
                    sea_orm::sea_query::Expr::value(stage.as_str()),
                )
                .filter(job::Column::Id.eq(key))
                .exec(&self.jobs.db)
                .await?;
        }
        let mut running = self.jobs.running.write().await;
        if let Some(job) = running.get_mut(&self.id) {
            if ended.is_none() {
                job.info.stage = Some(stage);
            }
            if let Some(entry) = job.info.stages.iter_mut().find(|s| s.name == stage) {
                match ended {
                    None => entry.started_at = Some(now),
                    Some(_) => {
                        entry.ended_at = Some(now);
                        entry.outcome = outcome;
                    }
                }
            }
            job.last_event = Instant::now();
            self.jobs.events.publish(ServerEvent::Job(job.info.clone()));
        }
        Ok(())
    }

    /// Reports bytes done; sends an event when the last one is old enough.
    pub async fn progress(&self, done_bytes: u64) {
        let mut running = self.jobs.running.write().await;
        let Some(job) = running.get_mut(&self.id) else {
            return;
        };
        job.info.done_bytes = done_bytes;
        if job.last_event.elapsed() >= PROGRESS_EVERY {
            job.last_event = Instant::now();
            self.jobs.events.publish(ServerEvent::Job(job.info.clone()));
        }
    }

    /// Records the outcome: `Ok` succeeded, `Err` failed (or cancelled, when it was asked to).
    pub async fn finish(&self, outcome: Result<(), ErrorBody>) -> Result<JobInfo, ServiceError> {
        let recorded = self
            .until_recorded(|| async {
                let row = self.record_outcome(&self.jobs.db, outcome.clone()).await?;
                self.info_of(row).await
            })
            .await;
        self.ended(recorded).await
    }

    /// As [`JobHandle::finish`], with the job's audit entry written in the same transaction:
    /// the outcome and the entry are recorded both or neither (then the job counts as cut off,
    /// and the next start concludes it again).
    pub async fn finish_audited(
        &self,
        outcome: Result<(), ErrorBody>,
        audit: AuditEvent,
    ) -> Result<JobInfo, ServiceError> {
        let recorded = self
            .until_recorded(|| async {
                let txn = crate::storage::db::begin_write(&self.jobs.db).await?;
                let row = self.record_outcome(&txn, outcome.clone()).await?;
                record_with(&txn, audit.clone()).await?;
                txn.commit().await?;
                self.info_of(row).await
            })
            .await;
        self.ended(recorded).await
    }

    /// Runs `record` until the database takes it: a full disk or a dropped connection only
    /// delays the outcome, which is recorded as soon as space or the database is back (the job
    /// counts as running until then). Other errors end the attempts.
    async fn until_recorded<F, Fut>(&self, mut record: F) -> Result<JobInfo, ServiceError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<JobInfo, ServiceError>>,
    {
        let mut retry = 0;
        loop {
            match record().await {
                Err(ServiceError::Db(err)) => {
                    retry += 1;
                    let wait = RECORD_RETRY.delay(retry);
                    tracing::warn!(
                        job = self.id,
                        "cannot record the job's outcome: {err}; trying again in {wait:?}"
                    );
                    tokio::time::sleep(wait).await;
                }
                done => return done,
            }
        }
    }

    /// The job no longer runs (whether or not its outcome was recorded: it must not block
    /// others); says so to whoever follows jobs.
    async fn ended(
        &self,
        recorded: Result<JobInfo, ServiceError>,
    ) -> Result<JobInfo, ServiceError> {
        self.jobs.running.write().await.remove(&self.id);
        let info = recorded?;
        self.jobs.events.publish(ServerEvent::Job(info.clone()));
        if let Some(metrics) = &self.jobs.metrics {
            metrics.job_ended(&info);
        }
        if let Some(notifier) = &self.jobs.notifier {
            notifier.job_changed(&info).await;
        }
        Ok(info)
    }

    async fn record_outcome(
        &self,
        db: &impl ConnectionTrait,
        outcome: Result<(), ErrorBody>,
    ) -> Result<job::Model, ServiceError> {
        let done = self
            .jobs
            .running
            .read()
            .await
            .get(&self.id)
            .map(|r| r.info.done_bytes)
            .unwrap_or(0);
        let state = match &outcome {
            Ok(()) => JobState::Succeeded,
            Err(_) if self.is_cancelled() => JobState::Cancelled,
            Err(_) => JobState::Failed,
        };
        let key = self.key()?;
        let row = job::Entity::find_by_id(key)
            .one(db)
            .await?
            .ok_or_else(|| ServiceError::Corrupt(format!("job {} vanished", self.id)))?;
        let mut row: job::ActiveModel = row.into();
        row.state = Set(state.as_str().to_owned());
        row.done_bytes = Set(i64::try_from(done).unwrap_or(i64::MAX));
        if let Err(error) = &outcome {
            row.error_code = Set(Some(error.code.clone()));
            row.error_message = Set(Some(error.message.clone()));
        }
        row.finished_at = Set(Some(Utc::now()));
        Ok(row.update(db).await?)
    }

    /// The job as recorded in `row`, with its stages.
    async fn info_of(&self, row: job::Model) -> Result<JobInfo, ServiceError> {
        let key = self.key()?;
        let mut info = info_from_row(row)?;
        info.stages = self.jobs.stages_of(key).await?;
        Ok(info)
    }

    fn key(&self) -> Result<i32, ServiceError> {
        i32::try_from(self.id)
            .map_err(|_| ServiceError::Corrupt(format!("job {} out of range", self.id)))
    }
}

fn info_from_row(row: job::Model) -> Result<JobInfo, ServiceError> {
    let corrupt = |what: &str, err: &dyn std::fmt::Display| {
        ServiceError::Corrupt(format!("job {}: {what}: {err}", row.id))
    };
    Ok(JobInfo {
        id: i64::from(row.id),
        kind: row.kind.parse().map_err(|e: String| corrupt("kind", &e))?,
        patch: row
            .patch
            .as_deref()
            .map(str::parse)
            .transpose()
            .map_err(|e| corrupt("patch", &e))?,
        state: row
            .state
            .parse()
            .map_err(|e: String| corrupt("state", &e))?,
        stage: row
            .stage
            .as_deref()
            .map(str::parse)
            .transpose()
            .map_err(|e: String| corrupt("stage", &e))?,
        done_bytes: u64::try_from(row.done_bytes).unwrap_or(0),
        total_bytes: u64::try_from(row.total_bytes).unwrap_or(0),
        error: match (row.error_code.clone(), row.error_message.clone()) {
            (Some(code), Some(message)) => Some(ErrorBody { code, message }),
            _ => None,
        },
        started_by: row.started_by.clone(),
        started_at: row.started_at,
        finished_at: row.finished_at,
        from_level: row
            .from_level
            .and_then(|l| u32::try_from(l).ok())
            .map(PatchLevel),
        to_level: row
            .to_level
            .and_then(|l| u32::try_from(l).ok())
            .map(PatchLevel),
        stages: Vec::new(),
        scheduled_for: row.scheduled_for,
        window_end: row.window_end,
        schedule_note: row.schedule_note.clone(),
        backup: row.backup.clone(),
    })
}

fn stage_from_row(row: job_stage::Model) -> Result<StageInfo, ServiceError> {
    let corrupt = |what: &str, err: String| {
        ServiceError::Corrupt(format!(
            "job {} stage {}: {what}: {err}",
            row.job_id, row.name
        ))
    };
    Ok(StageInfo {
        name: row.name.parse().map_err(|e| corrupt("name", e))?,
        started_at: row.started_at,
        ended_at: row.ended_at,
        outcome: row
            .outcome
            .as_deref()
            .map(str::parse)
            .transpose()
            .map_err(|e| corrupt("outcome", e))?,
    })
}
