//! What the install and rollback flows work with: the services they change, the install root,
//! and the server's life.

use std::sync::Arc;

use shared::Build;

use crate::service::cluster::Cluster;
use crate::service::events::Events;
use crate::service::jobs::Jobs;
use crate::service::tmc::TmcSync;
use crate::service::{Installed, PatchRepository};
use crate::storage::install_root::InstallRoot;
use crate::workflow::client_version::ClientVersions;
use crate::workflow::life::ServerLife;

/// What installs and rollbacks use: the services they change, the install root, and the
/// server's life (stop clients, restart, reboot).
#[derive(Clone)]
pub struct InstallEngine {
    pub installed: Installed,
    pub repository: PatchRepository,
    pub tmc: Arc<TmcSync>,
    pub jobs: Jobs,
    pub events: Events,
    pub cluster: Cluster,
    pub install_root: InstallRoot,
    pub life: Arc<dyn ServerLife>,
    pub client: ClientVersions,
    /// The base release's build (level 0).
    pub base_build: Build,
    /// This node's name (fault injection may fail one node's post-check).
    pub node_name: String,
    /// `Config::fail_postcheck`: this node's post-check fails (fault-injection builds only).
    pub fail_postcheck: bool,
    /// How long a new level's server has to come up.
    pub start_timeout: std::time::Duration,
    /// The backup a patch that changes the database takes first.
    pub backups: crate::service::backups::Backups,
}

/// Runs file work off the async threads.
pub async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> std::io::Result<T> + Send + 'static,
) -> std::io::Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(std::io::Error::other)?
}
