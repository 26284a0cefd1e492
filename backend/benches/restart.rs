//! The restart of a patch install, as clients live it: a release `sms serve` (the supervisor)
//! installs five restart-type patches one after the other, each carrying the server executable
//! (this build's `sms`), so every install hands the socket over to the level's executable, while
//! a prober asks `GET /api/v1/health` without pause, each time on a new connection, and 20
//! clients hold the event stream open, reconnecting as the web client does (every 100 ms once
//! the server said it restarts). Then a sixth patch whose server exits at once is installed:
//! the supervisor switches back to Patch 5.
//!
//! ```text
//! cargo bench -p backend --bench restart
//! ```
//!
//! It prints, per install and as medians: the unavailable window (from the first health answer
//! that is not 200 to the next 200; target at most 1 s), the connections refused during the
//! hand-over (target 0), how long the open clients take to reconnect (from their stream's end to
//! a new stream, and after the server is back), and for the broken patch the time from the
//! install's start to the previous level serving again. It asserts nothing.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures_util::StreamExt;
use serde_json::Value;
use testkit::process;
use testkit::{ADMIN_PASSWORD, Api, Vendor, eventually_every};
use tokio::sync::Mutex;

const CLIENTS: usize = 20;
const ROUNDS: u32 = 5;
/// The web client's retry interval while the server restarts.
const RETRY: Duration = Duration::from_millis(100);

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
    let client = logged_in(&server.url).await?;
    for n in 1..=ROUNDS {
        // An application restart, a small payload.
        let package = vendor
            .package(n)
            .release_notes("Benchmark patch.")
            .server_executable(Path::new(env!("CARGO_BIN_EXE_sms")))
            .bytes();
        let response = client.import(package).await;
        if !response.status().is_success() {
            bail!("import of Patch {n} failed: {}", response.text().await?);
        }
    }

    let broken = vendor
        .package(ROUNDS + 1)
        .release_notes("A server that cannot start.")
        .server_script("echo 'cannot start: the rule store is missing' >&2\nexit 1\n")
        .bytes();
    let response = client.import(broken).await;
    if !response.status().is_success() {
        bail!(
            "import of the broken patch failed: {}",
            response.text().await?
        );
    }

    println!("restart benchmark: {ROUNDS} restart-type installs, {CLIENTS} open event streams");
    let mut windows = Vec::new();
    let mut refused = 0;
    let mut reconnects = Vec::new();
    let mut after_back = Vec::new();
    for n in 1..=ROUNDS {
        let round = install_round(&client, n).await?;
        println!(
            "Patch {n}: unavailable {:>6.0} ms · {} connections refused · clients back {:>6.0} ms median / {:>6.0} ms max after their stream ended ({:>4.0} ms max after the server was back)",
            ms(round.window),
            round.refused,
            ms(median(&round.reconnects)),
            ms(max(&round.reconnects)),
            ms(max(&round.after_back)),
        );
        windows.push(round.window);
        refused += round.refused;
        reconnects.extend(round.reconnects);
        after_back.extend(round.after_back);
    }
    println!(
        "unavailable window   median {:>6.0} ms, max {:>6.0} ms (target <= 1000 ms)",
        ms(median(&windows)),
        ms(max(&windows))
    );
    println!("connections refused  {refused} in {ROUNDS} hand-overs (target 0)");
    let switch_back = switch_back_round(&client, ROUNDS + 1).await?;
    println!(
        "switch back          {:>6.0} ms from the install's start to Patch {ROUNDS} serving again \
         ({:.0} ms unavailable, {} connections refused) after Patch {}'s server exited",
        ms(switch_back.total),
        ms(switch_back.window),
        switch_back.refused,
        ROUNDS + 1
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
    refused: usize,
    reconnects: Vec<Duration>,
    after_back: Vec<Duration>,
}

/// Installs Patch `n` with the prober and the clients watching.
async fn install_round(client: &Api, n: u32) -> anyhow::Result<Round> {
    let url = client.base_url.as_str();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (prober, answers) = probe(url, stop.clone())?;
    let mut watchers = Vec::new();
    for _ in 0..CLIENTS {
        let watcher = logged_in(url).await?;
        let response = watcher.events().await;
        if response.status() != 200 {
            bail!("the event stream did not open: {}", response.status());
        }
        watchers.push(tokio::spawn(async move {
            let mut body = response.bytes_stream();
            while let Some(Ok(_)) = body.next().await {}
            let ended = Instant::now();
            let events = watcher.url("/api/v1/events");
            // Retrying as the web client does, until a new stream opens.
            let again = eventually_every(
                "a watcher to open a new event stream",
                Duration::from_secs(120),
                RETRY,
                || async {
                    match watcher.client.get(&events).send().await {
                        Ok(again) if again.status() == 200 => Ok(Instant::now()),
                        Ok(again) => Err(format!("status {}", again.status())),
                        Err(err) => Err(err.to_string()),
                    }
                },
            )
            .await?;
            anyhow::Ok((ended, again))
        }));
    }

    let response = client.install(&format!("6.4.0.{n}")).await;
    if response.status() != 202 {
        bail!("install of Patch {n} refused: {}", response.text().await?);
    }
    let job: Value = response.json().await?;
    let id = job["id"].as_i64().context("the job has no id")?;
    let mut clients = Vec::new();
    for watcher in watchers {
        clients.push(watcher.await??);
    }
    let job = client.wait_for_job(id).await;
    if job["state"] != "succeeded" {
        bail!("install of Patch {n} did not succeed: {job}");
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    prober.await?;

    let answers = answers.lock().await;
    let (window, back) = unavailable(&answers)?;
    let refused = answers
        .iter()
        .filter(|a| a.answer == Answer::Refused)
        .count();
    let reconnects = clients.iter().map(|(end, again)| *again - *end).collect();
    let after_back = clients
        .iter()
        .map(|(_, again)| again.saturating_duration_since(back))
        .collect();
    Ok(Round {
        window,
        refused,
        reconnects,
        after_back,
    })
}

/// What the prober heard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    Healthy,
    /// Any other answer, or no answer in time.
    Unavailable,
    /// The connection was refused: nothing listened.
    Refused,
}

struct Probe {
    at: Instant,
    answer: Answer,
}

type Answers = Arc<Mutex<Vec<Probe>>>;

/// Asks `GET /api/v1/health` without pause, each time on a new connection, until `stop`.
fn probe(
    url: &str,
    stop: Arc<std::sync::atomic::AtomicBool>,
) -> anyhow::Result<(tokio::task::JoinHandle<()>, Answers)> {
    let answers: Answers = Arc::new(Mutex::new(Vec::new()));
    let probe = reqwest::Client::builder()
        .timeout(Duration::from_secs(1))
        .pool_max_idle_per_host(0)
        .no_proxy()
        .build()?;
    let (url, recorded) = (url.to_owned(), answers.clone());
    let task = tokio::spawn(async move {
        while !stop.load(std::sync::atomic::Ordering::Relaxed) {
            let answer = match probe.get(format!("{url}/api/v1/health")).send().await {
                Ok(response) if response.status() == 200 => Answer::Healthy,
                Ok(_) => Answer::Unavailable,
                Err(err) if err.is_connect() => Answer::Refused,
                Err(_) => Answer::Unavailable,
            };
            recorded.lock().await.push(Probe {
                at: Instant::now(),
                answer,
            });
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    });
    Ok((task, answers))
}

/// From the first answer that is not healthy to the next healthy one; and when that was.
fn unavailable(answers: &[Probe]) -> anyhow::Result<(Duration, Instant)> {
    let first_down = answers
        .iter()
        .position(|a| a.answer != Answer::Healthy)
        .context("the prober never saw the server unavailable")?;
    let back = answers[first_down..]
        .iter()
        .find(|a| a.answer == Answer::Healthy)
        .map(|a| a.at)
        .context("the server did not come back")?;
    Ok((back - answers[first_down].at, back))
}

struct SwitchBack {
    total: Duration,
    window: Duration,
    refused: usize,
}

/// Installs Patch `n`, whose server exits at once: the supervisor switches back.
async fn switch_back_round(client: &Api, n: u32) -> anyhow::Result<SwitchBack> {
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (prober, answers) = probe(client.base_url.as_str(), stop.clone())?;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let started = Instant::now();
    let response = client.install(&format!("6.4.0.{n}")).await;
    if response.status() != 202 {
        bail!("install of Patch {n} refused: {}", response.text().await?);
    }
    let job: Value = response.json().await?;
    let id = job["id"].as_i64().context("the job has no id")?;
    let job = client.wait_for_job(id).await;
    if job["error"]["code"] != "server_start_failed" {
        bail!("the broken Patch {n} did not fail with server_start_failed: {job}");
    }
    // The job is failed by the previous level's server as it starts: wait until it serves.
    eventually_every(
        "the previous level to serve again",
        Duration::from_secs(60),
        Duration::from_millis(5),
        || async {
            let answers = answers.lock().await;
            match unavailable(&answers) {
                Ok(_) => Ok(()),
                Err(err) => Err(err.to_string()),
            }
        },
    )
    .await?;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    prober.await?;
    let answers = answers.lock().await;
    let (window, back) = unavailable(&answers)?;
    Ok(SwitchBack {
        total: back - started,
        window,
        refused: answers
            .iter()
            .filter(|a| a.answer == Answer::Refused)
            .count(),
    })
}

async fn logged_in(url: &str) -> anyhow::Result<Api> {
    let api = Api::with_client_name(url, "api/bench");
    let response = api.login("admin", ADMIN_PASSWORD).await;
    if !response.status().is_success() {
        bail!("login failed: {}", response.status());
    }
    Ok(api)
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
