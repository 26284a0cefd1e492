//! The restart of a patch install, as clients live it: a release `sms serve` installs five
//! restart-type patches one after the other while a prober asks `GET /api/v1/health` without
//! pause and 20 clients hold the event stream open, reconnecting as the web client does (every
//! 100 ms once the server said it restarts).
//!
//! ```text
//! cargo bench -p backend --bench restart
//! ```
//!
//! It prints, per install and as medians: the unavailable window (from the first health answer
//! that is not 200 to the next 200; target at most 1 s) and how long the open clients take to
//! reconnect (from their stream's end to a new stream, and after the server is back). It asserts
//! nothing.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use backend::package::PackageSigner;
use backend::package::pack::pack;
use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio::sync::Mutex;

const PASSWORD: &str = "bench-password-1";
const CLIENTS: usize = 20;
const ROUNDS: u32 = 5;
/// The web client's retry interval while the server restarts.
const RETRY: Duration = Duration::from_millis(100);

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let work = tempfile::tempdir().context("cannot create the bench's working folder")?;
    let signer = PackageSigner::generate("bench-vendor");
    let (_, public) = signer.write(&work.path().join("vendor"))?;
    let server = Server::start(work.path(), &public)?;
    let client = logged_in(&server.url).await?;
    for n in 1..=ROUNDS {
        let package = build_package(work.path(), &signer, n)?;
        let response = client
            .post(format!("{}/api/v1/patches/import", server.url))
            .header("X-SMS-Client", "api/bench")
            .header("Content-Type", "application/octet-stream")
            .body(std::fs::read(&package)?)
            .send()
            .await?;
        if !response.status().is_success() {
            bail!("import of Patch {n} failed: {}", response.text().await?);
        }
    }

    println!("restart benchmark: {ROUNDS} restart-type installs, {CLIENTS} open event streams");
    let mut windows = Vec::new();
    let mut reconnects = Vec::new();
    let mut after_back = Vec::new();
    for n in 1..=ROUNDS {
        let round = install_round(&server.url, &client, n).await?;
        println!(
            "Patch {n}: unavailable {:>6.0} ms · clients back {:>6.0} ms median / {:>6.0} ms max after their stream ended ({:>4.0} ms max after the server was back)",
            ms(round.window),
            ms(median(&round.reconnects)),
            ms(max(&round.reconnects)),
            ms(max(&round.after_back)),
        );
        windows.push(round.window);
        reconnects.extend(round.reconnects);
        after_back.extend(round.after_back);
    }
    println!(
        "unavailable window   median {:>6.0} ms, max {:>6.0} ms (target <= 1000 ms)",
        ms(median(&windows)),
        ms(max(&windows))
    );
    println!(
        "client reconnect     median {:>6.0} ms, max {:>6.0} ms after the stream ended; max {:.0} ms after the server was back",
        ms(median(&reconnects)),
        ms(max(&reconnects)),
        ms(max(&after_back))
    );
    Ok(())
}

struct Round {
    window: Duration,
    reconnects: Vec<Duration>,
    after_back: Vec<Duration>,
}

/// Installs Patch `n` with the prober and the clients watching.
async fn install_round(url: &str, client: &reqwest::Client, n: u32) -> anyhow::Result<Round> {
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    // Health answers over time: (when, was it 200).
    let answers: Arc<Mutex<Vec<(Instant, bool)>>> = Arc::new(Mutex::new(Vec::new()));
    let prober = {
        let (url, stop, answers) = (url.to_owned(), stop.clone(), answers.clone());
        let probe = reqwest::Client::builder()
            .timeout(Duration::from_secs(1))
            .build()?;
        tokio::spawn(async move {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let ok = probe
                    .get(format!("{url}/api/v1/health"))
                    .send()
                    .await
                    .is_ok_and(|r| r.status() == 200);
                answers.lock().await.push((Instant::now(), ok));
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        })
    };
    let mut watchers = Vec::new();
    for _ in 0..CLIENTS {
        let watcher = logged_in(url).await?;
        let response = watcher.get(format!("{url}/api/v1/events")).send().await?;
        if response.status() != 200 {
            bail!("the event stream did not open: {}", response.status());
        }
        let url = url.to_owned();
        watchers.push(tokio::spawn(async move {
            let mut body = response.bytes_stream();
            while let Some(Ok(_)) = body.next().await {}
            let ended = Instant::now();
            loop {
                if let Ok(again) = watcher.get(format!("{url}/api/v1/events")).send().await
                    && again.status() == 200
                {
                    return (ended, Instant::now());
                }
                tokio::time::sleep(RETRY).await;
            }
        }));
    }

    let response = client
        .post(format!("{url}/api/v1/patches/6.4.0.{n}/install"))
        .header("X-SMS-Client", "api/bench")
        .send()
        .await?;
    if response.status() != 202 {
        bail!("install of Patch {n} refused: {}", response.text().await?);
    }
    let job: Value = response.json().await?;
    let id = job["id"].as_i64().context("the job has no id")?;
    let mut clients = Vec::new();
    for watcher in watchers {
        clients.push(watcher.await?);
    }
    loop {
        if let Ok(r) = client.get(format!("{url}/api/v1/jobs/{id}")).send().await
            && r.status() == 200
        {
            let job: Value = r.json().await?;
            if job["state"] != "running" {
                if job["state"] != "succeeded" {
                    bail!("install of Patch {n} did not succeed: {job}");
                }
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    prober.await?;

    let answers = answers.lock().await;
    let first_down = answers
        .iter()
        .position(|(_, ok)| !ok)
        .context("the prober never saw the server unavailable")?;
    let back = answers[first_down..]
        .iter()
        .find(|(_, ok)| *ok)
        .map(|(at, _)| *at)
        .context("the server did not come back")?;
    let window = back - answers[first_down].0;
    let reconnects = clients.iter().map(|(end, again)| *again - *end).collect();
    let after_back = clients
        .iter()
        .map(|(_, again)| again.saturating_duration_since(back))
        .collect();
    Ok(Round {
        window,
        reconnects,
        after_back,
    })
}

async fn logged_in(url: &str) -> anyhow::Result<reqwest::Client> {
    let client = reqwest::Client::builder().cookie_store(true).build()?;
    let response = client
        .post(format!("{url}/api/v1/session"))
        .header("X-SMS-Client", "api/bench")
        .json(&json!({"username": "admin", "password": PASSWORD}))
        .send()
        .await?;
    if !response.status().is_success() {
        bail!("login failed: {}", response.status());
    }
    Ok(client)
}

/// SMS 6.4.0 Patch `n`: an application restart, a small payload.
fn build_package(dir: &Path, signer: &PackageSigner, n: u32) -> anyhow::Result<PathBuf> {
    let payload = dir.join(format!("payload-{n}"));
    std::fs::create_dir_all(payload.join("server"))?;
    std::fs::write(
        payload.join("server/app.bin"),
        format!("server at patch {n}\n").repeat(4096),
    )?;
    let template = json!({
        "product_version": "6.4.0",
        "patch": n,
        "build": format!("6.4.0.{}", 9200 + n),
        "released": "2026-11-02",
        "title": format!("Fixes {n}"),
        "updates": "server",
        "restart": "application",
        "database_changes": false,
        "rollback": true,
        "release_notes": "Benchmark patch.",
    });
    let out = dir.join(format!("patch-{n}.pkg"));
    pack(signer, &template, &payload, &out)?;
    Ok(out)
}

/// A release `sms serve` in its own data dir, trusting the bench's vendor key.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(dir: &Path, public_key: &Path) -> anyhow::Result<Self> {
        let mut child = Command::new(env!("CARGO_BIN_EXE_sms"))
            .arg("serve")
            .arg("--trust-key")
            .arg(public_key)
            .env("SMS_DATA_DIR", dir.join("data"))
            .env("SMS_LISTEN", "127.0.0.1:0")
            .env("SMS_STATIC_DIR", dir.join("dist"))
            .env("SMS_BOOTSTRAP_ADMIN_PASSWORD", PASSWORD)
            .env_remove("SMS_DATABASE_URL")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .context("cannot start sms serve")?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let url = loop {
            let Some(line) = lines.next() else {
                bail!("sms serve stopped before it was ready");
            };
            if let Some(rest) = line?.strip_prefix("SMS server ready at ") {
                break rest.trim_end_matches('/').to_owned();
            }
        };
        std::thread::spawn(move || lines.for_each(drop));
        Ok(Self { child, url })
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
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
