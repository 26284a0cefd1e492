//! The `sms` commands that talk to a running server over its JSON API (`sms patch list`,
//! `install`, `rollback`).

use std::time::{Duration, Instant};

use anyhow::Context;
use serde::de::DeserializeOwned;
use shared::PatchId;
use shared::api::{CLIENT_HEADER, ErrorBody, ErrorResponse, LoginRequest};
use shared::panel::{JobInfo, PatchState, PatchesView, TmcConnection};

/// How a command reaches and logs in to a server.
#[derive(Debug, Clone, clap::Args)]
pub struct ServerArgs {
    /// The SMS server's address.
    #[arg(
        long,
        env = "SMS_SERVER",
        value_name = "URL",
        default_value = "http://127.0.0.1:8080/"
    )]
    pub server: String,
    /// The user to log in as.
    #[arg(long, env = "SMS_USER", value_name = "NAME", default_value = "admin")]
    pub user: String,
    /// Read the password from standard input (else from SMS_PASSWORD).
    #[arg(long)]
    pub password_stdin: bool,
    /// An https:// server: PEM file of the CA that signed its certificate (besides the system's).
    #[arg(long, env = "SMS_CA_FILE", value_name = "FILE")]
    pub ca_file: Option<std::path::PathBuf>,
    /// An https:// server: the SHA-256 fingerprint of its certificate (as `sms serve` prints
    /// it), the only certificate accepted.
    #[arg(long, env = "SMS_FINGERPRINT", value_name = "SHA256")]
    pub fingerprint: Option<String>,
}

/// The `X-SMS-Client` value of the command line.
const CLIENT: &str = concat!("api/", env!("CARGO_PKG_VERSION"));

/// How often a followed job is asked for.
pub const POLL_EVERY: Duration = Duration::from_millis(250);

/// How long one question about a followed job may take before it counts as unanswered.
const POLL_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a request to the server brought no usable answer.
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    /// The server refused: its code and message.
    #[error("{}: {}", .0.code, .0.message)]
    Refused(ErrorBody),
    /// `503 server_restarting`: the application restarts, or the server is about to reboot.
    #[error("{}: {}", .0.code, .0.message)]
    Restarting(ErrorBody),
    /// No answer: the connection was refused, broke off or timed out.
    #[error("cannot reach the SMS server at {server}")]
    Unreachable {
        server: reqwest::Url,
        #[source]
        source: reqwest::Error,
    },
    /// An answer that is not what the API promises.
    #[error("{0}")]
    Unexpected(String),
}

/// What following a job saw at one look.
#[derive(Debug, Clone, Copy)]
pub enum Followed<'a> {
    /// The job as the server reports it now.
    Job(&'a JobInfo),
    /// The server answered `503 server_restarting`.
    Restarting,
    /// The server did not answer (it reboots, or its process starts again).
    Unreachable,
}

/// A logged-in session with a server.
pub struct Remote {
    http: reqwest::Client,
    base: reqwest::Url,
}

impl Remote {
    /// Logs in with `password`.
    pub async fn login(args: &ServerArgs, password: &str) -> anyhow::Result<Self> {
        let mut base = reqwest::Url::parse(&args.server)
            .with_context(|| format!("`{}` is not a server address", args.server))?;
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let trust = crate::net::Trust {
            ca_file: args.ca_file.clone(),
            fingerprint: match &args.fingerprint {
                Some(text) => Some(crate::net::parse_fingerprint(text)?),
                None => None,
            },
        };
        let http = crate::net::trusting(reqwest::Client::builder().cookie_store(true), &trust)?
            .build()
            .context("cannot build the HTTP client")?;
        let remote = Self { http, base };
        let body = LoginRequest {
            username: args.user.clone(),
            password: password.to_owned(),
        };
        let request = remote.http.post(remote.url("api/v1/session")?).json(&body);
        remote.send::<serde_json::Value>(request).await?;
        Ok(remote)
    }

    fn url(&self, path: &str) -> Result<reqwest::Url, RemoteError> {
        self.base.join(path).map_err(|err| {
            RemoteError::Unexpected(format!("cannot build the URL of {path}: {err}"))
        })
    }

    fn unreachable(&self, source: reqwest::Error) -> RemoteError {
        RemoteError::Unreachable {
            server: self.base.clone(),
            source,
        }
    }

    async fn send<T: DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<T, RemoteError> {
        let response = request
            .header(CLIENT_HEADER, CLIENT)
            .send()
            .await
            .map_err(|err| self.unreachable(err))?;
        let status = response.status();
        if !status.is_success() {
            let text = response.text().await.unwrap_or_default();
            return Err(match serde_json::from_str::<ErrorResponse>(&text) {
                Ok(answer)
                    if status == reqwest::StatusCode::SERVICE_UNAVAILABLE
                        && answer.error.code == "server_restarting" =>
                {
                    RemoteError::Restarting(answer.error)
                }
                Ok(answer) => RemoteError::Refused(answer.error),
                Err(_) => RemoteError::Unexpected(format!("the server answered {status}")),
            });
        }
        response.json::<T>().await.map_err(|err| {
            if err.is_decode() {
                RemoteError::Unexpected(format!("the server's answer could not be read: {err}"))
            } else {
                // The connection broke off while the answer came in.
                self.unreachable(err)
            }
        })
    }

    /// `GET /api/v1/patches`.
    pub async fn patches(&self) -> Result<PatchesView, RemoteError> {
        let request = self.http.get(self.url("api/v1/patches")?);
        self.send(request).await
    }

    /// `POST /api/v1/patches/{id}/install`: the install job as it started.
    pub async fn install(&self, id: PatchId) -> Result<JobInfo, RemoteError> {
        let request = self
            .http
            .post(self.url(&format!("api/v1/patches/{id}/install"))?);
        self.send(request).await
    }

    /// `POST /api/v1/rollback`: the rollback job as it started.
    pub async fn rollback(&self) -> Result<JobInfo, RemoteError> {
        let request = self.http.post(self.url("api/v1/rollback")?);
        self.send(request).await
    }

    /// `GET /api/v1/jobs/{id}`, waiting at most [`POLL_TIMEOUT`] for the answer.
    pub async fn job(&self, id: i64) -> Result<JobInfo, RemoteError> {
        let request = self
            .http
            .get(self.url(&format!("api/v1/jobs/{id}"))?)
            .timeout(POLL_TIMEOUT);
        self.send(request).await
    }

    /// Asks for `job` every [`POLL_EVERY`] until it ends, and returns it as it ended. Each look
    /// is handed to `seen`: the job, or that the server restarts (503 `server_restarting`) or
    /// does not answer (a reboot); both are waited out. Gives up after `timeout`.
    pub async fn follow_job(
        &self,
        job: JobInfo,
        timeout: Duration,
        mut seen: impl FnMut(Followed<'_>),
    ) -> anyhow::Result<JobInfo> {
        let deadline = Instant::now() + timeout;
        let mut job = job;
        seen(Followed::Job(&job));
        while !job.state.is_final() {
            if Instant::now() >= deadline {
                anyhow::bail!(
                    "job {} has not ended after {} s (last stage: {}); follow it in the SMS \
                     Patches panel or with GET /api/v1/jobs/{}",
                    job.id,
                    timeout.as_secs(),
                    job.stage.map_or("none", |stage| stage.as_str()),
                    job.id
                );
            }
            tokio::time::sleep(POLL_EVERY).await;
            match self.job(job.id).await {
                Ok(now) => {
                    job = now;
                    seen(Followed::Job(&job));
                }
                Err(RemoteError::Restarting(_)) => seen(Followed::Restarting),
                Err(RemoteError::Unreachable { .. }) => seen(Followed::Unreachable),
                Err(err) => {
                    return Err(err).with_context(|| format!("cannot follow job {}", job.id));
                }
            }
        }
        Ok(job)
    }
}

/// The password: standard input with `--password-stdin`, else `SMS_PASSWORD`.
pub fn password(args: &ServerArgs) -> anyhow::Result<String> {
    if args.password_stdin {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .context("cannot read the password from standard input")?;
        return Ok(line.trim_end_matches(['\r', '\n']).to_owned());
    }
    std::env::var("SMS_PASSWORD")
        .ok()
        .filter(|p| !p.is_empty())
        .context("give the password with --password-stdin or in SMS_PASSWORD")
}

/// The panel as text: installed level, TMC status, and one line per patch.
pub fn render_patches(view: &PatchesView) -> String {
    let installed = &view.installed;
    let level = if installed.patch_level.is_none() {
        "no patch installed".to_owned()
    } else {
        format!("{} installed", installed.patch_level)
    };
    let mut out = format!(
        "SMS {}, {level} (build {})\n",
        installed.product_version, installed.build
    );
    let tmc = &view.tmc;
    let tmc_line = match tmc.connection {
        TmcConnection::NotConfigured => "not configured".to_owned(),
        TmcConnection::Pending => "connecting".to_owned(),
        TmcConnection::Connected => format!(
            "connected, last check {}",
            tmc.last_check
                .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
                .unwrap_or_default()
        ),
        TmcConnection::Unreachable | TmcConnection::CertificateInvalid | TmcConnection::Invalid => {
            format!(
                "{}: {}",
                match tmc.connection {
                    TmcConnection::Unreachable => "unreachable",
                    TmcConnection::CertificateInvalid => "certificate not trusted",
                    _ => "refused",
                },
                tmc.message.clone().unwrap_or_default()
            )
        }
    };
    out.push_str(&format!("TMC: {tmc_line}\n"));
    if view.available.is_empty() {
        out.push_str("No patches are known.\n");
        return out;
    }
    out.push_str(&format!(
        "{:<10} {:<12} {:<10} {:>9}  {:<6} {:<6} {:<3}  {}\n",
        "PATCH", "BUILD", "RELEASED", "SIZE", "CLIENT", "REBOOT", "DB", "STATE"
    ));
    for row in &view.available {
        let p = &row.patch;
        let yes_no = |b: bool| if b { "yes" } else { "no" };
        let state = match &row.state {
            PatchState::Available => "available".to_owned(),
            PatchState::Downloading { percent, .. } => format!("downloading {percent}%"),
            PatchState::Downloaded => "downloaded".to_owned(),
            PatchState::Superseded { by } => format!("superseded by Patch {by}"),
            PatchState::Installed => "installed".to_owned(),
            PatchState::NotApplicable { reason } => format!("not applicable: {reason}"),
        };
        let state = if row.recommended {
            format!("{state} (recommended)")
        } else {
            state
        };
        out.push_str(&format!(
            "{:<10} {:<12} {:<10} {:>6.1} MB  {:<6} {:<6} {:<3}  {}\n",
            p.id.to_string(),
            p.build.to_string(),
            p.released.format("%Y-%m-%d").to_string(),
            p.size as f64 / 1_000_000.0,
            yes_no(p.updates.updates_client()),
            yes_no(p.restart == shared::effects::Restart::Reboot),
            yes_no(p.changes_database()),
            state
        ));
    }
    out
}
