//! How fast the SMS Patches panel answers, with 50 patches in the TMC catalog and 1,000
//! installs and rollbacks in the history:
//!
//! - the requests per second of `GET /api/v1/patches` against `GET /api/v1/health` in the same
//!   run, at 64 connections (two rounds of each, alternating);
//! - the time from a click on "General" in the navigation (an in-app navigation, from the
//!   audit log) until the panel's table is on the screen, in headless Chromium with the
//!   Performance API (warm: the first of the rounds is left out).
//!
//! ```text
//! make bench-panel      # builds the web client, then: cargo bench -p e2e --bench panel
//! ```
//!
//! It prints the figures and asserts nothing.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use e2e::tmc::Tmc;
use e2e::{ADMIN_PASSWORD, Vendor, action, check, find};
use serde_json::Value;

const CATALOG: u32 = 50;
const HISTORY: usize = 1_000;
const CONNECTIONS: usize = 64;
const ROUND: Duration = Duration::from_secs(5);
const NAVIGATIONS: usize = 21;

const RELEASE_NOTES: &str = "## What is fixed\n\n\
    - Reports of more than 10,000 rows export in one go.\n\
    - The device list keeps its sort order after a refresh.\n\
    - Filters with a `*` match as documented.\n\n\
    ## Before you install\n\n\
    Back up the database. The server **restarts**; clients reconnect by themselves.\n\n\
    | Component | Change |\n|---|---|\n| Server | Fixes |\n| Client | None |\n";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let vendor = Vendor::new();
    let tmc = Tmc::start(&vendor).await?;
    for n in 1..=CATALOG {
        tmc.publish(
            vendor
                .package(n)
                .title(&format!("Fixes for reports and devices, round {n}"))
                .release_notes(RELEASE_NOTES),
        )
        .await?;
    }
    let browser = tmc.browser(&vendor).await?;
    testkit::seed::history(&browser.state.db, HISTORY).await?;

    // The API as an admin's client sees it.
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .pool_max_idle_per_host(CONNECTIONS)
        .build()?;
    let login = client
        .post(browser.url("/api/v1/session"))
        // A state change: the server asks who the client is (docs/api.md).
        .header(shared::api::CLIENT_HEADER, "api/bench-panel")
        .json(&serde_json::json!({"username": "admin", "password": ADMIN_PASSWORD}))
        .send()
        .await?;
    if !login.status().is_success() {
        bail!("the admin's login was refused: {}", login.status());
    }
    let view: Value = client
        .get(browser.url("/api/v1/patches"))
        .send()
        .await?
        .json()
        .await?;
    let listed = view["available"].as_array().map_or(0, Vec::len);
    let bytes = serde_json::to_vec(&view)?.len();
    println!(
        "GET /api/v1/patches: {listed} patches listed, {} of {} history rows in the first page, {bytes} bytes",
        view["history"].as_array().map_or(0, Vec::len),
        view["history_total"]
    );

    let mut health = Vec::new();
    let mut panel = Vec::new();
    for _ in 0..2 {
        health.push(load(&client, &browser.url("/api/v1/health")).await?);
        panel.push(load(&client, &browser.url("/api/v1/patches")).await?);
    }
    let best = |rates: &[f64]| rates.iter().copied().fold(0.0, f64::max);
    println!(
        "at {CONNECTIONS} connections, {} s per round:",
        ROUND.as_secs()
    );
    println!("  GET /api/v1/health:  {}", rates(&health));
    println!("  GET /api/v1/patches: {}", rates(&panel));
    println!(
        "  panel / health: {:.2} (best round of each)",
        best(&panel) / best(&health)
    );

    // In Chromium: the audit log, then "General" in the navigation, until the table shows.
    action::login(&browser, "admin", ADMIN_PASSWORD).await?;
    check::visible(&browser, find::PATCHES_TABLE, "the patches table").await?;
    let mut times = Vec::new();
    for _ in 0..NAVIGATIONS {
        navigate(&browser, "/admin/audit", "#audit-page").await?;
        times.push(navigate(&browser, "/admin/general", "#patches-table").await?);
    }
    let mut warm = times[1..].to_vec();
    warm.sort_by(f64::total_cmp);
    println!(
        "time to the panel's table after a click on General (warm, {} navigations): median {:.0} ms, fastest {:.0} ms, slowest {:.0} ms (cold: {:.0} ms)",
        warm.len(),
        warm[warm.len() / 2],
        warm[0],
        warm[warm.len() - 1],
        times[0]
    );
    browser.close().await
}

/// Requests per second of `url` from `CONNECTIONS` clients asking again as soon as answered.
async fn load(client: &reqwest::Client, url: &str) -> anyhow::Result<f64> {
    let done = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let workers: Vec<_> = (0..CONNECTIONS)
        .map(|_| {
            let (client, url) = (client.clone(), url.to_owned());
            let (done, failed, stop) = (done.clone(), failed.clone(), stop.clone());
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    let ok = match client.get(&url).send().await {
                        Ok(response) if response.status().is_success() => {
                            response.bytes().await.is_ok()
                        }
                        _ => false,
                    };
                    let counter = if ok { &done } else { &failed };
                    counter.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    tokio::time::sleep(ROUND).await;
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.await.context("a load worker failed")?;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let failed = failed.load(Ordering::Relaxed);
    if failed > 0 {
        bail!("{failed} requests to {url} failed");
    }
    Ok(done.load(Ordering::Relaxed) as f64 / elapsed)
}

fn rates(rates: &[f64]) -> String {
    rates
        .iter()
        .map(|r| format!("{r:.0} req/s"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Clicks the navigation's link to `path` and waits for `ready` to be in the page: the
/// milliseconds between the two, by the page's own clock (`performance.measure`).
async fn navigate(browser: &e2e::Browser, path: &str, ready: &str) -> anyhow::Result<f64> {
    let script = r#"
        const [path, ready, done] = arguments;
        const link = document.querySelector(`nav a[href="${path}"]`);
        if (!link) { done(-1); return; }
        performance.clearMarks(); performance.clearMeasures();
        performance.mark("navigation-start");
        const finish = () => {
            const m = performance.measure("navigation", "navigation-start");
            done(m.duration);
        };
        const seen = () => document.querySelector(ready) && !document.querySelector(".loading");
        const observer = new MutationObserver(() => {
            if (seen()) { observer.disconnect(); finish(); }
        });
        observer.observe(document.body, { childList: true, subtree: true, attributes: true });
        link.click();
        if (seen()) { observer.disconnect(); finish(); }
    "#;
    let answer = browser
        .client
        .execute_async(script, vec![path.into(), ready.into()])
        .await?;
    match answer.as_f64() {
        Some(ms) if ms >= 0.0 => Ok(ms),
        _ => bail!("no navigation link to {path} (answer {answer})"),
    }
}
