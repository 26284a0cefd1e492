//! The `sms` binary's `serve` as a child process (for the command-line and crash tests and the
//! benches): started on a free port, ready once it prints its address, killed when dropped.
//!
//! Only the crate that builds `sms` knows where it is (`env!("CARGO_BIN_EXE_sms")`), so every
//! function here takes its path.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};

use anyhow::{Context, bail};

/// What `sms serve` prints once it listens, followed by its URL.
pub const READY: &str = "SMS server ready at ";

/// A running `sms serve`; killed (if still running) when dropped.
pub struct Served {
    /// The process.
    pub child: Child,
    /// Its base URL, `http://127.0.0.1:PORT` without a trailing slash.
    pub url: String,
    /// What it printed up to and including the ready line.
    pub lines: Vec<String>,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `sms serve` with its data, SQLite database and (absent) web client in `data_dir`, on any free
/// port, with neither a database URL nor a bootstrap password from the environment; stdout is
/// read for the ready line, stderr is dropped. Add flags and variables, then [`start`] it.
pub fn serve_command(sms: &Path, data_dir: &Path) -> Command {
    let mut command = Command::new(sms);
    command
        .arg("serve")
        .env("SMS_DATA_DIR", data_dir)
        .env("SMS_LISTEN", "127.0.0.1:0")
        .env("SMS_STATIC_DIR", data_dir.join("dist"))
        .env_remove("SMS_DATABASE_URL")
        .env_remove("SMS_BOOTSTRAP_ADMIN_PASSWORD")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    command
}

/// Starts `command` (an `sms serve` with stdout piped) and waits until it says it is ready.
pub fn start(mut command: Command) -> anyhow::Result<Served> {
    let mut child = command.spawn().context("cannot start `sms serve`")?;
    let stdout = child.stdout.take().context("`sms serve` has no stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let mut seen = Vec::new();
    let url = loop {
        let Some(line) = lines.next() else {
            let _ = child.kill();
            let _ = child.wait();
            bail!(
                "`sms serve` exited before it was ready; it printed:\n{}",
                seen.join("\n")
            );
        };
        let line = line.context("cannot read the output of `sms serve`")?;
        seen.push(line.clone());
        if let Some(rest) = line.strip_prefix(READY) {
            break rest.trim_end_matches('/').to_owned();
        }
    };
    // Keep draining stdout so the server never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    Ok(Served {
        child,
        url,
        lines: seen,
    })
}

/// Starts `sms serve` on `data_dir` with the flags `args` and the variables `envs`.
///
/// # Panics
///
/// When it does not start or stops before it is ready.
pub fn serve(sms: &Path, data_dir: &Path, args: &[&str], envs: &[(&str, &str)]) -> Served {
    let mut command = serve_command(sms, data_dir);
    command.args(args);
    for (key, value) in envs {
        command.env(key, value);
    }
    start(command).unwrap_or_else(|err| panic!("{err:#}"))
}

/// Starts `sms serve` on `data_dir` trusting the vendor key `public_key`, the first admin with
/// [`crate::ADMIN_PASSWORD`]: what the benches measure.
pub fn serve_trusting(sms: &Path, data_dir: &Path, public_key: &Path) -> anyhow::Result<Served> {
    let mut command = serve_command(sms, data_dir);
    command
        .arg("--trust-key")
        .arg(public_key)
        .env("SMS_BOOTSTRAP_ADMIN_PASSWORD", crate::ADMIN_PASSWORD);
    start(command)
}

/// Sends SIGTERM to `child` (a graceful stop), without waiting for it.
pub fn sigterm(child: &Child) -> anyhow::Result<()> {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .context("cannot run kill")?;
    if !status.success() {
        bail!("cannot send SIGTERM to process {}", child.id());
    }
    Ok(())
}

/// Stops `child` with SIGTERM and returns how it exited.
///
/// # Panics
///
/// When the signal cannot be sent or the process cannot be waited for.
pub fn terminate(child: &mut Child) -> ExitStatus {
    sigterm(child).unwrap_or_else(|err| panic!("{err:#}"));
    child.wait().expect("the process ends")
}
