//! Flows that use several services: installing and rolling back (with their stages and the
//! recovery at start), importing and downloading packages, the SMS Patches panel, the web
//! client version the server requires, and the HA cluster's actions. A flow gets the services
//! it uses and the server's life as a trait ([`life::ServerLife`]); none knows of HTTP.

pub mod client_version;
pub mod cluster;
pub mod download;
pub mod faults;
pub mod import;
pub mod install;
pub mod life;
pub mod maintenance;
pub mod panel;
