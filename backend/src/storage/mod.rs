//! Where the server keeps things: the database (connection and entities) and the install root.

pub mod db;
pub mod entity;
pub mod files;
pub mod install_root;
pub mod levels;
