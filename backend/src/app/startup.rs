//! Building and running the server: storage, first-start bootstrap, listener, graceful shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use crate::app::demo::{
    DEMO_DEVICES_ENV, DEMO_PASSWORD_FILE, DEMO_VENDOR_KEY, read_demo_password,
    register_demo_devices, start_demo_devices, start_demo_tmc, write_private_file,
};
use crate::app::finishing::Finishing;
use crate::app::handoff::{Handed, SupervisorLink, own_executable};
use crate::app::lifecycle::{Control, Gate, Lifecycle, restart_application};
use crate::app::state::new_state;
use crate::config::Config;
use crate::http::router::router;
use crate::http::state::AppState;
use crate::service::auth::{BOOTSTRAP_ADMIN, BootstrapAdmin};
use crate::service::certificate::ServerCertificate;
use crate::service::events::Events;
use crate::storage::db::StartLock;
use crate::tools::tmc_server::TmcServer;

/// The environment variable holding the first admin's password.
pub const BOOTSTRAP_PASSWORD_ENV: &str = "SMS_BOOTSTRAP_ADMIN_PASSWORD";

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
    /// Whether a supervisor started this server (then a restart ends the process).
    supervised: bool,
    /// How to tell the supervisor something.
    link: Option<SupervisorLink>,
    /// The certificate served, when the server speaks HTTPS.
    tls: Option<crate::app::tls::ServerTls>,
}

/// Why [`Application::run_until`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Asked to stop.
    Stopped,
    /// Supervised: the level changed; the supervisor starts the current level's server.
    Handover,
    /// Supervised: the simulated reboot; the supervisor stops listening for its window.
    Reboot,
}

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
    executable: shared::api::RunningExecutable,
    certificate: Option<ServerCertificate>,
) -> anyhow::Result<(AppState, Gate, mpsc::Receiver<Control>, StartLock)> {
    let db = crate::storage::db::connect(&config.storage).await?;
    // The first start's records (installed state, first admin) are written by one node at a
    // time; the caller gives the lock back once it wrote its own.
    let start_lock = StartLock::take(&db).await?;
    let keys = trusted_keys(&config)?;
    let gate = Gate::new(Router::new());
    gate.close(shared::api::ServerState::Restarting);
    let events = Events::new();
    let (lifecycle, control) = Lifecycle::new(
        addr,
        gate.clone(),
        events.clone(),
        config.system.reboot_command.clone(),
        executable,
    );
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
    let state = new_state(
        config,
        db,
        keys,
        events,
        Arc::new(lifecycle),
        cluster,
        certificate,
    )?;
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
    // The server serves without its backups folder; a backup says why it cannot be taken.
    match state.backups.open().await {
        Ok(0) => {}
        Ok(removed) => tracing::warn!(
            removed,
            "removed the files of a database backup cut off by the last stop"
        ),
        Err(err) => tracing::error!(
            dir = state.backups.dir(),
            "cannot prepare the backups folder: {err}; backups fail until it is mended"
        ),
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
        .client
        .refresh()
        .await
        .context("cannot work out the client version to serve")?;
    tracing::info!(client = %client, "serving web client version {client}");
    Ok((state, gate, control, start_lock))
}

impl Application {
    /// Opens the database, records the first-start state, and binds the listener.
    /// `bootstrap_password` is the first admin's password (else one is generated).
    pub async fn build(
        config: Config,
        bootstrap_password: Option<String>,
    ) -> anyhow::Result<(Self, Option<AdminLogin>)> {
        Self::build_with(config, bootstrap_password, None).await
    }

    /// As [`Application::build`]; with `handed`, serves on the socket a supervisor handed
    /// down (and uses the demo TMC and devices the supervisor runs).
    pub async fn build_with(
        config: Config,
        bootstrap_password: Option<String>,
        handed: Option<Handed>,
    ) -> anyhow::Result<(Self, Option<AdminLogin>)> {
        let mut config = config;
        crate::net::install_tls_provider();
        let tls = crate::app::tls::server_tls(&config)?;
        // Demo mode needs the demo vendor key before the TMC starts.
        trusted_keys(&config)?;
        let supervised = handed.is_some();
        let mut handed = handed;
        let link = handed.as_mut().and_then(|handed| handed.link.take());
        let demo_tmc = if config.demo && config.tmc.url.is_none() && !supervised {
            let demo = start_demo_tmc(&config, None).await?;
            let url = format!("http://{}/", demo.listener.local_addr()?);
            config.tmc.url = Some(reqwest::Url::parse(&url)?);
            // The demo feed's root, trusted in demo mode only.
            config.tmc.trust_root.get_or_insert(demo.trust_root);
            Some((demo.listener, demo.tmc))
        } else {
            None
        };
        let executable = shared::api::RunningExecutable {
            level: handed
                .as_ref()
                .map_or(shared::PatchLevel::NONE, |h| h.level),
            path: own_executable().display().to_string(),
            pid: std::process::id(),
            supervised,
        };
        let trial = handed.as_ref().is_some_and(|h| h.trial);
        let listener = match handed {
            Some(handed) => TcpListener::from_std(handed.listener)
                .context("cannot serve on the socket the supervisor handed down")?,
            None => TcpListener::bind(config.listen)
                .await
                .with_context(|| format!("cannot listen on {}", config.listen))?,
        };
        if trial {
            crate::workflow::faults::crash_point_named("server_start");
        }
        let addr = listener.local_addr()?;
        let certificate = tls.as_ref().map(|tls| tls.certificate.clone());
        // Boxed: the start is a large future, and callers on small stacks (test threads) await
        // it.
        let (state, gate, control, start_lock) = Box::pin(prepare(
            config.clone(),
            addr,
            executable.clone(),
            certificate,
        ))
        .await?;
        let demo_devices = match std::env::var(DEMO_DEVICES_ENV) {
            Ok(devices) if config.demo && supervised => {
                let devices = devices.parse().with_context(|| {
                    format!("{DEMO_DEVICES_ENV} holds `{devices}`, not an address")
                })?;
                register_demo_devices(&state, devices).await?;
                None
            }
            _ if config.demo => Some(start_demo_devices(&state).await?),
            _ => None,
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
            .ensure_bootstrap_admin(bootstrap_password.as_deref(), demo)
            .await
            .context("cannot create the first admin")?;
        start_lock.release().await;
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
                supervised,
                link,
                tls,
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

    /// The file of the served certificate chain, when the server speaks HTTPS.
    pub fn tls_cert_file(&self) -> Option<&std::path::Path> {
        self.tls.as_ref().map(|tls| tls.certificate.cert_file())
    }

    /// The served certificate's SHA-256 fingerprint, when the server speaks HTTPS.
    pub fn tls_fingerprint(&self) -> Option<String> {
        self.tls.as_ref().map(|tls| tls.certificate.fingerprint())
    }

    /// Serves until `shutdown` completes, then ends the event streams, finishes in-flight
    /// requests and returns. The TMC sync (and the demo TMC) run meanwhile. A simulated reboot
    /// stops listening for the configured window and starts afresh on the same address. A
    /// shutdown while an install or rollback runs waits for it to end (`app::finishing`).
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<Exit> {
        let Application {
            listener,
            state,
            gate,
            control,
            config,
            demo_tmc,
            demo_devices,
            supervised,
            link,
            tls,
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
        // Once asked to stop, the shutdown future is done: it is not asked again.
        let mut stop_asked = false;
        let mut finishing: Option<Finishing> = None;
        loop {
            let acceptor = tls.as_ref().map(|tls| tls.acceptor.clone());
            let running = Running::start(listener, state.clone(), gate.clone(), acceptor).await;
            let exit = loop {
                let job_ended = async {
                    match &finishing {
                        Some(finishing) => finishing.ended(link.as_ref()).await,
                        None => std::future::pending().await,
                    }
                };
                tokio::select! {
                    () = &mut shutdown, if !stop_asked => {
                        stop_asked = true;
                        finishing = Finishing::begin(&state, link.as_ref()).await;
                        if finishing.is_none() {
                            break Exit::Stopped;
                        }
                    }
                    () = job_ended => break Exit::Stopped,
                    request = control.recv() => match request {
                        Some(Control::Reboot) => break Exit::Reboot,
                        Some(Control::Handover) => break Exit::Handover,
                        Some(Control::Restart(reply)) => {
                            let restarted = restart_application(&gate, &state).await;
                            let answer = restarted.map(|new| state = new);
                            if reply.send(answer).is_err() {
                                tracing::warn!("the job that asked for the restart is gone");
                            }
                        }
                        None => break Exit::Stopped,
                    },
                }
            };
            running.stop(&state, exit != Exit::Handover).await;
            if exit == Exit::Handover {
                crate::workflow::faults::crash_point_named("handover");
            }
            if exit != Exit::Reboot || supervised || stop_asked {
                demo_tasks.shutdown().await;
                if let Some(devices) = &demo_devices {
                    devices.abort();
                }
                // Asked to stop before this server's simulated reboot: the next start finishes
                // the job.
                let unsupervised_reboot = exit == Exit::Reboot && !supervised;
                return Ok(if unsupervised_reboot {
                    Exit::Stopped
                } else {
                    exit
                });
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
                    return Ok(Exit::Stopped);
                }
                () = tokio::time::sleep(window) => {}
            }
            let state_executable = state.life.executable();
            let certificate = state.certificate.clone();
            drop(state);
            tracing::info!("simulated reboot: starting again");
            listener = crate::app::handoff::bind_again(addr, TcpListener::bind).await?;
            let start_lock;
            (state, gate, control, start_lock) = prepare(
                config.clone(),
                addr,
                state_executable.clone(),
                certificate.clone(),
            )
            .await
            .map_err(|err| std::io::Error::other(format!("{err:#}")))?;
            start_lock.release().await;
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
    async fn start(
        listener: TcpListener,
        state: AppState,
        gate: Gate,
        tls: Option<tokio_rustls::TlsAcceptor>,
    ) -> Self {
        let interrupted = match state.patching.adopt_interrupted().await {
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
        let limits = crate::app::serve::ConnectionLimits {
            max_connections: state.config.http.max_connections,
            header_read_timeout: state.config.http.header_read_timeout,
        };
        let service = gate.service();
        let server = tokio::spawn(async move {
            crate::app::serve::serve(listener, service, limits, tls, async move {
                // A dropped sender means the same as a sent stop: shut down.
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
            let panel = state.panel.clone();
            state.tmc.clone().run(move |outcome| {
                let panel = panel.clone();
                async move { panel.after_tmc_check(outcome).await }
            })
        }));
        let devices = state.devices.clone();
        tasks.spawn(while_serving(state.cluster.clone(), move || {
            devices.clone().run()
        }));
        tasks.spawn(housekeeping(state.clone()));
        // Each node watches its own data dir.
        tasks.spawn(state.disk.clone().run());
        // Scheduled backups are taken by the node that serves.
        let backups = state.backups.clone();
        let clock = state.config.clock.clone();
        tasks.spawn(while_serving(state.cluster.clone(), move || {
            backups.clone().run_schedule(clock.clone())
        }));
        // Scheduled jobs, the policy and the notifications run on the node that serves.
        let maintenance = state.maintenance.clone();
        tasks.spawn(while_serving(state.cluster.clone(), move || {
            maintenance.clone().run()
        }));
        let notifier = state.notifier.clone();
        tasks.spawn(while_serving(state.cluster.clone(), move || {
            notifier.clone().deliver()
        }));
        tasks.spawn(async move {
            if let Err(err) = state.patching.resume_interrupted(interrupted).await {
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
    /// The HA lease is given up, except on a handover: the next level's server takes it on.
    async fn stop(mut self, state: &AppState, release_lease: bool) {
        state.events.close();
        // The server task may have ended already; then there is nothing to stop.
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
        if release_lease {
            state.cluster.release().await;
        }
    }
}

/// How often ended sessions are removed.
const SESSION_PURGE_EVERY: Duration = Duration::from_secs(60);
/// How often the audit log is cut to its retention.
const AUDIT_PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// Removes ended sessions every minute and prunes the audit log every hour (and at start).
async fn housekeeping(state: AppState) {
    let mut sessions = tokio::time::interval(SESSION_PURGE_EVERY);
    let mut audit = tokio::time::interval(AUDIT_PRUNE_EVERY);
    for timer in [&mut sessions, &mut audit] {
        timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    }
    loop {
        tokio::select! {
            _ = sessions.tick() => match state.auth.purge_expired_sessions().await {
                Ok(0) => {}
                Ok(n) => tracing::debug!(sessions = n, "removed ended sessions"),
                Err(err) => tracing::warn!("cannot remove ended sessions: {err}"),
            },
            _ = audit.tick() => match state.audit.prune(state.config.audit).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(entries = n, "removed audit entries past their retention"),
                Err(err) => tracing::warn!("cannot prune the audit log: {err}"),
            },
        }
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
