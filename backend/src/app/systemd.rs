//! Telling systemd how the service is, for a `Type=notify` unit (packaging/sms.service,
//! docs/debian.md): `READY=1` once the server answers its health check, `WATCHDOG=1` while it
//! keeps answering (when the unit sets `WatchdogSec`), `STOPPING=1` when the supervisor stops,
//! `EXTEND_TIMEOUT_USEC` while a stop waits for a patch job.
//! Started by hand (no `NOTIFY_SOCKET`), nothing is sent.

use std::net::SocketAddr;
use std::time::Duration;

use sd_notify::NotifyState;
use tokio::task::JoinHandle;

use crate::app::health::Probe;

/// How often the health is asked before the server first answers, and without a watchdog.
const READY_POLL: Duration = Duration::from_millis(200);
/// The longest a health question may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// Whether systemd started this process and listens for its news.
fn under_systemd() -> bool {
    std::env::var_os("NOTIFY_SOCKET").is_some()
}

/// Follows the server on `addr` and tells systemd (a task), when started by systemd.
pub fn watch(addr: SocketAddr, tls: bool) -> Option<JoinHandle<()>> {
    if !under_systemd() {
        return None;
    }
    let mut watchdog_usec = 0;
    let watchdog = sd_notify::watchdog_enabled(false, &mut watchdog_usec)
        .then(|| Duration::from_micros(watchdog_usec));
    let probe = match Probe::new(addr, tls, PROBE_TIMEOUT) {
        Ok(probe) => probe,
        Err(err) => {
            tracing::error!("cannot follow the server's health for systemd: {err}");
            return None;
        }
    };
    Some(tokio::spawn(async move {
        let mut ready = false;
        loop {
            match probe.level().await {
                Ok(level) => {
                    let status = format!("serving {} on {addr}", shared::level_in_words(level));
                    if !ready {
                        tracing::info!("telling systemd the service is ready");
                        notify(&[NotifyState::Ready, NotifyState::Status(&status)]);
                        ready = true;
                        if watchdog.is_none() {
                            return;
                        }
                    } else {
                        notify(&[NotifyState::Watchdog, NotifyState::Status(&status)]);
                    }
                }
                // A restart for a patch: the watchdog's period leaves it the time it takes.
                Err(why) if ready => notify(&[NotifyState::Status(&format!(
                    "the server does not answer ({why}); a patch may be restarting it"
                ))]),
                Err(_) => {}
            }
            let wait = match watchdog {
                // Three pings per period: one lost question costs nothing.
                Some(period) if ready => period / 3,
                _ => READY_POLL,
            };
            tokio::time::sleep(wait).await;
        }
    }))
}

/// Asks systemd to wait `by` more for the stop (or start) under way, saying why
/// (`EXTEND_TIMEOUT_USEC`, past the unit's `TimeoutStopSec`).
pub fn extend_stop(by: Duration, why: &str) {
    if under_systemd() {
        let usec = u32::try_from(by.as_micros()).unwrap_or(u32::MAX);
        notify(&[
            NotifyState::ExtendTimeoutUsec(usec),
            NotifyState::Status(why),
        ]);
    }
}

/// Tells systemd the service is stopping.
pub fn stopping() {
    if under_systemd() {
        notify(&[NotifyState::Stopping]);
    }
}

fn notify(states: &[NotifyState<'_>]) {
    if let Err(err) = sd_notify::notify(false, states) {
        tracing::warn!("cannot tell systemd how the service is: {err}");
    }
}
