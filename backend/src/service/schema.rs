//! The database migrations patches carry: which ran, and bringing the schema to what a level
//! needs (its migrations applied in order, the ones of no longer installed levels undone newest
//! first), inside the caller's transaction so the level record and the schema change together.

use chrono::Utc;
use sea_orm::{ActiveValue::Set, ConnectionTrait, DbErr, EntityTrait, QueryOrder};
use shared::PatchLevel;

use crate::storage::entity::patch_migration;
pub use crate::storage::levels::LevelMigration;

/// What bringing the schema to a level did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MigrationReport {
    /// `NNNN-name` of each migration applied, in order.
    pub applied: Vec<String>,
    /// `NNNN-name` of each migration undone, in order.
    pub undone: Vec<String>,
    /// `NNNN-name` of each migration the level does not carry that stays: it has no down
    /// migration (its patch cannot be rolled back; only a switch back after a failed start
    /// leaves such a level).
    pub kept: Vec<String>,
}

/// Why the schema could not be brought to a level. Nothing of the transaction stays.
#[derive(Debug, thiserror::Error)]
pub enum MigrationError {
    /// A migration's SQL failed (`migration_failed`).
    #[error("the database migration {migration} failed: {error}")]
    Failed { migration: String, error: String },
    /// A migration of this number ran with other SQL (`migration_changed`).
    #[error(
        "the database migration {number:04} ran as `{applied}` with other SQL than the package's \
         `{now}` holds now; a migration must never change once published: ask the vendor for a \
         corrected patch"
    )]
    Changed {
        number: u32,
        applied: String,
        now: String,
    },
    #[error("database error: {0}")]
    Db(#[from] DbErr),
}

impl MigrationError {
    /// The job error code this stands for.
    pub fn code(&self) -> &'static str {
        match self {
            MigrationError::Changed { .. } => "migration_changed",
            _ => "migration_failed",
        }
    }
}

fn label(number: u32, name: &str) -> String {
    format!("{number:04}-{name}")
}

/// The migrations that ran on this database, by number.
pub async fn applied<C: ConnectionTrait>(db: &C) -> Result<Vec<patch_migration::Model>, DbErr> {
    patch_migration::Entity::find()
        .order_by_asc(patch_migration::Column::Number)
        .all(db)
        .await
}

/// Brings the schema to `wanted` (the migrations of `level`, cumulative): undoes, newest first,
/// every applied migration `wanted` does not hold (one without a down migration stays, and the
/// report says so), then applies, in order, every one of `wanted` not applied yet, recording
/// each. A migration applied with other SQL is refused.
pub async fn migrate_to<C: ConnectionTrait>(
    db: &C,
    level: PatchLevel,
    wanted: &[LevelMigration],
) -> Result<MigrationReport, MigrationError> {
    let done = applied(db).await?;
    let mut report = MigrationReport::default();
    for row in &done {
        let number = u32::try_from(row.number).unwrap_or(0);
        if let Some(now) = wanted.iter().find(|m| m.number == number)
            && now.sha256 != row.sha256
        {
            return Err(MigrationError::Changed {
                number,
                applied: label(number, &row.name),
                now: label(now.number, &now.name),
            });
        }
    }
    for row in done.iter().rev() {
        let number = u32::try_from(row.number).unwrap_or(0);
        if wanted.iter().any(|m| m.number == number) {
            continue;
        }
        let migration = label(number, &row.name);
        let Some(down) = &row.down_sql else {
            report.kept.push(migration);
            continue;
        };
        db.execute_unprepared(down)
            .await
            .map_err(|err| MigrationError::Failed {
                migration: format!("{migration}.down.sql"),
                error: err.to_string(),
            })?;
        patch_migration::Entity::delete_by_id(row.number)
            .exec(db)
            .await?;
        report.undone.push(migration);
    }
    let mut ordered: Vec<&LevelMigration> = wanted.iter().collect();
    ordered.sort_by_key(|m| m.number);
    for migration in ordered {
        if done
            .iter()
            .any(|row| u32::try_from(row.number).is_ok_and(|n| n == migration.number))
        {
            continue;
        }
        let name = label(migration.number, &migration.name);
        db.execute_unprepared(&migration.up_sql)
            .await
            .map_err(|err| MigrationError::Failed {
                migration: format!("{name}.up.sql"),
                error: err.to_string(),
            })?;
        patch_migration::Entity::insert(patch_migration::ActiveModel {
            number: Set(i32::try_from(migration.number).unwrap_or(i32::MAX)),
            name: Set(migration.name.clone()),
            sha256: Set(migration.sha256.clone()),
            level: Set(i32::try_from(level.0).unwrap_or(i32::MAX)),
            applied_at: Set(Utc::now()),
            down_sql: Set(migration.down_sql.clone()),
        })
        .exec(db)
        .await?;
        report.applied.push(name);
    }
    Ok(report)
}

pub use crate::storage::executable::applied_builtin;

/// Undoes the built-in migrations `names` (newest first) with this executable's own `down`s,
/// inside the caller's transaction, and forgets them: what a newer executable does before it
/// hands back to an older one that does not list them (docs/schema.md).
pub async fn undo_builtin(
    txn: &sea_orm::DatabaseTransaction,
    names: &[String],
) -> Result<(), MigrationError> {
    use migration::{MigratorTrait, SchemaManager};
    use sea_orm::Statement;
    let known = migration::Migrator::migrations();
    let manager = SchemaManager::new(txn);
    let backend = txn.get_database_backend();
    let delete = match backend {
        sea_orm::DbBackend::Postgres => "DELETE FROM seaql_migrations WHERE version = $1",
        _ => "DELETE FROM seaql_migrations WHERE version = ?",
    };
    for name in names {
        let Some(migration) = known.iter().find(|m| m.name() == name) else {
            return Err(MigrationError::Failed {
                migration: name.clone(),
                error: "this executable does not know it".into(),
            });
        };
        migration
            .down(&manager)
            .await
            .map_err(|err| MigrationError::Failed {
                migration: name.clone(),
                error: err.to_string(),
            })?;
        txn.execute_raw(Statement::from_sql_and_values(
            backend,
            delete,
            [name.as_str().into()],
        ))
        .await?;
    }
    Ok(())
}
