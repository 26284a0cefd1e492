//! Asking a server on this host whether it is healthy, and at which level: what the supervisor
//! waits for after starting a level, and what systemd is told (`app::systemd`).

use std::net::SocketAddr;
use std::time::Duration;

use shared::PatchLevel;
use shared::api::HealthResponse;

use crate::app::handoff::reachable;
use crate::service::error::causes;

/// Asks the server listening on `addr` for its health.
pub struct Probe {
    client: reqwest::Client,
    url: String,
}

impl Probe {
    /// A probe of the server on `addr` (HTTPS when `tls`), each question answered within
    /// `timeout`.
    pub fn new(addr: SocketAddr, tls: bool, timeout: Duration) -> Result<Self, String> {
        let scheme = if tls { "https" } else { "http" };
        let url = format!("{scheme}://{}/api/v1/health", reachable(addr));
        crate::net::install_tls_provider();
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .no_proxy()
            // Its own server on a loopback address, asked for its health only: the
            // certificate, made for the names browsers use, need not name 127.0.0.1.
            .tls_danger_accept_invalid_certs(tls)
            .build()
            .map_err(|err| format!("cannot ask its health: {err}"))?;
        Ok(Self { client, url })
    }

    /// The health endpoint asked.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The level the server runs, or why it did not say.
    pub async fn level(&self) -> Result<PatchLevel, String> {
        let response = self
            .client
            .get(&self.url)
            .send()
            .await
            .map_err(|err| format!("no answer: {}", causes(&err)))?;
        if !response.status().is_success() {
            return Err(format!("health answered {}", response.status()));
        }
        let health: HealthResponse = response
            .json()
            .await
            .map_err(|err| format!("health answered something else: {err}"))?;
        Ok(health.patch_level)
    }
}
