//! Import throughput: a 1 GiB package uploaded to `POST /api/v1/patches/import` of a real `sms
//! serve` process, against `sha256sum` of the same file in the same run, and the server's peak
//! memory during the import.
//!
//! ```text
//! cargo bench -p backend --bench import              # 1 GiB
//! cargo bench -p backend --bench import -- 256       # another size, in MiB
//! ```
//!
//! It prints figures and asserts nothing. Targets: import throughput at least 0.8x that of
//! `sha256sum`; the server's resident memory grows by at most 32 MiB while it imports.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use reqwest::Method;
use testkit::process::{self, Served};
use testkit::{ADMIN_PASSWORD, Api, Vendor};

const MIB: u64 = 1 << 20;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let size_mib: u64 = std::env::args()
        .skip(1)
        .find(|arg| !arg.starts_with('-'))
        .map(|arg| arg.parse().context("the size is a number of MiB"))
        .transpose()?
        .unwrap_or(1024);
    // About twice the package size is written here; SMS_BENCH_DIR picks another disk.
    let work = match std::env::var_os("SMS_BENCH_DIR") {
        Some(dir) => tempfile::tempdir_in(dir),
        None => tempfile::tempdir(),
    }
    .context("cannot create the bench's working folder")?;

    println!("import benchmark: a {size_mib} MiB package");
    let vendor = Vendor::in_dir(work.path());
    let package = build_package(&vendor, work.path(), size_mib * MIB);
    let package_bytes = std::fs::metadata(&package)?.len();

    // Warm the page cache for both contenders, then time sha256sum.
    let baseline = sha256sum(&package)?;
    let baseline = baseline.min(sha256sum(&package)?);

    let server = Server::start(work.path(), &vendor)?;
    let result = import(&server, &package, package_bytes).await;
    let peak = server.peak_rss_bytes();
    drop(server);
    let (elapsed, rss_before) = result?;
    let peak = peak?;

    let mb_s = |d: Duration| package_bytes as f64 / d.as_secs_f64() / 1e6;
    println!(
        "sha256sum           {:>8.1} MB/s  ({:.2} s)",
        mb_s(baseline),
        baseline.as_secs_f64()
    );
    println!(
        "HTTP import         {:>8.1} MB/s  ({:.2} s, verified, written and fsynced)",
        mb_s(elapsed),
        elapsed.as_secs_f64()
    );
    println!(
        "throughput ratio    {:>8.2}x  (target >= 0.80x)",
        baseline.as_secs_f64() / elapsed.as_secs_f64()
    );
    println!(
        "server RSS          {:>8.1} MiB before, {:.1} MiB peak, growth {:.1} MiB (target <= 32 MiB)",
        rss_before as f64 / MIB as f64,
        peak as f64 / MIB as f64,
        peak.saturating_sub(rss_before) as f64 / MIB as f64
    );
    Ok(())
}

/// Packs one payload file of `size` pseudo-random bytes as SMS 6.4.0 Patch 1 of `vendor`.
fn build_package(vendor: &Vendor, dir: &Path, size: u64) -> PathBuf {
    vendor
        .package(1)
        .title("Import benchmark")
        .release_notes("A large payload to measure the import.")
        .random_payload_bytes(size)
        .write_to(&dir.join("bench.pkg"))
}

fn sha256sum(file: &Path) -> anyhow::Result<Duration> {
    let start = Instant::now();
    let output = Command::new("sha256sum")
        .arg(file)
        .stdout(Stdio::null())
        .status()
        .context("cannot run sha256sum")?;
    if !output.success() {
        bail!("sha256sum failed: {output}");
    }
    Ok(start.elapsed())
}

/// Logs in, uploads the package, and returns the upload's duration and the server's resident
/// memory just before it.
async fn import(server: &Server, package: &Path, size: u64) -> anyhow::Result<(Duration, u64)> {
    let api = Api::with_client_name(&server.served.url, "api/bench");
    let login = api.login("admin", ADMIN_PASSWORD).await;
    if !login.status().is_success() {
        bail!("login failed: {}", login.text().await?);
    }
    let rss_before = server.reset_peak_rss()?;
    let file = tokio::fs::File::open(package).await?;
    // Read in 256 KiB pieces, as curl or a browser would send them.
    let body = futures_util::stream::try_unfold(file, |mut file| async move {
        use tokio::io::AsyncReadExt;
        let mut buffer = vec![0u8; 256 << 10];
        let n = file.read(&mut buffer).await?;
        buffer.truncate(n);
        Ok::<_, std::io::Error>((n > 0).then(|| (bytes::Bytes::from(buffer), file)))
    });
    let start = Instant::now();
    let response = api
        .request(Method::POST, "/api/v1/patches/import")
        .header("Content-Type", "application/octet-stream")
        .header("Content-Length", size)
        .body(reqwest::Body::wrap_stream(body))
        .send()
        .await?;
    let status = response.status();
    let body = response.text().await?;
    let elapsed = start.elapsed();
    if !status.is_success() {
        bail!("the import failed with {status}: {body}");
    }
    Ok((elapsed, rss_before))
}

/// A release `sms serve` in its own data dir, trusting the bench's vendor key.
struct Server {
    served: Served,
}

impl Server {
    fn start(dir: &Path, vendor: &Vendor) -> anyhow::Result<Self> {
        let mut command =
            process::serve_command(Path::new(env!("CARGO_BIN_EXE_sms")), &dir.join("data"));
        command
            .arg("--trust-key")
            .arg(vendor.public_key())
            .env("SMS_BOOTSTRAP_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("SMS_LOG", "warn")
            .stderr(Stdio::inherit());
        Ok(Self {
            served: process::start(command)?,
        })
    }

    fn status_field(&self, field: &str) -> anyhow::Result<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.served.child.id()))
            .context("reading /proc (the memory figures need Linux)")?;
        let kib = status
            .lines()
            .find_map(|line| line.strip_prefix(field))
            .and_then(|rest| {
                rest.trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<u64>()
                    .ok()
            })
            .with_context(|| format!("no {field} in /proc/PID/status"))?;
        Ok(kib * 1024)
    }

    /// Resets the kernel's peak-RSS mark (VmHWM) and returns the current RSS.
    fn reset_peak_rss(&self) -> anyhow::Result<u64> {
        std::fs::write(format!("/proc/{}/clear_refs", self.served.child.id()), "5")
            .context("cannot reset the peak RSS mark")?;
        self.status_field("VmRSS:")
    }

    fn peak_rss_bytes(&self) -> anyhow::Result<u64> {
        self.status_field("VmHWM:")
    }
}
