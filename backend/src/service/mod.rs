//! Services: the server's business logic, called by handlers and the CLI.

pub mod audit;
pub mod auth;
pub mod installed;
pub mod settings;

pub use audit::{Audit, AuditEvent};
pub use auth::{Auth, AuthenticatedUser};
pub use installed::Installed;
pub use settings::SettingsService;
