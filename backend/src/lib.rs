//! The SMS server: JSON API, storage, the web client's files, and the `sms` command line.
//!
//! The modules are layers that only point down (`backend/layers.txt`, `docs/architecture.md`):
//! `cli` -> `app` -> `http` -> `workflow` -> `config` -> `service` -> `package` / `storage` /
//! `net` / `clock` / `values`; `tools` (the TMC server and the device simulator) stand beside
//! `http`.

pub mod app;
pub mod cli;
pub mod clock;
pub mod config;
pub mod http;
pub mod net;
pub mod package;
pub mod service;
pub mod storage;
pub mod tools;
pub mod values;
pub mod workflow;

pub use app::startup::Application;
pub use http::router::router;
