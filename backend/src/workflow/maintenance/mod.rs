//! Maintenance windows, scheduled installs and rollbacks, and the automatic install policy
//! (docs/maintenance.md). The window rule is `shared::window`; this flow keeps the settings,
//! schedules jobs, starts them when their window opens (or moves them to the next one when they
//! cannot start in theirs), sends `job.upcoming` and `tmc.stale`, and runs the policy.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use shared::api::ErrorBody;
use shared::maintenance::{
    AutoInstallPolicy, MaintenanceSettings, MaintenanceView, PolicyFacts, When, auto_install_skip,
};
use shared::notify::EventType;
use shared::panel::{JobInfo, JobKind, JobState, ServerEvent, TmcConnection};
use shared::window::{self, Opening, Window, parse_window};
use shared::{PatchId, PatchLevel};
use tokio::sync::Notify;

use crate::config::operations::Clock;
use crate::service::audit::AuditEvent;
use crate::service::jobs::{Jobs, Scheduled, describe};
use crate::service::notify::{Notice, Notifier};
use crate::service::tmc::TmcSync;
use crate::service::{Audit, ServiceError, SettingsService};
use crate::workflow::download::{DownloadError, Downloader, installed_level};
use crate::workflow::install::{InstallEngine, JobErrorKind, PatchJobError};
use crate::workflow::panel::Panel;

mod policy;

/// The settings key of the windows and the policy.
const SETTINGS_KEY: &str = "maintenance";

/// The settings key of the last policy decision (so it is audited once).
const DECISION_KEY: &str = "auto_install_decision";

/// The settings key of the last success `tmc.stale` was sent for.
const STALE_KEY: &str = "tmc_stale_notified";

/// A time asked for (not a window) may start this long after it.
const AT_WINDOW: TimeDelta = TimeDelta::hours(1);

/// How often the loop looks, in the clock's time at most this much real time.
const TICK: Duration = Duration::from_secs(1);

/// How many openings the view lists.
const OPENINGS: usize = 5;

/// Everything scheduling needs; cheap to clone.
#[derive(Clone)]
pub struct Maintenance {
    pub settings: SettingsService,
    pub jobs: Jobs,
    pub patching: InstallEngine,
    pub downloads: Downloader,
    pub panel: Panel,
    pub tmc: Arc<TmcSync>,
    pub audit: Audit,
    pub notifier: Notifier,
    pub clock: Clock,
    pub node_name: String,
    pub wake: Arc<Notify>,
}

/// Why scheduling failed: a service error or a job refusal.
#[derive(Debug, thiserror::Error)]
pub enum ScheduleError {
    #[error(transparent)]
    Service(#[from] ServiceError),
    #[error(transparent)]
    Refused(#[from] PatchJobError),
}

impl Maintenance {
    /// The windows and the policy (defaults when never set).
    pub async fn settings(&self) -> Result<MaintenanceSettings, ServiceError> {
        Ok(self
            .settings
            .get_json::<MaintenanceSettings>(SETTINGS_KEY)
            .await?
            .unwrap_or_default())
    }

    /// `GET /api/v1/maintenance`.
    pub async fn view(&self) -> Result<MaintenanceView, ServiceError> {
        let settings = self.settings().await?;
        let now = self.clock.now();
        let windows = parsed(&settings, now);
        let mut openings: Vec<Opening> = windows
            .iter()
            .flat_map(|w| w.openings(now, OPENINGS))
            .collect();
        openings.sort_by_key(|o| o.start);
        openings.dedup();
        openings.truncate(OPENINGS);
        Ok(MaintenanceView {
            next_window: window::current_or_next(&windows, now),
            openings,
            scheduled: self.jobs.scheduled().await?,
            settings,
        })
    }

    /// `PUT /api/v1/maintenance`: checks every window, keeps them and the policy (audited as
    /// `maintenance_change`), and lets the policy look again.
    pub async fn update(
        &self,
        new: MaintenanceSettings,
        actor: &str,
        source: Option<String>,
    ) -> Result<MaintenanceView, ServiceError> {
        let now = self.clock.now();
        for (position, entry) in new.windows.iter().enumerate() {
            parse_window::<Tz>(entry, now).map_err(|error| ServiceError::BadWindow {
                position: position + 1,
                error,
            })?;
        }
        let details = format!(
            "{} window(s){}; automatic install {}",
            new.windows.len(),
            new.windows
                .iter()
                .map(|w| format!(
                    " [{} for {} min in {}]",
                    w.schedule, w.duration_minutes, w.time_zone
                ))
                .collect::<String>(),
            if new.policy.enabled { "on" } else { "off" }
        );
        self.settings
            .set_json(
                SETTINGS_KEY,
                &new,
                actor,
                Some(("maintenance_change", details, source)),
            )
            .await?;
        self.settings
            .set_json(DECISION_KEY, &Option::<String>::None, actor, None)
            .await?;
        self.panel.events.publish(ServerEvent::MaintenanceChanged);
        self.wake.notify_one();
        self.view().await
    }

    /// `POST /api/v1/patches/{id}/install` with a `when`.
    pub async fn schedule_install(
        &self,
        id: PatchId,
        when: When,
        replace: bool,
        actor: &str,
        source: Option<String>,
    ) -> Result<JobInfo, ScheduleError> {
        if when == When::Now {
            return Ok(self.patching.start_install(id, actor, source).await?);
        }
        let opening = self.opening_for(when).await?;
        let check = self.patching.check_install(id).await?;
        if check.needs_download {
            self.download(id, actor, source.clone()).await?;
        }
        let note = note_for(when, &opening, check.needs_download);
        let (job, replaced) = self
            .jobs
            .schedule(
                Scheduled {
                    kind: JobKind::Install,
                    patch: Some(id),
                    levels: (check.from, check.to),
                    scheduled_for: opening.start,
                    window_end: opening.end,
                    note,
                },
                replace,
                actor,
            )
            .await?;
        self.audit_scheduled("install_schedule", &job, replaced.as_ref(), actor, source)
            .await?;
        self.wake.notify_one();
        Ok(job)
    }

    /// `POST /api/v1/rollback` with a `when`.
    pub async fn schedule_rollback(
        &self,
        when: When,
        replace: bool,
        actor: &str,
        source: Option<String>,
    ) -> Result<JobInfo, ScheduleError> {
        if when == When::Now {
            return Ok(self.patching.start_rollback(actor, source).await?);
        }
        let opening = self.opening_for(when).await?;
        let from = self.patching.check_rollback().await?;
        let (job, replaced) = self
            .jobs
            .schedule(
                Scheduled {
                    kind: JobKind::Rollback,
                    patch: None,
                    levels: (from, PatchLevel::NONE),
                    scheduled_for: opening.start,
                    window_end: opening.end,
                    note: note_for(when, &opening, false),
                },
                replace,
                actor,
            )
            .await?;
        self.audit_scheduled("rollback_schedule", &job, replaced.as_ref(), actor, source)
            .await?;
        self.wake.notify_one();
        Ok(job)
    }

    /// Cancels a scheduled job before it starts; `None` when it is not waiting.
    pub async fn cancel(&self, id: i64, actor: &str) -> Result<Option<JobInfo>, ServiceError> {
        self.jobs
            .end_scheduled(
                id,
                JobState::Cancelled,
                ErrorBody {
                    code: "cancelled".into(),
                    message: format!("Cancelled by {actor} before it started."),
                },
            )
            .await
    }

    async fn opening_for(&self, when: When) -> Result<Opening, ServiceError> {
        let now = self.clock.now();
        match when {
            When::Now => Ok(Opening {
                start: now,
                end: now + AT_WINDOW,
            }),
            When::At(at) => {
                if at < now - TimeDelta::minutes(1) {
                    return Err(ServiceError::TimeInPast {
                        when: at.to_rfc3339(),
                        now: now.to_rfc3339(),
                    });
                }
                Ok(Opening {
                    start: at,
                    end: at + AT_WINDOW,
                })
            }
            When::NextWindow => {
                let settings = self.settings().await?;
                window::current_or_next(&parsed(&settings, now), now)
                    .ok_or(ServiceError::NoMaintenanceWindow)
            }
        }
    }

    async fn download(
        &self,
        id: PatchId,
        actor: &str,
        source: Option<String>,
    ) -> Result<(), ScheduleError> {
        let installed = self.patching.installed.get().await?;
        let level = installed_level(installed.product_version, installed.patch_level);
        match self.downloads.start(id, level, actor, source).await {
            Ok(job) => {
                tracing::info!(job = job.id, patch = %id, "downloading for a scheduled install");
                Ok(())
            }
            // Already on its way, or there: the scheduled install waits for it or uses it.
            Err(DownloadError::Running(..) | DownloadError::AlreadyDownloaded(_)) => Ok(()),
            Err(DownloadError::Service(err)) => Err(err.into()),
            Err(err) => Err(ServiceError::CannotDownload {
                patch: id,
                reason: err.to_string(),
            }
            .into()),
        }
    }

    async fn audit_scheduled(
        &self,
        action: &'static str,
        job: &JobInfo,
        replaced: Option<&JobInfo>,
        actor: &str,
        source: Option<String>,
    ) -> Result<(), ServiceError> {
        let mut details = format!(
            "job {} for {}",
            job.id,
            job.scheduled_for
                .map_or_else(String::new, |at| at.to_rfc3339())
        );
        if let Some(old) = replaced {
            details.push_str(&format!("; replaces job {}", old.id));
        }
        self.audit
            .record(
                AuditEvent::success(action, actor)
                    .target(
                        job.patch
                            .map_or_else(|| "level 0".to_owned(), |p| p.to_string()),
                    )
                    .details(details)
                    .source(source),
            )
            .await
    }

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

/// The windows that parse (the stored ones were checked when saved; a zone that a newer time
/// zone database dropped is skipped with a log line).
fn parsed(settings: &MaintenanceSettings, now: DateTime<Utc>) -> Vec<Window<Tz>> {
    settings
        .windows
        .iter()
        .filter_map(|entry| match parse_window::<Tz>(entry, now) {
            Ok(window) => Some(window),
            Err(err) => {
                tracing::warn!("a stored maintenance window is skipped: {err}");
                None
            }
        })
        .collect()
}

fn note_for(when: When, opening: &Opening, downloading: bool) -> String {
    let at = opening.start.format("%Y-%m-%d %H:%M UTC");
    let mut note = match when {
        When::NextWindow => format!(
            "Waits for the maintenance window that opens {at} (until {}).",
            opening.end.format("%H:%M UTC")
        ),
        _ => format!("Starts at {at}."),
    };
    if downloading {
        note.push_str(" Its package is being downloaded now.");
    }
    note
}
