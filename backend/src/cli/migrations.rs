//! `sms migrations list [--json]`: the executable's own built-in schema migrations, without
//! touching a database (docs/schema.md). The installer asks it of a level's executable before
//! handing over to it, and of the older executable a rollback hands back to.

use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;

use super::args::ServeArgs;
use crate::config::Config;
use crate::storage::executable::{SchemaList, applied_builtin, schema_of};

#[derive(Debug, Subcommand)]
pub enum MigrationsCommand {
    /// List this executable's built-in migrations, oldest first.
    List {
        /// As JSON: `{"migrations": [{"name", "reversible"}]}`.
        #[arg(long)]
        json: bool,
    },
    /// Undo, newest first, with this executable's own `down`s and in one transaction, the
    /// migrations applied to the database that EXECUTABLE does not list: what the supervisor
    /// has a level on trial do before it switches back to an older one (docs/schema.md). The
    /// same flags, environment and configuration file as `serve`.
    Undo {
        /// The executable that must be able to run on the database afterwards.
        #[arg(long = "for", value_name = "EXECUTABLE")]
        for_executable: PathBuf,
        #[command(flatten)]
        args: Box<ServeArgs>,
    },
}

pub async fn migrations(command: MigrationsCommand) -> anyhow::Result<()> {
    match command {
        MigrationsCommand::Undo {
            for_executable,
            args,
        } => undo_for(&for_executable, &args).await,
        MigrationsCommand::List { json } => {
            let list = SchemaList::own();
            if json {
                println!("{}", serde_json::to_string(&list)?);
            } else {
                for migration in &list.migrations {
                    let note = if migration.reversible {
                        ""
                    } else {
                        "  (cannot be undone)"
                    };
                    println!("{}{note}", migration.name);
                }
            }
            Ok(())
        }
    }
}

/// `sms migrations undo --for EXECUTABLE`.
async fn undo_for(executable: &std::path::Path, args: &ServeArgs) -> anyhow::Result<()> {
    let config = Config::load(args)?;
    let target = schema_of(executable).await?;
    // Straight on the database: bringing its schema up to date is what must not happen here.
    let db = sea_orm::Database::connect(&config.storage.database_url)
        .await
        .context("cannot open the database")?;
    let applied = applied_builtin(&db).await?;
    let undo: Vec<String> = applied
        .iter()
        .rev()
        .filter(|name| !target.has(name))
        .cloned()
        .collect();
    if undo.is_empty() {
        println!(
            "Nothing to undo: {} knows every migration applied.",
            executable.display()
        );
        return Ok(());
    }
    let own = SchemaList::own();
    if let Some(stuck) = undo.iter().find(|name| {
        !own.migrations
            .iter()
            .any(|m| &m.name == *name && m.reversible)
    }) {
        anyhow::bail!(
            "rollback_schema_irreversible: {stuck} cannot be undone by this executable: restore \
             the backup taken before its install (sms backup list, sms backup restore)"
        );
    }
    let txn = crate::storage::db::begin_write(&db).await?;
    crate::service::schema::undo_builtin(&txn, &undo).await?;
    txn.commit().await?;
    println!("Undone: {}.", undo.join(", "));
    Ok(())
}
