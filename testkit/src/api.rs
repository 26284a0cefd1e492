//! [`Api`]: a cookie-keeping HTTP client of one SMS server with a method per endpoint, for a
//! server in this process ([`crate::TestApp`] derefs to one) or an `sms serve` child process.
//!
//! Endpoint methods send one request and return the answer as it came, for the test to assert
//! on; they panic only when no answer came at all. The few step methods (`login_admin`,
//! `import_file`, `follow_job`, ...) assert what they need and say so.

use std::path::Path;
use std::time::Duration;

use reqwest::{Client, Method, RequestBuilder, Response};
use serde_json::{Value, json};

use crate::wait::eventually;

/// The password of the user `admin` every test server starts with.
pub const ADMIN_PASSWORD: &str = "first-admin-password";

/// The `X-SMS-Client` the tests send on state changes: a script, not a web client.
pub const CLIENT: &str = "api/test";

/// How long [`Api::wait_for_job`] waits for a job to end (restarts and reboots included).
pub const JOB_TIMEOUT: Duration = Duration::from_secs(60);

/// A new client that keeps cookies (so a login sticks).
pub fn new_client() -> Client {
    backend::net::install_tls_provider();
    Client::builder()
        .cookie_store(true)
        .build()
        .expect("http client")
}

/// A cookie-keeping client whose connections come from the loopback address `from` (e.g.
/// `[127, 0, 0, 2]`): another source address for a server that listens on 127.0.0.1.
pub fn client_from(from: [u8; 4]) -> Client {
    backend::net::install_tls_provider();
    Client::builder()
        .cookie_store(true)
        .local_address(std::net::IpAddr::from(from))
        .build()
        .expect("http client")
}

/// Asserts the error shape and code of `response`, and returns its message.
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

/// The job `response` (the 202 answer of an install, rollback or download) started, asserting
/// it did start.
pub async fn started_job(response: Response) -> Value {
    let status = response.status();
    let body = response.text().await.expect("a body");
    assert_eq!(status, 202, "the job did not start: {body}");
    serde_json::from_str(&body).expect("a JSON job")
}

/// A client of the server at `base_url`.
#[derive(Clone)]
pub struct Api {
    /// `http://host:port`, without a trailing slash.
    pub base_url: String,
    /// The cookie-keeping client every method uses (for requests no method covers).
    pub client: Client,
    client_name: &'static str,
}

impl Api {
    /// A new client (no session yet) of the server at `base_url`.
    pub fn new(base_url: &str) -> Self {
        Self::with_client_name(base_url, CLIENT)
    }

    /// A new client of the HTTPS server at `base_url` that trusts only the certificate(s) in
    /// `cert_pem`.
    pub fn trusting(base_url: &str, cert_pem: &[u8]) -> Self {
        backend::net::install_tls_provider();
        let certs = reqwest::Certificate::from_pem_bundle(cert_pem).expect("a PEM certificate");
        Self {
            client: Client::builder()
                .cookie_store(true)
                .tls_certs_only(certs)
                .build()
                .expect("http client"),
            ..Self::new(base_url)
        }
    }

    /// Like [`Api::new`], sending `client_name` as `X-SMS-Client` (e.g. `api/bench`).
    pub fn with_client_name(base_url: &str, client_name: &'static str) -> Self {
        Self {
            base_url: base_url.trim_end_matches('/').to_owned(),
            client: new_client(),
            client_name,
        }
    }

    /// The absolute URL of `path` (which starts with `/`) on this server.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    /// A request to `path` carrying the client header, for requests no method covers.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client
            .request(method, self.url(path))
            .header("X-SMS-Client", self.client_name)
    }

    async fn send(request: RequestBuilder) -> Response {
        request
            .send()
            .await
            .unwrap_or_else(|err| panic!("no answer: {err}"))
    }

    /// `GET path`, without the client header (reads do not need it).
    pub async fn get(&self, path: &str) -> Response {
        Self::send(self.client.get(self.url(path))).await
    }

    /// `GET path`, asserting 200, as JSON.
    pub async fn get_json(&self, path: &str) -> Value {
        let response = self.get(path).await;
        assert_eq!(response.status(), 200, "GET {path}");
        response.json().await.expect("a JSON body")
    }

    /// `POST path` with the client header and no body.
    pub async fn post(&self, path: &str) -> Response {
        Self::send(self.request(Method::POST, path)).await
    }

    /// `GET /api/v1/health`.
    pub async fn health(&self) -> Response {
        self.get("/api/v1/health").await
    }

    /// `GET /api/v1/openapi.json`.
    pub async fn openapi(&self) -> Response {
        self.get("/api/v1/openapi.json").await
    }

    /// `POST /api/v1/session` with `client` (another client than this one's, e.g. a second
    /// browser).
    pub async fn login_with(&self, client: &Client, username: &str, password: &str) -> Response {
        let request = client
            .post(self.url("/api/v1/session"))
            .header("X-SMS-Client", self.client_name)
            .json(&json!({ "username": username, "password": password }));
        Self::send(request).await
    }

    /// `POST /api/v1/session`: logs this client in.
    pub async fn login(&self, username: &str, password: &str) -> Response {
        self.login_with(&self.client, username, password).await
    }

    /// Logs this client in as `admin` with [`ADMIN_PASSWORD`], asserting it worked.
    pub async fn login_admin(&self) {
        let response = self.login("admin", ADMIN_PASSWORD).await;
        assert_eq!(response.status(), 200, "admin login");
    }

    /// `DELETE /api/v1/session`.
    pub async fn logout(&self) -> Response {
        Self::send(self.request(Method::DELETE, "/api/v1/session")).await
    }

    /// `GET /api/v1/session`.
    pub async fn session(&self) -> Response {
        self.get("/api/v1/session").await
    }

    /// `GET /api/v1/server`.
    pub async fn server_info(&self) -> Response {
        self.get("/api/v1/server").await
    }

    /// The patch level `GET /api/v1/server` reports, asserting 200.
    pub async fn level(&self) -> u64 {
        let info = self.get_json("/api/v1/server").await;
        info["patch_level"].as_u64().expect("a patch level")
    }

    /// `GET /api/v1/settings`.
    pub async fn settings(&self) -> Response {
        self.get("/api/v1/settings").await
    }

    /// `PUT /api/v1/settings/notifications`.
    pub async fn set_notifications(&self, enabled: bool) -> Response {
        let request = self
            .request(Method::PUT, "/api/v1/settings/notifications")
            .json(&json!({ "enabled": enabled }));
        Self::send(request).await
    }

    /// `GET /api/v1/audit{query}` (`query` is empty or starts with `?`).
    pub async fn audit(&self, query: &str) -> Response {
        self.get(&format!("/api/v1/audit{query}")).await
    }

    /// `GET /api/v1/patches`: the patches panel.
    pub async fn patches(&self) -> Response {
        self.get("/api/v1/patches").await
    }

    /// `GET /api/v1/patches/{id}`: one patch's details.
    pub async fn patch(&self, id: &str) -> Response {
        self.get(&format!("/api/v1/patches/{id}")).await
    }

    /// `POST /api/v1/patches/import` with `body` as the package.
    pub async fn import(&self, body: impl Into<reqwest::Body>) -> Response {
        let request = self
            .request(Method::POST, "/api/v1/patches/import")
            .header("Content-Type", "application/octet-stream")
            .body(body);
        Self::send(request).await
    }

    /// Like [`Api::import`], naming the uploaded file `file_name` (as the web client does).
    pub async fn import_as(&self, file_name: &str, body: impl Into<reqwest::Body>) -> Response {
        let request = self
            .request(Method::POST, "/api/v1/patches/import")
            .header("Content-Type", "application/octet-stream")
            .header("X-SMS-File-Name", file_name)
            .body(body);
        Self::send(request).await
    }

    /// Imports the package `file`, asserting it was accepted; returns the patch's facts.
    pub async fn import_file(&self, file: &Path) -> Value {
        let bytes = std::fs::read(file)
            .unwrap_or_else(|err| panic!("cannot read {}: {err}", file.display()));
        let response = self.import(bytes).await;
        let status = response.status();
        let body = response.text().await.expect("a body");
        assert_eq!(status, 200, "import of {}: {body}", file.display());
        serde_json::from_str(&body).expect("JSON patch facts")
    }

    /// `POST /api/v1/patches/{id}/download`.
    pub async fn download(&self, id: &str) -> Response {
        self.post(&format!("/api/v1/patches/{id}/download")).await
    }

    /// `POST /api/v1/patches/{id}/install`.
    pub async fn install(&self, id: &str) -> Response {
        self.post(&format!("/api/v1/patches/{id}/install")).await
    }

    /// `POST /api/v1/rollback`.
    pub async fn rollback(&self) -> Response {
        self.post("/api/v1/rollback").await
    }

    /// `GET /api/v1/jobs/{id}`.
    pub async fn job(&self, id: i64) -> Response {
        self.get(&format!("/api/v1/jobs/{id}")).await
    }

    /// `POST /api/v1/jobs/{id}/cancel`.
    pub async fn cancel_job(&self, id: i64) -> Response {
        self.post(&format!("/api/v1/jobs/{id}/cancel")).await
    }

    /// Waits until job `id` has ended and returns it, riding out the server's restart (503)
    /// and reboot (no answer).
    ///
    /// # Panics
    ///
    /// When the job still runs after [`JOB_TIMEOUT`].
    pub async fn wait_for_job(&self, id: i64) -> Value {
        let url = self.url(&format!("/api/v1/jobs/{id}"));
        eventually(&format!("job {id} to end"), JOB_TIMEOUT, || async {
            let response = self
                .client
                .get(&url)
                .send()
                .await
                .map_err(|err| format!("no answer: {err}"))?;
            if response.status() != 200 {
                return Err(format!("status {}", response.status()));
            }
            let job: Value = response.json().await.map_err(|err| err.to_string())?;
            if job["state"] == "running" {
                return Err(format!("still running: {job}"));
            }
            Ok(job)
        })
        .await
        .unwrap_or_else(|err| panic!("{err:#}"))
    }

    /// Follows the job `started` (the 202 answer that started it) until it ends; returns it.
    pub async fn follow_job(&self, started: Response) -> Value {
        let job = started_job(started).await;
        self.wait_for_job(job["id"].as_i64().expect("a job id"))
            .await
    }

    /// `GET /api/v1/events`: the event stream (the answer's body streams on).
    pub async fn events(&self) -> Response {
        self.get("/api/v1/events").await
    }

    /// `GET /api/v1/tmc`: the TMC link's status.
    pub async fn tmc(&self) -> Response {
        self.get("/api/v1/tmc").await
    }

    /// `POST /api/v1/tmc/check`: check the TMC now.
    pub async fn tmc_check(&self) -> Response {
        self.post("/api/v1/tmc/check").await
    }

    /// `GET /api/v1/devices`.
    pub async fn devices(&self) -> Response {
        self.get("/api/v1/devices").await
    }

    /// `POST /api/v1/devices`: manage the device whose status endpoint is `url`.
    pub async fn add_device(&self, url: &str) -> Response {
        let request = self
            .request(Method::POST, "/api/v1/devices")
            .json(&json!({ "url": url }));
        Self::send(request).await
    }

    /// `DELETE /api/v1/devices/{id}`.
    pub async fn remove_device(&self, id: i64) -> Response {
        Self::send(self.request(Method::DELETE, &format!("/api/v1/devices/{id}"))).await
    }

    /// `GET /api/v1/cluster`.
    pub async fn cluster(&self) -> Response {
        self.get("/api/v1/cluster").await
    }

    /// `POST /api/v1/cluster/{action}` (`swap`, `disable`, `establish`).
    pub async fn cluster_action(&self, action: &str) -> Response {
        self.post(&format!("/api/v1/cluster/{action}")).await
    }
}
