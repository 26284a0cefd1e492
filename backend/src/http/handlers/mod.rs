//! HTTP handlers, one module per resource. They parse, call a service or a flow, and map the result.

pub mod audit;
pub mod backups;
pub mod cluster;
pub mod devices;
pub mod events;
pub mod fallback;
pub mod health;
pub mod import;
pub mod install;
pub mod jobs;
pub mod maintenance;
pub mod metrics;
pub mod notifications;
pub mod patches;
pub mod server;
pub mod session;
pub mod settings;
pub mod tls;
pub mod tmc;
