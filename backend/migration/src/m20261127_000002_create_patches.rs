//! `patches`: the verified packages in the patch repository, with their manifest facts.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Patches::Table)
                    .if_not_exists()
                    .col(pk_auto(Patches::Id))
                    .col(string(Patches::ProductVersion))
                    .col(integer(Patches::Patch))
                    .col(string(Patches::Build))
                    .col(string(Patches::Title))
                    .col(string(Patches::Released))
                    .col(string(Patches::Updates))
                    .col(string_null(Patches::ClientVersion))
                    .col(string(Patches::Restart))
                    .col(boolean(Patches::DatabaseChanges))
                    .col(boolean(Patches::Rollback))
                    .col(string(Patches::KeyId))
                    .col(text(Patches::ReleaseNotes))
                    .col(big_integer(Patches::Size))
                    .col(string(Patches::Sha256))
                    .col(string(Patches::FileName))
                    .col(string(Patches::Source))
                    .col(timestamp_with_time_zone(Patches::ImportedAt))
                    .col(string(Patches::ImportedBy))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_patches_version_patch")
                    .table(Patches::Table)
                    .col(Patches::ProductVersion)
                    .col(Patches::Patch)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Patches::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Patches {
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
    FileName,
    Source,
    ImportedAt,
    ImportedBy,
}
