//! One module per route of the app.

pub mod audit;
pub mod backups;
pub mod cluster;
pub mod details;
pub mod devices;
pub mod general;
pub mod import;
pub mod install;
pub mod login;
pub mod maintenance;
pub mod not_found;
pub mod notifications;
pub mod update;

pub use audit::AuditPage;
pub use backups::BackupsPage;
pub use cluster::ClusterPage;
pub use details::PatchDetailsPage;
pub use devices::DevicesPage;
pub use general::GeneralPage;
pub use import::ImportPatchPage;
pub use install::{InstallPage, RollbackPage};
pub use login::LoginPage;
pub use maintenance::MaintenancePage;
pub use not_found::NotFound;
pub use notifications::NotificationsPage;
pub use update::UpdatePage;
