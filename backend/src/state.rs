//! The application state every handler receives.

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::config::Config;
use crate::package::TrustedKeys;
use crate::service::download::Downloader;
use crate::service::events::Events;
use crate::service::jobs::Jobs;
use crate::service::tmc::TmcSync;
use crate::service::{Audit, Auth, Installed, PatchRepository, SettingsService};

/// Shared by every request; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: DatabaseConnection,
    pub auth: Auth,
    pub audit: Audit,
    pub installed: Installed,
    pub settings: SettingsService,
    pub repository: PatchRepository,
    pub events: Events,
    pub jobs: Jobs,
    pub tmc: Arc<TmcSync>,
}

impl AppState {
    pub fn new(config: Config, db: DatabaseConnection, keys: TrustedKeys) -> anyhow::Result<Self> {
        let keys = Arc::new(keys);
        let events = Events::new();
        let tmc = TmcSync::new(
            db.clone(),
            keys.clone(),
            events.clone(),
            config.tmc.url.clone(),
            config.tmc.interval,
            config.tmc.timeout,
        )?;
        Ok(Self {
            repository: PatchRepository::new(
                db.clone(),
                &config.storage.data_dir,
                keys,
                config.package_limits,
            ),
            jobs: Jobs::new(db.clone(), events.clone()),
            events,
            tmc,
            auth: Auth::new(db.clone(), config.auth.clone()),
            audit: Audit::new(db.clone()),
            installed: Installed::new(db.clone()),
            settings: SettingsService::new(db.clone()),
            config: Arc::new(config),
            db,
        })
    }

    /// What a download job needs.
    pub fn downloader(&self) -> Downloader {
        Downloader {
            tmc: self.tmc.clone(),
            repository: self.repository.clone(),
            jobs: self.jobs.clone(),
            events: self.events.clone(),
        }
    }
}
