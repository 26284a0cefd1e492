//! Services: one concern each (auth, audit, settings, jobs, events, the patch repository, the
//! TMC sync, devices, the cluster lease and peer, the installed state, the data dir's free
//! space). A service gets the handles it uses, never the application's state, and knows
//! nothing of HTTP.

pub mod audit;
pub mod auth;
pub mod backoff;
pub mod backups;
pub mod certificate;
pub mod cluster;
pub mod devices;
pub mod disk;
pub mod error;
pub mod events;
pub mod installed;
pub mod jobs;
pub mod metrics;
pub mod notify;
pub mod outbound;
pub mod repository;
pub mod schema;
pub mod settings;
pub mod throttle;
pub mod tmc;

pub use audit::{Audit, AuditEvent};
pub use auth::{Auth, AuthenticatedUser};
pub use error::ServiceError;
pub use installed::Installed;
pub use repository::PatchRepository;
pub use settings::SettingsService;
