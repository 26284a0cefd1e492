//! Domain rules and API types of the SMS patch manager.
//!
//! This crate builds for `wasm32-unknown-unknown` (the SPA) and natively (the server, the CLI);
//! server-only derives sit behind the `openapi` feature.

pub mod api;
pub mod backup;
pub mod client;
pub mod cluster;
pub mod devices;
pub mod effects;
pub mod job;
pub mod maintenance;
pub mod notify;
pub mod panel;
pub mod patch;
pub mod role;
pub mod rules;
pub mod text;
pub mod time;
pub mod tls;
pub mod version;
pub mod window;

pub use patch::{
    Applicability, OfferState, PatchId, PatchIdError, applicability, display_name, offers,
};
pub use role::Role;
pub use rules::{
    InstallCandidate, InstallRefusal, RollbackRefusal, install_refusal, level_in_words,
    rollback_refusal,
};
pub use version::{Build, PatchLevel, ProductVersion, VersionError};
