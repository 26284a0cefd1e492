//! Scheduled installs and rollbacks: a job row in state `scheduled` waits for its time, and
//! becomes `running` (the same id) when it starts, or ends `cancelled` or `failed` before. Only
//! one waits per node at a time.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder,
};
use shared::api::ErrorBody;
use shared::panel::{JobInfo, JobKind, JobState, ServerEvent, Stage};
use shared::{PatchId, PatchLevel};

use super::{JobHandle, Jobs, Running, info_from_row, stage_from_row};
use crate::service::ServiceError;
use crate::storage::entity::job;

/// A job to schedule.
#[derive(Debug, Clone)]
pub struct Scheduled {
    pub kind: JobKind,
    pub patch: Option<PatchId>,
    /// The level before and the one aimed at, as planned.
    pub levels: (PatchLevel, PatchLevel),
    pub scheduled_for: DateTime<Utc>,
    pub window_end: DateTime<Utc>,
    pub note: String,
}

impl Jobs {
    /// The install or rollback waiting on this node, if one is.
    pub async fn scheduled(&self) -> Result<Option<JobInfo>, ServiceError> {
        job::Entity::find()
            .filter(job::Column::Node.eq(self.node.as_str()))
            .filter(job::Column::State.eq(JobState::Scheduled.as_str()))
            .order_by_desc(job::Column::Id)
            .one(&self.db)
            .await?
            .map(info_from_row)
            .transpose()
    }

    /// Records a scheduled job. The one already waiting is cancelled with `replace` (its error
    /// says by which job); without it, `job_already_scheduled`. Answers the new job and the one
    /// it replaced.
    pub async fn schedule(
        &self,
        plan: Scheduled,
        replace: bool,
        by: &str,
    ) -> Result<(JobInfo, Option<JobInfo>), ServiceError> {
        let _deciding = self.starting.lock().await;
        let waiting = self.scheduled().await?;
        if let Some(other) = &waiting
            && !replace
        {
            return Err(ServiceError::AlreadyScheduled {
                what: describe(other),
                when: other
                    .scheduled_for
                    .map_or_else(|| "later".to_owned(), |at| at.to_rfc3339()),
                job: other.id,
            });
        }
        let level = |n: PatchLevel| i32::try_from(n.0).unwrap_or(i32::MAX);
        let now = Utc::now();
        let txn = crate::storage::db::begin_write(&self.db).await?;
        let row = job::ActiveModel {
            kind: Set(plan.kind.as_str().to_owned()),
            patch: Set(plan.patch.map(|p| p.to_string())),
            state: Set(JobState::Scheduled.as_str().to_owned()),
            stage: Set(None),
            done_bytes: Set(0),
            total_bytes: Set(0),
            error_code: Set(None),
            error_message: Set(None),
            started_by: Set(by.to_owned()),
            started_at: Set(now),
            finished_at: Set(None),
            from_level: Set(Some(level(plan.levels.0))),
            to_level: Set(Some(level(plan.levels.1))),
            node: Set(self.node.clone()),
            scheduled_for: Set(Some(plan.scheduled_for)),
            window_end: Set(Some(plan.window_end)),
            schedule_note: Set(Some(plan.note)),
            upcoming_sent: Set(false),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        let mut replaced_id = None;
        if let Some(other) = waiting {
            let error = ErrorBody {
                code: "replaced".into(),
                message: format!("Replaced by job {}, scheduled by {by}.", row.id),
            };
            if end_waiting(&txn, other.id, JobState::Cancelled, &error).await? {
                replaced_id = Some(other.id);
            }
        }
        txn.commit().await?;
        let info = info_from_row(row)?;
        let replaced = match replaced_id {
            Some(id) => self.get(id).await?,
            None => None,
        };
        if let Some(old) = &replaced {
            self.events.publish(ServerEvent::Job(old.clone()));
        }
        self.events.publish(ServerEvent::Job(info.clone()));
        Ok((info, replaced))
    }

    /// Moves a waiting job to another window, saying why.
    pub async fn reschedule(
        &self,
        id: i64,
        scheduled_for: DateTime<Utc>,
        window_end: DateTime<Utc>,
        note: String,
    ) -> Result<Option<JobInfo>, ServiceError> {
        let moved = job::Entity::update_many()
            .col_expr(job::Column::ScheduledFor, Expr::value(scheduled_for))
            .col_expr(job::Column::WindowEnd, Expr::value(window_end))
            .col_expr(job::Column::ScheduleNote, Expr::value(note))
            .col_expr(job::Column::UpcomingSent, Expr::value(false))
            .filter(job::Column::Id.eq(key(id)?))
            .filter(job::Column::State.eq(JobState::Scheduled.as_str()))
            .exec(&self.db)
            .await?;
        if moved.rows_affected == 0 {
            return Ok(None);
        }
        let info = self.get(id).await?;
        if let Some(info) = &info {
            self.events.publish(ServerEvent::Job(info.clone()));
        }
        Ok(info)
    }

    /// Changes only the note of a waiting job (what it waits for now).
    pub async fn note_scheduled(&self, id: i64, note: String) -> Result<(), ServiceError> {
        let changed = job::Entity::update_many()
            .col_expr(job::Column::ScheduleNote, Expr::value(note))
            .filter(job::Column::Id.eq(key(id)?))
            .filter(job::Column::State.eq(JobState::Scheduled.as_str()))
            .exec(&self.db)
            .await?;
        if changed.rows_affected > 0
            && let Some(info) = self.get(id).await?
        {
            self.events.publish(ServerEvent::Job(info));
        }
        Ok(())
    }

    /// Ends a waiting job as cancelled or failed; `None` when it was not waiting (it started or
    /// ended already).
    pub async fn end_scheduled(
        &self,
        id: i64,
        state: JobState,
        error: ErrorBody,
    ) -> Result<Option<JobInfo>, ServiceError> {
        let _deciding = self.starting.lock().await;
        if !end_waiting(&self.db, id, state, &error).await? {
            return Ok(None);
        }
        let info = self.get(id).await?;
        if let Some(info) = &info {
            self.events.publish(ServerEvent::Job(info.clone()));
            if state == JobState::Failed
                && let Some(notifier) = &self.notifier
            {
                notifier.job_changed(info).await;
            }
        }
        Ok(info)
    }

    /// Records that `job.upcoming` was sent for a waiting job.
    pub async fn mark_upcoming_sent(&self, id: i64) -> Result<(), ServiceError> {
        job::Entity::update_many()
            .col_expr(job::Column::UpcomingSent, Expr::value(true))
            .filter(job::Column::Id.eq(key(id)?))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Whether `job.upcoming` was sent for a waiting job.
    pub async fn upcoming_sent(&self, id: i64) -> Result<bool, ServiceError> {
        Ok(job::Entity::find_by_id(key(id)?)
            .one(&self.db)
            .await?
            .is_some_and(|row| row.upcoming_sent))
    }

    /// Starts a waiting job: it becomes running with its stages (none started), with the levels
    /// as planned now; `JobRunning` while another job runs, `job_not_scheduled` when it is no
    /// longer waiting.
    pub async fn start_scheduled(
        &self,
        id: i64,
        levels: (PatchLevel, PatchLevel),
        stages: &[Stage],
    ) -> Result<(JobInfo, JobHandle), ServiceError> {
        let _deciding = self.starting.lock().await;
        if let Some(other) = self.running().await.first() {
            return Err(super::busy(other));
        }
        let level = |n: PatchLevel| i32::try_from(n.0).unwrap_or(i32::MAX);
        let job_key = key(id)?;
        let txn = crate::storage::db::begin_write(&self.db).await?;
        let started = job::Entity::update_many()
            .col_expr(job::Column::State, Expr::value(JobState::Running.as_str()))
            .col_expr(job::Column::StartedAt, Expr::value(Utc::now()))
            .col_expr(job::Column::FromLevel, Expr::value(level(levels.0)))
            .col_expr(job::Column::ToLevel, Expr::value(level(levels.1)))
            .col_expr(
                job::Column::ScheduleNote,
                Expr::value(Option::<String>::None),
            )
            .filter(job::Column::Id.eq(job_key))
            .filter(job::Column::State.eq(JobState::Scheduled.as_str()))
            .exec(&txn)
            .await?;
        if started.rows_affected == 0 {
            return Err(ServiceError::NotScheduled { job: id });
        }
        let stage_rows = super::insert_stages(&txn, job_key, stages).await?;
        txn.commit().await?;
        let row = job::Entity::find_by_id(job_key)
            .one(&self.db)
            .await?
            .ok_or_else(|| ServiceError::Corrupt(format!("job {id} vanished")))?;
        let mut info = info_from_row(row)?;
        info.stages = stage_rows
            .into_iter()
            .map(stage_from_row)
            .collect::<Result<_, _>>()?;
        let cancel = Arc::new(AtomicBool::new(false));
        self.running.write().await.insert(
            id,
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
        Ok((
            info,
            JobHandle {
                jobs: self.clone(),
                id,
                cancel,
            },
        ))
    }
}

/// Ends a waiting job; false when it was not waiting.
async fn end_waiting(
    db: &impl sea_orm::ConnectionTrait,
    id: i64,
    state: JobState,
    error: &ErrorBody,
) -> Result<bool, ServiceError> {
    let ended = job::Entity::update_many()
        .col_expr(job::Column::State, Expr::value(state.as_str()))
        .col_expr(job::Column::ErrorCode, Expr::value(error.code.clone()))
        .col_expr(
            job::Column::ErrorMessage,
            Expr::value(error.message.clone()),
        )
        .col_expr(job::Column::FinishedAt, Expr::value(Utc::now()))
        .filter(job::Column::Id.eq(key(id)?))
        .filter(job::Column::State.eq(JobState::Scheduled.as_str()))
        .exec(db)
        .await?;
    Ok(ended.rows_affected == 1)
}

fn key(id: i64) -> Result<i32, ServiceError> {
    i32::try_from(id).map_err(|_| ServiceError::JobNotFound(id))
}

/// "The install of Patch 6.4.0.5" / "The rollback".
pub fn describe(job: &JobInfo) -> String {
    match (job.kind, job.patch) {
        (JobKind::Install, Some(patch)) => format!("The install of Patch {patch}"),
        (JobKind::Rollback, _) => "The rollback to the base release".to_owned(),
        (kind, _) => format!("A {}", kind.as_str()),
    }
}
