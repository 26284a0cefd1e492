//! The server schema migrations a stored package's executable brings (a later release's), as
//! a JSON list: its install changes the database whatever its manifest says (docs/schema.md).

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
                    .add_column(text_null(Patches::ServerMigrations))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Patches::Table)
                    .drop_column(Patches::ServerMigrations)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Patches {
    Table,
    ServerMigrations,
}
