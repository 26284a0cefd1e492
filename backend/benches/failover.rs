//! HA failover, as a cluster lives it: two release `sms serve` nodes on one fresh PostgreSQL
//! database, with the built-in lease (3 s, renewed every second). The active node is stopped
//! (SIGTERM: it gives the lease up) or killed (SIGKILL: the lease runs out), and the time until
//! the other node serves as active (its `/cluster/v1/node` says `active`, so it serves the API)
//! is measured. The stopped node is started again (it comes back passive) and the roles
//! alternate.
//!
//! ```text
//! cargo bench -p backend --bench failover     # SMS_TEST_POSTGRES_URL, or the local default
//! ```
//!
//! It prints each takeover and the medians. It asserts nothing.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::Value;
use testkit::process::{self, Served};
use testkit::{ADMIN_PASSWORD, PgTestDb, eventually_every};

const SECRET: &str = "failover-bench-secret-0123456789";
const ROUNDS: usize = 5;
const DEFAULT_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/postgres";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    backend::net::install_tls_provider();
    let admin_url = std::env::var(testkit::pg::POSTGRES_URL_VAR)
        .unwrap_or_else(|_| DEFAULT_POSTGRES.to_owned());
    // Dropped (after the nodes stopped) when `run` is done, whatever its outcome.
    let database = PgTestDb::on(&admin_url).await?;
    run(&database.url).await
}

async fn run(database_url: &str) -> anyhow::Result<()> {
    let work = tempfile::tempdir().context("cannot create the bench's working folder")?;
    let secret = work.path().join("cluster-secret");
    std::fs::write(&secret, SECRET)?;
    let ports: [u16; 2] = testkit::free_ports();
    let spec = |i: usize| NodeSpec {
        name: format!("sms-{}", ["a", "b"][i]),
        port: ports[i],
        peer: ports[1 - i],
        dir: work.path().join(format!("node-{i}")),
        database_url: database_url.to_owned(),
        secret: secret.clone(),
    };
    let specs = [spec(0), spec(1)];
    let mut nodes = [Some(specs[0].start()?), None];
    wait_for_role(&specs[0], "active", Duration::from_secs(10)).await?;
    nodes[1] = Some(specs[1].start()?);
    wait_for_role(&specs[1], "passive", Duration::from_secs(10)).await?;

    println!(
        "failover benchmark: two nodes, lease 3 s renewed every 1 s, {ROUNDS} stops and {ROUNDS} kills"
    );
    let mut active = 0;
    let mut stopped = Vec::new();
    let mut killed = Vec::new();
    for round in 0..ROUNDS * 2 {
        let kill = round >= ROUNDS;
        let passive = 1 - active;
        let mut node = nodes[active]
            .take()
            .context("the active node is not running")?;
        let started = Instant::now();
        if kill {
            node.child.kill()?;
        } else {
            process::sigterm(&node.child)
                .with_context(|| format!("cannot stop {}", specs[active].name))?;
        }
        wait_for_role(&specs[passive], "active", Duration::from_secs(15)).await?;
        let took = started.elapsed();
        node.child.wait()?;
        println!(
            "{} {}: {} serves as active after {:>6.0} ms",
            if kill { "kill" } else { "stop" },
            specs[active].name,
            specs[passive].name,
            ms(took)
        );
        if kill {
            killed.push(took);
        } else {
            stopped.push(took);
        }
        nodes[active] = Some(specs[active].start()?);
        wait_for_role(&specs[active], "passive", Duration::from_secs(15)).await?;
        active = passive;
    }
    println!(
        "after a stop (SIGTERM)  median {:>6.0} ms, max {:>6.0} ms",
        ms(median(&stopped)),
        ms(max(&stopped))
    );
    println!(
        "after a kill (SIGKILL)  median {:>6.0} ms, max {:>6.0} ms",
        ms(median(&killed)),
        ms(max(&killed))
    );
    // Dropping the nodes kills them.
    drop(nodes);
    Ok(())
}

struct NodeSpec {
    name: String,
    port: u16,
    peer: u16,
    dir: PathBuf,
    database_url: String,
    secret: PathBuf,
}

impl NodeSpec {
    /// Starts the release `sms serve` of this node and waits until it is ready.
    fn start(&self) -> anyhow::Result<Served> {
        let mut command = process::serve_command(Path::new(env!("CARGO_BIN_EXE_sms")), &self.dir);
        command
            .args(["--node-name", &self.name])
            .args(["--listen", &format!("127.0.0.1:{}", self.port)])
            .args(["--database-url", &self.database_url])
            .args([
                "--cluster-peer",
                &format!("http://127.0.0.1:{}/", self.peer),
            ])
            .arg("--cluster-secret-file")
            .arg(&self.secret)
            .env("SMS_BOOTSTRAP_ADMIN_PASSWORD", ADMIN_PASSWORD);
        process::start(command).with_context(|| format!("{} did not start", self.name))
    }

    fn node_url(&self) -> String {
        format!("http://127.0.0.1:{}/cluster/v1/node", self.port)
    }
}

/// Polls the node every 5 ms until it says `role`; returns how long that took.
async fn wait_for_role(node: &NodeSpec, role: &str, limit: Duration) -> anyhow::Result<Duration> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(1))
        .build()?;
    let started = Instant::now();
    let what = format!("{} to become {role}", node.name);
    eventually_every(&what, limit, Duration::from_millis(5), || async {
        let response = client
            .get(node.node_url())
            .bearer_auth(SECRET)
            .send()
            .await
            .map_err(|err| err.to_string())?;
        let info: Value = response.json().await.map_err(|err| err.to_string())?;
        if info["role"] == role {
            Ok(started.elapsed())
        } else {
            Err(format!("role {}", info["role"]))
        }
    })
    .await
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn median(all: &[Duration]) -> Duration {
    let mut sorted = all.to_vec();
    sorted.sort();
    sorted.get(sorted.len() / 2).copied().unwrap_or_default()
}

fn max(all: &[Duration]) -> Duration {
    all.iter().copied().max().unwrap_or_default()
}
