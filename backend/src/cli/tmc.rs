//! `sms tmc serve`: a TMC serving a folder of packages, for development and tests.

use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;

use crate::app::serve::{ConnectionLimits, serve};
use crate::app::startup::shutdown_signal;
use crate::service::certificate::ServerCertificate;

use crate::package::PackageSigner;

#[derive(Debug, Subcommand)]
pub(super) enum TmcCommand {
    /// Serve a folder of packages as a TUF feed (format 2, `--tuf`) and/or a signed catalog
    /// (format 1, `--key`) (docs/tmc-protocol.md).
    Serve {
        /// The folder whose `*.pkg` files are served (looked at again every 2 seconds).
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
        /// Format 1: the key that signs the catalog (PREFIX.key); SMS servers must trust its
        /// PREFIX.pub.
        #[arg(long, value_name = "FILE", required_unless_present = "tuf")]
        key: Option<PathBuf>,
        /// Format 2: the keys folder of `sms tuf init` (its root versions and keys are read
        /// again while serving).
        #[arg(long, value_name = "KEYS")]
        tuf: Option<PathBuf>,
        /// Address to listen on.
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8081")]
        listen: std::net::SocketAddr,
        /// How long a catalog stays valid: `7d`, `12h`, ...
        #[arg(long, value_name = "DURATION", default_value = "7d")]
        expires_in: String,
        /// Serve packages at most this many KiB per second (to watch download progress).
        #[arg(long, value_name = "KIB")]
        rate_kib: Option<u64>,
        /// Serve HTTPS with this certificate chain (PEM, leaf first); needs --tls-key.
        #[arg(long, value_name = "FILE", requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// The certificate's private key (PEM); needs --tls-cert.
        #[arg(long, value_name = "FILE", requires = "tls_cert")]
        tls_key: Option<PathBuf>,
    },
}

/// How `sms tmc serve` serves: where, how fast, and over HTTPS with which certificate.
pub(super) struct TmcServeOptions {
    pub listen: std::net::SocketAddr,
    pub expires_in: String,
    pub rate: Option<u64>,
    /// Certificate chain and key files: serve HTTPS.
    pub tls: Option<(PathBuf, PathBuf)>,
}

pub(super) async fn tmc_serve(
    dir: PathBuf,
    key: Option<&std::path::Path>,
    tuf: Option<PathBuf>,
    options: TmcServeOptions,
) -> anyhow::Result<()> {
    use crate::tools::tmc_server::TmcServer;
    let TmcServeOptions {
        listen,
        expires_in,
        rate,
        tls,
    } = options;
    let expires_in = expires_in.as_str();
    let tls = match tls {
        Some((cert, key)) => {
            crate::net::install_tls_provider();
            let certificate = ServerCertificate::load(&cert, &key).with_context(|| {
                format!(
                    "cannot serve HTTPS with {} and {}",
                    cert.display(),
                    key.display()
                )
            })?;
            let config = certificate.server_config().context("cannot set up TLS")?;
            Some((
                certificate,
                tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config)),
            ))
        }
        None => None,
    };
    let signer = match key {
        Some(key) => Some(
            PackageSigner::load(key)
                .with_context(|| format!("cannot read the signing key {}", key.display()))?,
        ),
        None => None,
    };
    let feed = match tuf {
        Some(keys) => {
            // The keys folder must hold a root before anything is served.
            crate::package::tuf::KeysFolder::read(&keys)?.latest_root()?;
            Some(crate::tools::tuf_feed::FeedPublisher::new(
                keys,
                crate::package::tuf::Lifetimes::default(),
            ))
        }
        None => None,
    };
    let expires_in = crate::values::duration("--expires-in", expires_in, crate::values::LONG)?;
    anyhow::ensure!(
        dir.is_dir(),
        "{} is not a folder: create it and put .pkg files in it",
        dir.display()
    );
    let tmc = TmcServer::serving(dir, signer, feed, expires_in, rate);
    tmc.refresh().await?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let addr = listener.local_addr()?;
    let count = match (tmc.published().await, tmc.feed()) {
        (Some(p), _) => p.catalog.patches.len(),
        (None, Some(feed)) => feed
            .published()
            .await
            .map_or(0, |p| p.targets.len().saturating_sub(1)),
        (None, None) => 0,
    };
    println!(
        "TMC serving {count} package(s) from {}",
        tmc.dir().display()
    );
    if let Some(feed) = tmc.feed()
        && let Some(published) = feed.published().await
    {
        println!(
            "  TUF feed: root version {}, {} package(s), timestamp version {}",
            published.roots.keys().last().copied().unwrap_or(0),
            published.targets.len().saturating_sub(1),
            published.versions.timestamp
        );
    }
    let scheme = if tls.is_some() { "https" } else { "http" };
    if let Some((certificate, _)) = &tls {
        println!(
            "  Certificate SHA-256 fingerprint: {}",
            certificate.fingerprint()
        );
    }
    println!("TMC ready at {scheme}://{addr}/");
    let watcher = tokio::spawn(tmc.clone().watch());
    let limits = ConnectionLimits {
        max_connections: 256,
        header_read_timeout: std::time::Duration::from_secs(10),
    };
    let acceptor = tls.map(|(_, acceptor)| acceptor);
    let served = serve(listener, tmc.router(), limits, acceptor, shutdown_signal()).await;
    watcher.abort();
    served?;
    Ok(())
}
