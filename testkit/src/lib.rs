//! What the API tests, the browser tests and the benches share, so each piece exists once:
//!
//! - [`vendor`]: a vendor signing key made at run time and a builder of signed patch packages;
//! - [`pg`]: a fresh PostgreSQL database per test, dropped at the end;
//! - [`disk`]: a real small file system (a tmpfs) to fill up;
//! - [`app`]: the real server in-process on `127.0.0.1:0` ([`spawn_app`], [`TestApp`]);
//! - [`api`]: an HTTP client with a method per endpoint ([`Api`]), for any running server;
//! - [`process`]: the `sms` binary's `serve` as a child process;
//! - [`seed`]: rows in numbers no real flow makes quickly (a long history);
//! - [`wait`]: [`eventually`], to wait for a condition instead of for time.

pub mod api;
pub mod app;
pub mod disk;
pub mod pg;
pub mod process;
pub mod seed;
pub mod vendor;
pub mod wait;

pub use api::{ADMIN_PASSWORD, Api, assert_error, client_from, new_client};
pub use app::{
    OPERATOR, OPERATOR_PASSWORD, TestApp, free_ports, spawn_app, spawn_app_on_postgres,
    spawn_app_with, test_config,
};
pub use pg::PgTestDb;
pub use vendor::Vendor;
pub use wait::{eventually, eventually_every};
