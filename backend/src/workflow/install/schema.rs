//! The server's own schema across levels (docs/schema.md): the built-in migrations the
//! executable of a level needs, asked of it (`sms migrations list --json`) before an install
//! hands over to it or a rollback (or a switch back) hands back to it. Only a supervised
//! server runs other executables; an unsupervised one serves every level itself.

use std::path::{Path, PathBuf};

use shared::{PatchLevel, level_in_words};

use crate::storage::executable::{
    PackageSchema, SchemaList, base_executable, package_schema, schema_of,
};

use super::engine::{InstallEngine, blocking};
use super::error::PatchJobError;

/// What handing over to another level's executable asks of the built-in schema.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct BuiltinChange {
    /// Migrations that executable brings and the database lacks: it applies them as it starts.
    pub(super) brings: Vec<String>,
    /// Migrations the database has that it does not list, newest first: this server undoes
    /// them with its own `down`s in the switch's transaction.
    pub(super) undo: Vec<String>,
}

/// What the executable of the package `package` (stored, verified with `sha256`) asks: the
/// built-in migrations it brings make its install a database change.
pub(super) async fn of_package(
    engine: &InstallEngine,
    package: &Path,
    sha256: &str,
) -> Result<BuiltinChange, PatchJobError> {
    if !engine.life.supervised() {
        return Ok(BuiltinChange::default());
    }
    let listed = match package_schema(package, sha256, engine.install_root.dir())
        .await
        .map_err(|err| probe_failed(&err))?
    {
        PackageSchema::Listed(listed) => Some(listed),
        PackageSchema::NoExecutable => listed_by(base_executable()).await,
        PackageSchema::Unknown(err) => {
            tracing::warn!("cannot tell the schema of the package's executable: {err}");
            None
        }
    };
    compare(engine, listed).await
}

/// What handing back to the executable of `level` asks; refused when a migration it does not
/// list cannot be undone (`rollback_schema_irreversible`).
pub(super) async fn of_level(
    engine: &InstallEngine,
    level: PatchLevel,
) -> Result<BuiltinChange, PatchJobError> {
    if !engine.life.supervised() {
        return Ok(BuiltinChange::default());
    }
    let root = engine.install_root.clone();
    let executable = blocking(move || Ok(root.executable(level)))
        .await
        .ok()
        .flatten()
        .or_else(base_executable);
    let change = compare(engine, listed_by(executable).await).await?;
    let own = SchemaList::own();
    let stuck: Vec<&str> = change
        .undo
        .iter()
        .filter(|name| {
            !own.migrations
                .iter()
                .any(|m| &m.name == *name && m.reversible)
        })
        .map(String::as_str)
        .collect();
    if !stuck.is_empty() {
        return Err(PatchJobError::precondition(
            "rollback_schema_irreversible",
            format!(
                "The server of {} cannot run on this database: it does not know the server \
                 schema migration{} {}, which cannot be undone. Restore the backup taken before \
                 the install instead (roll back with \"Restore the database backup\", or Admin \
                 > Backups).",
                level_in_words(level),
                if stuck.len() == 1 { "" } else { "s" },
                stuck.join(", ")
            ),
        ));
    }
    Ok(change)
}

/// What `executable` lists; `None` when there is none, or it cannot say (an older release
/// without the command): it is then taken to need nothing.
async fn listed_by(executable: Option<PathBuf>) -> Option<SchemaList> {
    let executable = executable?;
    match schema_of(&executable).await {
        Ok(listed) => Some(listed),
        Err(err) => {
            tracing::warn!("cannot tell the schema of {}: {err}", executable.display());
            None
        }
    }
}

/// The built-in migrations `listed` against those the database has.
async fn compare(
    engine: &InstallEngine,
    listed: Option<SchemaList>,
) -> Result<BuiltinChange, PatchJobError> {
    let Some(listed) = listed else {
        return Ok(BuiltinChange::default());
    };
    let applied = engine.installed.builtin_applied().await?;
    Ok(BuiltinChange {
        brings: listed
            .migrations
            .iter()
            .filter(|m| !applied.contains(&m.name))
            .map(|m| m.name.clone())
            .collect(),
        undo: applied
            .iter()
            .rev()
            .filter(|name| !listed.has(name))
            .cloned()
            .collect(),
    })
}

fn probe_failed(err: &std::io::Error) -> PatchJobError {
    PatchJobError::failed(
        "package_unreadable",
        format!("The package's server executable cannot be read: {err}."),
    )
}
