//! Scheduled installs and rollbacks (a job waits in state `scheduled` for its time), and the
//! notification targets with their outbox (docs/maintenance.md, docs/notifications.md).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite alters one column per statement.
        for column in [
            timestamp_with_time_zone_null(Jobs::ScheduledFor),
            timestamp_with_time_zone_null(Jobs::WindowEnd),
            text_null(Jobs::ScheduleNote),
            boolean(Jobs::UpcomingSent).default(false).to_owned(),
        ] {
            let mut column = column;
            manager
                .alter_table(
                    Table::alter()
                        .table(Jobs::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(NotificationTargets::Table)
                    .col(pk_auto(NotificationTargets::Id))
                    .col(string(NotificationTargets::Kind))
                    .col(text(NotificationTargets::Destination))
                    .col(text_null(NotificationTargets::Secret))
                    .col(boolean(NotificationTargets::Enabled))
                    .col(text_null(NotificationTargets::DisabledReason))
                    .col(timestamp_with_time_zone(NotificationTargets::CreatedAt))
                    .col(string(NotificationTargets::CreatedBy))
                    .col(boolean(NotificationTargets::Removed).default(false))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(NotificationOutbox::Table)
                    .col(pk_auto(NotificationOutbox::Id))
                    .col(string(NotificationOutbox::MessageId).unique_key())
                    .col(integer(NotificationOutbox::TargetId))
                    .col(string(NotificationOutbox::Event))
                    .col(text(NotificationOutbox::Summary))
                    .col(text(NotificationOutbox::Body))
                    .col(string(NotificationOutbox::State))
                    .col(integer(NotificationOutbox::Attempts))
                    .col(timestamp_with_time_zone(NotificationOutbox::CreatedAt))
                    .col(timestamp_with_time_zone_null(
                        NotificationOutbox::LastAttemptAt,
                    ))
                    .col(timestamp_with_time_zone_null(
                        NotificationOutbox::NextAttemptAt,
                    ))
                    .col(text_null(NotificationOutbox::LastOutcome))
                    .foreign_key(
                        ForeignKey::create()
                            .from(NotificationOutbox::Table, NotificationOutbox::TargetId)
                            .to(NotificationTargets::Table, NotificationTargets::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("notification_outbox_due")
                    .table(NotificationOutbox::Table)
                    .col(NotificationOutbox::State)
                    .col(NotificationOutbox::NextAttemptAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(NotificationOutbox::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(NotificationTargets::Table).to_owned())
            .await?;
        for column in [
            Jobs::ScheduledFor,
            Jobs::WindowEnd,
            Jobs::ScheduleNote,
            Jobs::UpcomingSent,
        ] {
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
    /// When a scheduled job starts.
    ScheduledFor,
    /// The end of the window it must start in.
    WindowEnd,
    /// What it waits for, in words.
    ScheduleNote,
    /// Whether `job.upcoming` was sent for it.
    UpcomingSent,
}

#[derive(DeriveIden)]
enum NotificationTargets {
    Table,
    Id,
    /// `webhook` or `email`.
    Kind,
    /// The URL or the address.
    Destination,
    /// A webhook's `whsec_...` secret.
    Secret,
    Enabled,
    DisabledReason,
    CreatedAt,
    CreatedBy,
    /// Removed targets stay for the delivery log.
    Removed,
}

#[derive(DeriveIden)]
enum NotificationOutbox {
    Table,
    Id,
    /// The `webhook-id`, `msg_` and 32 hex digits.
    MessageId,
    TargetId,
    /// The event type, e.g. `install.succeeded`.
    Event,
    Summary,
    /// The JSON body sent (and the source of the email).
    Body,
    /// `pending`, `delivered`, `failed` or `dropped`.
    State,
    Attempts,
    CreatedAt,
    LastAttemptAt,
    NextAttemptAt,
    LastOutcome,
}
