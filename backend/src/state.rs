//! The application state every handler receives.

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::config::Config;
use crate::service::{Audit, Auth, Installed, SettingsService};

/// Shared by every request; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: DatabaseConnection,
    pub auth: Auth,
    pub audit: Audit,
    pub installed: Installed,
    pub settings: SettingsService,
}

impl AppState {
    pub fn new(config: Config, db: DatabaseConnection) -> Self {
        Self {
            auth: Auth::new(db.clone(), config.auth.clone()),
            audit: Audit::new(db.clone()),
            installed: Installed::new(db.clone()),
            settings: SettingsService::new(db.clone()),
            config: Arc::new(config),
            db,
        }
    }
}
