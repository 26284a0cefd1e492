//! What each package in the patch repository changes (server executable, web client, database
//! migrations), taken from its manifest's file list when it is recorded. Rows recorded before
//! this column stay NULL: not recorded.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Patches::Table)
                    .add_column(text_null(Patches::Changes))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Patches::Table)
                    .drop_column(Patches::Changes)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Patches {
    Table,
    /// JSON: `{"server_executable": bool, "web_client": bool, "migrations": n}`.
    Changes,
}
