//! Domain rules and API types of the SMS patch manager.
//!
//! This crate builds for `wasm32-unknown-unknown` (the SPA) and natively (the server, the CLI);
//! server-only derives sit behind the `openapi` feature.

pub mod api;
pub mod client;
pub mod cluster;
pub mod devices;
pub mod effects;
pub mod panel;
pub mod patch;
pub mod role;
pub mod version;

pub use patch::{
    Applicability, OfferState, PatchId, PatchIdError, applicability, display_name, offers,
};
pub use role::Role;
pub use version::{Build, PatchLevel, ProductVersion, VersionError};
