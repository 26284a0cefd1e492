//! Before the supervisor switches back from a level on trial that did not come up: the
//! server schema migrations that level applied and the older executable does not know are
//! undone by the level's own executable (`sms migrations undo --for OLDER`, docs/schema.md),
//! so that the older one can start.

use std::ffi::OsString;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use anyhow::Context;

use crate::config::Config;
use crate::storage::executable::{applied_builtin, schema_of};

/// How long the undoing may take.
const UNDO_TIMEOUT: Duration = Duration::from_secs(120);

/// Has `newer` undo what `older` does not know, when the database has such migrations; `args`
/// are the server's (`serve` and its flags). A failure is logged: the older server then says
/// what is wrong as it starts.
pub async fn undo_for_older(config: &Config, newer: &Path, older: &Path, args: &[OsString]) {
    match unknown_to(config, older).await {
        Ok(unknown) if unknown.is_empty() => return,
        Ok(unknown) => tracing::warn!(
            "the level that did not come up applied the server schema migrations {}, which {} \
             does not know: undoing them",
            unknown.join(", "),
            older.display()
        ),
        Err(err) => {
            tracing::error!(
                "cannot tell whether {} can run on the schema: {err:#}",
                older.display()
            );
            return;
        }
    }
    let mut command = tokio::process::Command::new(newer);
    command
        .args(["migrations", "undo", "--for"])
        .arg(older)
        .args(args.iter().skip(1))
        .stdin(Stdio::null())
        .kill_on_drop(true);
    match tokio::time::timeout(UNDO_TIMEOUT, command.output()).await {
        Ok(Ok(output)) if output.status.success() => {
            let said = String::from_utf8_lossy(&output.stdout);
            tracing::info!("before switching back: {}", said.trim());
        }
        Ok(Ok(output)) => tracing::error!(
            "the server schema could not be made fit for {} ({}): {}",
            older.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ),
        Ok(Err(err)) => tracing::error!("cannot run {}: {err}", newer.display()),
        Err(_) => tracing::error!(
            "{} did not undo its schema migrations within {} s",
            newer.display(),
            UNDO_TIMEOUT.as_secs()
        ),
    }
}

/// The server schema migrations applied to the database that `older` does not list.
async fn unknown_to(config: &Config, older: &Path) -> anyhow::Result<Vec<String>> {
    let listed = schema_of(older).await?;
    let db = sea_orm::Database::connect(&config.storage.database_url)
        .await
        .context("cannot open the database")?;
    let applied = applied_builtin(&db).await;
    let _ = db.close().await;
    Ok(applied?
        .into_iter()
        .filter(|name| !listed.has(name))
        .collect())
}
