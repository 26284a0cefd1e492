//! Integration tests: the real server on 127.0.0.1:0 with a fresh database per test.

// All of this crate is test code: a failed unwrap is a failed test. (clippy.toml's
// allow-unwrap-in-tests covers `#[test]` functions only, not the helpers beside them.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod api;
mod auth;
mod backups;
mod cli;
mod client;
mod cluster;
mod config;
mod devices;
mod disk;
mod hostile;
mod import;
mod install;
mod levels;
mod maintenance;
mod metrics;
mod notifications;
mod packages;
mod panel;
mod restore;
mod schema;
mod static_files;
mod stop;
mod storage;
mod systemd;
mod tls;
mod tmc;
mod tuf;
mod tuf_interop;
