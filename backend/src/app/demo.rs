//! Demo mode's wiring: the demo vendor key's file, the demo TMC (its signed packages, served
//! slowly on a loopback port), the simulated devices, and the demo admin's password file.

use std::path::Path;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::config::Config;
use crate::http::state::AppState;
use crate::tools::tmc_server::TmcServer;

/// In demo mode the generated admin password is kept here (mode 0600) so every start can show it.
pub const DEMO_PASSWORD_FILE: &str = "demo-admin-password";

/// Who the demo's devices are recorded as added by.
const DEMO_DEVICES_ADDED_BY: &str = "demo";

/// How many simulated devices demo mode manages.
pub const DEMO_DEVICES: usize = 3;

/// The demo TMC serves packages at least this many bytes per second.
pub const DEMO_TMC_RATE: u64 = 512 * 1024;

/// About how long the download of the largest demo package takes: long enough to watch its
/// progress, short enough to wait for (the packages carry the server executable).
pub const DEMO_DOWNLOAD_SECS: u64 = 6;

/// The folder of the demo TMC's packages inside the data dir.
pub const DEMO_TMC_DIR: &str = "demo-tmc";

/// The demo TMC: its socket, its server, and the feed's first root, which the demo server
/// trusts.
pub struct DemoTmc {
    pub listener: TcpListener,
    pub tmc: std::sync::Arc<TmcServer>,
    pub trust_root: std::path::PathBuf,
}

/// The demo feed's keys folder inside the data dir.
pub const DEMO_TUF_DIR: &str = "demo-tuf";

/// The demo feed's keys (first start): made, and the root rotated once, as a vendor would
/// after replacing its root keys; the server trusts version 1 and follows the rotation.
async fn demo_feed_keys(data_dir: &Path) -> anyhow::Result<std::path::PathBuf> {
    let keys = data_dir.join(DEMO_TUF_DIR);
    let first = keys.join("1.root.json");
    if !first.exists() {
        let now = chrono::Utc::now();
        crate::package::tuf::init(&keys, now)
            .await
            .context("cannot make the demo feed's keys")?;
        crate::package::tuf::rotate_root(&keys, now)
            .await
            .context("cannot rotate the demo feed's root")?;
        tracing::info!(dir = %keys.display(), "made the demo feed's TUF keys (root rotated once)");
    }
    Ok(first)
}

/// Writes the demo packages (first start) and starts serving them on a loopback port, as a TUF
/// feed (format 2) and a format-1 catalog. The
/// 6.4.0 patches carry `executable` as their server executable (the supervisor's own, so
/// installing them hands over to it); without one (the application inside a test process) they
/// carry none and the base executable serves them.
pub async fn start_demo_tmc(
    config: &Config,
    executable: Option<std::path::PathBuf>,
) -> anyhow::Result<DemoTmc> {
    let prefix = config.storage.data_dir.join(DEMO_VENDOR_KEY);
    let signer = crate::package::PackageSigner::load(&prefix.with_extension("key"))
        .context("cannot read the demo vendor key")?;
    let dir = config.storage.data_dir.join(DEMO_TMC_DIR);
    let folder = dir.clone();
    let static_dir = config.static_dir.clone();
    let packages = {
        let signer = crate::package::PackageSigner::load(&prefix.with_extension("key"))?;
        tokio::task::spawn_blocking(move || {
            crate::tools::demo_packages::write_demo_packages(
                &folder,
                &signer,
                &static_dir,
                executable.as_deref(),
            )
        })
        .await??
    };
    if packages.written > 0 {
        tracing::info!(
            written = packages.written,
            dir = %dir.display(),
            "wrote the demo TMC's packages"
        );
    }
    // Slow enough that a download's progress is visible in the demo, whatever the size.
    let rate = DEMO_TMC_RATE.max(packages.largest / DEMO_DOWNLOAD_SECS);
    let trust_root = demo_feed_keys(&config.storage.data_dir).await?;
    let feed = crate::tools::tuf_feed::FeedPublisher::new(
        config.storage.data_dir.join(DEMO_TUF_DIR),
        crate::package::tuf::Lifetimes::default(),
    );
    let tmc = TmcServer::serving(
        dir,
        Some(signer),
        Some(feed),
        crate::tools::tmc_server::DEFAULT_EXPIRY,
        Some(rate),
    );
    tmc.refresh().await?;
    let listener = TcpListener::bind(("127.0.0.1", 0))
        .await
        .context("cannot start the demo TMC")?;
    tracing::info!(addr = %listener.local_addr()?, "demo TMC serving SMS 6.4.0 Patches 1 to 5");
    Ok(DemoTmc {
        listener,
        tmc,
        trust_root,
    })
}

/// The address of the demo's simulated devices, when the supervisor runs them.
pub const DEMO_DEVICES_ENV: &str = "SMS_DEMO_DEVICES";

/// Demo mode: starts simulated devices on a loopback port; they run on their own, whatever
/// the SMS does.
pub async fn start_demo_simulator() -> anyhow::Result<(
    std::net::SocketAddr,
    tokio::task::JoinHandle<std::io::Result<()>>,
)> {
    use crate::tools::device_simulator::Simulator;
    let simulator = Simulator::new("ips", DEMO_DEVICES);
    let listener = TcpListener::bind(("127.0.0.1", 0))
        .await
        .context("cannot start the demo devices")?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(async move { axum::serve(listener, simulator.router()).await });
    tracing::info!(%addr, "demo: {DEMO_DEVICES} simulated IPS devices");
    Ok((addr, task))
}

/// Demo mode: starts simulated devices and manages them (the server runs them itself when no
/// supervisor does).
pub async fn start_demo_devices(state: &AppState) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let (addr, task) = start_demo_simulator().await?;
    register_demo_devices(state, addr).await?;
    Ok(tokio::spawn(async move {
        match task.await {
            Ok(Err(err)) => tracing::error!("the demo devices stopped: {err}"),
            Err(err) => tracing::error!("the demo devices stopped: {err}"),
            Ok(Ok(())) => {}
        }
    }))
}

/// Manages the simulated devices at `addr` in place of the earlier demo start's (devices an
/// admin added stay); devices already managed at these addresses are kept as they are.
pub async fn register_demo_devices(
    state: &AppState,
    addr: std::net::SocketAddr,
) -> anyhow::Result<()> {
    use crate::tools::device_simulator::Simulator;
    let urls: Vec<String> = Simulator::new("ips", DEMO_DEVICES)
        .names()
        .into_iter()
        .map(|name| format!("http://{addr}{}", Simulator::status_path(&name)))
        .collect();
    let managed: Vec<_> = state
        .devices
        .list()
        .await?
        .into_iter()
        .filter(|device| device.added_by == DEMO_DEVICES_ADDED_BY)
        .collect();
    let same =
        managed.len() == urls.len() && managed.iter().all(|device| urls.contains(&device.url));
    if same {
        return Ok(());
    }
    for old in managed {
        state.devices.remove(old.id).await?;
    }
    for url in urls {
        if let Err(err) = state.devices.add(&url, DEMO_DEVICES_ADDED_BY).await {
            tracing::warn!("cannot add the demo device at {url}: {err}");
        }
    }
    tracing::info!(%addr, "demo: {DEMO_DEVICES} simulated IPS devices managed");
    Ok(())
}

/// The demo vendor key's file prefix in the data dir (demo mode only).
pub const DEMO_VENDOR_KEY: &str = "demo-vendor";

pub fn read_demo_password(path: &Path) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|text| text.trim().to_owned())
        .filter(|text| !text.is_empty())
}

/// Writes a file only this user can read (the demo admin's password, a key).
pub fn write_private_file(path: &Path, contents: &str) -> anyhow::Result<()> {
    crate::storage::files::write_private(path, contents.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))
}
