//! What a staged level holds (its server executable, web client and database migrations) and
//! why a level that did not come up was left (`start-failure.json`, the supervisor's record;
//! the confirmed level is beside the pointer, in `install_root.rs`).
//!
//! ```text
//! DATA_DIR/install/
//!   confirmed                 "3\n": the last level whose server came up (the switch-back target)
//!   start-failure.json        a level that did not come up, until its job has recorded it
//!   levels/N/server/bin/sms   the level's server executable (none: the base executable runs)
//!   levels/N/client/          the level's web client (none: the built-in client)
//!   levels/N/database/        NNNN-name.up.sql and .down.sql, cumulative
//! ```
//!
//! Blocking file system code: async callers run it with `spawn_blocking`.

use std::fs;
use std::io;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use shared::PatchLevel;

use crate::package::payload::{
    CLIENT_DIR, CLIENT_INDEX, DATABASE_DIR, Direction, SERVER_EXECUTABLE, parse_migration_file,
};
use crate::storage::files::{sync_dir, write_synced};
use crate::storage::install_root::InstallRoot;

const START_FAILURE: &str = "start-failure.json";

/// One migration of a level, as its staged files hold it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LevelMigration {
    pub number: u32,
    pub name: String,
    pub up_sql: String,
    pub down_sql: Option<String>,
    /// SHA-256 of `up_sql`, lowercase hex.
    pub sha256: String,
}

/// A level whose server did not come up, as the supervisor recorded it before switching back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartFailure {
    /// The level that did not come up.
    pub level: PatchLevel,
    /// The level switched back to.
    pub back_to: PatchLevel,
    /// What went wrong, in words ("exited with status 1", "not healthy within 30 s").
    pub reason: String,
    /// The last lines the server wrote.
    pub output: Vec<String>,
}

impl InstallRoot {
    /// The level's own server executable, when its package carries one.
    pub fn executable(&self, level: PatchLevel) -> Option<PathBuf> {
        let path = self.level_dir(level).join(SERVER_EXECUTABLE);
        path.is_file().then_some(path)
    }

    /// The level's own web client folder, when its package carries one.
    pub fn client_dir(&self, level: PatchLevel) -> Option<PathBuf> {
        let dir = self.level_dir(level).join(CLIENT_DIR);
        self.level_dir(level)
            .join(CLIENT_INDEX)
            .is_file()
            .then_some(dir)
    }

    /// The level's database migrations (cumulative), in number order; none at level 0.
    pub fn migrations(&self, level: PatchLevel) -> io::Result<Vec<LevelMigration>> {
        let dir = self.level_dir(level).join(DATABASE_DIR);
        if !dir.is_dir() {
            return Ok(Vec::new());
        }
        let mut ups = Vec::new();
        let mut downs = Vec::new();
        for entry in fs::read_dir(&dir)? {
            let entry = entry?;
            let file_name = entry.file_name().to_string_lossy().into_owned();
            let Some(parsed) = parse_migration_file(&file_name) else {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{} is not a migration file", entry.path().display()),
                ));
            };
            let sql = fs::read_to_string(entry.path())?;
            match parsed.direction {
                Direction::Up => ups.push((parsed.number, parsed.name, sql)),
                Direction::Down => downs.push((parsed.number, sql)),
            }
        }
        ups.sort_by_key(|(number, _, _)| *number);
        Ok(ups
            .into_iter()
            .map(|(number, name, up_sql)| LevelMigration {
                number,
                name,
                sha256: hex::encode(Sha256::digest(up_sql.as_bytes())),
                down_sql: downs
                    .iter()
                    .find(|(n, _)| *n == number)
                    .map(|(_, sql)| sql.clone()),
                up_sql,
            })
            .collect())
    }

    /// Records (durably) that a level did not come up, before switching back.
    pub fn record_start_failure(&self, failure: &StartFailure) -> io::Result<()> {
        let temporary = self.dir().join(format!("{START_FAILURE}.tmp"));
        let json = serde_json::to_vec_pretty(failure).map_err(io::Error::other)?;
        write_synced(&temporary, &json)?;
        fs::rename(&temporary, self.dir().join(START_FAILURE))?;
        sync_dir(self.dir())
    }

    /// The level that did not come up, if the supervisor recorded one.
    pub fn start_failure(&self) -> io::Result<Option<StartFailure>> {
        match fs::read(self.dir().join(START_FAILURE)) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|err| io::Error::new(io::ErrorKind::InvalidData, err)),
            Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(err),
        }
    }

    /// Forgets the start failure once its job recorded it.
    pub fn clear_start_failure(&self) -> io::Result<()> {
        match fs::remove_file(self.dir().join(START_FAILURE)) {
            Ok(()) => sync_dir(self.dir()),
            Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(err) => Err(err),
        }
    }
}
