//! HA clusters: each node's own rows (installed state, patch repository, jobs) carry the node's
//! key, and one `cluster` row holds the leadership lease and whether clustering is enabled.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Rows written before clustering belong to the single server: key ''.
        for table in [
            Owned::InstalledState.into_iden(),
            Owned::Patches.into_iden(),
            Owned::Jobs.into_iden(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(table)
                        .add_column(string(Owned::Node).default(""))
                        .to_owned(),
                )
                .await?;
        }
        manager
            .drop_index(
                Index::drop()
                    .name("idx_patches_version_patch")
                    .table(Owned::Patches)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_patches_node_version_patch")
                    .table(Owned::Patches)
                    .col(Owned::Node)
                    .col(Patches::ProductVersion)
                    .col(Patches::Patch)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Cluster::Table)
                    .if_not_exists()
                    .col(integer(Cluster::Id).primary_key())
                    .col(string_null(Cluster::Holder))
                    .col(timestamp_with_time_zone_null(Cluster::ExpiresAt))
                    .col(boolean(Cluster::Enabled).default(true))
                    .col(string_null(Cluster::ChangedBy))
                    .col(timestamp_with_time_zone_null(Cluster::ChangedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::insert()
                    .into_table(Cluster::Table)
                    .columns([Cluster::Id, Cluster::Enabled])
                    .values_panic([1.into(), true.into()])
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Cluster::Table).to_owned())
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("idx_patches_node_version_patch")
                    .table(Owned::Patches)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_patches_version_patch")
                    .table(Owned::Patches)
                    .col(Patches::ProductVersion)
                    .col(Patches::Patch)
                    .unique()
                    .to_owned(),
            )
            .await?;
        for table in [
            Owned::InstalledState.into_iden(),
            Owned::Patches.into_iden(),
            Owned::Jobs.into_iden(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(table)
                        .drop_column(Owned::Node)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Owned {
    InstalledState,
    Patches,
    Jobs,
    Node,
}

#[derive(DeriveIden)]
enum Patches {
    ProductVersion,
    Patch,
}

#[derive(DeriveIden)]
enum Cluster {
    Table,
    Id,
    Holder,
    ExpiresAt,
    Enabled,
    ChangedBy,
    ChangedAt,
}
