//! The data dir's free space as the panel and the metrics show it, and the watch that warns
//! before it runs out: `disk.low` once until space is back (like `tmc.stale`), and the open
//! panels told to fetch the figure again when the warning comes or goes.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use shared::notify::EventType;
use shared::panel::{ServerEvent, StorageStatus};

use crate::service::events::Events;
use crate::service::notify::{Notice, Notifier};
use crate::service::{ServiceError, SettingsService};
use crate::storage::db::Db;
use crate::storage::space::Space;

/// How often the watch reads the free space.
const WATCH_EVERY: Duration = Duration::from_secs(30);

/// The settings key saying `disk.low` was sent and space has not come back since.
const LOW_KEY: &str = "disk_low_notified";

/// The data dir's file system, and what to do when it runs low.
#[derive(Clone)]
pub struct Disk {
    data_dir: PathBuf,
    /// `[storage] warn_free_mb` in bytes, when set.
    warn_free: Option<u64>,
    db: Db,
    settings: SettingsService,
    notifier: Notifier,
    events: Events,
    node_name: String,
    /// Whether the last check found it low (`None`: not checked yet).
    low: Arc<tokio::sync::Mutex<Option<bool>>>,
}

impl Disk {
    pub fn new(
        data_dir: PathBuf,
        warn_free: Option<u64>,
        db: Db,
        settings: SettingsService,
        notifier: Notifier,
        events: Events,
        node_name: String,
    ) -> Self {
        Self {
            data_dir,
            warn_free,
            db,
            settings,
            notifier,
            events,
            node_name,
            low: Arc::default(),
        }
    }

    /// The free space now, or `None` (logged) when it cannot be read.
    pub async fn status(&self) -> Option<StorageStatus> {
        match Space::read(&self.data_dir).await {
            Ok(space) => Some(StorageStatus {
                data_dir: self.data_dir.display().to_string(),
                free_bytes: space.free,
                total_bytes: space.total,
                warn_below_bytes: space.warn_below(self.warn_free),
                low: space.is_low(self.warn_free),
            }),
            Err(err) => {
                tracing::warn!(dir = %self.data_dir.display(), "cannot read the free space: {err}");
                None
            }
        }
    }

    /// Checks every [`WATCH_EVERY`]; until the task is stopped.
    pub async fn run(self) {
        let mut timer = tokio::time::interval(WATCH_EVERY);
        timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            timer.tick().await;
            if let Err(err) = self.check().await {
                // A full disk may refuse the record of the warning itself: the next check
                // tries again.
                tracing::warn!("cannot record the free-space warning: {err}; trying again soon");
            }
        }
    }

    /// Reads the free space once: when it falls below the threshold, `disk.low` is sent (once
    /// until space is back, across restarts too); when the warning comes or goes, the open
    /// panels fetch the figure again. Returns whether it is low.
    pub async fn check(&self) -> Result<bool, ServiceError> {
        let Some(status) = self.status().await else {
            return Ok(false);
        };
        let mut low = self.low.lock().await;
        if *low != Some(status.low) {
            self.events.publish(ServerEvent::PatchesChanged);
        }
        let notified = self
            .settings
            .get_json::<bool>(LOW_KEY)
            .await?
            .unwrap_or(false);
        if status.low && !notified {
            tracing::warn!(
                dir = %status.data_dir,
                free = status.free_bytes,
                "the data dir is running out of space"
            );
            // The record and the notification's deliveries commit together: neither is lost
            // nor sent twice when the disk refuses one of them.
            let txn = crate::storage::db::begin_write(&self.db).await?;
            self.settings
                .set_json_in(&txn, LOW_KEY, &true, "system")
                .await?;
            let queued = self.notifier.emit_with(&txn, &self.notice(&status)).await?;
            txn.commit().await?;
            if queued > 0 {
                self.notifier.wake();
            }
        } else if !status.low && notified {
            tracing::info!(dir = %status.data_dir, "the data dir has enough space again");
            self.settings
                .set_json(LOW_KEY, &false, "system", None)
                .await?;
        }
        *low = Some(status.low);
        Ok(status.low)
    }

    fn notice(&self, status: &StorageStatus) -> Notice {
        const MIB: u64 = 1 << 20;
        Notice::new(
            EventType::DiskLow,
            format!(
                "SMS server {} has {} MiB free in its data dir {} (it warns below {} MiB): \
                 downloads, imports and installs will be refused once they do not fit. Free \
                 space there.",
                self.node_name,
                status.free_bytes / MIB,
                status.data_dir,
                status.warn_below_bytes / MIB,
            ),
        )
        .with("data_dir", status.data_dir.clone())
        .with("free_bytes", status.free_bytes)
        .with("warn_below_bytes", status.warn_below_bytes)
    }
}
