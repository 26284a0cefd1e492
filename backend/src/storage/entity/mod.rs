//! sea-orm entities: the storage shape of each table. They never cross the HTTP boundary.

pub mod audit_log;
pub mod cluster;
pub mod device;
pub mod installed_state;
pub mod job;
pub mod job_stage;
pub mod notification_outbox;
pub mod notification_target;
pub mod patch;
pub mod patch_migration;
pub mod session;
pub mod setting;
pub mod tmc_patch;
pub mod tmc_state;
pub mod tuf_root;
pub mod user;
