//! `sms backup create|list|restore`: database backups from the command line, straight on the
//! database and the backups folder (`create` and `list` also while the server runs; `restore`
//! only while it is stopped; docs/backups.md).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Subcommand;
use shared::PatchLevel;
use shared::backup::{BackupInfo, BackupReason, DatabaseKind};

use super::args::ServeArgs;
use crate::app::health::Probe;
use crate::config::Config;
use crate::service::backups::facts;
use crate::service::{Audit, AuditEvent, Installed};
use crate::storage::backup::{
    BackupDir, BackupError, Request, restore_sqlite_file, sqlite_file, valid_id,
};
use crate::storage::install_root::InstallRoot;

#[derive(Debug, Subcommand)]
pub(super) enum BackupCommand {
    /// Take a backup of the database now; prints its name and file.
    Create {
        #[command(flatten)]
        args: Box<ServeArgs>,
    },
    /// List the backups, newest first.
    List {
        #[command(flatten)]
        args: Box<ServeArgs>,
    },
    /// Restore a backup into the database, with the server stopped: everything written since
    /// it was taken is gone; the SQLite file it replaces is kept beside it.
    Restore {
        /// The backup: its name (in the backups folder), or its file with its manifest beside it.
        backup: String,
        #[command(flatten)]
        args: Box<ServeArgs>,
    },
}

/// Runs one `sms backup` command.
pub(super) async fn backup(command: BackupCommand) -> anyhow::Result<()> {
    match command {
        BackupCommand::Create { args } => {
            let config = Config::load(&*args)?;
            let dir = BackupDir::new(config.backups.dir.clone(), config.backups.pg_dump.clone());
            let db = crate::storage::db::connect(&config.storage).await?;
            let installed = Installed::new(db.clone(), config.node_key());
            let facts = facts(&db, &installed)
                .await
                .context("cannot read what the database holds")?;
            let request = Request {
                reason: BackupReason::Manual,
                taken_by: "cli".into(),
                patch: None,
            };
            let taken = dir
                .take(&db, &config.storage.database_url, facts, request)
                .await;
            let audit = Audit::new(db.clone());
            let event = match &taken {
                Ok(info) => AuditEvent::success("backup_create", "cli")
                    .target(info.id.clone())
                    .details(format!("manual, {} bytes", info.size)),
                Err(err) => AuditEvent::failure("backup_create", "cli").details(err.to_string()),
            };
            audit.record(event.source(Some("cli".into()))).await?;
            let info = taken?;
            println!(
                "Took the backup {} ({} bytes, SHA-256 {}): {}",
                info.id,
                info.size,
                info.sha256,
                dir.file_path(&info).display()
            );
        }
        BackupCommand::List { args } => {
            let config = Config::load(&*args)?;
            let dir = BackupDir::new(config.backups.dir.clone(), config.backups.pg_dump.clone());
            let backups = dir.list().await?;
            println!(
                "{:<40} {:<24} {:<15} {:<7} SIZE",
                "NAME", "TAKEN", "REASON", "LEVEL"
            );
            for info in backups {
                println!(
                    "{:<40} {:<24} {:<15} {:<7} {}",
                    info.id,
                    info.taken_at.format("%Y-%m-%d %H:%M:%S UTC"),
                    info.reason.as_str(),
                    info.patch_level,
                    info.size
                );
            }
        }
        BackupCommand::Restore { backup, args } => restore(&backup, &args).await?,
    }
    Ok(())
}

/// `sms backup restore`: checks the server is stopped, the backup is whole and of the level
/// the install root runs, then swaps the database and audits it.
async fn restore(backup: &str, args: &ServeArgs) -> anyhow::Result<()> {
    let config = Config::load(args)?;
    let probe = Probe::new(
        config.listen,
        config.transport.is_tls(),
        Duration::from_secs(3),
    )
    .map_err(anyhow::Error::msg)?;
    if probe.level().await.is_ok() {
        anyhow::bail!(
            "backup_server_running: the server answers at {}: stop it first (systemctl stop \
             sms), then restore",
            probe.url()
        );
    }
    let dir = BackupDir::new(config.backups.dir.clone(), config.backups.pg_dump.clone());
    let (info, file) = find(&dir, backup).await.map_err(coded)?;
    let database = if config.storage.is_sqlite() {
        DatabaseKind::Sqlite
    } else {
        DatabaseKind::Postgres
    };
    if info.database != database {
        return Err(coded(BackupError::Mismatch(format!(
            "the backup {} is of a {:?} database, and this server's is {database:?}",
            info.id, info.database
        ))));
    }
    dir.verify(&info, &file).await.map_err(coded)?;
    let root = InstallRoot::open(&config.storage.data_dir, &config.initial.build)
        .context("cannot open the install root")?;
    let running = root
        .current()
        .context("cannot read the install root's level")?;
    if running.0 != info.patch_level {
        return Err(coded(BackupError::Mismatch(format!(
            "the backup {} holds the database of {}, and this server runs {}: install or roll \
             back to that level first, then restore",
            info.id,
            shared::level_in_words(PatchLevel(info.patch_level)),
            shared::level_in_words(running)
        ))));
    }
    let kept = match database {
        DatabaseKind::Sqlite => {
            let db_file = sqlite_file(&config.storage.database_url)
                .context("the SQLite database URL names no file")?;
            Some(restore_sqlite_file(&file, &db_file).await.map_err(coded)?)
        }
        DatabaseKind::Postgres => {
            dir.restore_postgres(&config.storage.database_url, &file)
                .await
                .map_err(coded)?;
            None
        }
    };
    let db = crate::storage::db::connect(&config.storage).await?;
    Audit::new(db)
        .record(
            AuditEvent::success("backup_restore", "cli")
                .target(info.id.clone())
                .source(Some("cli".into()))
                .details(format!("taken {}", info.taken_at.to_rfc3339())),
        )
        .await?;
    println!(
        "Restored the backup {}: the database is as it was at {} ({}); everything written \
         since is gone.",
        info.id,
        info.taken_at.format("%Y-%m-%d %H:%M:%S UTC"),
        shared::level_in_words(PatchLevel(info.patch_level))
    );
    if let Some(kept) = kept {
        println!("The database it replaced is kept in {}.", kept.display());
    }
    Ok(())
}

/// The backup `name` names: one in the backups folder, or a file with its manifest beside it.
async fn find(dir: &BackupDir, name: &str) -> Result<(BackupInfo, PathBuf), BackupError> {
    if valid_id(name)
        && let Ok(info) = dir.get(name).await
    {
        let file = dir.file_path(&info);
        return Ok((info, file));
    }
    let file = PathBuf::from(name);
    let stem = file
        .to_str()
        .and_then(|path| {
            path.strip_suffix(".sqlite")
                .or(path.strip_suffix(".pgdump"))
        })
        .ok_or_else(|| BackupError::NotFound(name.to_owned()))?;
    let manifest = PathBuf::from(format!("{stem}.json"));
    let bytes = tokio::fs::read(&manifest)
        .await
        .map_err(|err| match err.kind() {
            std::io::ErrorKind::NotFound => BackupError::NotFound(format!(
                "{name} (no backup of that name, and no manifest {} beside the file)",
                manifest.display()
            )),
            _ => BackupError::Io(err),
        })?;
    let info = serde_json::from_slice(&bytes).map_err(|err| {
        BackupError::Corrupt(format!(
            "its manifest {} is not one: {err}",
            manifest.display()
        ))
    })?;
    Ok((info, file))
}

/// The error with its code first, as scripts read it.
fn coded(err: BackupError) -> anyhow::Error {
    anyhow::anyhow!("{}: {err}", err.code())
}
