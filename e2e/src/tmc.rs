//! A real TMC for the browser tests: `TmcServer` (what `sms tmc serve` runs) on a loopback port,
//! serving a folder the test fills with a vendor's packages.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use backend::config::Config;
use backend::package::keys::PackageSigner;
use backend::package::tuf::Lifetimes;
use backend::tools::tmc_server::TmcServer;
use backend::tools::tuf_feed::FeedPublisher;
use tempfile::TempDir;
use testkit::Vendor;
use testkit::vendor::Package;

/// A TMC serving its own folder, signed with the vendor's key (format 1), or as the TUF feed of
/// the vendor's keys folder.
pub struct Tmc {
    /// The TMC itself, to ask what it published.
    pub server: Arc<TmcServer>,
    /// Its base URL, with a trailing slash (as the SMS configuration takes it).
    pub url: String,
    dir: TempDir,
}

impl Tmc {
    /// Starts an empty TMC whose catalog `vendor` signs.
    pub async fn start(vendor: &Vendor) -> anyhow::Result<Tmc> {
        Self::start_with_rate(vendor, None).await
    }

    /// Like [`Tmc::start`], serving packages at most `rate` bytes per second.
    pub async fn start_with_rate(vendor: &Vendor, rate: Option<u64>) -> anyhow::Result<Tmc> {
        let dir = tempfile::tempdir()?;
        let signer = PackageSigner::load(&vendor.secret_key())
            .context("cannot read the test vendor's key")?;
        let server = TmcServer::with_rate(
            dir.path().to_owned(),
            signer,
            Duration::from_secs(86_400),
            rate,
        );
        Self::serve(server, dir).await
    }

    /// Starts an empty TMC serving the TUF feed of a [`Vendor::with_tuf`] vendor's keys folder.
    pub async fn start_feed(vendor: &Vendor) -> anyhow::Result<Tmc> {
        let dir = tempfile::tempdir()?;
        let feed = FeedPublisher::new(vendor.tuf_keys(), Lifetimes::default());
        let server = TmcServer::serving(
            dir.path().to_owned(),
            None,
            Some(feed),
            Duration::from_secs(86_400),
            None,
        );
        Self::serve(server, dir).await
    }

    /// Publishes what `server` has in `dir` and serves it on a loopback port.
    async fn serve(server: Arc<TmcServer>, dir: TempDir) -> anyhow::Result<Tmc> {
        server.refresh().await?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}/", listener.local_addr()?);
        let router = server.clone().router();
        tokio::spawn(async move { axum::serve(listener, router).await });
        Ok(Tmc { server, url, dir })
    }

    /// Signs the feed again as of `at` (each role one version higher): with `at` two days
    /// ago, what a frozen mirror serves.
    pub async fn sign_feed_at(&self, at: chrono::DateTime<chrono::Utc>) -> anyhow::Result<()> {
        let packages = self.server.served_packages().await;
        self.server
            .feed()
            .context("this TMC serves no TUF feed")?
            .sign(self.dir.path(), &packages, at)
            .await
    }

    /// Points the SMS server at this TMC (and trusts the vendor, and its feed's first root
    /// when it has one).
    pub fn configure(&self, vendor: &Vendor, config: &mut Config) -> anyhow::Result<()> {
        vendor.trust(config);
        if self.server.feed().is_some() {
            vendor.trust_feed(config);
        }
        config.tmc.url = Some(self.url.parse()?);
        config.tmc.interval = Duration::from_secs(3600);
        Ok(())
    }

    /// Starts a browser whose server trusts `vendor` and uses this TMC, once the server's first
    /// check of the TMC is done (so a test starts from it).
    pub async fn browser(&self, vendor: &Vendor) -> anyhow::Result<crate::Browser> {
        let mut configured = Ok(());
        let browser =
            crate::Browser::start_with(|config| configured = self.configure(vendor, config))
                .await?;
        configured?;
        crate::check::until("the first TMC check", || async {
            let status = browser.state.tmc.status().await;
            match status.last_check {
                Some(_) => Ok(()),
                None => Err(format!("{:?}", status.connection)),
            }
        })
        .await?;
        Ok(browser)
    }

    /// Publishes `package` (e.g. `vendor.package(2).title("Faster reports")`): packs it into the
    /// TMC's folder and rebuilds the catalog at once.
    pub async fn publish(&self, package: Package<'_>) -> anyhow::Result<()> {
        package.write_in(self.dir.path());
        self.server.refresh().await?;
        Ok(())
    }
}
