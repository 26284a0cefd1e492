//! Opening the database (SQLite file or PostgreSQL) and bringing its schema up to date.

use std::time::Duration;

use anyhow::Context;
use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection};

use crate::config::StorageConfig;

/// Connects, creating the data dir (and the SQLite file) when needed, and runs every migration.
pub async fn connect(storage: &StorageConfig) -> anyhow::Result<DatabaseConnection> {
    std::fs::create_dir_all(&storage.data_dir)
        .with_context(|| format!("cannot create the data dir {}", storage.data_dir.display()))?;
    let mut options = ConnectOptions::new(storage.database_url.clone());
    options
        .sqlx_logging(false)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10));
    if storage.is_sqlite() {
        // One file, one writer at a time: a small pool avoids lock contention.
        options.max_connections(4);
    } else {
        options.max_connections(10);
    }
    let db = Database::connect(options)
        .await
        .with_context(|| format!("cannot open the database {}", redact(&storage.database_url)))?;
    if storage.is_sqlite() {
        // WAL lets readers work while a write commits; the setting is stored in the file.
        db.execute_unprepared("PRAGMA journal_mode=WAL;")
            .await
            .context("cannot switch the SQLite database to WAL mode")?;
    }
    // Nodes of a cluster may start at the same moment on one empty database: one migrates,
    // the other waits and then finds nothing left to do.
    let lock = StartLock::take(&db).await?;
    let migrated = Migrator::up(&db, None)
        .await
        .context("cannot bring the database schema up to date");
    lock.release().await;
    migrated?;
    Ok(db)
}

/// The key of the PostgreSQL advisory lock that serializes the starts of the nodes sharing a
/// database (the ASCII of `sms-start`, folded into 64 bits).
const START_LOCK_KEY: i64 = 0x736d_732d_7374_6172;

/// While held, no other node sharing this PostgreSQL database migrates it or records its
/// first-start state (SQLite: a no-op; the file has one server). Give it back with
/// [`StartLock::release`]; dropped without that, its connection is closed, which releases the
/// lock too.
pub struct StartLock(Option<sea_orm::sqlx::pool::PoolConnection<sea_orm::sqlx::Postgres>>);

impl StartLock {
    /// Waits for the lock (on PostgreSQL).
    pub async fn take(db: &DatabaseConnection) -> anyhow::Result<Self> {
        if db.get_database_backend() != sea_orm::DatabaseBackend::Postgres {
            return Ok(Self(None));
        }
        let mut connection = db
            .get_postgres_connection_pool()
            .acquire()
            .await
            .context("cannot get a database connection for the start-up lock")?;
        sea_orm::sqlx::query("SELECT pg_advisory_lock($1)")
            .bind(START_LOCK_KEY)
            .execute(&mut *connection)
            .await
            .context("cannot take the start-up lock of the database")?;
        Ok(Self(Some(connection)))
    }

    /// Gives the lock back.
    pub async fn release(mut self) {
        if let Some(mut connection) = self.0.take() {
            let unlocked = sea_orm::sqlx::query("SELECT pg_advisory_unlock($1)")
                .bind(START_LOCK_KEY)
                .execute(&mut *connection)
                .await;
            if let Err(err) = unlocked {
                tracing::warn!("cannot give back the start-up lock: {err}; closing its connection");
                drop(connection.detach());
            }
        }
    }
}

impl Drop for StartLock {
    fn drop(&mut self) {
        if let Some(connection) = self.0.take() {
            // Closing the session is what releases a lock nobody gave back.
            drop(connection.detach());
        }
    }
}

/// The URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme_end + 3],
                    &credentials[..colon],
                    &url[at..]
                ),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// Begins a transaction that writes. On SQLite it takes the write lock at once (`BEGIN
/// IMMEDIATE`): a deferred transaction that reads first and writes later fails outright when
/// another connection wrote in between (WAL cannot upgrade its snapshot), whereas an immediate
/// one waits for the lock. PostgreSQL ignores the option.
pub async fn begin_write(
    db: &sea_orm::DatabaseConnection,
) -> Result<sea_orm::DatabaseTransaction, sea_orm::DbErr> {
    use sea_orm::{SqliteTransactionMode, TransactionOptions, TransactionTrait};
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_are_hidden_in_urls() {
        assert_eq!(
            redact("postgres://sms:secret@db.example/sms"),
            "postgres://sms:***@db.example/sms"
        );
        assert_eq!(
            redact("postgres://postgres@127.0.0.1/x"),
            "postgres://postgres@127.0.0.1/x"
        );
        assert_eq!(
            redact("sqlite://data/sms.db?mode=rwc"),
            "sqlite://data/sms.db?mode=rwc"
        );
    }
}
