//! Services: the server's business logic, called by handlers and the CLI.

pub mod audit;
pub mod auth;
pub mod client;
pub mod cluster;
pub mod devices;
pub mod download;
pub mod events;
pub mod installed;
pub mod jobs;
pub mod panel;
pub mod patching;
pub mod repository;
pub mod settings;
pub mod tmc;

pub use audit::{Audit, AuditEvent};
pub use auth::{Auth, AuthenticatedUser};
pub use installed::Installed;
pub use repository::PatchRepository;
pub use settings::SettingsService;
