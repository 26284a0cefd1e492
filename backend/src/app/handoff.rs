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
/// The file descriptor of the child's end of the supervisor's notify socket (a Unix datagram
/// socket): what the server tells the supervisor while it runs ([`Note`]).
pub const NOTIFY_FD_ENV: &str = "SMS_NOTIFY_FD";

/// In a note: do not kill the stopping server for this many milliseconds from now.
const STOP_WAIT_KEY: &str = "STOP_WAIT_MS";
/// In a note: what the server is doing, in words.
const STATUS_KEY: &str = "STATUS";

/// The child's exit status asking for the current level's server to be started (a handover).
pub const EXIT_HANDOVER: i32 = 75;
/// The child's exit status asking for the simulated reboot.
pub const EXIT_REBOOT: i32 = 76;

/// What the supervisor handed to the server it started: read by `sms serve` in the child.
pub struct Handed {
    pub listener: std::net::TcpListener,
    pub level: PatchLevel,
    pub trial: bool,
    /// How to tell the supervisor something (absent when an older supervisor started it).
    pub link: Option<SupervisorLink>,
}

impl Handed {
    /// The socket and level the supervisor handed over, if this process is a supervised
    /// server; it also makes this process stop when the supervisor goes away.
    pub fn from_env() -> anyhow::Result<Option<Self>> {
        let Ok(fd) = std::env::var(LISTEN_FD_ENV) else {
            return Ok(None);
        };
        let listener = take_socket(&fd)?;
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
        let link = match std::env::var(NOTIFY_FD_ENV) {
            Ok(fd) => Some(SupervisorLink::take(&fd)?),
            Err(_) => None,
        };
        Ok(Some(Self {
            listener,
            level,
            trial: std::env::var(TRIAL_ENV).is_ok(),
            link,
        }))
    }
}

/// Takes over the descriptor that the environment variable `variable` names as `value`: one the
/// supervisor opened for this process. The caller checks it is the socket it expects.
fn inherited(variable: &str, value: &str) -> anyhow::Result<(i32, std::os::fd::OwnedFd)> {
    use std::os::fd::FromRawFd;
    let fd: i32 = value
        .parse()
        .with_context(|| format!("{variable} holds `{value}`, not a file descriptor"))?;
    anyhow::ensure!(fd > 2, "{variable} names the standard stream {fd}");
    // SAFETY: the supervisor opened this descriptor for this process and named it in
    // `variable`; nothing else in this process owns it, and it is taken once. Each caller
    // checks it is the kind of socket it expects before using it.
    Ok((fd, unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) }))
}

/// Takes over the listening socket the supervisor handed down (`SMS_LISTEN_FD`).
fn take_socket(value: &str) -> anyhow::Result<std::net::TcpListener> {
    let (fd, owned) = inherited(LISTEN_FD_ENV, value)?;
    let listener = std::net::TcpListener::from(owned);
    listener
        .local_addr()
        .with_context(|| format!("{LISTEN_FD_ENV}={fd} is not a listening socket"))?;
    // Whatever this server starts (a reboot command) does not get the socket.
    rustix::io::fcntl_setfd(&listener, rustix::io::FdFlags::CLOEXEC)?;
    listener.set_nonblocking(true)?;
    Ok(listener)
}

/// A message from the server to its supervisor: lines of `KEY=value`, one datagram each, as
/// systemd's notify protocol has them. Keys the supervisor does not know are ignored.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Note {
    /// `STOP_WAIT_MS`: the server is stopping but finishing something first (a patch job): do
    /// not kill it for this long from now. Sent again while the work goes on.
    pub stop_wait: Option<Duration>,
    /// `STATUS`: what the server is doing, in words.
    pub status: Option<String>,
}

impl Note {
    pub fn parse(datagram: &[u8]) -> Self {
        let mut note = Note::default();
        for line in String::from_utf8_lossy(datagram).lines() {
            match line.split_once('=') {
                Some((STOP_WAIT_KEY, ms)) => {
                    note.stop_wait = ms.trim().parse().ok().map(Duration::from_millis);
                }
                Some((STATUS_KEY, status)) => note.status = Some(status.to_owned()),
                _ => {}
            }
        }
        note
    }

    fn to_datagram(&self) -> String {
        let mut text = String::new();
        if let Some(wait) = self.stop_wait {
            text.push_str(&format!("{STOP_WAIT_KEY}={}\n", wait.as_millis()));
        }
        if let Some(status) = &self.status {
            // One line: a line break would start another key.
            text.push_str(&format!("{STATUS_KEY}={}\n", status.replace('\n', " ")));
        }
        text
    }
}

/// The server's end of the supervisor's notify socket.
pub struct SupervisorLink(std::os::unix::net::UnixDatagram);

impl SupervisorLink {
    /// Takes over the socket the supervisor named in `SMS_NOTIFY_FD`.
    fn take(value: &str) -> anyhow::Result<Self> {
        let (fd, owned) = inherited(NOTIFY_FD_ENV, value)?;
        let socket = std::os::unix::net::UnixDatagram::from(owned);
        socket
            .peer_addr()
            .with_context(|| format!("{NOTIFY_FD_ENV}={fd} is not a connected socket"))?;
        rustix::io::fcntl_setfd(&socket, rustix::io::FdFlags::CLOEXEC)?;
        // A supervisor that does not read does not hold the server up.
        socket.set_nonblocking(true)?;
        Ok(Self(socket))
    }

    /// Tells the supervisor.
    pub fn send(&self, note: &Note) {
        if let Err(err) = self.0.send(note.to_datagram().as_bytes()) {
            tracing::warn!("cannot tell the supervisor ({note:?}): {err}");
        }
    }
}

/// A new notify socket: the supervisor's end, and the end a server it starts inherits (named
/// in `SMS_NOTIFY_FD`; the supervisor closes its copy once the server started).
pub fn notify_pair() -> std::io::Result<(tokio::net::UnixDatagram, std::os::fd::OwnedFd)> {
    let (own, theirs) = std::os::unix::net::UnixDatagram::pair()?;
    rustix::io::fcntl_setfd(&theirs, rustix::io::FdFlags::empty())?;
    own.set_nonblocking(true)?;
    Ok((tokio::net::UnixDatagram::from_std(own)?, theirs.into()))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_note_reads_back_as_written_and_unknown_keys_are_ignored() {
        let note = Note {
            stop_wait: Some(Duration::from_secs(60)),
            status: Some("stopping once\nthe install ends".to_owned()),
        };
        let text = note.to_datagram();
        assert_eq!(
            text,
            "STOP_WAIT_MS=60000\nSTATUS=stopping once the install ends\n"
        );
        let read = Note::parse(format!("LATER_KEY=1\n{text}").as_bytes());
        assert_eq!(read.stop_wait, note.stop_wait);
        assert_eq!(
            read.status.as_deref(),
            Some("stopping once the install ends")
        );
        assert_eq!(Note::parse(b"STOP_WAIT_MS=soon"), Note::default());
    }

    #[test]
    fn a_server_tells_its_supervisor_through_the_pair() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let (own, theirs) = notify_pair().unwrap();
            let link = SupervisorLink(std::os::unix::net::UnixDatagram::from(theirs));
            link.send(&Note {
                stop_wait: Some(Duration::from_millis(1500)),
                status: None,
            });
            let mut buffer = [0_u8; 256];
            let n = own.recv(&mut buffer).await.unwrap();
            assert_eq!(
                Note::parse(&buffer[..n]).stop_wait,
                Some(Duration::from_millis(1500))
            );
        });
    }
}
