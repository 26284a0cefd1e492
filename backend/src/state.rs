//! The application state every handler receives.

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::config::Config;
use crate::install::InstallRoot;
use crate::lifecycle::Lifecycle;
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
    /// The base release and the staged patch levels, with the pointer to the current one.
    pub install_root: InstallRoot,
    /// Stopping clients, restarting, rebooting.
    pub lifecycle: Lifecycle,
    /// The managed IPS devices.
    pub devices: crate::service::devices::Devices,
    /// This node's part in an HA cluster (a single server: none).
    pub cluster: crate::service::cluster::Cluster,
    keys: Arc<TrustedKeys>,
    /// The web client version this application requires and serves (worked out when it
    /// starts: [`AppState::refresh_client`]).
    client: Arc<std::sync::RwLock<shared::client::ClientVersion>>,
}

impl AppState {
    /// Everything a fresh start needs; opens the install root (made on the first start).
    pub fn new(
        config: Config,
        db: DatabaseConnection,
        keys: TrustedKeys,
        lifecycle: Lifecycle,
        cluster: crate::service::cluster::Cluster,
    ) -> anyhow::Result<Self> {
        use anyhow::Context;
        let keys = Arc::new(keys);
        let install_root = InstallRoot::open(&config.storage.data_dir, &config.initial.build)
            .with_context(|| {
                format!(
                    "cannot open the install root in {}",
                    config.storage.data_dir.display()
                )
            })?;
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
            cluster,
            devices: crate::service::devices::Devices::new(
                db.clone(),
                events.clone(),
                config.device_poll_interval,
            )?,
            repository: PatchRepository::new(
                db.clone(),
                &config.storage.data_dir,
                keys.clone(),
                config.package_limits,
                config.node_key(),
            ),
            client: Arc::new(std::sync::RwLock::new(base_client(&config))),
            keys,
            install_root,
            lifecycle,
            jobs: Jobs::new(db.clone(), events.clone(), config.node_key()),
            events,
            tmc,
            auth: Auth::new(db.clone(), config.auth.clone()),
            audit: Audit::new(db.clone()),
            installed: Installed::new(db.clone(), config.node_key()),
            settings: SettingsService::new(db.clone()),
            config: Arc::new(config),
            db,
        })
    }

    /// The application built again after an in-process restart: every service anew from the
    /// configuration and the database; the event hub, the jobs, the TMC link and the lifecycle
    /// carry over (they belong to the process, not to one application).
    pub fn restarted(&self) -> anyhow::Result<Self> {
        let config = self.config.clone();
        let db = self.db.clone();
        Ok(Self {
            repository: PatchRepository::new(
                db.clone(),
                &config.storage.data_dir,
                self.keys.clone(),
                config.package_limits,
                config.node_key(),
            ),
            client: Arc::new(std::sync::RwLock::new(self.required_client())),
            keys: self.keys.clone(),
            install_root: self.install_root.clone(),
            lifecycle: self.lifecycle.clone(),
            devices: self.devices.clone(),
            cluster: self.cluster.clone(),
            jobs: self.jobs.clone(),
            events: self.events.clone(),
            tmc: self.tmc.clone(),
            auth: Auth::new(db.clone(), config.auth.clone()),
            audit: Audit::new(db.clone()),
            installed: Installed::new(db.clone(), config.node_key()),
            settings: SettingsService::new(db.clone()),
            config,
            db,
        })
    }

    /// The web client version this application requires and serves.
    pub fn required_client(&self) -> shared::client::ClientVersion {
        match self.client.read() {
            Ok(version) => *version,
            Err(poisoned) => *poisoned.into_inner(),
        }
    }

    /// Works out the required client version from the installed level and the known patches;
    /// called as the application starts (and restarts).
    pub async fn refresh_client(
        &self,
    ) -> Result<shared::client::ClientVersion, crate::error::ServiceError> {
        let version = crate::service::client::required(self).await?;
        match self.client.write() {
            Ok(mut slot) => *slot = version,
            Err(poisoned) => *poisoned.into_inner() = version,
        }
        Ok(version)
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

/// The client of the base release: the product version, client level 0.
fn base_client(config: &Config) -> shared::client::ClientVersion {
    shared::Build {
        version: config.initial.product_version,
        number: 0,
    }
}
