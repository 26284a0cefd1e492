//! The sections no service owns, read by the server itself: `[system]`, `[install]`,
//! `[devices]`, `[http]`, `[tls]`, `[metrics]`; and `check`, which refuses what one value alone
//! cannot say.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use serde::Deserialize;

use super::Config;
use crate::values;

/// `[system]`: how the server reboots when a patch needs it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SystemConfig {
    /// Run this (program and arguments) to reboot; none: simulate a reboot in the process.
    pub reboot_command: Option<Vec<String>>,
    /// A simulated reboot's unreachable window.
    #[serde(deserialize_with = "values::short")]
    pub reboot_window: Duration,
}

/// `[install]`: how a new level is started.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstallConfig {
    /// How long a new level's server has to come up (healthy at its level) before the
    /// supervisor starts the previous level's server again.
    #[serde(deserialize_with = "values::short")]
    pub start_timeout: Duration,
}

/// `[devices]`: the managed devices.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DevicesConfig {
    /// How often the devices' status is polled.
    #[serde(deserialize_with = "values::short")]
    pub poll_interval: Duration,
    /// The most devices the server manages; adding one more is refused.
    pub max_devices: usize,
}

/// `[http]`: who is trusted to say where a request comes from, and what one request may cost.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    /// Reverse proxies (addresses or networks, `10.0.0.1`, `10.0.0.0/8`) whose
    /// `X-Forwarded-For` / `X-Forwarded-Proto` are believed; from anyone else they are ignored.
    #[serde(deserialize_with = "values::proxies")]
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// The largest JSON request body, in bytes.
    pub max_body_bytes: usize,
    /// How long a client has to send a request's headers.
    #[serde(deserialize_with = "values::short")]
    pub header_read_timeout: Duration,
    /// How long a request (not an event stream or an upload) may take.
    #[serde(deserialize_with = "values::short")]
    pub request_timeout: Duration,
    /// Connections served at once; further ones wait in the listen queue.
    pub max_connections: usize,
}

/// `[tls]`: the certificate the server serves HTTPS with.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TlsSettings {
    /// PEM certificate chain, leaf first.
    pub cert: Option<PathBuf>,
    /// PEM private key of the certificate.
    pub key: Option<PathBuf>,
    /// Plain HTTP on a non-loopback address, on purpose.
    pub insecure_http: bool,
}

/// How the server serves, resolved from `[tls]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Transport {
    /// Plain HTTP: a loopback address, or `--insecure-http`.
    #[default]
    Http,
    /// HTTPS with the certificate and key in these files.
    Https { cert: PathBuf, key: PathBuf },
    /// HTTPS with the self-signed certificate kept in the data dir (made on the first start).
    HttpsSelfSigned,
}

impl TlsSettings {
    /// How the server serves on `listen`; an error names the setting and, through `from`,
    /// where its value came from.
    pub(super) fn transport(
        &self,
        listen: SocketAddr,
        from: &dyn Fn(&str) -> String,
    ) -> anyhow::Result<Transport> {
        Ok(match (self.cert.clone(), self.key.clone()) {
            (Some(cert), Some(key)) => Transport::Https { cert, key },
            (Some(_), None) => anyhow::bail!(
                "`tls.cert`{} needs `tls.key` (--tls-key): the certificate's private key",
                from("tls.cert")
            ),
            (None, Some(_)) => anyhow::bail!(
                "`tls.key`{} needs `tls.cert` (--tls-cert): the certificate chain",
                from("tls.key")
            ),
            (None, None) if listen.ip().is_loopback() || self.insecure_http => Transport::Http,
            (None, None) => Transport::HttpsSelfSigned,
        })
    }
}

impl Transport {
    /// Whether the server itself speaks TLS.
    pub fn is_tls(&self) -> bool {
        !matches!(self, Transport::Http)
    }

    /// `https` or `http`.
    pub fn scheme(&self) -> &'static str {
        if self.is_tls() { "https" } else { "http" }
    }
}

/// `[metrics]`: who may read `GET /metrics`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsSettings {
    /// A bearer token; without one only loopback clients may read the metrics.
    pub token_file: Option<PathBuf>,
    /// The token itself (prefer `token_file`).
    pub token: Option<String>,
}

/// `[metrics]`, resolved: `None` means loopback clients only.
#[derive(Debug, Clone, Default)]
pub struct MetricsConfig {
    pub token: Option<String>,
}

impl MetricsSettings {
    pub(super) fn resolve(&self) -> anyhow::Result<MetricsConfig> {
        let token = match (self.token.clone(), &self.token_file) {
            (Some(token), None) => Some(token),
            (None, Some(path)) => Some(
                std::fs::read_to_string(path)
                    .with_context(|| {
                        format!("cannot read `metrics.token_file` {}", path.display())
                    })?
                    .trim()
                    .to_owned(),
            ),
            (None, None) => None,
            (Some(_), Some(_)) => {
                anyhow::bail!("give `metrics.token` or `metrics.token_file`, not both")
            }
        };
        anyhow::ensure!(
            token.as_ref().is_none_or(|token| token.len() >= 16),
            "the metrics token is shorter than 16 characters: make a longer one"
        );
        Ok(MetricsConfig { token })
    }
}

/// What one value alone cannot say; an error names the setting and, through `from`, where its
/// value came from.
pub(super) fn check(s: &Config, from: &dyn Fn(&str) -> String) -> anyhow::Result<()> {
    let refuse = |key: &str, what: &str| anyhow::anyhow!("`{key}`{}: {what}", from(key));
    if s.system
        .reboot_command
        .as_ref()
        .is_some_and(|c| c.first().is_none_or(|p| p.trim().is_empty()))
    {
        return Err(refuse(
            "system.reboot_command",
            "it is empty: give the program and its arguments, e.g. [\"systemctl\", \"reboot\"], \
             or leave it out to simulate reboots",
        ));
    }
    if s.devices.poll_interval < Duration::from_millis(200) {
        return Err(refuse("devices.poll_interval", "must be at least 200ms"));
    }
    for (key, timeout) in [
        ("http.header_read_timeout", s.http.header_read_timeout),
        ("http.request_timeout", s.http.request_timeout),
    ] {
        if timeout.is_zero() {
            return Err(refuse(key, "must be longer than 0s"));
        }
    }
    if s.http.max_body_bytes < 1024 {
        return Err(refuse("http.max_body_bytes", "must be at least 1024"));
    }
    if s.http.max_connections < 16 {
        return Err(refuse(
            "http.max_connections",
            "must be at least 16 (a web client holds a few at once)",
        ));
    }
    Ok(())
}
