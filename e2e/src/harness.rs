//! Starts one test's world: an SMS server with its own data dir, a chromedriver, a headless
//! Chromium session. Everything stops when the `Browser` is dropped.

use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, bail};
use backend::app::startup::AdminLogin;
use backend::config::Config;
use fantoccini::{Client, ClientBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;
use shared::Role;
use tempfile::TempDir;
use testkit::{TestApp, eventually};

/// How long any wait in a test may take before it fails with a message.
pub const WAIT: Duration = Duration::from_secs(20);

/// The built web client (`make spa`'s `dist/` at the workspace root), which the test servers serve.
pub fn dist_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../dist")
}

/// One test's server, chromedriver and browser session.
pub struct Browser {
    /// The browser session.
    pub client: Client,
    /// The server's base URL, `http://127.0.0.1:PORT`.
    pub base_url: String,
    /// The server's state: its services, for arranging and checking what the page cannot.
    pub state: backend::http::state::AppState,
    chromedriver: Child,
    /// The server, when this window started it (it stops with the window).
    server: Option<TestApp>,
    _profile: TempDir,
}

impl Browser {
    /// Starts everything; the server has the user `admin` with [`testkit::ADMIN_PASSWORD`].
    pub async fn start() -> anyhow::Result<Browser> {
        Self::start_with(|_| {}).await
    }

    /// Like [`Browser::start`], with `configure` changing the server's configuration before it
    /// starts (e.g. trusting a test vendor's package key: `vendor.trust(config)`).
    pub async fn start_with(configure: impl FnOnce(&mut Config)) -> anyhow::Result<Browser> {
        let data_dir = tempfile::tempdir()?;
        let mut config = server_config(data_dir.path())?;
        configure(&mut config);
        Self::start_in(config, data_dir).await
    }

    /// Like [`Browser::start_with`], on a first start without a bootstrap password: the server
    /// makes the first admin's password up, as on a fresh install or a fresh `make run`.
    /// Returns the admin login the server printed.
    pub async fn start_first(
        configure: impl FnOnce(&mut Config),
    ) -> anyhow::Result<(Browser, AdminLogin)> {
        let data_dir = tempfile::tempdir()?;
        let mut config = server_config(data_dir.path())?;
        configure(&mut config);
        let (server, login) = TestApp::start_first(config, data_dir, None, None).await?;
        let login = login.context("the server printed no admin login on its first start")?;
        let mut browser = Self::window_on(&server).await?;
        browser.server = Some(server);
        Ok((browser, login))
    }

    /// Starts a server with `config` (its data in `data_dir`, kept until the browser is
    /// dropped) and a browser session on it.
    pub async fn start_in(config: Config, data_dir: TempDir) -> anyhow::Result<Browser> {
        let server = TestApp::start(config, data_dir, None).await?;
        let mut browser = Self::window_on(&server).await?;
        browser.server = Some(server);
        Ok(browser)
    }

    /// A browser window on another server (e.g. the other node of an HA cluster), with its own
    /// Chromium session. Closing or dropping it leaves that server running.
    pub async fn window_on(server: &TestApp) -> anyhow::Result<Browser> {
        let (chromedriver, client, profile) = open_session().await?;
        Ok(Browser {
            client,
            base_url: server.base_url.clone(),
            state: server.state.clone(),
            chromedriver,
            server: None,
            _profile: profile,
        })
    }

    /// A second browser window on the same server: its own Chromium session (its own cookies,
    /// so it logs in by itself), as a second admin at another desk would have. Closing or
    /// dropping it leaves the server running.
    pub async fn second_window(&self) -> anyhow::Result<Browser> {
        let (chromedriver, client, profile) = open_session().await?;
        Ok(Browser {
            client,
            base_url: self.base_url.clone(),
            state: self.state.clone(),
            chromedriver,
            server: None,
            _profile: profile,
        })
    }

    /// The absolute URL of `path` on this window's server.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    /// Creates a user directly in the server's database.
    pub async fn add_user(&self, name: &str, role: Role, password: &str) -> anyhow::Result<()> {
        self.state
            .auth
            .add_user(name, role, password, "e2e", None)
            .await?;
        Ok(())
    }

    /// Closes the browser session; call at the end of a test (drop also cleans up).
    pub async fn close(mut self) -> anyhow::Result<()> {
        self.client.clone().close().await?;
        self.stop_processes();
        Ok(())
    }

    fn stop_processes(&mut self) {
        stop_group(&mut self.chromedriver);
        // Dropping the server stops it.
        self.server = None;
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        self.stop_processes();
    }
}

/// The configuration of a test server with its data in `data_dir` (the built web client from
/// the workspace, any free port); fails when the web client is not built.
pub fn server_config(data_dir: &std::path::Path) -> anyhow::Result<Config> {
    let dist = dist_dir();
    if !dist.join("index.html").exists() {
        bail!(
            "the web client is not built ({} is missing): run `make test`, which builds it",
            dist.join("index.html").display()
        );
    }
    let mut config = testkit::test_config(data_dir);
    config.static_dir = dist;
    config.node_name = "sms-e2e".into();
    Ok(config)
}

/// Kills chromedriver and everything it started (Chromium and its helpers), which share its
/// process group: a Chromium whose driver is gone must not outlive the test, whether the test
/// closed its session or failed before.
fn stop_group(chromedriver: &mut Child) {
    if let Some(group) = i32::try_from(chromedriver.id())
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    {
        let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
    }
    let _ = chromedriver.kill();
    let _ = chromedriver.wait();
}

/// Starts a chromedriver (in a process group of its own, with the Chromium it starts) and opens
/// a headless Chromium session through it.
async fn open_session() -> anyhow::Result<(Child, Client, TempDir)> {
    let [port] = testkit::free_ports();
    let mut chromedriver = Command::new(chromedriver_path())
        .process_group(0)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context(
            "cannot start chromedriver: install it with `make test` (apt package chromium-driver)",
        )?;
    let driver_addr = SocketAddr::from(([127, 0, 0, 1], port));
    if let Err(err) = wait_for_port(driver_addr).await {
        stop_group(&mut chromedriver);
        return Err(err.context("chromedriver did not start listening"));
    }

    let profile = tempfile::tempdir()?;
    let capabilities = json!({
        // The console's messages (CSP violations among them), for check::no_csp_violation.
        "goog:loggingPrefs": { "browser": "ALL" },
        "goog:chromeOptions": {
            "binary": chromium_path(),
            "args": [
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-quic",
                // The HTTPS tests' servers have self-signed certificates.
                "--ignore-certificate-errors",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--window-size=1280,800",
                format!("--user-data-dir={}", profile.path().display()),
            ]
        }
    });
    let serde_json::Value::Object(capabilities) = capabilities else {
        bail!("capabilities must be a JSON object");
    };
    let client = match ClientBuilder::new(HttpConnector::new())
        .capabilities(capabilities)
        .connect(&format!("http://{driver_addr}"))
        .await
    {
        Ok(client) => client,
        Err(err) => {
            stop_group(&mut chromedriver);
            return Err(anyhow::Error::new(err)
                .context("cannot open a Chromium session through chromedriver"));
        }
    };
    Ok((chromedriver, client, profile))
}

fn chromedriver_path() -> String {
    std::env::var("SMS_E2E_CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into())
}

fn chromium_path() -> String {
    std::env::var("SMS_E2E_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into())
}

async fn wait_for_port(addr: SocketAddr) -> anyhow::Result<()> {
    eventually(&format!("something to listen on {addr}"), WAIT, || async {
        tokio::net::TcpStream::connect(addr).await.map(drop)
    })
    .await
}

/// A chromedriver command of its own (beyond the WebDriver standard that fantoccini speaks):
/// `POST /session/{id}/{path}` with a JSON `body`.
#[derive(Debug)]
pub(crate) struct DriverPost {
    pub path: &'static str,
    pub body: serde_json::Value,
}

impl fantoccini::wd::WebDriverCompatibleCommand for DriverPost {
    fn endpoint(
        &self,
        base_url: &reqwest::Url,
        session_id: Option<&str>,
    ) -> Result<reqwest::Url, <reqwest::Url as std::str::FromStr>::Err> {
        base_url.join(&format!(
            "session/{}/{}",
            session_id.unwrap_or_default(),
            self.path
        ))
    }

    fn method_and_body(&self, _request_url: &reqwest::Url) -> (axum::http::Method, Option<String>) {
        (axum::http::Method::POST, Some(self.body.to_string()))
    }
}
