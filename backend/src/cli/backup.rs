//! `sms backup create|list`: database backups from the command line, straight on the database
//! and the backups folder (works while the server is stopped, too; docs/backups.md).

use anyhow::Context;
use clap::Subcommand;
use shared::backup::BackupReason;

use crate::config::{Config, ServeArgs};
use crate::service::backups::facts;
use crate::service::{Audit, AuditEvent, Installed};
use crate::storage::backup::{BackupDir, Request};

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
}

/// Runs one `sms backup` command.
pub(super) async fn backup(command: BackupCommand) -> anyhow::Result<()> {
    match command {
        BackupCommand::Create { args } => {
            let config = Config::load(&args)?;
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
            let config = Config::load(&args)?;
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
    }
    Ok(())
}
