//! What a server executable says of its own schema: `sms migrations list --json` (docs/
//! schema.md), asked of the executable a level runs before an install hands over to it or a
//! rollback hands back, without touching a database.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Set by the supervisor for the servers it starts: the base release's executable (level 0's,
/// and that of every level whose package carries none).
pub const BASE_EXECUTABLE_ENV: &str = "SMS_BASE_EXECUTABLE";

/// The base release's executable, as the supervisor said.
pub fn base_executable() -> Option<std::path::PathBuf> {
    std::env::var_os(BASE_EXECUTABLE_ENV).map(std::path::PathBuf::from)
}

/// How long an executable has to list its migrations (it answers in milliseconds; one that
/// hangs is taken to need nothing, and only delays the install's start by this much).
const LIST_TIMEOUT: Duration = Duration::from_secs(5);

/// `sms migrations list --json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaList {
    /// The executable's built-in migrations, oldest first.
    pub migrations: Vec<BuiltinMigration>,
}

/// One built-in migration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuiltinMigration {
    /// Its name, e.g. `m20261207_000011_job_backup`.
    pub name: String,
    /// Whether its `down` undoes it.
    pub reversible: bool,
}

impl SchemaList {
    /// This executable's own list.
    pub fn own() -> Self {
        Self {
            migrations: migration::builtin()
                .into_iter()
                .map(|builtin| BuiltinMigration {
                    name: builtin.name,
                    reversible: builtin.reversible,
                })
                .collect(),
        }
    }

    /// Whether it lists `name`.
    pub fn has(&self, name: &str) -> bool {
        self.migrations.iter().any(|m| m.name == name)
    }
}

/// Asks `executable` for its built-in migrations.
pub async fn schema_of(executable: &Path) -> std::io::Result<SchemaList> {
    let mut command = tokio::process::Command::new(executable);
    command
        .args(["migrations", "list", "--json"])
        // The tests' stand-in for a later release is an executable that sets this variable
        // itself: another executable never inherits it.
        .env_remove(migration::EXTRA_MIGRATION_ENV)
        .stdin(Stdio::null())
        .kill_on_drop(true);
    let output = tokio::time::timeout(LIST_TIMEOUT, command.output())
        .await
        .map_err(|_| {
            std::io::Error::other(format!(
                "{} did not list its migrations within {} s",
                executable.display(),
                LIST_TIMEOUT.as_secs()
            ))
        })??;
    parse_list(executable, &output)
}

/// [`schema_of`] for the command line, which waits for it.
pub fn schema_of_blocking(executable: &Path) -> std::io::Result<SchemaList> {
    let output = std::process::Command::new(executable)
        .args(["migrations", "list", "--json"])
        .env_remove(migration::EXTRA_MIGRATION_ENV)
        .stdin(Stdio::null())
        .output()?;
    parse_list(executable, &output)
}

fn parse_list(executable: &Path, output: &std::process::Output) -> std::io::Result<SchemaList> {
    if !output.status.success() {
        return Err(std::io::Error::other(format!(
            "`{} migrations list --json` failed ({}): {}",
            executable.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    serde_json::from_slice(&output.stdout).map_err(|err| {
        std::io::Error::other(format!(
            "`{} migrations list --json` answered something else: {err}",
            executable.display()
        ))
    })
}

/// The server's own (built-in) migrations applied to this database, oldest first
/// (`seaql_migrations`; none when the table is not there yet).
pub async fn applied_builtin<C: sea_orm::ConnectionTrait>(
    db: &C,
) -> Result<Vec<String>, sea_orm::DbErr> {
    use sea_orm::Statement;
    let backend = db.get_database_backend();
    let exists = match backend {
        sea_orm::DbBackend::Postgres => {
            "SELECT 1 AS found FROM information_schema.tables WHERE table_schema = \
             current_schema() AND table_name = 'seaql_migrations'"
        }
        _ => {
            "SELECT 1 AS found FROM sqlite_master WHERE type = 'table' AND name = 'seaql_migrations'"
        }
    };
    if db
        .query_all_raw(Statement::from_string(backend, exists))
        .await?
        .is_empty()
    {
        return Ok(Vec::new());
    }
    let rows = db
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT version FROM seaql_migrations ORDER BY version",
        ))
        .await?;
    rows.iter()
        .map(|row| row.try_get::<String>("", "version"))
        .collect()
}

/// The built-in migrations applied to the database that this executable does not know: a
/// later release's, left by a level that was not rolled back through its own server.
pub fn unknown_to_this_release(applied: &[String]) -> Vec<String> {
    let own = SchemaList::own();
    applied
        .iter()
        .filter(|name| !own.has(name))
        .cloned()
        .collect()
}

/// What a package's own server executable says of its schema.
pub enum PackageSchema {
    /// It carries none: its level runs the base executable.
    NoExecutable,
    Listed(SchemaList),
    /// It could not say (an older release without the command, or one that hangs).
    Unknown(std::io::Error),
}

/// Extracts the stored package's `server/bin/sms` alone (checked against its manifest and the
/// SHA-256 it was verified with) into a probe folder in `probe_in`, removed afterwards, and
/// asks it for its migrations. An error is the extraction's.
pub async fn package_schema(
    package: &Path,
    sha256: &str,
    probe_in: &Path,
) -> std::io::Result<PackageSchema> {
    let probe = tempfile::Builder::new()
        .prefix(".probe-")
        .tempdir_in(probe_in)?;
    let (file, into, sha256) = (
        package.to_owned(),
        probe.path().to_owned(),
        sha256.to_owned(),
    );
    let extracted = tokio::task::spawn_blocking(move || {
        crate::storage::install_root::extract_executable(&file, &into, &sha256)
    })
    .await
    .map_err(std::io::Error::other)??;
    let Some(executable) = extracted else {
        return Ok(PackageSchema::NoExecutable);
    };
    Ok(match schema_of(&executable).await {
        Ok(listed) => PackageSchema::Listed(listed),
        Err(err) => PackageSchema::Unknown(err),
    })
}

/// The server schema migrations the executable of the stored package `package` lists beyond
/// this server's own (docs/schema.md); none when it cannot say (logged).
pub async fn brought_by_package(package: &Path, sha256: &str) -> Vec<String> {
    let probe_in = package.parent().unwrap_or(Path::new("."));
    match package_schema(package, sha256, probe_in).await {
        Ok(PackageSchema::Listed(listed)) => {
            let own = SchemaList::own();
            listed
                .migrations
                .into_iter()
                .map(|m| m.name)
                .filter(|name| !own.has(name))
                .collect()
        }
        Ok(PackageSchema::NoExecutable) => Vec::new(),
        Ok(PackageSchema::Unknown(err)) => {
            tracing::warn!("cannot tell which server schema migrations the package brings: {err}");
            Vec::new()
        }
        Err(err) => {
            tracing::warn!("cannot extract the package's executable: {err}");
            Vec::new()
        }
    }
}
