//! Where the server keeps things: the database (connection and entities), its backups, the
//! install root, and the room left on the data dir's file system.

pub mod backup;
pub mod db;
pub mod entity;
pub mod executable;
pub mod files;
pub mod install_root;
pub mod levels;
pub mod restore;
pub mod space;
