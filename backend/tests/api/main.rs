//! Integration tests: the real server on 127.0.0.1:0 with a fresh database per test.

mod helpers;

mod api;
mod auth;
mod cli;
mod client;
mod cluster;
mod devices;
mod import;
mod install;
mod packages;
mod static_files;
mod storage;
mod tmc;
