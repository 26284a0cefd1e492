//! Two nodes of an HA cluster on a fresh PostgreSQL database, for the cluster panel's tests.

use std::time::Duration;

use anyhow::Context;
use backend::config::ClusterConfig;
use sea_orm::{ConnectionTrait, Database};
use tempfile::TempDir;

use crate::Browser;
use crate::harness::{Server, server_config};
use crate::packages::Vendor;

const SECRET: &str = "the-e2e-cluster-secret-0123456789";

/// A fresh PostgreSQL database, dropped afterwards.
pub struct PgDatabase {
    pub url: String,
    admin_url: String,
    name: String,
}

impl PgDatabase {
    /// `None` (with a loud message) when `SMS_TEST_POSTGRES_URL` is unset, except under
    /// `CI=true`, where that is an error.
    pub async fn create() -> anyhow::Result<Option<PgDatabase>> {
        let Ok(admin_url) = std::env::var("SMS_TEST_POSTGRES_URL") else {
            anyhow::ensure!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI=true but SMS_TEST_POSTGRES_URL is not set: the HA cluster tests must run in CI"
            );
            eprintln!(
                "\n!!! SKIPPED: SMS_TEST_POSTGRES_URL is not set, so this HA cluster test did not run.\n"
            );
            return Ok(None);
        };
        let name = format!(
            "sms_e2e_{}_{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)?
                .as_micros()
        );
        let admin = Database::connect(admin_url.as_str())
            .await
            .context("cannot connect to SMS_TEST_POSTGRES_URL")?;
        admin
            .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
            .await?;
        admin.close().await?;
        let (base, _) = admin_url
            .rsplit_once('/')
            .context("a database URL has a path")?;
        Ok(Some(PgDatabase {
            url: format!("{base}/{name}"),
            admin_url,
            name,
        }))
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async move {
                let admin = Database::connect(admin_url.as_str()).await?;
                admin
                    .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                    .await?;
                admin.close().await?;
                anyhow::Ok(())
            })
        })
        .join();
    }
}

/// Node `sms-a` (started first: active) with a browser window, and node `sms-b` (passive).
pub struct Pair {
    pub a: Browser,
    pub b: Server,
    _b_dir: TempDir,
    // Dropped last: both nodes stop first.
    _pg: PgDatabase,
}

/// Starts both nodes; `None` when PostgreSQL is not configured (see [`PgDatabase::create`]).
pub async fn start(vendor: &Vendor) -> anyhow::Result<Option<Pair>> {
    let Some(pg) = PgDatabase::create().await? else {
        return Ok(None);
    };
    let (port_a, port_b) = (free_port()?, free_port()?);
    let node = |name: &str, port: u16, peer: u16, dir: &std::path::Path| {
        let mut config = server_config(dir)?;
        config.listen = format!("127.0.0.1:{port}").parse()?;
        config.node_name = name.to_owned();
        config.storage.database_url = pg.url.clone();
        vendor.trust(&mut config);
        config.cluster = Some(ClusterConfig {
            peer: reqwest::Url::parse(&format!("http://127.0.0.1:{peer}/"))?,
            secret: SECRET.to_owned(),
            lease_ttl: Duration::from_secs(3),
            lease_renew: Duration::from_millis(500),
        });
        anyhow::Ok(config)
    };
    let a_config = {
        let dir = tempfile::tempdir()?;
        let config = node("sms-a", port_a, port_b, dir.path())?;
        (config, dir)
    };
    let b_dir = tempfile::tempdir()?;
    let b_config = node("sms-b", port_b, port_a, b_dir.path())?;
    let (a_config, a_dir) = a_config;
    let a = Browser::start_in(a_config, a_dir).await?;
    let b = Server::start(b_config).await?;
    Ok(Some(Pair {
        a,
        b,
        _b_dir: b_dir,
        _pg: pg,
    }))
}

fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}
