//! A built-in migration that only fault-injection builds carry, when `SMS_EXTRA_MIGRATION`
//! asks for it: it stands for the migration a later release of the server brings, so the
//! tests can install and roll back a level whose executable has one more than the base
//! (docs/schema.md).

use sea_orm_migration::{prelude::*, schema::*};

use crate::EXTRA_MIGRATION_ENV;

/// Its name when reversible.
pub const REVERSIBLE: &str = "m20270101_000099_future_table";
/// Its name when irreversible.
pub const IRREVERSIBLE: &str = "m20270101_000099_future_table_irreversible";

/// The migration `SMS_EXTRA_MIGRATION` asks for, if any.
pub fn wanted() -> Option<Migration> {
    match std::env::var(EXTRA_MIGRATION_ENV).ok()?.as_str() {
        "reversible" => Some(Migration { reversible: true }),
        "irreversible" => Some(Migration { reversible: false }),
        _ => None,
    }
}

pub struct Migration {
    pub reversible: bool,
}

impl MigrationName for Migration {
    fn name(&self) -> &str {
        if self.reversible {
            REVERSIBLE
        } else {
            IRREVERSIBLE
        }
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(FutureTable::Table)
                    .col(pk_auto(FutureTable::Id))
                    .col(string(FutureTable::Note))
                    .to_owned(),
            )
            .await?;
        // A later release may also change the server's own tables.
        manager
            .alter_table(
                Table::alter()
                    .table(AuditLog::Table)
                    .add_column(text_null(AuditLog::FutureNote))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if !self.reversible {
            return Err(DbErr::Migration(format!(
                "{} cannot be undone",
                self.name()
            )));
        }
        manager
            .alter_table(
                Table::alter()
                    .table(AuditLog::Table)
                    .drop_column(AuditLog::FutureNote)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(FutureTable::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    FutureNote,
}

#[derive(DeriveIden)]
enum FutureTable {
    Table,
    Id,
    Note,
}
