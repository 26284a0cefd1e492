//! Browser tests of the SMS web client: the real server, chromedriver and headless Chromium.
//!
//! Fixtures come in layers: `find` (selectors, the only place they live), `action` (what a user
//! does), `check` (what a user sees, waited for, never slept for). `harness` starts the parts;
//! `packages` makes the files a user imports; `cluster` starts two nodes of an HA cluster.

pub mod action;
pub mod check;
pub mod cluster;
pub mod find;
pub mod harness;
pub mod packages;
pub mod tmc;

pub use harness::{ADMIN_PASSWORD, Browser, Server};
