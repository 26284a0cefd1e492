//! The real server in this process, on `127.0.0.1:0` with a fresh data dir and database:
//! [`spawn_app`] and friends return a [`TestApp`], which is an [`Api`] of that server plus its
//! state, configuration and data dir.

use std::net::SocketAddr;
use std::ops::Deref;
use std::path::Path;

use anyhow::Context;
use backend::Application;
use backend::app::startup::AdminLogin;
use backend::config::Config;
use backend::http::state::AppState;
use shared::Role;
use tempfile::TempDir;

use crate::api::{ADMIN_PASSWORD, Api};
use crate::pg::PgTestDb;

/// The operator [`TestApp::login_operator`] creates.
pub const OPERATOR: &str = "olga";
/// The operator's password.
pub const OPERATOR_PASSWORD: &str = "operator-password";

/// A server on a fresh SQLite database.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// A server on a fresh SQLite database, with `adjust` applied to its configuration first.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let mut config = test_config(data_dir.path());
    adjust(&mut config);
    TestApp::start(config, data_dir, None)
        .await
        .expect("the test server starts")
}

/// A server on a fresh PostgreSQL database, or `None` when PostgreSQL is not configured (see
/// [`PgTestDb::create`]).
pub async fn spawn_app_on_postgres() -> Option<TestApp> {
    let pg = PgTestDb::create().await?;
    let data_dir = tempfile::tempdir().expect("temp dir");
    let mut config = test_config(data_dir.path());
    config.storage.database_url = pg.url.clone();
    Some(
        TestApp::start(config, data_dir, Some(pg))
            .await
            .expect("the test server starts"),
    )
}

/// The configuration of a test server with its data (and SQLite database) in `data_dir`: any
/// free port, the node name `sms-test`, no built web client.
pub fn test_config(data_dir: &Path) -> Config {
    let mut config = Config::for_data_dir(data_dir);
    config.listen = "127.0.0.1:0".parse().expect("address");
    config.node_name = "sms-test".into();
    config.static_dir = data_dir.join("dist");
    config
}

/// `N` different free loopback ports (all bound at once, then released), for servers that
/// need each other's address before they start.
pub fn free_ports<const N: usize>() -> [u16; N] {
    let listeners: [std::net::TcpListener; N] =
        std::array::from_fn(|_| std::net::TcpListener::bind("127.0.0.1:0").expect("a free port"));
    listeners.map(|l| l.local_addr().expect("bound address").port())
}

/// A running server and a cookie-keeping client of it (the [`Api`] it derefs to). The server
/// stops when this is dropped; the PostgreSQL database, if it has one, is dropped after it.
pub struct TestApp {
    api: Api,
    /// The address the server listens on.
    pub addr: SocketAddr,
    /// The server's state: its services, for arranging what the API cannot.
    pub state: AppState,
    /// The server's data dir.
    pub data_dir: TempDir,
    /// The configuration the server started with.
    pub config: Config,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
    pg: Option<PgTestDb>,
}

impl Deref for TestApp {
    type Target = Api;

    fn deref(&self) -> &Api {
        &self.api
    }
}

impl TestApp {
    /// Starts a server with `config` (the user `admin` has [`ADMIN_PASSWORD`]), its data in
    /// `data_dir` and, if given, its database `pg`; both are kept as long as the `TestApp`.
    pub async fn start(
        config: Config,
        data_dir: TempDir,
        pg: Option<PgTestDb>,
    ) -> anyhow::Result<TestApp> {
        let (app, _login) =
            Self::start_first(config, data_dir, pg, Some(ADMIN_PASSWORD.into())).await?;
        Ok(app)
    }

    /// Starts a server as [`TestApp::start`] does, with `bootstrap_password` as the first
    /// admin's (`None`: the server makes one up, as on a fresh install or a fresh `make run`),
    /// and returns the admin login the server prints, if it prints one.
    pub async fn start_first(
        config: Config,
        data_dir: TempDir,
        pg: Option<PgTestDb>,
        bootstrap_password: Option<String>,
    ) -> anyhow::Result<(TestApp, Option<AdminLogin>)> {
        // Spawned: the server's start is a large future, polled from the runtime's own shallow
        // stack instead of beneath the test's futures (a test thread has 2 MiB, and a debug
        // build keeps large futures on it).
        let (app, login) = tokio::spawn(Application::build(config.clone(), bootstrap_password))
            .await
            .context("the server's start panicked")?
            .context("the application does not build")?;
        let addr = app.local_addr()?;
        let cert_file = app.tls_cert_file().map(std::path::Path::to_owned);
        let state = app.state().clone();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            app.run_until(async {
                let _ = rx.await;
            })
            .await
            .expect("server runs");
        });
        // A server on every address is reached through 127.0.0.1 (its certificate names it).
        let host = if addr.ip().is_unspecified() {
            std::net::SocketAddr::from(([127, 0, 0, 1], addr.port()))
        } else {
            addr
        };
        let api = match cert_file {
            Some(cert) => Api::trusting(
                &format!("https://{host}"),
                &std::fs::read(&cert).context("cannot read the server's certificate")?,
            ),
            None => Api::new(&format!("http://{host}")),
        };
        let app = TestApp {
            api,
            addr,
            state,
            data_dir,
            config,
            shutdown: Some(tx),
            server: Some(server),
            pg,
        };
        Ok((app, login))
    }

    /// Stops the server (graceful shutdown) and keeps its data dir and database.
    pub async fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.expect("server task");
        }
    }

    /// Stops the server and starts a new one on the same data dir and database; the client
    /// (and its session cookie) carries over.
    pub async fn restart(mut self) -> TestApp {
        self.stop().await;
        let mut config = self.config.clone();
        config.listen = "127.0.0.1:0".parse().expect("address");
        let data_dir = std::mem::replace(&mut self.data_dir, tempfile::tempdir().expect("temp"));
        let pg = self.pg.take();
        let mut next = TestApp::start(config, data_dir, pg)
            .await
            .expect("the test server starts again");
        next.api.client = self.api.client.clone();
        next
    }

    /// Creates a user directly in the server's database.
    pub async fn add_user(&self, name: &str, role: Role, password: &str) {
        self.state
            .auth
            .add_user(name, role, password, "test", None)
            .await
            .expect("user added");
    }

    /// Creates the operator [`OPERATOR`] and logs the client in as that operator.
    pub async fn login_operator(&self) {
        self.add_user(OPERATOR, Role::Operator, OPERATOR_PASSWORD)
            .await;
        let response = self.login(OPERATOR, OPERATOR_PASSWORD).await;
        assert_eq!(response.status(), 200, "operator login");
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
