//! A fresh PostgreSQL database per test, made on the server `SMS_TEST_POSTGRES_URL` names and
//! dropped when the test ends. Without that variable the PostgreSQL tests are skipped, loudly,
//! except under `CI=true`, where they are mandatory.

use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use backend::storage::db::StorageConfig;
use sea_orm::{ConnectionTrait, Database};

/// The variable naming the PostgreSQL server (a URL with its admin database).
pub const POSTGRES_URL_VAR: &str = "SMS_TEST_POSTGRES_URL";

/// A fresh PostgreSQL database for one test, dropped (connections and all) when this is dropped.
pub struct PgTestDb {
    /// The database's URL, for `StorageConfig::database_url` or `--database-url`.
    pub url: String,
    admin_url: String,
    name: String,
    /// The tablespace the database lives in, when it has one of its own.
    tablespace: Option<String>,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

impl PgTestDb {
    /// Creates the database; `None` (with a loud message) when `SMS_TEST_POSTGRES_URL` is unset.
    ///
    /// # Panics
    ///
    /// Under `CI=true` without `SMS_TEST_POSTGRES_URL`, and when the database cannot be created.
    pub async fn create() -> Option<PgTestDb> {
        match Self::try_create().await {
            Ok(db) => db,
            Err(err) => panic!("{err:#}"),
        }
    }

    /// Like [`PgTestDb::create`], with an error instead of a panic.
    pub async fn try_create() -> anyhow::Result<Option<PgTestDb>> {
        let Ok(admin_url) = std::env::var(POSTGRES_URL_VAR) else {
            if std::env::var("CI").as_deref() == Ok("true") {
                bail!(
                    "CI=true but {POSTGRES_URL_VAR} is not set: the PostgreSQL tests must run in CI"
                );
            }
            eprintln!(
                "\n!!! SKIPPED: {POSTGRES_URL_VAR} is not set, so this PostgreSQL test did not run.\n\
                 !!! Set it, e.g. {POSTGRES_URL_VAR}=postgres://postgres@127.0.0.1:5432/postgres\n"
            );
            return Ok(None);
        };
        Self::on(&admin_url).await.map(Some)
    }

    /// Like [`PgTestDb::create`], with the database's files in `dir` (a tablespace of its own):
    /// on a small file system, PostgreSQL's own writes find it full. The server must run on
    /// this machine and may be given `dir` (the tests run as root).
    pub async fn create_on(dir: &Path) -> Option<PgTestDb> {
        let Ok(admin_url) = std::env::var(POSTGRES_URL_VAR) else {
            return Self::create().await;
        };
        match Self::with_tablespace(&admin_url, dir).await {
            Ok(db) => Some(db),
            Err(err) => panic!("{err:#}"),
        }
    }

    async fn with_tablespace(admin_url: &str, dir: &Path) -> anyhow::Result<PgTestDb> {
        let location = dir.join("postgres");
        std::fs::create_dir_all(&location).context("cannot make the tablespace's folder")?;
        let chown = std::process::Command::new("chown")
            .arg("postgres:postgres")
            .arg(&location)
            .status()
            .context("cannot run chown")?;
        if !chown.success() {
            bail!(
                "cannot give {} to the user postgres: the tablespace test needs root and a \
                 PostgreSQL server on this machine",
                location.display()
            );
        }
        let mut db = Self::named(admin_url)?;
        let tablespace = format!("{}_space", db.name);
        let admin = Database::connect(admin_url)
            .await
            .with_context(|| format!("cannot connect to PostgreSQL at {admin_url}"))?;
        admin
            .execute_unprepared(&format!(
                "CREATE TABLESPACE \"{tablespace}\" LOCATION '{}'",
                location.display()
            ))
            .await
            .context("cannot create the test tablespace")?;
        db.tablespace = Some(tablespace.clone());
        admin
            .execute_unprepared(&format!(
                "CREATE DATABASE \"{}\" TABLESPACE \"{tablespace}\"",
                db.name
            ))
            .await
            .context("cannot create the test database in its tablespace")?;
        admin.close().await?;
        Ok(db)
    }

    /// A name and URL for a new database, not created yet.
    fn named(admin_url: &str) -> anyhow::Result<PgTestDb> {
        let micros = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_micros();
        let name = format!(
            "sms_test_{}_{micros}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        Ok(PgTestDb {
            url: database_url(admin_url, &name),
            admin_url: admin_url.to_owned(),
            name,
            tablespace: None,
        })
    }

    /// A fresh database on the server of `admin_url`, whatever the environment says.
    pub async fn on(admin_url: &str) -> anyhow::Result<PgTestDb> {
        let db = Self::named(admin_url)?;
        let admin = Database::connect(admin_url)
            .await
            .with_context(|| format!("cannot connect to PostgreSQL at {admin_url}"))?;
        admin
            .execute_unprepared(&format!("CREATE DATABASE \"{}\"", db.name))
            .await
            .context("cannot create the test database")?;
        admin.close().await?;
        Ok(db)
    }

    /// Storage on this database, with its files in `data_dir`.
    pub fn storage(&self, data_dir: &Path) -> StorageConfig {
        StorageConfig {
            data_dir: data_dir.to_owned(),
            database_url: self.url.clone(),
            warn_free_bytes: None,
        }
    }
}

impl Drop for PgTestDb {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        let tablespace = self.tablespace.clone();
        // Drop runs inside the test's runtime: use a thread with a runtime of its own.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async move {
                let admin = Database::connect(admin_url.as_str()).await?;
                admin
                    .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                    .await?;
                if let Some(tablespace) = tablespace {
                    admin
                        .execute_unprepared(&format!("DROP TABLESPACE IF EXISTS \"{tablespace}\""))
                        .await?;
                }
                admin.close().await?;
                anyhow::Ok(())
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("warning: could not drop the test database {}", self.name);
        }
    }
}

/// `admin_url` with its database name replaced by `name` (the query, if any, kept).
fn database_url(admin_url: &str, name: &str) -> String {
    let (base, query) = match admin_url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (admin_url, None),
    };
    let authority_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let prefix = match base[authority_end..].find('/') {
        Some(slash) => &base[..authority_end + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{prefix}/{name}?{query}"),
        None => format!("{prefix}/{name}"),
    }
}

#[cfg(test)]
mod tests {
    use super::database_url;

    #[test]
    fn the_database_name_replaces_the_admin_database_and_the_query_stays() {
        assert_eq!(
            database_url("postgres://postgres@127.0.0.1:5432/postgres", "t1"),
            "postgres://postgres@127.0.0.1:5432/t1"
        );
        assert_eq!(
            database_url("postgres://u:p@db/postgres?sslmode=disable", "t2"),
            "postgres://u:p@db/t2?sslmode=disable"
        );
        assert_eq!(database_url("postgres://db", "t3"), "postgres://db/t3");
    }
}
