//! Jobs: long-running work (downloads now) with progress, recorded in the `jobs` table and
//! reported live on the event stream.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
};
use shared::PatchId;
use shared::api::ErrorBody;
use shared::panel::{JobInfo, JobKind, JobState, ServerEvent};
use tokio::sync::RwLock;

use crate::entity::job;
use crate::error::ServiceError;
use crate::service::events::Events;

/// Progress events are sent at most this often per job.
const PROGRESS_EVERY: Duration = Duration::from_millis(200);

/// A running job's live state.
struct Running {
    info: JobInfo,
    cancel: Arc<AtomicBool>,
    last_event: Instant,
}

/// Creates, tracks and finishes jobs; cheap to clone.
#[derive(Clone)]
pub struct Jobs {
    db: DatabaseConnection,
    events: Events,
    running: Arc<RwLock<HashMap<i64, Running>>>,
}

/// A handle the job's task uses to report.
#[derive(Clone)]
pub struct JobHandle {
    jobs: Jobs,
    pub id: i64,
    pub cancel: Arc<AtomicBool>,
}

impl Jobs {
    pub fn new(db: DatabaseConnection, events: Events) -> Self {
        Self {
            db,
            events,
            running: Arc::new(RwLock::new(HashMap::new())),
        }
    }

    /// Marks jobs left running by a server that stopped as failed; returns how many.
    pub async fn fail_interrupted(&self) -> Result<usize, ServiceError> {
        let rows = job::Entity::find()
            .filter(job::Column::State.eq(JobState::Running.as_str()))
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

    /// Records a new running job.
    pub async fn start(
        &self,
        kind: JobKind,
        patch: Option<PatchId>,
        total_bytes: u64,
        started_by: &str,
    ) -> Result<(JobInfo, JobHandle), ServiceError> {
        let now = Utc::now();
        let row = job::ActiveModel {
            kind: Set(kind.as_str().to_owned()),
            patch: Set(patch.map(|p| p.to_string())),
            state: Set(JobState::Running.as_str().to_owned()),
            stage: Set(Some(kind.as_str().to_owned())),
            done_bytes: Set(0),
            total_bytes: Set(i64::try_from(total_bytes).unwrap_or(i64::MAX)),
            error_code: Set(None),
            error_message: Set(None),
            started_by: Set(started_by.to_owned()),
            started_at: Set(now),
            finished_at: Set(None),
            ..Default::default()
        }
        .insert(&self.db)
        .await?;
        let info = info_from_row(row)?;
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
        job::Entity::find_by_id(key)
            .one(&self.db)
            .await?
            .map(info_from_row)
            .transpose()
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

impl JobHandle {
    pub fn is_cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
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
        let key = i32::try_from(self.id)
            .map_err(|_| ServiceError::Corrupt(format!("job id {} out of range", self.id)))?;
        let row = job::Entity::find_by_id(key)
            .one(&self.jobs.db)
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
        let info = info_from_row(row.update(&self.jobs.db).await?)?;
        self.jobs.running.write().await.remove(&self.id);
        self.jobs.events.publish(ServerEvent::Job(info.clone()));
        Ok(info)
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
        stage: row.stage.clone(),
        done_bytes: u64::try_from(row.done_bytes).unwrap_or(0),
        total_bytes: u64::try_from(row.total_bytes).unwrap_or(0),
        error: match (row.error_code.clone(), row.error_message.clone()) {
            (Some(code), Some(message)) => Some(ErrorBody { code, message }),
            _ => None,
        },
        started_by: row.started_by.clone(),
        started_at: row.started_at,
        finished_at: row.finished_at,
    })
}
