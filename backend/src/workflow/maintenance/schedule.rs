//! Installs and rollbacks scheduled for later: at a time, or in the next maintenance window.
//! One job waits at a time; the loop (`tick.rs`) starts it when its window opens. An install or
//! rollback *now* does not come here: it goes straight to the install engine.

use chrono::{DateTime, TimeDelta, Utc};
use shared::api::ErrorBody;
use shared::maintenance::When;
use shared::panel::{JobInfo, JobKind, JobState};
use shared::window::{self, Opening};
use shared::{PatchId, PatchLevel};

use super::{Maintenance, ScheduleError, parsed};
use crate::service::ServiceError;
use crate::service::audit::AuditEvent;
use crate::service::jobs::Scheduled;
use crate::workflow::download::{DownloadError, installed_level};

/// A time asked for (not a window) may start this long after it.
const AT_WINDOW: TimeDelta = TimeDelta::hours(1);

/// When a scheduled job is to run: never *now* (that is the install engine's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Later {
    /// In the next maintenance window (or the one open now).
    NextWindow,
    /// At this time (within an hour of it).
    At(DateTime<Utc>),
}

impl Later {
    /// The later time of a request's `when`; none for `now`.
    pub fn of(when: When) -> Option<Self> {
        match when {
            When::Now => None,
            When::NextWindow => Some(Later::NextWindow),
            When::At(at) => Some(Later::At(at)),
        }
    }
}

impl Maintenance {
    /// `POST /api/v1/patches/{id}/install` with a later `when`: the install waits for it.
    pub async fn schedule_install(
        &self,
        id: PatchId,
        when: Later,
        replace: bool,
        actor: &str,
        source: Option<String>,
    ) -> Result<JobInfo, ScheduleError> {
        let opening = self.opening_for(when).await?;
        let check = self.patching.check_install(id).await?;
        if check.needs_download {
            self.download(id, actor, source.clone()).await?;
        }
        let note = note_for(when, &opening, check.needs_download);
        let scheduled = Scheduled {
            kind: JobKind::Install,
            patch: Some(id),
            levels: (check.from, check.to),
            scheduled_for: opening.start,
            window_end: opening.end,
            note,
        };
        self.enqueue(scheduled, replace, "install_schedule", actor, source)
            .await
    }

    /// `POST /api/v1/rollback` with a later `when`: the rollback waits for it.
    pub async fn schedule_rollback(
        &self,
        when: Later,
        replace: bool,
        actor: &str,
        source: Option<String>,
    ) -> Result<JobInfo, ScheduleError> {
        let opening = self.opening_for(when).await?;
        let from = self.patching.check_rollback().await?;
        let scheduled = Scheduled {
            kind: JobKind::Rollback,
            patch: None,
            levels: (from, PatchLevel::NONE),
            scheduled_for: opening.start,
            window_end: opening.end,
            note: note_for(when, &opening, false),
        };
        self.enqueue(scheduled, replace, "rollback_schedule", actor, source)
            .await
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

    async fn opening_for(&self, when: Later) -> Result<Opening, ServiceError> {
        let now = self.clock.now();
        match when {
            Later::At(at) => {
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
            Later::NextWindow => {
                let settings = self.settings().await?;
                window::current_or_next(&parsed(&settings, now), now)
                    .ok_or(ServiceError::NoMaintenanceWindow)
            }
        }
    }

    pub(super) async fn download(
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

    /// Puts `scheduled` in the queue (in place of the waiting job with `replace`), audits it
    /// as `action` and wakes the loop that starts it.
    async fn enqueue(
        &self,
        scheduled: Scheduled,
        replace: bool,
        action: &'static str,
        actor: &str,
        source: Option<String>,
    ) -> Result<JobInfo, ScheduleError> {
        let (job, replaced) = self.jobs.schedule(scheduled, replace, actor).await?;
        self.audit_scheduled(action, &job, replaced.as_ref(), actor, source)
            .await?;
        self.wake.notify_one();
        Ok(job)
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
}

fn note_for(when: Later, opening: &Opening, downloading: bool) -> String {
    let at = opening.start.format("%Y-%m-%d %H:%M UTC");
    let mut note = match when {
        Later::NextWindow => format!(
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
