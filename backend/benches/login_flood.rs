//! The health check under a login flood: a release `sms serve` gets 200 parallel logins with
//! wrong passwords for several names, again and again for a few seconds, while a prober asks
//! `GET /api/v1/health` on a fresh connection every 50 ms. Two floods: one from a single
//! address (its `X-Forwarded-For` is not trusted, so every request counts against 127.0.0.1),
//! then one from 200 addresses (127.0.1.1 to 127.0.1.200, one per worker), which the
//! per-address throttle holds back less. After each, one correct login from another address
//! (127.0.0.2).
//!
//! ```text
//! cargo bench -p backend --bench login_flood
//! ```
//!
//! It prints the health check's latency (median, 95th percentile, max) without and during the
//! flood, how the flood's requests were answered (by status), and how long the correct login
//! took. It asserts nothing.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use testkit::process;
use testkit::{ADMIN_PASSWORD, Vendor};

const PARALLEL: usize = 200;
const FLOOD: Duration = Duration::from_secs(6);
const PROBE_EVERY: Duration = Duration::from_millis(50);

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    backend::net::install_tls_provider();
    let work = tempfile::tempdir().context("cannot create the bench's working folder")?;
    let vendor = Vendor::new();
    let server = process::serve_trusting(
        Path::new(env!("CARGO_BIN_EXE_sms")),
        &work.path().join("data"),
        vendor.public_key(),
    )?;
    let base = server.url.trim_end_matches('/').to_owned();

    let quiet = probe(&base, Duration::from_secs(2)).await?;
    println!("health without a flood:        {}", summary(&quiet));

    for spread in [false, true] {
        let flood = {
            let base = base.clone();
            tokio::spawn(async move { flood(&base, spread).await })
        };
        let during = probe(&base, FLOOD).await?;
        let statuses = flood.await.context("the flood task failed")??;
        let from = if spread {
            "200 addresses"
        } else {
            "one address"
        };
        println!(
            "health during {PARALLEL} parallel logins from {from}: {}",
            summary(&during)
        );
        let answered: Vec<String> = statuses
            .iter()
            .map(|(status, count)| format!("{count} × {status}"))
            .collect();
        println!("  flood answers: {}", answered.join(", "));

        // The admin, from another address, right after the flood.
        let other = reqwest::Client::builder()
            .local_address(std::net::IpAddr::from([127, 0, 0, 2]))
            .build()?;
        let started = Instant::now();
        match login(&other, &base, "admin", ADMIN_PASSWORD).await {
            Ok(status) => println!(
                "  the admin's own login from another address: {status} in {:.0} ms",
                started.elapsed().as_secs_f64() * 1000.0
            ),
            Err(err) => println!("  the admin's own login from another address failed: {err:#}"),
        }
    }
    Ok(())
}

/// Health latencies, one fresh connection each, for `how_long`.
async fn probe(base: &str, how_long: Duration) -> anyhow::Result<Vec<Duration>> {
    let until = Instant::now() + how_long;
    let mut latencies = Vec::new();
    while Instant::now() < until {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .build()?;
        let started = Instant::now();
        let response = client
            .get(format!("{base}/api/v1/health"))
            .timeout(Duration::from_secs(30))
            .send()
            .await;
        let took = started.elapsed();
        match response {
            Ok(r) if r.status().is_success() => latencies.push(took),
            Ok(r) => bail!("health answered {}", r.status()),
            Err(err) => bail!("health failed: {err}"),
        }
        tokio::time::sleep(PROBE_EVERY.saturating_sub(took)).await;
    }
    Ok(latencies)
}

/// `PARALLEL` workers log in with wrong passwords, for `FLOOD`, all from 127.0.0.1 or (`spread`)
/// each from its own address; the answers by status.
async fn flood(base: &str, spread: bool) -> anyhow::Result<BTreeMap<u16, usize>> {
    let until = Instant::now() + FLOOD;
    let mut workers = tokio::task::JoinSet::new();
    for n in 0..PARALLEL {
        let base = base.to_owned();
        let mut client = reqwest::Client::builder();
        if spread {
            let host = u8::try_from(n % 250 + 1).unwrap_or(1);
            client = client.local_address(std::net::IpAddr::from([127, 0, 1, host]));
        }
        let client = client.build()?;
        workers.spawn(async move {
            let mut statuses = Vec::new();
            let name = ["admin", "operator", "root", "nobody"][n % 4];
            while Instant::now() < until {
                match login(&client, &base, name, "not the password").await {
                    Ok(status) => statuses.push(status),
                    Err(_) => statuses.push(0),
                }
            }
            statuses
        });
    }
    let mut counts = BTreeMap::new();
    while let Some(done) = workers.join_next().await {
        for status in done.context("a flood worker failed")? {
            *counts.entry(status).or_insert(0) += 1;
        }
    }
    Ok(counts)
}

async fn login(
    client: &reqwest::Client,
    base: &str,
    name: &str,
    password: &str,
) -> anyhow::Result<u16> {
    let response = client
        .post(format!("{base}/api/v1/session"))
        .header("X-SMS-Client", "api/bench")
        .header("X-Forwarded-For", "203.0.113.7")
        .json(&serde_json::json!({ "username": name, "password": password }))
        .timeout(Duration::from_secs(60))
        .send()
        .await?;
    Ok(response.status().as_u16())
}

fn summary(latencies: &[Duration]) -> String {
    let mut sorted = latencies.to_vec();
    sorted.sort();
    let at = |q: f64| {
        let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
        sorted.get(i).copied().unwrap_or_default().as_secs_f64() * 1000.0
    };
    format!(
        "median {:>6.1} ms · p95 {:>6.1} ms · max {:>7.1} ms ({} probes)",
        at(0.5),
        at(0.95),
        at(1.0),
        sorted.len()
    )
}
