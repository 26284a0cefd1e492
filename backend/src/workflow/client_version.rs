//! The client version the server requires (`shared::client`), worked out from the installed
//! level and the patches this server knows (patch repository and TMC catalog). The check that
//! holds web clients to it is `http::middleware::hold_web_clients`.

use std::sync::{Arc, RwLock};

use shared::client::{ClientPatch, ClientVersion, required_client};

use crate::service::tmc::TmcSync;
use crate::service::{Installed, PatchRepository, ServiceError};

/// The client version this application requires and serves: worked out when it starts
/// ([`ClientVersions::refresh`]), read by every API request.
#[derive(Clone)]
pub struct ClientVersions {
    installed: Installed,
    repository: PatchRepository,
    tmc: Arc<TmcSync>,
    current: Arc<RwLock<ClientVersion>>,
}

impl ClientVersions {
    /// Starts at the base release's client (the product version, client level 0).
    pub fn new(
        installed: Installed,
        repository: PatchRepository,
        tmc: Arc<TmcSync>,
        product_version: shared::ProductVersion,
    ) -> Self {
        Self {
            installed,
            repository,
            tmc,
            current: Arc::new(RwLock::new(shared::Build {
                version: product_version,
                number: 0,
            })),
        }
    }

    /// The web client version this application requires and serves.
    pub fn current(&self) -> ClientVersion {
        match self.current.read() {
            Ok(version) => *version,
            Err(poisoned) => *poisoned.into_inner(),
        }
    }

    /// Works out the required client version again; called as the application starts (and
    /// restarts) and when a start settled the level.
    pub async fn refresh(&self) -> Result<ClientVersion, ServiceError> {
        let version = self.required().await?;
        match self.current.write() {
            Ok(mut slot) => *slot = version,
            Err(poisoned) => *poisoned.into_inner() = version,
        }
        Ok(version)
    }

    /// The client version this server requires now.
    async fn required(&self) -> Result<ClientVersion, ServiceError> {
        let installed = self.installed.get().await?;
        let mut patches: Vec<ClientPatch> = self
            .repository
            .list()
            .await?
            .into_iter()
            .filter(|p| p.product_version == installed.product_version)
            .map(|p| ClientPatch {
                patch: p.patch,
                updates_client: p.updates.updates_client(),
            })
            .collect();
        for row in self.tmc.catalog().await? {
            let Some(id) = crate::service::tmc::row_id(&row) else {
                continue;
            };
            if id.product_version() != installed.product_version {
                continue;
            }
            let updates: Result<shared::effects::Updates, _> = row.updates.parse();
            if let Ok(updates) = updates {
                patches.push(ClientPatch {
                    patch: id.patch(),
                    updates_client: updates.updates_client(),
                });
            }
        }
        Ok(required_client(
            installed.product_version,
            installed.patch_level,
            &patches,
        ))
    }
}
