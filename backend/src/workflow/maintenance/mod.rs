//! Maintenance windows, scheduled installs and rollbacks, and the automatic install policy
//! (docs/maintenance.md), each in a room of its own: the settings here, scheduling for later in
//! `schedule.rs` (an install or rollback *now* goes straight to the install engine), the loop
//! that starts scheduled jobs when their window opens, sends `job.upcoming` and `tmc.stale`
//! and runs the policy in `tick.rs`, and the policy in `policy.rs`. The window rule is
//! `shared::window`.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use shared::PatchId;
use shared::maintenance::{
    AutoInstallPolicy, MaintenanceSettings, MaintenanceView, PolicyFacts, auto_install_skip,
};
use shared::panel::ServerEvent;
use shared::window::{self, Opening, Window, parse_window};
use tokio::sync::Notify;

use crate::clock::Clock;
use crate::service::audit::AuditEvent;
use crate::service::jobs::{Jobs, describe};
use crate::service::notify::Notifier;
use crate::service::tmc::TmcSync;
use crate::service::{Audit, ServiceError, SettingsService};
use crate::workflow::download::Downloader;
use crate::workflow::install::{InstallEngine, PatchJobError};
use crate::workflow::panel::Panel;

mod policy;
mod schedule;
mod tick;

pub use schedule::Later;

/// The settings key of the windows and the policy.
const SETTINGS_KEY: &str = "maintenance";

/// The settings key of the last policy decision (so it is audited once).
const DECISION_KEY: &str = "auto_install_decision";

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
