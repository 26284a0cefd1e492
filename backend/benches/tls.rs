//! What TLS costs: a release `sms serve` on a non-loopback address (reached through
//! 127.0.0.1), once with its self-signed certificate over HTTPS and once with
//! `--insecure-http`, answers `GET /api/v1/health` for a few seconds from 32 clients that keep
//! their connection (keep-alive), then from clients that open a new connection per request
//! (a TLS handshake each).
//!
//! ```text
//! cargo bench -p backend --bench tls
//! ```
//!
//! It prints requests per second for each case. It asserts nothing.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use testkit::process::{self, Served};

const CLIENTS: usize = 32;
const RUN: Duration = Duration::from_secs(4);

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    backend::net::install_tls_provider();
    for tls in [false, true] {
        let work = tempfile::tempdir().context("cannot create the bench's working folder")?;
        let data = work.path().join("data");
        let server = start_server(&data, tls)?;
        let port = server
            .url
            .rsplit(':')
            .next()
            .unwrap_or_default()
            .trim_end_matches('/')
            .to_owned();
        let scheme = if tls { "https" } else { "http" };
        let url = format!("{scheme}://127.0.0.1:{port}/api/v1/health");
        let cert = if tls {
            Some(std::fs::read(data.join("tls/cert.pem"))?)
        } else {
            None
        };
        for keep_alive in [true, false] {
            let rate = run(&url, cert.as_deref(), keep_alive).await?;
            println!(
                "{:<5} {:<24} {rate:>8.0} requests/s",
                scheme.to_uppercase(),
                if keep_alive {
                    "keep-alive"
                } else {
                    "a new connection each"
                }
            );
        }
    }
    Ok(())
}

/// Requests per second from `CLIENTS` clients asking `url` for `RUN`.
async fn run(url: &str, cert: Option<&[u8]>, keep_alive: bool) -> anyhow::Result<f64> {
    let done = Arc::new(AtomicU64::new(0));
    let until = Instant::now() + RUN;
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..CLIENTS {
        let mut builder = reqwest::Client::builder();
        if let Some(cert) = cert {
            builder = builder.tls_certs_only(reqwest::Certificate::from_pem_bundle(cert)?);
        }
        if !keep_alive {
            builder = builder.pool_max_idle_per_host(0);
        }
        let client = builder.build()?;
        let (url, done) = (url.to_owned(), done.clone());
        workers.spawn(async move {
            while Instant::now() < until {
                match client.get(&url).send().await {
                    Ok(response) if response.status().is_success() => {
                        // Read the body, so the connection can be used again.
                        let _ = response.bytes().await;
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                    _ => tokio::time::sleep(Duration::from_millis(5)).await,
                }
            }
        });
    }
    while workers.join_next().await.is_some() {}
    Ok(done.load(Ordering::Relaxed) as f64 / RUN.as_secs_f64())
}

/// A release `sms serve` on every address: HTTPS with its self-signed certificate, or plain.
fn start_server(data: &Path, tls: bool) -> anyhow::Result<Served> {
    let mut command = process::serve_command(Path::new(env!("CARGO_BIN_EXE_sms")), data);
    command.env("SMS_LISTEN", "0.0.0.0:0");
    if !tls {
        command.arg("--insecure-http");
    }
    process::start(command)
}
