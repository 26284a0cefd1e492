//! Opening the database (SQLite file or PostgreSQL) and bringing its schema up to date, and
//! [`Db`], the handle the services use: a write is acknowledged only once it is committed, and
//! a connection goes back to the pool only outside any transaction.

use std::ops::Deref;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::pool::PoolConnectionMetadata;
use sea_orm::sqlx::{Connection, Error as SqlxError};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr, ExecResult,
    QueryResult, Statement,
};

/// The database the services use: a pool of connections to a SQLite file or PostgreSQL.
///
/// On SQLite a single statement outside a transaction commits when it ends, and a statement
/// read for one row (`INSERT ... RETURNING`, as sea-orm writes an insert or an update) ends when
/// the driver resets it, which discards the commit's error: on a full disk such a write is
/// rolled back while its row is handed back as written. Here every statement read for one row
/// runs to its end on SQLite, so its commit's error comes back as the statement's.
/// Transactions are the pool's ([`Deref`]); their `COMMIT` reports its own error.
#[derive(Debug, Clone)]
pub struct Db(DatabaseConnection);

impl Db {
    /// The handle over an open pool.
    pub fn new(inner: DatabaseConnection) -> Self {
        Self(inner)
    }

    /// The pool itself (for the migrator and the pool's own calls).
    pub fn inner(&self) -> &DatabaseConnection {
        &self.0
    }

    /// Closes every connection of the pool.
    pub async fn close(self) -> Result<(), DbErr> {
        self.0.close().await
    }
}

impl Deref for Db {
    type Target = DatabaseConnection;

    fn deref(&self) -> &DatabaseConnection {
        &self.0
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for Db {
    fn get_database_backend(&self) -> DbBackend {
        self.0.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.0.execute_raw(stmt).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.0.execute_unprepared(sql).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        if self.0.get_database_backend() == DbBackend::Sqlite {
            // To its end: see the type's documentation. A one-row query has a `LIMIT 1`.
            return Ok(self.0.query_all_raw(stmt).await?.into_iter().next());
        }
        self.0.query_one_raw(stmt).await
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.0.query_all_raw(stmt).await
    }

    fn support_returning(&self) -> bool {
        self.0.support_returning()
    }
}

/// Whether a connection coming back to the pool is outside any transaction; one that is not
/// (its `COMMIT` or `ROLLBACK` failed, on a full disk say) is closed, which rolls back what it
/// still holds and gives up its locks, instead of serving the next request inside it.
fn sqlite_clean(
    conn: &mut sea_orm::sqlx::SqliteConnection,
    _meta: PoolConnectionMetadata,
) -> futures_util::future::BoxFuture<'_, Result<bool, SqlxError>> {
    Box::pin(async move {
        let in_sqlite_transaction = {
            let mut handle = conn.lock_handle().await?;
            // SAFETY: the handle is valid and locked away from the connection's worker thread
            // while `handle` lives; `sqlite3_get_autocommit` only reads the connection's state.
            unsafe { libsqlite3_sys::sqlite3_get_autocommit(handle.as_raw_handle().as_ptr()) == 0 }
        };
        Ok(returned_clean(
            in_sqlite_transaction || conn.is_in_transaction(),
        ))
    })
}

/// [`sqlite_clean`] for PostgreSQL: the driver's count of open transactions.
fn postgres_clean(
    conn: &mut sea_orm::sqlx::PgConnection,
    _meta: PoolConnectionMetadata,
) -> futures_util::future::BoxFuture<'_, Result<bool, SqlxError>> {
    let in_transaction = conn.is_in_transaction();
    Box::pin(async move { Ok(returned_clean(in_transaction)) })
}

fn returned_clean(in_transaction: bool) -> bool {
    if in_transaction {
        tracing::warn!(
            "a database connection came back inside a transaction (its commit or rollback \
             failed); it is closed, which rolls that transaction back"
        );
    }
    !in_transaction
}

/// Where the data lives: the data dir, and the database's URL (the SQLite file in the data dir
/// unless `database_url` names another).
#[derive(Debug, Clone, Default)]
pub struct StorageConfig {
    pub data_dir: PathBuf,
    pub database_url: String,
    /// `[storage] warn_free_mb` in bytes: warn below this much free space in the data dir
    /// (`None`: 2 GiB or 10 % of its file system, whichever is less; `storage::space`).
    pub warn_free_bytes: Option<u64>,
}

impl StorageConfig {
    /// Whether the database is the embedded SQLite file.
    pub fn is_sqlite(&self) -> bool {
        self.database_url.starts_with("sqlite:")
    }
}

/// Connects, creating the data dir (and the SQLite file) when needed, and runs every migration.
pub async fn connect(storage: &StorageConfig) -> anyhow::Result<Db> {
    std::fs::create_dir_all(&storage.data_dir)
        .with_context(|| format!("cannot create the data dir {}", storage.data_dir.display()))?;
    let mut options = ConnectOptions::new(storage.database_url.clone());
    options
        .sqlx_logging(false)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10))
        .map_sqlx_sqlite_pool_opts(|pool| pool.after_release(sqlite_clean))
        .map_sqlx_postgres_pool_opts(|pool| pool.after_release(postgres_clean));
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
    let migrated = match later_release_schema(&db).await {
        Err(err) => Err(err),
        Ok(()) => Migrator::up(&db, None)
            .await
            .context("cannot bring the database schema up to date"),
    };
    lock.release().await;
    migrated?;
    Ok(Db::new(db))
}

/// Refuses, naming them, built-in migrations of a later release of the server applied to the
/// database: this executable cannot run on that schema (docs/schema.md).
async fn later_release_schema(db: &DatabaseConnection) -> anyhow::Result<()> {
    let applied = crate::storage::executable::applied_builtin(db)
        .await
        .context("cannot read the server's schema migrations")?;
    let unknown = crate::storage::executable::unknown_to_this_release(&applied);
    if unknown.is_empty() {
        return Ok(());
    }
    anyhow::bail!(
        "schema_from_later_release: the database has the server schema migrations {} that \
         this release of the server does not know: a later release applied them (a patch \
         whose own server brought them, not rolled back through that server). Run that \
         release again (install the patch), or restore the backup taken before its install \
         (`sms backup list`, `sms backup restore`); `sms doctor` says the same",
        unknown.join(", ")
    )
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
