//! `sms tmc serve`: a TMC serving a folder of packages, for development and tests.

use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;

use crate::app::startup::shutdown_signal;

use crate::package::PackageSigner;

#[derive(Debug, Subcommand)]
pub(super) enum TmcCommand {
    /// Serve a folder of packages and a signed catalog of them (docs/tmc-protocol.md).
    Serve {
        /// The folder whose `*.pkg` files are served (looked at again every 2 seconds).
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
        /// The key that signs the catalog (PREFIX.key); SMS servers must trust its PREFIX.pub.
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        /// Address to listen on.
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8081")]
        listen: std::net::SocketAddr,
        /// How long a catalog stays valid: `7d`, `12h`, ...
        #[arg(long, value_name = "DURATION", default_value = "7d")]
        expires_in: String,
        /// Serve packages at most this many KiB per second (to watch download progress).
        #[arg(long, value_name = "KIB")]
        rate_kib: Option<u64>,
    },
}

pub(super) async fn tmc_serve(
    dir: PathBuf,
    key: &std::path::Path,
    listen: std::net::SocketAddr,
    expires_in: &str,
    rate: Option<u64>,
) -> anyhow::Result<()> {
    use crate::tools::tmc_server::TmcServer;
    let signer = PackageSigner::load(key)
        .with_context(|| format!("cannot read the signing key {}", key.display()))?;
    let expires_in = crate::config::parse_interval(expires_in).context("invalid --expires-in")?;
    anyhow::ensure!(
        dir.is_dir(),
        "{} is not a folder: create it and put .pkg files in it",
        dir.display()
    );
    let tmc = TmcServer::with_rate(dir, signer, expires_in, rate);
    tmc.refresh().await?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let addr = listener.local_addr()?;
    let count = tmc
        .published()
        .await
        .map(|p| p.catalog.patches.len())
        .unwrap_or(0);
    println!(
        "TMC serving {count} package(s) from {}",
        tmc.dir().display()
    );
    println!("TMC ready at http://{addr}/");
    let watcher = tokio::spawn(tmc.clone().watch());
    let served = axum::serve(listener, tmc.router())
        .with_graceful_shutdown(shutdown_signal())
        .await;
    watcher.abort();
    served?;
    Ok(())
}
