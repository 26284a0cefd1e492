//! The payload contract: where a level's server executable, web client and database migrations
//! sit in a package, and the rules that tie them to the manifest's `updates`,
//! `database_changes` and `rollback`. `check_payload` runs on the signed file list, before any
//! payload byte is read, so a package that breaks them is refused whole.

use std::collections::{BTreeMap, BTreeSet};

use super::error::{PackageError, RejectCode};
use super::manifest::{Manifest, Updates};

/// The level's server executable.
pub const SERVER_EXECUTABLE: &str = "server/bin/sms";
/// Files under it are staged executable.
pub const SERVER_BIN_DIR: &str = "server/bin/";
/// The level's web client folder.
pub const CLIENT_DIR: &str = "client";
/// The web client's start page; a package that updates the client carries it.
pub const CLIENT_INDEX: &str = "client/index.html";
/// The folder of the numbered migrations.
pub const DATABASE_DIR: &str = "database";

/// Which way a migration goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// `NNNN-name.up.sql`: applied when the level is installed.
    Up,
    /// `NNNN-name.down.sql`: applied when the level is rolled back.
    Down,
}

impl Direction {
    fn suffix(self) -> &'static str {
        match self {
            Direction::Up => ".up.sql",
            Direction::Down => ".down.sql",
        }
    }
}

/// A migration's file name, taken apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationName {
    /// 1 to 9999: migrations run in this order.
    pub number: u32,
    /// What it does, e.g. `add-rules`.
    pub name: String,
    pub direction: Direction,
}

/// The longest name part of a migration's file name.
const MAX_NAME_LEN: usize = 64;

/// Parses a migration's file name (the part after `database/`), e.g. `0001-add-rules.up.sql`:
/// NNNN (exactly 4 decimal digits, 0001..9999) '-' name ([a-z0-9_-]+, 1..64 chars) '.up.sql' | '.down.sql'. None otherwise.
pub fn parse_migration_file(file_name: &str) -> Option<MigrationName> {
    let (stem, direction) = [Direction::Up, Direction::Down]
        .into_iter()
        .find_map(|d| file_name.strip_suffix(d.suffix()).map(|stem| (stem, d)))?;
    let (digits, name) = stem.split_at_checked(4)?;
    let name = name.strip_prefix('-')?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let number: u32 = digits.parse().ok().filter(|&n| n > 0)?;
    let name_ok = (1..=MAX_NAME_LEN).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    name_ok.then(|| MigrationName {
        number,
        name: name.to_owned(),
        direction,
    })
}

/// Whether a payload path is staged with the execute bit (it is under `server/bin/`).
pub fn is_executable(path: &str) -> bool {
    path.len() > SERVER_BIN_DIR.len() && path.starts_with(SERVER_BIN_DIR)
}

/// What a payload changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PayloadSummary {
    /// It carries the level's server executable (`server/bin/sms`).
    pub server_executable: bool,
    /// It carries the level's web client (`client/index.html` and what it loads).
    pub client: bool,
    /// How many up migrations it carries (`database/NNNN-name.up.sql`).
    pub migrations: u32,
}

/// Checks the payload rules on a manifest's file list and says what it changes.
pub fn check_payload(manifest: &Manifest) -> Result<PayloadSummary, PackageError> {
    let database_prefix = format!("{DATABASE_DIR}/");
    // Migration number -> its file name, one map per direction.
    let mut ups: BTreeMap<u32, &str> = BTreeMap::new();
    let mut downs: BTreeMap<u32, &str> = BTreeMap::new();
    for file in &manifest.files {
        let Some(file_name) = file.path.strip_prefix(&database_prefix) else {
            continue;
        };
        let migration = if file_name.contains('/') {
            None
        } else {
            parse_migration_file(file_name)
        };
        let Some(migration) = migration else {
            return Err(PackageError::new(
                RejectCode::MigrationNameInvalid,
                format!(
                    "payload/{} is not a migration file name: files in {DATABASE_DIR}/ must be named \
                     NNNN-name.up.sql or NNNN-name.down.sql (4 digits from 0001, then a name of \
                     lowercase letters, digits, `-` or `_`) and sit directly in {DATABASE_DIR}/, \
                     not in a subfolder; the vendor must rename or move it",
                    file.path
                ),
            ));
        };
        let same_direction = match migration.direction {
            Direction::Up => &mut ups,
            Direction::Down => &mut downs,
        };
        if let Some(earlier) = same_direction.insert(migration.number, file_name) {
            return Err(PackageError::new(
                RejectCode::MigrationNumberDuplicate,
                format!(
                    "{DATABASE_DIR}/{earlier} and {DATABASE_DIR}/{file_name} both have the number \
                     {:04}: each migration needs its own number; the vendor must renumber one",
                    migration.number
                ),
            ));
        }
    }
    if let Some((number, down)) = downs.iter().find(|(n, _)| !ups.contains_key(n)) {
        return Err(PackageError::new(
            RejectCode::MigrationNumberDuplicate,
            format!(
                "{DATABASE_DIR}/{down} undoes migration {number:04}, but the package has no \
                 {number:04}-*.up.sql: the vendor must add the up migration or give the down \
                 migration the number of the one it undoes"
            ),
        ));
    }
    match (manifest.database_changes, ups.is_empty()) {
        (true, true) => {
            return Err(PackageError::new(
                RejectCode::DatabasePayloadMismatch,
                format!(
                    "the manifest says the patch changes the database (`database_changes`: true), \
                     but the payload has no {DATABASE_DIR}/NNNN-name.up.sql: the vendor must add \
                     the migrations or set `database_changes` to false"
                ),
            ));
        }
        (false, false) => {
            return Err(PackageError::new(
                RejectCode::DatabasePayloadMismatch,
                format!(
                    "the payload carries {} database migration(s) ({DATABASE_DIR}/{} first), but \
                     the manifest says the patch changes no database (`database_changes`: false): \
                     the vendor must set `database_changes` to true or remove the migrations",
                    ups.len(),
                    ups.values().next().copied().unwrap_or_default()
                ),
            ));
        }
        _ => {}
    }
    if manifest.rollback
        && let Some((number, up)) = ups.iter().find(|(n, _)| !downs.contains_key(n))
    {
        return Err(PackageError::new(
            RejectCode::DownMigrationMissing,
            format!(
                "the patch can be rolled back (`rollback`: true), but {DATABASE_DIR}/{up} has no \
                 {number:04}-*.down.sql to undo it: the vendor must add the down migration or set \
                 `rollback` to false"
            ),
        ));
    }
    let paths: BTreeSet<&str> = manifest.files.iter().map(|f| f.path.as_str()).collect();
    let has_index = paths.contains(CLIENT_INDEX);
    match (manifest.updates.updates_client(), has_index) {
        (true, false) => {
            return Err(PackageError::new(
                RejectCode::ClientPayloadMismatch,
                format!(
                    "the manifest says the patch updates the web client (`updates`: \"{}\"), but \
                     the payload has no {CLIENT_INDEX}: the vendor must add the built client under \
                     {CLIENT_DIR}/ or set `updates` to \"server\"",
                    manifest.updates.as_str()
                ),
            ));
        }
        (false, true) => {
            return Err(PackageError::new(
                RejectCode::ClientPayloadMismatch,
                format!(
                    "the payload carries a web client ({CLIENT_INDEX}), but the manifest says the \
                     patch updates the server only (`updates`: \"{}\"): the vendor must set \
                     `updates` to \"both\" (with `client_version`) or remove the client",
                    Updates::Server.as_str()
                ),
            ));
        }
        _ => {}
    }
    Ok(PayloadSummary {
        server_executable: paths.contains(SERVER_EXECUTABLE),
        client: has_index,
        migrations: u32::try_from(ups.len()).unwrap_or(u32::MAX),
    })
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::package::manifest::{ManifestFile, Restart};

    /// A consistent manifest: server executable, client, one migration with its down.
    fn manifest(paths: &[&str]) -> Manifest {
        Manifest {
            format: 1,
            product: "SMS".into(),
            product_version: "6.4.0".parse().unwrap(),
            patch: 4,
            build: "6.4.0.9204".parse().unwrap(),
            released: NaiveDate::from_ymd_opt(2026, 11, 2).unwrap(),
            title: "Rule tags".into(),
            updates: Updates::Both,
            client_version: Some("6.4.0.4".parse().unwrap()),
            restart: Restart::Application,
            database_changes: true,
            rollback: true,
            key_id: "vendor-2026".into(),
            release_notes: "# Notes".into(),
            files: paths
                .iter()
                .map(|path| ManifestFile {
                    path: (*path).into(),
                    size: 1,
                    sha256: "0".repeat(64),
                })
                .collect(),
        }
    }

    const FULL: &[&str] = &[
        "client/app.js",
        "client/index.html",
        "database/0001-rule-tags.down.sql",
        "database/0001-rule-tags.up.sql",
        "server/bin/sms",
    ];

    fn code(m: &Manifest) -> RejectCode {
        check_payload(m).unwrap_err().code
    }

    #[test]
    fn migration_file_names_follow_the_pattern() {
        assert_eq!(
            parse_migration_file("0001-add-rules.up.sql"),
            Some(MigrationName {
                number: 1,
                name: "add-rules".into(),
                direction: Direction::Up,
            })
        );
        assert_eq!(
            parse_migration_file("9999-a_b-9.down.sql"),
            Some(MigrationName {
                number: 9999,
                name: "a_b-9".into(),
                direction: Direction::Down,
            })
        );
        let longest = format!("0002-{}.up.sql", "x".repeat(64));
        assert!(parse_migration_file(&longest).is_some());
        let too_long = format!("0002-{}.up.sql", "x".repeat(65));
        for bad in [
            "0000-zero.up.sql",
            "001-short.up.sql",
            "00001-long.up.sql",
            "0001_add.up.sql",
            "0001-.up.sql",
            "0001-Add.up.sql",
            "0001-a.b.up.sql",
            "0001-add.sql",
            "0001-add.up.SQL",
            "+001-add.up.sql",
            "0001-add rules.up.sql",
            "README.md",
            "",
            too_long.as_str(),
        ] {
            assert_eq!(parse_migration_file(bad), None, "{bad}");
        }
    }

    #[test]
    fn only_files_under_server_bin_are_executable() {
        assert!(is_executable("server/bin/sms"));
        assert!(is_executable("server/bin/helper"));
        assert!(!is_executable("server/bin/"));
        assert!(!is_executable("server/lib/libsms.so"));
        assert!(!is_executable("client/index.html"));
        assert!(!is_executable("xserver/bin/sms"));
    }

    #[test]
    fn a_consistent_payload_says_what_it_changes() {
        let summary = check_payload(&manifest(FULL)).unwrap();
        assert_eq!(
            summary,
            PayloadSummary {
                server_executable: true,
                client: true,
                migrations: 1,
            }
        );
        let mut server_only = manifest(&["server/lib/rules.db"]);
        server_only.updates = Updates::Server;
        server_only.client_version = None;
        server_only.database_changes = false;
        assert_eq!(
            check_payload(&server_only).unwrap(),
            PayloadSummary::default()
        );
    }

    #[test]
    fn a_patch_without_rollback_needs_no_down_migrations() {
        let mut m = manifest(&[
            "client/index.html",
            "database/0001-a.up.sql",
            "database/0002-b.up.sql",
        ]);
        m.rollback = false;
        assert_eq!(check_payload(&m).unwrap().migrations, 2);
    }

    #[test]
    fn a_client_update_without_its_index_is_refused() {
        let m = manifest(&[
            "client/app.js",
            "database/0001-rule-tags.down.sql",
            "database/0001-rule-tags.up.sql",
        ]);
        assert_eq!(code(&m), RejectCode::ClientPayloadMismatch);
        let message = check_payload(&m).unwrap_err().message;
        assert!(message.contains("client/index.html"), "{message}");
    }

    #[test]
    fn a_client_in_a_server_only_patch_is_refused() {
        let mut m = manifest(FULL);
        m.updates = Updates::Server;
        m.client_version = None;
        assert_eq!(code(&m), RejectCode::ClientPayloadMismatch);
    }

    #[test]
    fn database_changes_without_migrations_are_refused() {
        let m = manifest(&["client/index.html", "server/bin/sms"]);
        assert_eq!(code(&m), RejectCode::DatabasePayloadMismatch);
    }

    #[test]
    fn migrations_in_a_patch_without_database_changes_are_refused() {
        let mut m = manifest(FULL);
        m.database_changes = false;
        assert_eq!(code(&m), RejectCode::DatabasePayloadMismatch);
        // A down migration alone is no database change, but it has no up to undo.
        let mut m = manifest(&["client/index.html", "database/0001-a.down.sql"]);
        m.database_changes = false;
        assert_eq!(code(&m), RejectCode::MigrationNumberDuplicate);
    }

    #[test]
    fn badly_named_or_nested_migrations_are_refused() {
        for bad in [
            "database/1-add.up.sql",
            "database/README.md",
            "database/0001-add.sql",
            "database/sqlite/0001-add.up.sql",
        ] {
            let mut paths = FULL.to_vec();
            paths.push(bad);
            assert_eq!(
                code(&manifest(&paths)),
                RejectCode::MigrationNameInvalid,
                "{bad}"
            );
        }
    }

    #[test]
    fn two_migrations_with_one_number_are_refused() {
        let mut paths = FULL.to_vec();
        paths.extend(["database/0001-other.up.sql"]);
        assert_eq!(
            code(&manifest(&paths)),
            RejectCode::MigrationNumberDuplicate
        );
        let mut paths = FULL.to_vec();
        paths.extend(["database/0001-other.down.sql"]);
        assert_eq!(
            code(&manifest(&paths)),
            RejectCode::MigrationNumberDuplicate
        );
    }

    #[test]
    fn a_down_migration_without_its_up_is_refused() {
        let mut paths = FULL.to_vec();
        paths.push("database/0002-orphan.down.sql");
        assert_eq!(
            code(&manifest(&paths)),
            RejectCode::MigrationNumberDuplicate
        );
    }

    #[test]
    fn a_rollback_needs_a_down_for_every_up() {
        let mut paths = FULL.to_vec();
        paths.push("database/0002-more.up.sql");
        let m = manifest(&paths);
        assert_eq!(code(&m), RejectCode::DownMigrationMissing);
        let message = check_payload(&m).unwrap_err().message;
        assert!(message.contains("0002-more.up.sql"), "{message}");
    }
}
