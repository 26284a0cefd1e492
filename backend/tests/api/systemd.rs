//! Under systemd (`Type=notify`, packaging/sms.service): `sms serve` says `READY=1` once its
//! server answers, feeds the watchdog while it does, and says `STOPPING=1` when it stops.

use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use testkit::{ADMIN_PASSWORD, process};

fn sms() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_sms"))
}

/// The datagrams that reach `socket` until one holds `wanted` (or 30 s pass).
fn messages_until(socket: &UnixDatagram, wanted: &str, seen: &mut Vec<String>) {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut buffer = [0_u8; 4096];
    while Instant::now() < deadline {
        match socket.recv(&mut buffer) {
            Ok(n) => {
                let message = String::from_utf8_lossy(&buffer[..n]).into_owned();
                let found = message.lines().any(|line| line == wanted);
                seen.push(message);
                if found {
                    return;
                }
            }
            Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(err) if err.kind() == std::io::ErrorKind::TimedOut => {}
            Err(err) => panic!("cannot read the notify socket: {err}"),
        }
    }
    panic!("`{wanted}` never came; the supervisor sent: {seen:?}");
}

#[test]
fn the_supervisor_tells_systemd_it_is_ready_feeds_the_watchdog_and_says_when_it_stops() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notify.sock");
    let socket = UnixDatagram::bind(&path).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    // As systemd starts it: the watchdog is for the process with WATCHDOG_PID (the shell's,
    // which `exec` hands to `sms`), every 0.6 s here (a ping every 0.2 s).
    let serve = process::serve_command(sms(), &dir.path().join("data"));
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(r#"WATCHDOG_PID=$$ exec "$0" serve"#)
        .arg(sms())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for (key, value) in serve.get_envs() {
        match value {
            Some(value) => command.env(key, value),
            None => command.env_remove(key),
        };
    }
    command
        .env("NOTIFY_SOCKET", &path)
        .env("WATCHDOG_USEC", "600000")
        .env("SMS_BOOTSTRAP_ADMIN_PASSWORD", ADMIN_PASSWORD);
    let mut served = process::start(command).unwrap_or_else(|err| panic!("{err:#}"));

    let mut seen = Vec::new();
    messages_until(&socket, "READY=1", &mut seen);
    let ready = seen.last().unwrap();
    assert!(
        ready.contains("STATUS=serving level 0 (no patch)"),
        "READY=1 comes with what is served: {ready}"
    );
    messages_until(&socket, "WATCHDOG=1", &mut seen);
    messages_until(&socket, "WATCHDOG=1", &mut seen);

    let status = process::terminate(&mut served.child);
    assert!(status.success(), "the supervisor stopped cleanly: {status}");
    messages_until(&socket, "STOPPING=1", &mut seen);
}
