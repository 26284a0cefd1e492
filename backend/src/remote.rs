//! The `sms` commands that talk to a running server over its JSON API (`sms patch list`).

use anyhow::{Context, bail};
use serde::de::DeserializeOwned;
use shared::api::{CLIENT_HEADER, ErrorResponse, LoginRequest};
use shared::panel::{PatchState, PatchesView, TmcConnection};

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
}

/// The `X-SMS-Client` value of the command line.
const CLIENT: &str = concat!("api/sms-cli-", env!("CARGO_PKG_VERSION"));

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
        let http = reqwest::Client::builder()
            .cookie_store(true)
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

    fn url(&self, path: &str) -> anyhow::Result<reqwest::Url> {
        Ok(self.base.join(path)?)
    }

    async fn send<T: DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> anyhow::Result<T> {
        let response = request
            .header(CLIENT_HEADER, CLIENT)
            .send()
            .await
            .with_context(|| format!("cannot reach the SMS server at {}", self.base))?;
        let status = response.status();
        if !status.is_success() {
            let text = response.text().await.unwrap_or_default();
            match serde_json::from_str::<ErrorResponse>(&text) {
                Ok(error) => bail!("{} ({})", error.error.message, error.error.code),
                Err(_) => bail!("the server answered {status}"),
            }
        }
        response
            .json::<T>()
            .await
            .context("the server's answer could not be read")
    }

    /// `GET /api/v1/patches`.
    pub async fn patches(&self) -> anyhow::Result<PatchesView> {
        let request = self.http.get(self.url("api/v1/patches")?);
        self.send(request).await
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
        TmcConnection::Unreachable | TmcConnection::Invalid => format!(
            "{}: {}",
            if tmc.connection == TmcConnection::Unreachable {
                "unreachable"
            } else {
                "refused"
            },
            tmc.message.clone().unwrap_or_default()
        ),
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
            yes_no(p.database_changes),
            state
        ));
    }
    out
}
