//! One module per route of the app.

pub mod audit;
pub mod general;
pub mod import;
pub mod login;
pub mod not_found;

pub use audit::AuditPage;
pub use general::GeneralPage;
pub use import::ImportPatchPage;
pub use login::LoginPage;
pub use not_found::NotFound;
