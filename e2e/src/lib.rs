//! Browser tests of the SMS web client: the real server, chromedriver and headless Chromium.
//!
//! Fixtures come in layers: `find` (selectors, the only place they live), `action` (what a user
//! does), `check` (what a user sees, waited for, never slept for), `keys` (what a keyboard-only
//! user does), `a11y` (axe-core's audit of a page). `harness` starts the parts;
//! `cluster` starts two nodes of an HA cluster; `tmc` a TMC; `webhook` a receiver of the
//! server's notifications. The test vendor and its packages, the server itself, the PostgreSQL
//! database and the waiting come from `testkit`.

pub mod a11y;
pub mod action;
pub mod check;
pub mod cluster;
pub mod find;
pub mod harness;
pub mod keys;
pub mod tmc;
pub mod tour;
pub mod webhook;

pub use harness::Browser;
pub use testkit::{ADMIN_PASSWORD, TestApp, Vendor};
