//! Services: the server's business logic, called by handlers and the CLI.

pub mod audit;
pub mod auth;
pub mod installed;
pub mod repository;
pub mod settings;

pub use audit::{Audit, AuditEvent};
pub use auth::{Auth, AuthenticatedUser};
pub use installed::Installed;
pub use repository::PatchRepository;
pub use settings::SettingsService;
