//! Two nodes of an HA cluster on a fresh PostgreSQL database, for the cluster panel's tests.

use std::time::Duration;

use backend::service::cluster::ClusterConfig;
use testkit::{PgTestDb, TestApp, Vendor};

use crate::Browser;
use crate::harness::server_config;

const SECRET: &str = "the-e2e-cluster-secret-0123456789";

/// Node `sms-a` (started first: active) with a browser window, and node `sms-b` (passive).
pub struct Pair {
    /// Node `sms-a` with a browser window on it.
    pub a: Browser,
    /// Node `sms-b`.
    pub b: TestApp,
    // Dropped last: both nodes stop first.
    _pg: PgTestDb,
}

/// Starts both nodes; `None` when PostgreSQL is not configured (see [`PgTestDb::try_create`]).
pub async fn start(vendor: &Vendor) -> anyhow::Result<Option<Pair>> {
    let Some(pg) = PgTestDb::try_create().await? else {
        return Ok(None);
    };
    let [port_a, port_b] = testkit::free_ports();
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
            peer_trust: Default::default(),
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
    let b = TestApp::start(b_config, b_dir, None).await?;
    Ok(Some(Pair { a, b, _pg: pg }))
}
