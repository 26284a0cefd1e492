//! `devices`: the managed IPS devices and their last polled status.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Devices::Table)
                    .if_not_exists()
                    .col(pk_auto(Devices::Id))
                    .col(string(Devices::Name))
                    .col(string_uniq(Devices::Url))
                    .col(string_null(Devices::Model))
                    .col(string_null(Devices::TosVersion))
                    .col(string(Devices::State))
                    .col(big_integer_null(Devices::UptimeSeconds))
                    .col(big_integer_null(Devices::PacketsInspected))
                    .col(timestamp_with_time_zone_null(Devices::LastContact))
                    .col(text_null(Devices::Message))
                    .col(string(Devices::AddedBy))
                    .col(timestamp_with_time_zone(Devices::AddedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Devices::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Devices {
    Table,
    Id,
    Name,
    Url,
    Model,
    TosVersion,
    State,
    UptimeSeconds,
    PacketsInspected,
    LastContact,
    Message,
    AddedBy,
    AddedAt,
}
