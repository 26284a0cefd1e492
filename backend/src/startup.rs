//! Building and running the server: storage, first-start bootstrap, listener, graceful shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use crate::config::Config;
use crate::lifecycle::{Control, Gate, Lifecycle};
use crate::router::router;
use crate::service::auth::{BOOTSTRAP_ADMIN, BootstrapAdmin};
use crate::service::tmc::CheckOutcome;
use crate::state::AppState;
use crate::tmc::server::TmcServer;

/// The environment variable holding the first admin's password.
pub const BOOTSTRAP_PASSWORD_ENV: &str = "SMS_BOOTSTRAP_ADMIN_PASSWORD";
/// In demo mode the generated admin password is kept here (mode 0600) so every start can show it.
const DEMO_PASSWORD_FILE: &str = "demo-admin-password";

/// A server bound to its address, ready to run.
pub struct Application {
    listener: TcpListener,
    state: AppState,
    gate: Gate,
    control: mpsc::Receiver<Control>,
    /// The configuration with the demo TMC's URL filled in: what a fresh start (after a
    /// simulated reboot) starts from.
    config: Config,
    /// Demo mode without `--tmc-url`: the TMC that runs inside the server.
    demo_tmc: Option<(TcpListener, std::sync::Arc<TmcServer>)>,
    /// Demo mode: simulated managed devices, serving on their own loopback port.
    demo_devices: Option<tokio::task::JoinHandle<()>>,
}

/// Who the demo's devices are recorded as added by.
const DEMO_DEVICES_ADDED_BY: &str = "demo";

/// How many simulated devices demo mode manages.
pub const DEMO_DEVICES: usize = 3;

/// The demo TMC serves packages at this many bytes per second.
pub const DEMO_TMC_RATE: u64 = 512 * 1024;

/// The folder of the demo TMC's packages inside the data dir.
pub const DEMO_TMC_DIR: &str = "demo-tmc";

/// How long a stopping server waits for its connections to finish.
const STOP_TIMEOUT: Duration = Duration::from_secs(5);

/// How to log in, as printed at start.
#[derive(Debug, Clone)]
pub struct AdminLogin {
    pub username: String,
    pub password: String,
}

/// Opens the database and builds the application state as a fresh start does: jobs cut off
/// by the last stop are dealt with, incomplete files removed, the installed state recorded.
async fn prepare(
    config: Config,
    addr: SocketAddr,
) -> anyhow::Result<(AppState, Gate, mpsc::Receiver<Control>)> {
    let db = crate::db::connect(&config.storage).await?;
    let keys = trusted_keys(&config)?;
    let gate = Gate::new(Router::new());
    gate.close(shared::api::ServerState::Restarting);
    let (lifecycle, control) =
        Lifecycle::new(addr, gate.clone(), config.system.reboot_command.clone());
    let cluster = match &config.cluster {
        Some(cluster) => {
            crate::service::cluster::Cluster::new(db.clone(), &config.node_name, cluster.clone())?
        }
        None => crate::service::cluster::Cluster::single(),
    };
    // The role is known before the first request: take the lease if it is free.
    cluster.tick().await;
    if cluster.is_configured() {
        tracing::info!(node = %config.node_name, role = %cluster.role(), "HA cluster node");
    }
    let state = AppState::new(config, db, keys, lifecycle, cluster)?;
    state.tmc.load_recorded().await?;
    let interrupted = state.jobs.fail_interrupted().await?;
    if interrupted > 0 {
        tracing::warn!(
            interrupted,
            "marked downloads cut off by the last stop as failed"
        );
    }
    let removed = state
        .repository
        .clean_incomplete()
        .await
        .context("cannot prepare the patch repository")?;
    if removed > 0 {
        tracing::warn!(
            removed,
            "removed incomplete package files left by an interrupted import"
        );
    }
    state
        .installed
        .ensure_initialized(&state.config.initial)
        .await
        .context("cannot record the installed state")?;
    let removed = state.auth.purge_expired_sessions().await?;
    if removed > 0 {
        tracing::info!(removed, "removed expired sessions");
    }
    let client = state
        .refresh_client()
        .await
        .context("cannot work out the client version to serve")?;
    tracing::info!(client = %client, "serving web client version {client}");
    Ok((state, gate, control))
}

impl Application {
    /// Opens the database, records the first-start state, and binds the listener.
    /// `bootstrap_password` is the first admin's password (else one is generated).
    pub async fn build(
        config: Config,
        bootstrap_password: Option<String>,
    ) -> anyhow::Result<(Self, Option<AdminLogin>)> {
        let mut config = config;
        // Demo mode needs the demo vendor key before the TMC starts.
        trusted_keys(&config)?;
        let demo_tmc = if config.demo && config.tmc.url.is_none() {
            let (listener, tmc) = start_demo_tmc(&config).await?;
            let url = format!("http://{}/", listener.local_addr()?);
            config.tmc.url = Some(reqwest::Url::parse(&url)?);
            Some((listener, tmc))
        } else {
            None
        };
        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        let addr = listener.local_addr()?;
        let (state, gate, control) = prepare(config.clone(), addr).await?;
        let demo_devices = if config.demo {
            Some(start_demo_devices(&state).await?)
        } else {
            None
        };

        let demo = state.config.demo;
        let password_file = state.config.storage.data_dir.join(DEMO_PASSWORD_FILE);
        let bootstrap_password = match bootstrap_password {
            Some(given) => Some(given),
            None if demo => read_demo_password(&password_file),
            None => None,
        };
        let created = state
            .auth
            .ensure_bootstrap_admin(bootstrap_password.as_deref())
            .await
            .context("cannot create the first admin")?;
        let login = match created {
            Some(BootstrapAdmin {
                password,
                generated,
            }) => {
                if demo && generated {
                    write_private_file(&password_file, &password)?;
                }
                Some(AdminLogin {
                    username: BOOTSTRAP_ADMIN.to_owned(),
                    password,
                })
            }
            // Demo mode shows the login at every start, while the admin still has that password.
            None if demo => match bootstrap_password {
                Some(password)
                    if state
                        .auth
                        .password_matches(BOOTSTRAP_ADMIN, &password)
                        .await? =>
                {
                    Some(AdminLogin {
                        username: BOOTSTRAP_ADMIN.to_owned(),
                        password,
                    })
                }
                _ => None,
            },
            None => None,
        };
        Ok((
            Self {
                listener,
                state,
                gate,
                control,
                config,
                demo_tmc,
                demo_devices,
            },
            login,
        ))
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` completes, then ends the event streams, finishes in-flight
    /// requests and returns. The TMC sync (and the demo TMC) run meanwhile. A simulated reboot
    /// stops listening for the configured window and starts afresh on the same address.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let Application {
            listener,
            state,
            gate,
            control,
            config,
            demo_tmc,
            demo_devices,
        } = self;
        let mut demo_tasks = tokio::task::JoinSet::new();
        if let Some((listener, tmc)) = demo_tmc {
            demo_tasks.spawn(tmc.clone().watch());
            demo_tasks.spawn(async move {
                if let Err(err) = axum::serve(listener, tmc.router()).await {
                    tracing::error!("the demo TMC stopped: {err}");
                }
            });
        }
        let addr = listener.local_addr()?;
        let mut shutdown = std::pin::pin!(shutdown);
        let (mut listener, mut state, mut gate, mut control) = (listener, state, gate, control);
        loop {
            let running = Running::start(listener, state.clone(), gate.clone()).await;
            let reboot = tokio::select! {
                () = &mut shutdown => false,
                request = control.recv() => matches!(request, Some(Control::Reboot)),
            };
            running.stop(&state).await;
            if !reboot {
                demo_tasks.shutdown().await;
                if let Some(devices) = &demo_devices {
                    devices.abort();
                }
                return Ok(());
            }
            let window = config.system.reboot_window;
            tracing::warn!(
                window_ms = window.as_millis() as u64,
                "simulated reboot: the server does not answer for a while"
            );
            tokio::select! {
                () = &mut shutdown => {
                    demo_tasks.shutdown().await;
                    if let Some(devices) = &demo_devices {
                        devices.abort();
                    }
                    return Ok(());
                }
                () = tokio::time::sleep(window) => {}
            }
            drop(state);
            tracing::info!("simulated reboot: starting again");
            listener = bind_again(addr).await?;
            (state, gate, control) = prepare(config.clone(), addr)
                .await
                .map_err(|err| std::io::Error::other(format!("{err:#}")))?;
        }
    }
}

/// One start's serving: the listener behind the gate, the TMC sync, and the finishing of jobs
/// a stop cut off.
struct Running {
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    stop: tokio::sync::oneshot::Sender<()>,
    tasks: tokio::task::JoinSet<()>,
}

impl Running {
    async fn start(listener: TcpListener, state: AppState, gate: Gate) -> Self {
        let interrupted = match crate::service::patching::adopt_interrupted(&state).await {
            Ok(jobs) => jobs,
            Err(err) => {
                tracing::error!(
                    "cannot read the installs and rollbacks cut off by the last stop: {err}"
                );
                Vec::new()
            }
        };
        gate.open(router(state.clone()));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let service = gate
            .service()
            .into_make_service_with_connect_info::<SocketAddr>();
        let server = tokio::spawn(async move {
            axum::serve(listener, service)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await
        });
        let mut tasks = tokio::task::JoinSet::new();
        tasks.spawn(state.cluster.clone().run());
        if let Some(mut role) = state.cluster.watch_role() {
            let events = state.events.clone();
            tasks.spawn(async move {
                while role.changed().await.is_ok() {
                    events.publish(shared::panel::ServerEvent::ClusterChanged);
                }
            });
        }
        // The TMC sync and the device polls run on the node that serves (not a passive one).
        let sync_state = state.clone();
        tasks.spawn(while_serving(state.cluster.clone(), move || {
            let state = sync_state.clone();
            state.tmc.clone().run(move |outcome| {
                let state = state.clone();
                async move { after_tmc_check(&state, outcome).await }
            })
        }));
        let devices = state.devices.clone();
        tasks.spawn(while_serving(state.cluster.clone(), move || {
            devices.clone().run()
        }));
        tasks.spawn(async move {
            if let Err(err) =
                crate::service::patching::resume_interrupted(&state, interrupted).await
            {
                tracing::error!(
                    "cannot finish the install or rollback cut off by the last stop: {err}"
                );
            }
        });
        Self {
            server,
            stop,
            tasks,
        }
    }

    /// Ends the event streams, stops listening, and lets connections finish (for a while).
    async fn stop(mut self, state: &AppState) {
        state.events.close();
        let _ = self.stop.send(());
        match tokio::time::timeout(STOP_TIMEOUT, &mut self.server).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(err))) => tracing::error!("the server stopped with an error: {err}"),
            Ok(Err(err)) => tracing::error!("the server task failed: {err}"),
            Err(_) => {
                tracing::warn!("connections still open after {STOP_TIMEOUT:?}: cutting them");
                self.server.abort();
            }
        }
        self.tasks.shutdown().await;
        state.cluster.release().await;
    }
}

/// Runs the work `start` makes while this node serves; stops it when the node turns passive
/// and starts it again when it serves again.
async fn while_serving<F: Future<Output = ()>>(
    cluster: crate::service::cluster::Cluster,
    start: impl Fn() -> F,
) {
    let Some(mut role) = cluster.watch_role() else {
        start().await;
        return;
    };
    loop {
        while !role.borrow_and_update().serves() {
            if role.changed().await.is_err() {
                return;
            }
        }
        let turned_passive = async {
            loop {
                if role.changed().await.is_err() {
                    std::future::pending::<()>().await;
                }
                if !role.borrow_and_update().serves() {
                    return;
                }
            }
        };
        tokio::select! {
            () = start() => return,
            () = turned_passive => {}
        }
    }
}

/// Binds `addr` again after a simulated reboot (the old socket may linger for a moment).
async fn bind_again(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let mut attempt = 0;
    loop {
        match TcpListener::bind(addr).await {
            Ok(listener) => return Ok(listener),
            Err(err) if attempt < 50 => {
                attempt += 1;
                tracing::debug!("cannot listen on {addr} yet: {err}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(err) => return Err(err),
        }
    }
}

/// After a successful TMC check: every client fetches the panel again, and while notifications
/// are enabled, a new patch newer than the installed one is announced.
pub async fn after_tmc_check(state: &AppState, outcome: CheckOutcome) {
    use shared::panel::ServerEvent;
    state.events.publish(ServerEvent::PatchesChanged);
    if outcome.new_patches.is_empty() {
        return;
    }
    match crate::service::panel::build_view(state).await {
        Ok(view) => {
            if view.notifications_enabled
                && let Some(notice) = view.newer_patch
                && outcome.new_patches.contains(&notice.id)
            {
                tracing::info!(patch = %notice.id, "announcing a newer patch to open clients");
                state.events.publish(ServerEvent::PatchNotice(notice));
            }
        }
        Err(err) => tracing::error!("cannot work out the patch notice: {err}"),
    }
}

/// Writes the demo packages (first start) and starts serving them on a loopback port.
async fn start_demo_tmc(
    config: &Config,
) -> anyhow::Result<(TcpListener, std::sync::Arc<TmcServer>)> {
    let prefix = config.storage.data_dir.join(DEMO_VENDOR_KEY);
    let signer = crate::package::PackageSigner::load(&prefix.with_extension("key"))
        .context("cannot read the demo vendor key")?;
    let dir = config.storage.data_dir.join(DEMO_TMC_DIR);
    let folder = dir.clone();
    let written = {
        let signer = crate::package::PackageSigner::load(&prefix.with_extension("key"))?;
        tokio::task::spawn_blocking(move || crate::tmc::demo::write_demo_packages(&folder, &signer))
            .await??
    };
    if written > 0 {
        tracing::info!(written, dir = %dir.display(), "wrote the demo TMC's packages");
    }
    // Slow enough that a download's progress is visible in the demo.
    let tmc = TmcServer::with_rate(
        dir,
        signer,
        crate::tmc::server::DEFAULT_EXPIRY,
        Some(DEMO_TMC_RATE),
    );
    tmc.refresh().await?;
    let listener = TcpListener::bind(("127.0.0.1", 0))
        .await
        .context("cannot start the demo TMC")?;
    tracing::info!(addr = %listener.local_addr()?, "demo TMC serving SMS 6.4.0 Patches 1 to 5");
    Ok((listener, tmc))
}

/// Demo mode: starts simulated devices on a loopback port (they run on their own, whatever the
/// SMS does) and manages them in place of the earlier demo start's.
async fn start_demo_devices(state: &AppState) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    use crate::devices::simulator::Simulator;
    let simulator = Simulator::new("ips", DEMO_DEVICES);
    let listener = TcpListener::bind(("127.0.0.1", 0))
        .await
        .context("cannot start the demo devices")?;
    let addr = listener.local_addr()?;
    let names = simulator.names();
    let task = tokio::spawn(async move {
        if let Err(err) = axum::serve(listener, simulator.router()).await {
            tracing::error!("the demo devices stopped: {err}");
        }
    });
    // Each start of the demo has new device addresses: these replace the earlier demo devices
    // (devices an admin added stay).
    for old in state.devices.list().await? {
        if old.added_by == DEMO_DEVICES_ADDED_BY {
            state.devices.remove(old.id).await?;
        }
    }
    for name in names {
        let url = format!("http://{addr}{}", Simulator::status_path(&name));
        if let Err(err) = state.devices.add(&url, DEMO_DEVICES_ADDED_BY).await {
            tracing::warn!("cannot add the demo device {name}: {err}");
        }
    }
    tracing::info!(%addr, "demo: {DEMO_DEVICES} simulated IPS devices managed");
    Ok(task)
}

/// The demo vendor key's file prefix in the data dir (demo mode only).
pub const DEMO_VENDOR_KEY: &str = "demo-vendor";

/// The configured vendor keys; in demo mode also the demo vendor key, made on the first start.
pub fn trusted_keys(config: &Config) -> anyhow::Result<crate::package::TrustedKeys> {
    let mut keys = crate::package::TrustedKeys::new();
    for path in &config.trust_keys {
        keys.add_file(path)
            .with_context(|| format!("cannot trust the key {}", path.display()))?;
    }
    if config.demo {
        let prefix = config.storage.data_dir.join(DEMO_VENDOR_KEY);
        let public = prefix.with_extension("pub");
        if !public.exists() {
            std::fs::create_dir_all(&config.storage.data_dir)?;
            crate::package::PackageSigner::generate(DEMO_VENDOR_KEY).write(&prefix)?;
        }
        keys.add_demo_file(&public)
            .context("cannot trust the demo vendor key")?;
        tracing::warn!("demo mode: packages signed with the demo vendor key are trusted");
    }
    if keys.is_empty() {
        tracing::warn!(
            "no vendor key is trusted: every package import will be refused (add --trust-key)"
        );
    }
    Ok(keys)
}

fn read_demo_password(path: &Path) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|text| text.trim().to_owned())
        .filter(|text| !text.is_empty())
}

fn write_private_file(path: &Path, contents: &str) -> anyhow::Result<()> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;

    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    options.mode(0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()?;
    Ok(())
}

/// Completes on Ctrl-C or SIGTERM. The handlers are installed when this is called (before the
/// server says it is ready), so a signal that arrives right after start-up is not lost.
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let signals = {
        use tokio::signal::unix::{SignalKind, signal};
        (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        )
    };
    async move {
        #[cfg(unix)]
        {
            match signals {
                (Ok(mut term), Ok(mut int)) => {
                    tokio::select! {
                        _ = term.recv() => {},
                        _ = int.recv() => {},
                    }
                }
                (term, int) => {
                    let err = term
                        .err()
                        .or(int.err())
                        .map(|e| e.to_string())
                        .unwrap_or_default();
                    tracing::error!(error = %err, "cannot listen for SIGTERM / Ctrl-C; stop the server with SIGKILL");
                    std::future::pending::<()>().await;
                }
            }
        }
        #[cfg(not(unix))]
        {
            if let Err(err) = tokio::signal::ctrl_c().await {
                tracing::error!(error = %err, "cannot listen for Ctrl-C");
                std::future::pending::<()>().await;
            }
        }
        tracing::info!("shutting down: finishing requests in flight");
    }
}
