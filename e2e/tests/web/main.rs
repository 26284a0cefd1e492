//! Browser tests: the SMS web client in headless Chromium against the real server, one test
//! binary for all of them (one link instead of one per file).

mod accessibility;
mod backups;
mod browser;
mod client;
mod cluster;
mod feed;
mod import;
mod install;
mod keyboard;
mod maintenance;
mod patches;
