//! The contract between the supervisor (`app::supervisor`) and the level's server it starts:
//! the environment it hands down, the exit statuses the server answers with. Every level's
//! executable keeps it (docs/process-model.md).

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use shared::PatchLevel;

/// The listening socket's file descriptor, inherited from the supervisor.
pub const LISTEN_FD_ENV: &str = "SMS_LISTEN_FD";
/// The supervisor's process id (the child stops when it goes away).
pub const SUPERVISOR_PID_ENV: &str = "SMS_SUPERVISOR_PID";
/// The level whose executable the child is.
pub const LEVEL_ENV: &str = "SMS_LEVEL";
/// Set when the child's level is on trial (not yet confirmed).
pub const TRIAL_ENV: &str = "SMS_LEVEL_TRIAL";

/// The child's exit status asking for the current level's server to be started (a handover).
pub const EXIT_HANDOVER: i32 = 75;
/// The child's exit status asking for the simulated reboot.
pub const EXIT_REBOOT: i32 = 76;

/// What the supervisor handed to the server it started: read by `sms serve` in the child.
pub struct Handed {
    pub listener: std::net::TcpListener,
    pub level: PatchLevel,
    pub trial: bool,
}

impl Handed {
    /// The socket and level the supervisor handed over, if this process is a supervised
    /// server; it also makes this process stop when the supervisor goes away.
    pub fn from_env() -> anyhow::Result<Option<Self>> {
        let Ok(fd) = std::env::var(LISTEN_FD_ENV) else {
            return Ok(None);
        };
        let fd: i32 = fd
            .parse()
            .with_context(|| format!("{LISTEN_FD_ENV} holds `{fd}`, not a file descriptor"))?;
        let supervisor: i32 = std::env::var(SUPERVISOR_PID_ENV)
            .ok()
            .and_then(|pid| pid.parse().ok())
            .with_context(|| format!("{SUPERVISOR_PID_ENV} is missing"))?;
        rustix::process::set_parent_process_death_signal(Some(rustix::process::Signal::KILL))
            .context("cannot tie the server to its supervisor")?;
        // The supervisor may have gone before the line above took effect.
        if rustix::process::getppid().map(rustix::process::Pid::as_raw_nonzero)
            != std::num::NonZeroI32::new(supervisor)
        {
            anyhow::bail!("the supervisor (process {supervisor}) is gone");
        }
        let level = std::env::var(LEVEL_ENV)
            .ok()
            .and_then(|level| level.parse().ok())
            .map(PatchLevel)
            .with_context(|| format!("{LEVEL_ENV} is missing"))?;
        let listener = take_socket(fd)?;
        Ok(Some(Self {
            listener,
            level,
            trial: std::env::var(TRIAL_ENV).is_ok(),
        }))
    }
}

/// Takes over the listening socket `fd` the supervisor handed down.
fn take_socket(fd: i32) -> anyhow::Result<std::net::TcpListener> {
    use std::os::fd::{FromRawFd, OwnedFd};
    anyhow::ensure!(fd > 2, "{LISTEN_FD_ENV} names the standard stream {fd}");
    // SAFETY: the supervisor opened this descriptor for this process and named it in
    // `SMS_LISTEN_FD`; nothing else in this process owns it. It is checked to be a listening
    // TCP socket below before it is used.
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    let listener = std::net::TcpListener::from(owned);
    listener
        .local_addr()
        .with_context(|| format!("{LISTEN_FD_ENV}={fd} is not a listening socket"))?;
    // Whatever this server starts (a reboot command) does not get the socket.
    rustix::io::fcntl_setfd(&listener, rustix::io::FdFlags::CLOEXEC)?;
    listener.set_nonblocking(true)?;
    Ok(listener)
}

/// Where the executable of the running process is, for `GET /api/v1/server`.
pub fn own_executable() -> PathBuf {
    std::env::current_exe().unwrap_or_default()
}

/// The address to reach a server listening on `addr` from this machine: an unspecified
/// address (`0.0.0.0`, `::`) becomes the loopback one.
pub fn reachable(addr: SocketAddr) -> SocketAddr {
    let mut addr = addr;
    if addr.ip().is_unspecified() {
        addr.set_ip(match addr {
            SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
            SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        });
    }
    addr
}

/// Binds `addr` again with `bind` after a simulated reboot: the old socket may linger for a
/// moment, so it tries every 100 ms, 50 times.
pub async fn bind_again<T, F: Future<Output = std::io::Result<T>>>(
    addr: SocketAddr,
    bind: impl Fn(SocketAddr) -> F,
) -> std::io::Result<T> {
    let wait = crate::service::backoff::Backoff::constant(Duration::from_millis(100));
    let mut attempt = 0;
    loop {
        match bind(addr).await {
            Ok(listener) => return Ok(listener),
            Err(err) if attempt < 50 => {
                attempt += 1;
                tracing::debug!("cannot listen on {addr} yet: {err}");
                tokio::time::sleep(wait.delay(attempt)).await;
            }
            Err(err) => return Err(err),
        }
    }
}
