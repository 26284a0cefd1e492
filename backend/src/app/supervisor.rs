//! `sms serve`: the supervisor, the one piece a patch never replaces (like a boot loader). It
//! owns the listening socket and the install root's boot record, and runs the current level's
//! server executable as its child, handing it the socket. See docs/process-model.md.
//!
//! - The child serves on the inherited socket; the socket is never closed, so while one server
//!   hands over to the next, connections wait in the kernel's queue instead of being refused.
//! - The child exits with [`EXIT_HANDOVER`] after a switch (an install or rollback's restart):
//!   the supervisor starts the server of the level the install root now names.
//! - A level other than the confirmed one (the last that came up) is on trial: when its server
//!   exits, or is not healthy at its level within `[install] start_timeout`, the supervisor
//!   records why (with the server's last lines) in the install root, switches the pointer back
//!   to the confirmed level and starts that level's server, which fails the job from the record.
//! - A server that exits otherwise is started again, after a growing wait.
//! - [`EXIT_REBOOT`]: the simulated reboot; nothing listens for the configured window.
//! - Asked to stop (SIGTERM from `systemctl stop`): it passes the stop on and waits for its
//!   server, as long as the server says it is finishing a patch job (its notify socket). When
//!   that job hands over to another level, that level's server is started, confirmed and asked to
//!   stop in turn, so the job ends before the supervisor does.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::future::Future;
use std::net::SocketAddr;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use shared::PatchLevel;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};

use crate::app::demo::{DEMO_DEVICES_ENV, start_demo_simulator, start_demo_tmc};
use crate::app::handoff::{
    EXIT_HANDOVER, EXIT_REBOOT, LEVEL_ENV, LISTEN_FD_ENV, NOTIFY_FD_ENV, Note, SUPERVISOR_PID_ENV,
    TRIAL_ENV, bind_again, notify_pair,
};
use crate::app::health::Probe;
use crate::app::schema::undo_for_older;
use crate::app::startup::trusted_keys;
use crate::app::systemd;
use crate::config::Config;
use crate::service::backoff::Backoff;
use crate::storage::install_root::InstallRoot;
use crate::storage::levels::StartFailure;
use crate::workflow::faults::crash_point_named;
use crate::workflow::install::blocking;

/// How many of a server's last output lines a start failure quotes.
const TAIL_LINES: usize = 20;
/// How long a stopping server may take before it is killed, unless it says it is finishing a
/// patch job.
const STOP_GRACE: Duration = Duration::from_secs(10);
/// The most handovers a stop follows to let a patch job end (an install's restart, a switch
/// back); past them the next start finishes the job.
const HANDOVERS_WHILE_STOPPING: u32 = 4;
/// How often a level on trial is asked whether it is healthy.
const HEALTH_POLL: Duration = Duration::from_millis(50);
/// The wait before starting again a server that stopped on its own.
const RESTART_BACKOFF: Backoff = Backoff {
    first: Duration::from_millis(500),
    max: Duration::from_secs(30),
};

/// The last lines a server wrote (stdout and stderr), for a start failure's message.
#[derive(Clone, Default)]
struct Tail(Arc<Mutex<VecDeque<String>>>);

impl Tail {
    fn push(&self, line: String) {
        let mut lines = match self.0.lock() {
            Ok(lines) => lines,
            Err(poisoned) => poisoned.into_inner(),
        };
        if lines.len() == TAIL_LINES {
            lines.pop_front();
        }
        lines.push_back(line);
    }

    fn lines(&self) -> Vec<String> {
        match self.0.lock() {
            Ok(lines) => lines.iter().cloned().collect(),
            Err(poisoned) => poisoned.into_inner().iter().cloned().collect(),
        }
    }
}

/// A running level server.
struct Server {
    child: Child,
    level: PatchLevel,
    tail: Tail,
    started: Instant,
    /// The supervisor's end of the server's notify socket.
    notes: Option<tokio::net::UnixDatagram>,
}

/// How a wait for a server ended.
enum Ended {
    Exited(ExitStatus),
    Shutdown,
}

/// Runs `sms serve` as the supervisor until `shutdown` completes.
pub async fn supervise(
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    // Once asked, a stop stays asked: every later wait ends at once.
    let (asked, stop_asked) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = asked.send(true);
    });
    let requested = move || {
        let mut stop_asked = stop_asked.clone();
        async move {
            // A dropped sender (it never is) counts as a stop too.
            let _ = stop_asked.wait_for(|asked| *asked).await;
        }
    };
    let base_executable =
        std::env::current_exe().context("cannot find the server's own executable")?;
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    // A certificate that cannot be served stops the start here, with its reason, instead of a
    // server that fails again and again; the self-signed one is made here, once.
    crate::app::tls::server_tls(&config)?;
    let root =
        InstallRoot::open(&config.storage.data_dir, &config.initial.build).with_context(|| {
            format!(
                "cannot open the install root in {}",
                config.storage.data_dir.display()
            )
        })?;
    let mut envs: Vec<(String, String)> = Vec::new();
    // Each level's server can ask the base executable for its schema (docs/schema.md).
    envs.push((
        crate::storage::executable::BASE_EXECUTABLE_ENV.to_owned(),
        base_executable.display().to_string(),
    ));
    // Demo mode: the demo TMC and the simulated devices live as long as the supervisor, so a
    // patch's restart does not interrupt them.
    let mut demo_tasks = tokio::task::JoinSet::new();
    if config.demo {
        trusted_keys(&config)?;
        if config.tmc.url.is_none() {
            let demo = start_demo_tmc(&config, Some(base_executable.clone())).await?;
            let (listener, tmc) = (demo.listener, demo.tmc);
            envs.push((
                "SMS_TMC_URL".to_owned(),
                format!("http://{}/", listener.local_addr()?),
            ));
            if config.tmc.trust_root.is_none() {
                envs.push((
                    "SMS_TRUST_ROOT".to_owned(),
                    demo.trust_root.display().to_string(),
                ));
            }
            demo_tasks.spawn(tmc.clone().watch());
            demo_tasks.spawn(async move {
                if let Err(err) = axum::serve(listener, tmc.router()).await {
                    tracing::error!("the demo TMC stopped: {err}");
                }
            });
        }
        let (addr, devices) = start_demo_simulator().await?;
        envs.push((DEMO_DEVICES_ENV.to_owned(), addr.to_string()));
        demo_tasks.spawn(async move {
            if let Err(err) = devices.await {
                tracing::error!("the demo devices stopped: {err}");
            }
        });
    }
    let mut listener =
        Some(bind(config.listen).with_context(|| format!("cannot listen on {}", config.listen))?);
    let mut addr = listener
        .as_ref()
        .map(std::net::TcpListener::local_addr)
        .transpose()?
        .unwrap_or(config.listen);
    // Under systemd (a `Type=notify` unit): ready once a server answers, watchdog pings while
    // one does; `STOPPING=1` as soon as a stop is asked (the stop may wait for a patch job).
    if let Some(notifier) = systemd::watch(addr, config.transport.is_tls()) {
        let stop_asked = requested.clone();
        tokio::spawn(async move {
            stop_asked().await;
            notifier.abort();
            systemd::stopping();
        });
    }
    let mut failures = 0u32;
    // Asked to stop while a patch job went on in another level's server: that server is started
    // to finish the job, then stopped (counts the handovers followed).
    let mut finishing: Option<u32> = None;
    loop {
        let Some(socket) = &listener else {
            // After a simulated reboot: listen again on the same address.
            listener = Some(
                bind_again(addr, |addr| std::future::ready(bind(addr)))
                    .await
                    .with_context(|| format!("cannot listen on {addr} again"))?,
            );
            continue;
        };
        let level = read(&root, InstallRoot::current).await?;
        let confirmed = read(&root, InstallRoot::confirmed).await?;
        let trial = level != confirmed;
        if !trial {
            // No server runs now, so no staging is under way: levels no switch back needs go.
            let tidy = root.clone();
            match blocking(move || tidy.remove_unused_levels()).await {
                Ok(removed) if !removed.is_empty() => tracing::info!(
                    removed = %removed.join(", "),
                    "removed the levels no longer needed to switch back"
                ),
                Ok(_) => {}
                Err(err) => tracing::error!("cannot remove unused levels: {err}"),
            }
        }
        let (executable, executable_level) = match root.executable(level) {
            Some(own) => (own, level),
            None => (base_executable.clone(), PatchLevel::NONE),
        };
        let mut server = match start(&executable, executable_level, &args, &envs, socket, trial) {
            Ok(server) => server,
            Err(err) if trial => {
                let reason = format!("{err:#}");
                if let Err(err) = switch_back(&root, level, Vec::new(), confirmed, reason).await {
                    tracing::error!("{err:#}");
                    tokio::time::sleep(RESTART_BACKOFF.max).await;
                }
                continue;
            }
            Err(err) => {
                failures += 1;
                let wait = RESTART_BACKOFF.delay(failures);
                tracing::error!(
                    retry_in_ms = wait.as_millis() as u64,
                    "{err:#}; trying again"
                );
                tokio::select! {
                    () = requested() => break,
                    () = tokio::time::sleep(wait) => {}
                }
                continue;
            }
        };
        server.level = level;
        if finishing.is_some() {
            systemd::extend_stop(
                config.install.start_timeout + STOP_GRACE,
                &format!(
                    "starting {} to finish a patch job before stopping",
                    shared::level_in_words(level)
                ),
            );
        }
        tracing::info!(
            level = level.0,
            pid = server.child.id(),
            executable = %executable.display(),
            trial,
            "started the server of {}",
            shared::level_in_words(level)
        );
        // A level on trial, or one started to finish a job, must come up before it is confirmed
        // or asked to stop.
        if trial || finishing.is_some() {
            if trial {
                crash_point_named("start_timeout");
            }
            let tls = config.transport.is_tls();
            let came_up = {
                let trying = come_up(&mut server, addr, tls, config.install.start_timeout);
                let mut trying = std::pin::pin!(trying);
                loop {
                    tokio::select! {
                        // Stopping now would cut the job that switched to this level: it is
                        // confirmed first (at most the start timeout), then stopped.
                        () = requested(), if finishing.is_none() => {
                            tracing::info!(
                                "asked to stop while {} is on trial: stopping once it came up",
                                shared::level_in_words(level)
                            );
                            finishing = Some(0);
                        }
                        came_up = &mut trying => break came_up,
                    }
                }
            };
            match came_up {
                CameUp::HandedOver => {
                    // It switched itself back (e.g. its post-check failed) before it was
                    // confirmed: start what the install root names now.
                    tracing::info!(
                        level = level.0,
                        "{} handed over before it was confirmed",
                        shared::level_in_words(level)
                    );
                    continue;
                }
                CameUp::Healthy if !trial => {}
                CameUp::Healthy => {
                    tracing::info!(
                        level = level.0,
                        took_ms = server.started.elapsed().as_millis() as u64,
                        "{} came up: confirmed",
                        shared::level_in_words(level)
                    );
                    let confirm = root.clone();
                    let confirmed = blocking(move || {
                        confirm.confirm(level)?;
                        confirm.remove_unused_levels()
                    })
                    .await;
                    // The server runs either way; a level left unconfirmed is tried again
                    // at the next start, a folder left behind is removed then.
                    match confirmed {
                        Ok(removed) if !removed.is_empty() => tracing::info!(
                            removed = %removed.join(", "),
                            "removed the levels no longer needed to switch back"
                        ),
                        Ok(_) => {}
                        Err(err) => tracing::error!(
                            "cannot record that {} came up: {err}",
                            shared::level_in_words(level)
                        ),
                    }
                }
                CameUp::Failed(reason) if !trial => {
                    tracing::error!(
                        "{} did not come up to finish its patch job ({reason}); the next start \
                         finishes it",
                        shared::level_in_words(level)
                    );
                    stop(&mut server).await;
                    break;
                }
                CameUp::Failed(reason) => {
                    stop(&mut server).await;
                    // The server's last words reach the pipe readers a moment after its end.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    let output = server.tail.lines();
                    let older = root
                        .executable(confirmed)
                        .unwrap_or_else(|| base_executable.clone());
                    undo_for_older(&config, &executable, &older, &args).await;
                    if let Err(err) = switch_back(&root, level, output, confirmed, reason).await {
                        // Whatever the install root names is started again, after a wait.
                        tracing::error!("{err:#}");
                        tokio::time::sleep(RESTART_BACKOFF.max).await;
                    }
                    continue;
                }
            }
        }
        let ended = tokio::select! {
            () = requested() => Ended::Shutdown,
            status = server.child.wait() => Ended::Exited(status?),
        };
        match ended {
            Ended::Shutdown => {
                let exited = stop(&mut server).await;
                let handovers = finishing.unwrap_or(0);
                if exited.and_then(|status| status.code()) == Some(EXIT_HANDOVER) {
                    if handovers < HANDOVERS_WHILE_STOPPING {
                        tracing::info!(
                            "the stopping server handed over: starting the current level's \
                             server to finish its patch job"
                        );
                        finishing = Some(handovers + 1);
                        continue;
                    }
                    tracing::warn!(
                        "the patch job handed over {handovers} times while stopping: the next \
                         start finishes it"
                    );
                }
                break;
            }
            Ended::Exited(status) => match status.code() {
                Some(EXIT_HANDOVER) => {
                    failures = 0;
                    tracing::info!("the server handed over: starting the current level's server");
                }
                Some(EXIT_REBOOT) => {
                    failures = 0;
                    let window = config.system.reboot_window;
                    tracing::warn!(
                        window_ms = window.as_millis() as u64,
                        "simulated reboot: nothing listens for a while"
                    );
                    if let Some(socket) = listener.take() {
                        addr = socket.local_addr().unwrap_or(addr);
                    }
                    tokio::select! {
                        () = requested() => break,
                        () = tokio::time::sleep(window) => {}
                    }
                    tracing::info!("simulated reboot: starting again");
                }
                Some(0) => {
                    tracing::info!("the server stopped");
                    break;
                }
                _ => {
                    failures += 1;
                    if server.started.elapsed() > Duration::from_secs(60) {
                        failures = 1;
                    }
                    let wait = RESTART_BACKOFF.delay(failures);
                    tracing::error!(
                        %status,
                        retry_in_ms = wait.as_millis() as u64,
                        last_lines = %server.tail.lines().join("\n"),
                        "the server stopped unexpectedly; starting it again"
                    );
                    tokio::select! {
                        () = requested() => break,
                        () = tokio::time::sleep(wait) => {}
                    }
                }
            },
        }
    }
    demo_tasks.shutdown().await;
    Ok(())
}

/// Binds the listening socket, inheritable by the servers the supervisor starts.
fn bind(addr: SocketAddr) -> std::io::Result<std::net::TcpListener> {
    let listener = std::net::TcpListener::bind(addr)?;
    // Only the level servers are started by the supervisor, and they take the socket over.
    rustix::io::fcntl_setfd(&listener, rustix::io::FdFlags::empty())?;
    Ok(listener)
}

/// Starts the server `executable` (that of `level`; 0: the base executable) on the inherited
/// socket.
fn start(
    executable: &std::path::Path,
    level: PatchLevel,
    args: &[OsString],
    envs: &[(String, String)],
    socket: &std::net::TcpListener,
    trial: bool,
) -> anyhow::Result<Server> {
    use std::os::fd::AsRawFd;
    let mut command = Command::new(executable);
    command
        .args(args)
        .envs(envs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env(LISTEN_FD_ENV, socket.as_raw_fd().to_string())
        .env(SUPERVISOR_PID_ENV, std::process::id().to_string())
        .env(LEVEL_ENV, level.0.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    if trial {
        command.env(TRIAL_ENV, "1");
    } else {
        command.env_remove(TRIAL_ENV);
    }
    // Without it the server runs all the same; only a stop cannot wait for its patch job.
    let notify = match notify_pair() {
        Ok((notes, theirs)) => {
            command.env(NOTIFY_FD_ENV, theirs.as_raw_fd().to_string());
            Some((notes, theirs))
        }
        Err(err) => {
            tracing::warn!("cannot make the server's notify socket: {err}");
            command.env_remove(NOTIFY_FD_ENV);
            None
        }
    };
    let mut child = command.spawn().with_context(|| {
        format!(
            "cannot start the server executable {}",
            executable.display()
        )
    })?;
    // The server has its copy of its end now.
    let notes = notify.map(|(notes, _theirs)| notes);
    let tail = Tail::default();
    if let Some(stdout) = child.stdout.take() {
        tokio::spawn(forward(stdout, tail.clone(), false));
    }
    if let Some(stderr) = child.stderr.take() {
        tokio::spawn(forward(stderr, tail.clone(), true));
    }
    Ok(Server {
        child,
        level,
        tail,
        started: Instant::now(),
        notes,
    })
}

/// Passes a server's output through, keeping its last lines.
async fn forward(output: impl AsyncRead + Unpin, tail: Tail, stderr: bool) {
    let mut lines = BufReader::new(output).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        if stderr {
            eprintln!("{line}");
        } else {
            println!("{line}");
        }
        tail.push(line);
    }
}

/// How a level on trial started.
enum CameUp {
    /// Healthy at its level.
    Healthy,
    /// It exited asking for a handover (it switched the level itself).
    HandedOver,
    /// It exited, or was not healthy in time: why.
    Failed(String),
}

/// Waits until the server answers healthy at its level, at most `timeout`; says why not.
async fn come_up(server: &mut Server, addr: SocketAddr, tls: bool, timeout: Duration) -> CameUp {
    match wait_healthy(server, addr, tls, timeout).await {
        Ok(()) => CameUp::Healthy,
        Err(None) => CameUp::HandedOver,
        Err(Some(why)) => CameUp::Failed(why),
    }
}

async fn wait_healthy(
    server: &mut Server,
    addr: SocketAddr,
    tls: bool,
    timeout: Duration,
) -> Result<(), Option<String>> {
    let probe = Probe::new(addr, tls, Duration::from_secs(2)).map_err(Some)?;
    let deadline = tokio::time::Instant::now() + timeout;
    let mut last = String::from("it never answered");
    loop {
        tokio::select! {
            status = server.child.wait() => {
                return Err(match status {
                    Ok(status) if status.code() == Some(EXIT_HANDOVER) => None,
                    Ok(status) => Some(format!("its server exited ({status}) before it came up")),
                    Err(err) => Some(format!("its server could not be waited for: {err}")),
                });
            }
            () = tokio::time::sleep_until(deadline) => {
                return Err(Some(format!(
                    "its server was not healthy within {} s ({last})",
                    timeout.as_secs_f64()
                )));
            }
            answer = probe.level() => match answer {
                Ok(level) if level == server.level => return Ok(()),
                Ok(level) => last = format!("it reported {}", shared::level_in_words(level)),
                Err(why) => last = why,
            },
        }
        tokio::time::sleep(HEALTH_POLL).await;
    }
}

/// The level on trial did not come up: record why, point back at the confirmed level.
async fn switch_back(
    root: &InstallRoot,
    level: PatchLevel,
    output: Vec<String>,
    back_to: PatchLevel,
    reason: String,
) -> anyhow::Result<()> {
    let failure = StartFailure {
        level,
        back_to,
        reason: reason.clone(),
        output,
    };
    tracing::error!(
        level = level.0,
        back_to = back_to.0,
        last_lines = %failure.output.join("\n"),
        "{} did not come up: {reason}; switching back to {}",
        shared::level_in_words(level),
        shared::level_in_words(back_to)
    );
    let root = root.clone();
    blocking(move || {
        root.record_start_failure(&failure)?;
        root.switch(back_to)
    })
    .await
    .context("cannot switch back to the confirmed level")
}

/// Asks the server to stop (SIGTERM) and waits [`STOP_GRACE`] for it, or longer while it says
/// it is finishing a patch job; kills it after that. Its exit status, unless it was killed.
async fn stop(server: &mut Server) -> Option<ExitStatus> {
    if let Some(pid) = server
        .child
        .id()
        .and_then(|id| rustix::process::Pid::from_raw(i32::try_from(id).unwrap_or(0)))
    {
        // It may have ended already; the wait below says.
        let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
    }
    let mut deadline = tokio::time::Instant::now() + STOP_GRACE;
    let mut buffer = [0_u8; 2048];
    loop {
        let note = async {
            match &server.notes {
                Some(notes) => notes.recv(&mut buffer).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            status = server.child.wait() => {
                return status
                    .inspect_err(|err| tracing::error!("cannot learn how the server stopped: {err}"))
                    .ok();
            }
            () = tokio::time::sleep_until(deadline) => {
                tracing::warn!("the server did not stop in time: killing it");
                if let Err(err) = server.child.kill().await {
                    tracing::error!("cannot kill the server that did not stop: {err}");
                }
                return None;
            }
            received = note => match received {
                Ok(n) => {
                    let Note { stop_wait, status } = Note::parse(&buffer[..n]);
                    let Some(wait) = stop_wait else { continue };
                    // Then it still has the grace to close its connections.
                    let extended = wait + STOP_GRACE;
                    deadline = deadline.max(tokio::time::Instant::now() + extended);
                    let status = status.unwrap_or_else(|| "finishing a patch job".to_owned());
                    tracing::info!(wait_s = wait.as_secs(), "the server is {status}");
                    systemd::extend_stop(extended, &status);
                }
                Err(err) => {
                    tracing::warn!("cannot read the server's notify socket: {err}");
                    server.notes = None;
                }
            },
        }
    }
}

async fn read(
    root: &InstallRoot,
    what: fn(&InstallRoot) -> std::io::Result<PatchLevel>,
) -> anyhow::Result<PatchLevel> {
    let root = root.clone();
    blocking(move || what(&root))
        .await
        .context("cannot read the install root")
}
