//! HTTP handlers, one module per resource. They parse, call a service and map the result.

pub mod audit;
pub mod cluster;
pub mod devices;
pub mod events;
pub mod fallback;
pub mod health;
pub mod jobs;
pub mod panel;
pub mod patches;
pub mod patching;
pub mod server;
pub mod session;
pub mod settings;
pub mod tmc;
