//! `spawn_app()` and friends: a real server per test, with a client method per endpoint.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};

use backend::Application;
use backend::config::{Config, StorageConfig};
use reqwest::{Client, Response};
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};
use shared::Role;
use tempfile::TempDir;

pub const ADMIN_PASSWORD: &str = "first-admin-password";
pub const OPERATOR: &str = "olga";
pub const OPERATOR_PASSWORD: &str = "operator-password";

/// A running server and a cookie-keeping client.
pub struct TestApp {
    pub addr: SocketAddr,
    pub client: Client,
    pub state: backend::http::state::AppState,
    pub data_dir: TempDir,
    pub config: Config,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
    _pg: Option<PgTestDb>,
}

/// A server on a fresh SQLite database.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// A server on a fresh SQLite database, with `adjust` applied to its configuration first.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let mut config = test_config(data_dir.path());
    adjust(&mut config);
    start(config, data_dir, None).await
}

/// A server on a fresh PostgreSQL database, or `None` when PostgreSQL is not configured.
pub async fn spawn_app_on_postgres() -> Option<TestApp> {
    let pg = PgTestDb::create().await?;
    let data_dir = tempfile::tempdir().expect("temp dir");
    let mut config = test_config(data_dir.path());
    config.storage.database_url = pg.url.clone();
    Some(start(config, data_dir, Some(pg)).await)
}

pub fn test_config(data_dir: &Path) -> Config {
    let mut config = Config::for_data_dir(data_dir);
    config.listen = "127.0.0.1:0".parse().expect("address");
    config.node_name = "sms-test".into();
    config.static_dir = data_dir.join("dist");
    config
}

pub async fn start(config: Config, data_dir: TempDir, pg: Option<PgTestDb>) -> TestApp {
    let (app, _login) = Application::build(config.clone(), Some(ADMIN_PASSWORD.into()))
        .await
        .expect("the application builds");
    let addr = app.local_addr().expect("bound address");
    let state = app.state().clone();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        app.run_until(async {
            let _ = rx.await;
        })
        .await
        .expect("server runs");
    });
    TestApp {
        addr,
        client: new_client(),
        state,
        data_dir,
        config,
        shutdown: Some(tx),
        server: Some(server),
        _pg: pg,
    }
}

pub fn new_client() -> Client {
    Client::builder()
        .cookie_store(true)
        .build()
        .expect("http client")
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
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

    /// Stops the server and starts a new one on the same data dir and database.
    pub async fn restart(mut self) -> TestApp {
        self.stop().await;
        let mut config = self.config.clone();
        config.listen = "127.0.0.1:0".parse().expect("address");
        let data_dir = std::mem::replace(&mut self.data_dir, tempfile::tempdir().expect("temp"));
        let pg = self._pg.take();
        let mut next = start(config, data_dir, pg).await;
        next.client = self.client.clone();
        next
    }

    pub async fn health(&self) -> Response {
        self.client
            .get(self.url("/api/v1/health"))
            .send()
            .await
            .expect("request")
    }

    pub async fn login_with(&self, client: &Client, username: &str, password: &str) -> Response {
        client
            .post(self.url("/api/v1/session"))
            .header("X-SMS-Client", "api/test")
            .json(&json!({ "username": username, "password": password }))
            .send()
            .await
            .expect("request")
    }

    pub async fn login(&self, username: &str, password: &str) -> Response {
        self.login_with(&self.client, username, password).await
    }

    pub async fn login_admin(&self) {
        let response = self.login("admin", ADMIN_PASSWORD).await;
        assert_eq!(response.status(), 200, "admin login");
    }

    /// Creates the operator and logs the test client in as that operator.
    pub async fn login_operator(&self) {
        self.add_user(OPERATOR, Role::Operator, OPERATOR_PASSWORD)
            .await;
        let response = self.login(OPERATOR, OPERATOR_PASSWORD).await;
        assert_eq!(response.status(), 200, "operator login");
    }

    pub async fn add_user(&self, name: &str, role: Role, password: &str) {
        self.state
            .auth
            .add_user(name, role, password, "test", None)
            .await
            .expect("user added");
    }

    pub async fn logout(&self) -> Response {
        self.client
            .delete(self.url("/api/v1/session"))
            .header("X-SMS-Client", "api/test")
            .send()
            .await
            .expect("request")
    }

    pub async fn session(&self) -> Response {
        self.client
            .get(self.url("/api/v1/session"))
            .send()
            .await
            .expect("request")
    }

    pub async fn server_info(&self) -> Response {
        self.client
            .get(self.url("/api/v1/server"))
            .send()
            .await
            .expect("request")
    }

    pub async fn audit(&self, query: &str) -> Response {
        self.client
            .get(self.url(&format!("/api/v1/audit{query}")))
            .send()
            .await
            .expect("request")
    }

    pub async fn settings(&self) -> Response {
        self.client
            .get(self.url("/api/v1/settings"))
            .send()
            .await
            .expect("request")
    }

    pub async fn set_notifications(&self, enabled: bool) -> Response {
        self.client
            .put(self.url("/api/v1/settings/notifications"))
            .header("X-SMS-Client", "api/test")
            .json(&json!({ "enabled": enabled }))
            .send()
            .await
            .expect("request")
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Asserts the error shape and code, and returns the message.
pub async fn assert_error(response: Response, status: u16, code: &str) -> String {
    assert_eq!(response.status(), status, "status of {}", response.url());
    let body: Value = response.json().await.expect("JSON error body");
    assert_eq!(body["error"]["code"], code, "error code in {body}");
    let message = body["error"]["message"]
        .as_str()
        .expect("message")
        .to_owned();
    assert!(!message.is_empty(), "empty message in {body}");
    message
}

/// A fresh PostgreSQL database for one test, dropped afterwards.
pub struct PgTestDb {
    pub url: String,
    admin_url: String,
    name: String,
}

static PG_COUNTER: AtomicU32 = AtomicU32::new(0);

impl PgTestDb {
    /// Creates the database; `None` (with a loud message) when `SMS_TEST_POSTGRES_URL` is unset,
    /// except under `CI=true`, where that is a failure.
    pub async fn create() -> Option<PgTestDb> {
        let Ok(admin_url) = std::env::var("SMS_TEST_POSTGRES_URL") else {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!(
                    "CI=true but SMS_TEST_POSTGRES_URL is not set: the PostgreSQL tests must run in CI"
                );
            }
            eprintln!(
                "\n!!! SKIPPED: SMS_TEST_POSTGRES_URL is not set, so this PostgreSQL test did not run.\n\
                 !!! Set it, e.g. SMS_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres\n"
            );
            return None;
        };
        let name = format!(
            "sms_test_{}_{}_{}",
            std::process::id(),
            chrono::Utc::now().timestamp_micros(),
            PG_COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let admin = Database::connect(admin_url.as_str())
            .await
            .expect("connect to SMS_TEST_POSTGRES_URL");
        admin
            .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
            .await
            .expect("create test database");
        admin.close().await.expect("close");
        let url = database_url(&admin_url, &name);
        Some(PgTestDb {
            url,
            admin_url,
            name,
        })
    }

    pub fn storage(&self, data_dir: &Path) -> StorageConfig {
        StorageConfig {
            data_dir: data_dir.to_owned(),
            database_url: self.url.clone(),
        }
    }
}

impl Drop for PgTestDb {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        // Drop runs inside the test's runtime: use a thread with a runtime of its own.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let admin = Database::connect(admin_url.as_str()).await?;
                admin
                    .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                    .await?;
                admin.close().await
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("warning: could not drop the test database {}", self.name);
        }
    }
}

/// `admin_url` with its database name replaced by `name`.
fn database_url(admin_url: &str, name: &str) -> String {
    let (base, query) = match admin_url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (admin_url, None),
    };
    let authority_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let prefix = match base[authority_end..].find('/') {
        Some(slash) => &base[..authority_end + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{prefix}/{name}?{query}"),
        None => format!("{prefix}/{name}"),
    }
}
