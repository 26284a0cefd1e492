//! The TMC feed's TUF trust: the newest verified root metadata (`tuf_root`, one row), and what
//! the TMC status says of the feed (`tmc_state`: the failure's code, the timestamp role's
//! version, when it was first seen and when it expires). docs/tmc-protocol.md, format 2.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(TufRoot::Table)
                    .col(integer(TufRoot::Id).primary_key())
                    .col(big_integer(TufRoot::Version))
                    .col(text(TufRoot::Root))
                    .col(timestamp_with_time_zone(TufRoot::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        // One column per statement: SQLite alters one at a time.
        for column in [
            text_null(TmcState::Code),
            big_integer_null(TmcState::TimestampVersion),
            timestamp_with_time_zone_null(TmcState::TimestampSeen),
            timestamp_with_time_zone_null(TmcState::TimestampExpires),
        ] {
            let mut column = column;
            manager
                .alter_table(
                    Table::alter()
                        .table(TmcState::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            TmcState::TimestampExpires,
            TmcState::TimestampSeen,
            TmcState::TimestampVersion,
            TmcState::Code,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(TmcState::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .drop_table(Table::drop().table(TufRoot::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum TufRoot {
    Table,
    Id,
    Version,
    Root,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum TmcState {
    Table,
    Code,
    TimestampVersion,
    TimestampSeen,
    TimestampExpires,
}
