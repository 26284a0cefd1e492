//! The parts of the install and rollback confirmation pages: what an install or a rollback will
//! do (with the rule that refuses it, if one does), the choice of now or the next maintenance
//! window, and the job's stages live once it runs.

pub mod confirm_install;
pub mod confirm_rollback;
pub mod job_progress;
pub mod schedule;

pub use confirm_install::ConfirmInstall;
pub use confirm_rollback::ConfirmRollback;
pub use job_progress::JobProgress;
