//! The SMS server: JSON API, storage, the web client's files, and the `sms` command line.

pub mod cli;
pub mod config;
pub mod db;
pub mod devices;
pub mod entity;
pub mod error;
pub mod extract;
pub mod handlers;
pub mod install;
pub mod lifecycle;
pub mod package;
pub mod remote;
pub mod router;
pub mod service;
pub mod startup;
pub mod state;
pub mod static_files;
pub mod tmc;

pub use router::router;
pub use startup::Application;
pub use state::AppState;
