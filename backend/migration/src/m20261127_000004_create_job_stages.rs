//! Installs and rollbacks: `job_stages` (the journal: each stage when it starts and ends) and
//! the levels a job moves between (`jobs.from_level`, `jobs.to_level`).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite takes one column per ALTER TABLE.
        manager
            .alter_table(
                Table::alter()
                    .table(Jobs::Table)
                    .add_column(integer_null(Jobs::FromLevel))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Jobs::Table)
                    .add_column(integer_null(Jobs::ToLevel))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(JobStages::Table)
                    .if_not_exists()
                    .col(pk_auto(JobStages::Id))
                    .col(integer(JobStages::JobId))
                    .col(integer(JobStages::Position))
                    .col(string(JobStages::Name))
                    .col(timestamp_with_time_zone_null(JobStages::StartedAt))
                    .col(timestamp_with_time_zone_null(JobStages::EndedAt))
                    .col(string_null(JobStages::Outcome))
                    .foreign_key(
                        ForeignKey::create()
                            .from(JobStages::Table, JobStages::JobId)
                            .to(Jobs::Table, Jobs::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_job_stages_job_position")
                    .table(JobStages::Table)
                    .col(JobStages::JobId)
                    .col(JobStages::Position)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(JobStages::Table).to_owned())
            .await?;
        for column in [Jobs::FromLevel, Jobs::ToLevel] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Jobs::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Jobs {
    Table,
    Id,
    FromLevel,
    ToLevel,
}

#[derive(DeriveIden)]
enum JobStages {
    Table,
    Id,
    JobId,
    Position,
    Name,
    StartedAt,
    EndedAt,
    Outcome,
}
