//! The application state every handler receives.

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::config::Config;
use crate::package::TrustedKeys;
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
}

impl AppState {
    pub fn new(config: Config, db: DatabaseConnection, keys: TrustedKeys) -> Self {
        Self {
            repository: PatchRepository::new(
                db.clone(),
                &config.storage.data_dir,
                Arc::new(keys),
                config.package_limits,
            ),
            auth: Auth::new(db.clone(), config.auth.clone()),
            audit: Audit::new(db.clone()),
            installed: Installed::new(db.clone()),
            settings: SettingsService::new(db.clone()),
            config: Arc::new(config),
            db,
        }
    }
}
