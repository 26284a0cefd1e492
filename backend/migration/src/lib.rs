//! Database migrations, written with sea-query so the same code runs on SQLite and PostgreSQL.

pub use sea_orm_migration::prelude::*;

mod m20261127_000001_create_foundation_tables;
mod m20261127_000002_create_patches;
mod m20261127_000003_create_tmc_and_jobs;
mod m20261127_000004_create_job_stages;
mod m20261127_000005_create_devices;
mod m20261127_000006_create_cluster;
mod m20261201_000007_create_patch_migrations;
mod m20261201_000008_patch_changes;
mod m20261202_000009_schedules_and_notifications;
mod m20261206_000010_user_must_change_password;
mod m20261207_000011_job_backup;
mod m20261207_000012_patch_server_migrations;
mod m20261207_000013_tuf_trust;
#[cfg(feature = "fault-injection")]
pub mod m20270101_000099_future_table;

/// Every migration in order; the server runs `Migrator::up` at start.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        #[allow(unused_mut)]
        let mut migrations: Vec<Box<dyn MigrationTrait>> = vec![
            Box::new(m20261127_000001_create_foundation_tables::Migration),
            Box::new(m20261127_000002_create_patches::Migration),
            Box::new(m20261127_000003_create_tmc_and_jobs::Migration),
            Box::new(m20261127_000004_create_job_stages::Migration),
            Box::new(m20261127_000005_create_devices::Migration),
            Box::new(m20261127_000006_create_cluster::Migration),
            Box::new(m20261201_000007_create_patch_migrations::Migration),
            Box::new(m20261201_000008_patch_changes::Migration),
            Box::new(m20261202_000009_schedules_and_notifications::Migration),
            Box::new(m20261206_000010_user_must_change_password::Migration),
            Box::new(m20261207_000011_job_backup::Migration),
            Box::new(m20261207_000012_patch_server_migrations::Migration),
            Box::new(m20261207_000013_tuf_trust::Migration),
        ];
        #[cfg(feature = "fault-injection")]
        if let Some(extra) = m20270101_000099_future_table::wanted() {
            migrations.push(Box::new(extra));
        }
        migrations
    }
}

/// The variable that adds a synthetic built-in migration in fault-injection builds
/// (`reversible` or `irreversible`): the tests' stand-in for a later release's migration.
pub const EXTRA_MIGRATION_ENV: &str = "SMS_EXTRA_MIGRATION";

/// The built-in migrations whose `down` cannot undo them: a rollback to an executable that
/// does not list one refuses up front (docs/schema.md).
const IRREVERSIBLE: &[&str] = &[
    #[cfg(feature = "fault-injection")]
    m20270101_000099_future_table::IRREVERSIBLE,
];

/// One built-in migration, as `sms migrations list --json` prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Builtin {
    pub name: String,
    /// Whether its `down` undoes it.
    pub reversible: bool,
}

/// This executable's built-in migrations, oldest first.
pub fn builtin() -> Vec<Builtin> {
    Migrator::migrations()
        .iter()
        .map(|migration| Builtin {
            name: migration.name().to_owned(),
            reversible: !IRREVERSIBLE.contains(&migration.name()),
        })
        .collect()
}
