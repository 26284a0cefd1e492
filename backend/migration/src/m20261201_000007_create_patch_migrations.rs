//! The database migrations that patches carry (`payload/database/NNNN-name.up.sql`): one row per
//! applied migration, with the SQL that undoes it, so a rollback or a switch back can run the
//! downs even when the level's files are gone.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PatchMigrations::Table)
                    .if_not_exists()
                    .col(integer(PatchMigrations::Number).primary_key())
                    .col(string(PatchMigrations::Name))
                    .col(string(PatchMigrations::Sha256))
                    .col(integer(PatchMigrations::Level))
                    .col(timestamp_with_time_zone(PatchMigrations::AppliedAt))
                    .col(text_null(PatchMigrations::DownSql))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(PatchMigrations::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum PatchMigrations {
    Table,
    Number,
    Name,
    Sha256,
    Level,
    AppliedAt,
    DownSql,
}
