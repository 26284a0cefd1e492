//! `sms migrations list [--json]`: the executable's own built-in schema migrations, without
//! touching a database (docs/schema.md). The installer asks it of a level's executable before
//! handing over to it, and of the older executable a rollback hands back to.

use clap::Subcommand;

use crate::storage::executable::SchemaList;

#[derive(Debug, Subcommand)]
pub enum MigrationsCommand {
    /// List this executable's built-in migrations, oldest first.
    List {
        /// As JSON: `{"migrations": [{"name", "reversible"}]}`.
        #[arg(long)]
        json: bool,
    },
}

pub fn migrations(command: MigrationsCommand) -> anyhow::Result<()> {
    match command {
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
