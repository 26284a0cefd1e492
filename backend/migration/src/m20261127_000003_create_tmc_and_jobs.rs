//! `tmc_patches` (the accepted TMC catalog), `tmc_state` (its serial and the last check) and
//! `jobs` (downloads now; installs and rollbacks later).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(TmcPatches::Table)
                    .if_not_exists()
                    .col(pk_auto(TmcPatches::Id))
                    .col(string(TmcPatches::ProductVersion))
                    .col(integer(TmcPatches::Patch))
                    .col(string(TmcPatches::Build))
                    .col(string(TmcPatches::Title))
                    .col(string(TmcPatches::Released))
                    .col(string(TmcPatches::Updates))
                    .col(string_null(TmcPatches::ClientVersion))
                    .col(string(TmcPatches::Restart))
                    .col(boolean(TmcPatches::DatabaseChanges))
                    .col(boolean(TmcPatches::Rollback))
                    .col(string(TmcPatches::KeyId))
                    .col(text(TmcPatches::ReleaseNotes))
                    .col(big_integer(TmcPatches::Size))
                    .col(string(TmcPatches::Sha256))
                    .col(text(TmcPatches::Url))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_tmc_patches_version_patch")
                    .table(TmcPatches::Table)
                    .col(TmcPatches::ProductVersion)
                    .col(TmcPatches::Patch)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(TmcState::Table)
                    .if_not_exists()
                    .col(integer(TmcState::Id).primary_key())
                    .col(big_integer_null(TmcState::Serial))
                    .col(string(TmcState::Connection))
                    .col(text_null(TmcState::Message))
                    .col(timestamp_with_time_zone_null(TmcState::LastCheck))
                    .col(timestamp_with_time_zone_null(TmcState::LastSuccess))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Jobs::Table)
                    .if_not_exists()
                    .col(pk_auto(Jobs::Id))
                    .col(string(Jobs::Kind))
                    .col(string_null(Jobs::Patch))
                    .col(string(Jobs::State))
                    .col(string_null(Jobs::Stage))
                    .col(big_integer(Jobs::DoneBytes))
                    .col(big_integer(Jobs::TotalBytes))
                    .col(string_null(Jobs::ErrorCode))
                    .col(text_null(Jobs::ErrorMessage))
                    .col(string(Jobs::StartedBy))
                    .col(timestamp_with_time_zone(Jobs::StartedAt))
                    .col(timestamp_with_time_zone_null(Jobs::FinishedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Jobs::Table.into_iden(),
            TmcState::Table.into_iden(),
            TmcPatches::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum TmcPatches {
    Table,
    Id,
    ProductVersion,
    Patch,
    Build,
    Title,
    Released,
    Updates,
    ClientVersion,
    Restart,
    DatabaseChanges,
    Rollback,
    KeyId,
    ReleaseNotes,
    Size,
    Sha256,
    Url,
}

#[derive(DeriveIden)]
enum TmcState {
    Table,
    Id,
    Serial,
    Connection,
    Message,
    LastCheck,
    LastSuccess,
}

#[derive(DeriveIden)]
enum Jobs {
    Table,
    Id,
    Kind,
    Patch,
    State,
    Stage,
    DoneBytes,
    TotalBytes,
    ErrorCode,
    ErrorMessage,
    StartedBy,
    StartedAt,
    FinishedAt,
}
