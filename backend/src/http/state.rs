//! What every handler receives: the services and flows of the running application. Built by
//! `app::state`; cheap to clone.

use std::sync::Arc;

use crate::config::Config;
use crate::package::TrustedKeys;
use crate::service::certificate::ServerCertificate;
use crate::service::cluster::Cluster;
use crate::service::devices::Devices;
use crate::service::events::Events;
use crate::service::jobs::Jobs;
use crate::service::notify::Notifier;
use crate::service::tmc::TmcSync;
use crate::service::{Audit, Auth, Installed, PatchRepository, SettingsService};
use crate::storage::db::Db;
use crate::storage::install_root::InstallRoot;
use crate::workflow::client_version::ClientVersions;
use crate::workflow::cluster::ClusterActions;
use crate::workflow::download::Downloader;
use crate::workflow::import::Importer;
use crate::workflow::install::InstallEngine;
use crate::workflow::life::ServerLife;
use crate::workflow::maintenance::Maintenance;
use crate::workflow::panel::Panel;

/// Shared by every request; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: Db,
    pub keys: Arc<TrustedKeys>,
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
    pub life: Arc<dyn ServerLife>,
    /// The managed IPS devices.
    pub devices: Devices,
    /// This node's part in an HA cluster (a single server: none).
    pub cluster: Cluster,
    /// The certificate served over HTTPS (plain HTTP: none).
    pub certificate: Option<ServerCertificate>,
    /// The web client version this application requires and serves.
    pub client: ClientVersions,
    /// The folder of the web client served: the current level's, or the built-in one.
    pub client_dir: std::path::PathBuf,
    /// The SMS Patches panel.
    pub panel: Panel,
    /// Downloads from the TMC.
    pub downloads: Downloader,
    /// Imports of package files.
    pub imports: Importer,
    /// Installs and rollbacks.
    pub patching: InstallEngine,
    /// The HA cluster's view and actions.
    pub cluster_actions: ClusterActions,
    /// Maintenance windows, scheduled jobs, the automatic install policy.
    pub maintenance: Maintenance,
    /// Notification targets, the outbox and the delivery log.
    pub notifier: Notifier,
    /// What `/metrics` shows.
    pub metrics: crate::service::metrics::Metrics,
    /// The data dir's free space and its warning.
    pub disk: crate::service::disk::Disk,
    /// The database's backups.
    pub backups: crate::service::backups::Backups,
}

impl AppState {
    /// The web client version this application requires and serves.
    pub fn required_client(&self) -> shared::client::ClientVersion {
        self.client.current()
    }
}
