//! The web client's rules that need no browser: which page an address shows, safe redirects,
//! words for sizes, durations and times, the data dir's free space, the job list, upload
//! progress, the database backups and their restore in words, the maintenance windows and the
//! notification targets and deliveries in words, and the TMC status in words.
//!
//! No Leptos, web-sys or wasm-bindgen here, so these rules and their tests build and run on the
//! host (`cargo test -p web-core`) without the browser stack; the web client (`frontend`, built
//! for wasm only) uses them as they are.

pub mod backups;
pub mod codes;
pub mod jobs;
pub mod maintenance;
pub mod notify;
pub mod paths;
pub mod restore;
pub mod routes;
pub mod storage;
pub mod times;
pub mod tmc;
pub mod upload;
pub mod verdict;
pub mod words;
