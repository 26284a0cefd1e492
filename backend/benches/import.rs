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

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use backend::package::PackageSigner;
use backend::package::pack::pack;
use serde_json::json;

const MIB: u64 = 1 << 20;
const PASSWORD: &str = "bench-password-1";

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
    let package = build_package(work.path(), size_mib * MIB)?;
    let package_bytes = std::fs::metadata(&package)?.len();

    // Warm the page cache for both contenders, then time sha256sum.
    let baseline = sha256sum(&package)?;
    let baseline = baseline.min(sha256sum(&package)?);

    let mut server = Server::start(work.path())?;
    let result = import(&server, &package, package_bytes).await;
    let peak = server.peak_rss_bytes();
    server.stop();
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

/// Packs one payload file of `size` pseudo-random bytes as SMS 6.4.0 Patch 1.
fn build_package(dir: &Path, size: u64) -> anyhow::Result<PathBuf> {
    let payload = dir.join("payload");
    std::fs::create_dir_all(payload.join("server"))?;
    let mut file = std::io::BufWriter::with_capacity(
        MIB as usize,
        std::fs::File::create(payload.join("server/image.bin"))?,
    );
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    let mut block = vec![0u8; MIB as usize];
    let mut left = size;
    while left > 0 {
        for word in block.chunks_exact_mut(8) {
            // xorshift64: incompressible enough, and far faster than the disk.
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            word.copy_from_slice(&state.to_le_bytes());
        }
        let n = left.min(MIB) as usize;
        file.write_all(&block[..n])?;
        left -= n as u64;
    }
    file.flush()?;
    drop(file);

    let signer = PackageSigner::generate("bench-vendor");
    signer.write(&dir.join("vendor"))?;
    let template = json!({
        "product_version": "6.4.0",
        "patch": 1,
        "build": "6.4.0.9101",
        "released": "2026-11-02",
        "title": "Import benchmark",
        "updates": "server",
        "restart": "application",
        "database_changes": false,
        "rollback": true,
        "release_notes": "A large payload to measure the import.",
    });
    let out = dir.join("bench.pkg");
    pack(&signer, &template, &payload, &out)?;
    std::fs::remove_dir_all(&payload)?;
    Ok(out)
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
    let client = reqwest::Client::builder().cookie_store(true).build()?;
    let login = client
        .post(format!("{}/api/v1/session", server.url))
        .header("X-SMS-Client", "api/bench")
        .json(&json!({ "username": "admin", "password": PASSWORD }))
        .send()
        .await?;
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
    let response = client
        .post(format!("{}/api/v1/patches/import", server.url))
        .header("X-SMS-Client", "api/bench")
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
    child: Child,
    url: String,
}

impl Server {
    fn start(dir: &Path) -> anyhow::Result<Self> {
        let mut child = Command::new(env!("CARGO_BIN_EXE_sms"))
            .arg("serve")
            .args(["--listen", "127.0.0.1:0"])
            .arg("--data-dir")
            .arg(dir.join("data"))
            .arg("--trust-key")
            .arg(dir.join("vendor.pub"))
            .env("SMS_BOOTSTRAP_ADMIN_PASSWORD", PASSWORD)
            .env("SMS_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("cannot start `sms serve`")?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let url = loop {
            let Some(line) = lines.next() else {
                let _ = child.kill();
                bail!("`sms serve` exited before it was ready");
            };
            if let Some(rest) = line?.strip_prefix("SMS server ready at ") {
                break rest.trim_end_matches('/').to_owned();
            }
        };
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Ok(Self { child, url })
    }

    fn status_field(&self, field: &str) -> anyhow::Result<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
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
        std::fs::write(format!("/proc/{}/clear_refs", self.child.id()), "5")
            .context("cannot reset the peak RSS mark")?;
        self.status_field("VmRSS:")
    }

    fn peak_rss_bytes(&self) -> anyhow::Result<u64> {
        self.status_field("VmHWM:")
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
