//! The maintenance loop: starts the scheduled job when its window opens (or moves it to the
//! next window when it could not start in its own), sends `job.upcoming` and `tmc.stale`, and
//! lets the automatic install policy look again.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use shared::api::ErrorBody;
use shared::notify::EventType;
use shared::panel::{JobInfo, JobKind, JobState, TmcConnection};
use shared::window;

use super::{Maintenance, ScheduleError, parsed};
use crate::service::ServiceError;
use crate::service::jobs::describe;
use crate::service::notify::Notice;
use crate::workflow::install::JobErrorKind;

/// The settings key of the last success `tmc.stale` was sent for.
const STALE_KEY: &str = "tmc_stale_notified";

/// How often the loop looks, in the clock's time at most this much real time.
const TICK: Duration = Duration::from_secs(1);

impl Maintenance {
    /// The loop: starts scheduled jobs when their time comes, sends `job.upcoming` and
    /// `tmc.stale`, and runs the policy; until the task is stopped.
    pub async fn run(self) {
        let mut stale_for: Option<DateTime<Utc>> = self
            .settings
            .get_json::<DateTime<Utc>>(STALE_KEY)
            .await
            .ok()
            .flatten();
        // The TMC's times are the system clock's, and so is staleness.
        let started = Utc::now();
        let mut last_policy = None;
        loop {
            if let Err(err) = self.tick_scheduled().await {
                tracing::error!("cannot look at the scheduled job: {err}");
            }
            if let Err(err) = self.check_stale(Utc::now(), started, &mut stale_for).await {
                tracing::error!("cannot check whether the TMC is stale: {err}");
            }
            // The policy looks again after every TMC sync (the serial changes), every change
            // of the settings (they wake the loop), and once a minute.
            let now = self.clock.now();
            let serial = self.tmc.status().await.serial;
            let key = (serial, now.timestamp() / 60);
            if last_policy != Some(key) {
                last_policy = Some(key);
                if let Err(err) = self.run_policy().await {
                    tracing::error!("the automatic install policy cannot decide: {err}");
                }
            }
            tokio::select! {
                () = self.wake.notified() => { last_policy = None; }
                () = tokio::time::sleep(TICK) => {}
            }
        }
    }

    async fn tick_scheduled(&self) -> Result<(), ServiceError> {
        let Some(job) = self.jobs.scheduled().await? else {
            return Ok(());
        };
        let (Some(start), Some(end)) = (job.scheduled_for, job.window_end) else {
            return Ok(());
        };
        let now = self.clock.now();
        let upcoming = self.notifier.config().upcoming_before;
        if now < end
            && start - now <= TimeDelta::from_std(upcoming).unwrap_or(TimeDelta::MAX)
            && !self.jobs.upcoming_sent(job.id).await?
        {
            self.jobs.mark_upcoming_sent(job.id).await?;
            self.notifier
                .emit(
                    Notice::new(
                        EventType::JobUpcoming,
                        format!(
                            "{} on SMS server {} is scheduled to start at {}.",
                            describe(&job),
                            self.node_name,
                            start.format("%Y-%m-%d %H:%M UTC")
                        ),
                    )
                    .with("job", job.id)
                    .with("starts_at", start.to_rfc3339())
                    .with("window_end", end.to_rfc3339())
                    .with(
                        "patch",
                        job.patch.map(|p| p.to_string()).unwrap_or_default(),
                    )
                    .with("by", job.started_by.clone()),
                )
                .await;
        }
        if now < start {
            return Ok(());
        }
        if now >= end {
            return self.missed(&job, start, end, now).await;
        }
        self.try_start(&job).await
    }

    /// The job's window is open: start it, unless something is in the way (then say what).
    async fn try_start(&self, job: &JobInfo) -> Result<(), ServiceError> {
        if let Some(other) = self.jobs.running().await.into_iter().next() {
            let waiting = if other.kind == JobKind::Download && Some(other.patch) == Some(job.patch)
            {
                format!(
                    "Waiting for the download of its package (job {}).",
                    other.id
                )
            } else {
                format!(
                    "Waiting: job {} ({}) is running; it starts when that ends, while its window \
                     is open.",
                    other.id,
                    other.kind.as_str()
                )
            };
            if job.schedule_note.as_deref() != Some(waiting.as_str()) {
                self.jobs.note_scheduled(job.id, waiting).await?;
            }
            return Ok(());
        }
        let started = match (job.kind, job.patch) {
            (JobKind::Install, Some(patch)) => {
                match self.patching.start_scheduled_install(job.id, patch).await {
                    Err(err) if err.kind == JobErrorKind::NotDownloaded => {
                        // Its download failed or never ran: try once more, and wait.
                        let source = None;
                        if let Err(err) = self.download(patch, &job.started_by, source).await {
                            let refused = match err {
                                ScheduleError::Refused(refused) => refused.body(),
                                ScheduleError::Service(err) => ErrorBody {
                                    code: "download_failed".into(),
                                    message: err.to_string(),
                                },
                            };
                            self.jobs
                                .end_scheduled(job.id, JobState::Failed, refused)
                                .await?;
                        } else {
                            self.jobs
                                .note_scheduled(
                                    job.id,
                                    "Its package was not in the patch repository; downloading \
                                     it again, then it starts."
                                        .into(),
                                )
                                .await?;
                        }
                        return Ok(());
                    }
                    other => other,
                }
            }
            (JobKind::Rollback, _) => self.patching.start_scheduled_rollback(job.id).await,
            _ => return Ok(()),
        };
        match started {
            Ok(info) => {
                tracing::info!(job = info.id, "a scheduled job started in its window");
                Ok(())
            }
            // Another job got in first: look again at the next tick.
            Err(err)
                if matches!(
                    err.kind,
                    JobErrorKind::AnotherJobRuns | JobErrorKind::NoLongerScheduled
                ) =>
            {
                Ok(())
            }
            Err(err) => {
                tracing::warn!(
                    job = job.id,
                    code = err.code,
                    "a scheduled job cannot start: {err}"
                );
                self.jobs
                    .end_scheduled(job.id, JobState::Failed, err.body())
                    .await?;
                Ok(())
            }
        }
    }

    /// The window ended before the job could start: the next window, or failed.
    async fn missed(
        &self,
        job: &JobInfo,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), ServiceError> {
        let settings = self.settings().await?;
        let windows = parsed(&settings, now);
        let why = match job.schedule_note.as_deref() {
            Some(note) if note.starts_with("Waiting") => {
                format!("({})", note.trim_end_matches('.'))
            }
            _ => "(the server was not running, or was busy)".to_owned(),
        };
        let window = format!(
            "{} - {}",
            start.format("%Y-%m-%d %H:%M"),
            end.format("%H:%M UTC")
        );
        match window::current_or_next(&windows, now) {
            Some(next) => {
                let note = format!(
                    "It could not start in its window {window} {why}; it waits for the next \
                     window, which opens {}.",
                    next.start.format("%Y-%m-%d %H:%M UTC")
                );
                tracing::info!(job = job.id, "{note}");
                self.jobs
                    .reschedule(job.id, next.start, next.end, note)
                    .await?;
            }
            None => {
                self.jobs
                    .end_scheduled(
                        job.id,
                        JobState::Failed,
                        ErrorBody {
                            code: "window_missed".into(),
                            message: format!(
                                "It could not start in its window {window} {why}, and no \
                                 maintenance window is set to wait for. Schedule it again."
                            ),
                        },
                    )
                    .await?;
            }
        }
        Ok(())
    }

    /// `tmc.stale`, once per last success, when the TMC has not been reached for
    /// `[notify] tmc_stale_after`.
    async fn check_stale(
        &self,
        now: DateTime<Utc>,
        started: DateTime<Utc>,
        stale_for: &mut Option<DateTime<Utc>>,
    ) -> Result<(), ServiceError> {
        let status = self.tmc.status().await;
        if status.connection == TmcConnection::NotConfigured {
            return Ok(());
        }
        let since = status.last_success.unwrap_or(started);
        let after =
            TimeDelta::from_std(self.notifier.config().tmc_stale_after).unwrap_or(TimeDelta::MAX);
        if now - since < after || *stale_for == Some(since) {
            return Ok(());
        }
        *stale_for = Some(since);
        self.settings
            .set_json(STALE_KEY, &since, "system", None)
            .await?;
        let hours = (now - since).num_minutes() as f64 / 60.0;
        let notice = Notice::new(
            EventType::TmcStale,
            format!(
                "SMS server {} has not reached the TMC for {hours:.1} hours: it may not learn of \
                 new patches. {}",
                self.node_name,
                status.message.clone().unwrap_or_default()
            )
            .trim_end()
            .to_owned(),
        )
        .with(
            "last_success",
            status
                .last_success
                .map(|t| t.to_rfc3339())
                .unwrap_or_default(),
        )
        .with("url", status.url.clone().unwrap_or_default());
        self.notifier.emit(notice).await;
        Ok(())
    }
}
