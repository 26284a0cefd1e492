//! `[http]` and `[tls]`: how the server serves (plain HTTP or HTTPS, and with which
//! certificate), who is trusted to say where a request comes from, and what one request may
//! cost.

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::Deserialize;

use super::{SHORT, duration};

/// `[tls]`: the certificate the server serves HTTPS with.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsFileConfig {
    /// PEM certificate chain, leaf first.
    pub cert: Option<PathBuf>,
    /// PEM private key of the certificate.
    pub key: Option<PathBuf>,
    /// Plain HTTP on a non-loopback address, on purpose.
    pub insecure_http: Option<bool>,
}

/// How the server serves, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transport {
    /// Plain HTTP: a loopback address, or `--insecure-http`.
    Http,
    /// HTTPS with the certificate and key in these files.
    Https { cert: PathBuf, key: PathBuf },
    /// HTTPS with the self-signed certificate kept in the data dir (made on the first start).
    HttpsSelfSigned,
}

impl Transport {
    pub(super) fn resolve(
        file: &TlsFileConfig,
        listen: SocketAddr,
    ) -> anyhow::Result<(Self, bool)> {
        let cert = file.cert.clone();
        let key = file.key.clone();
        let insecure = file.insecure_http.unwrap_or(false);
        let transport = match (cert, key) {
            (Some(cert), Some(key)) => Transport::Https { cert, key },
            (Some(_), None) => {
                anyhow::bail!("--tls-cert needs --tls-key: the certificate's private key")
            }
            (None, Some(_)) => anyhow::bail!("--tls-key needs --tls-cert: the certificate chain"),
            (None, None) if listen.ip().is_loopback() || insecure => Transport::Http,
            (None, None) => Transport::HttpsSelfSigned,
        };
        Ok((transport, insecure))
    }

    /// Whether the server itself speaks TLS.
    pub fn is_tls(&self) -> bool {
        !matches!(self, Transport::Http)
    }

    /// `https` or `http`.
    pub fn scheme(&self) -> &'static str {
        if self.is_tls() { "https" } else { "http" }
    }
}

/// `[http]`: who is trusted to say where a request comes from, and what one request may cost.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpFileConfig {
    /// Reverse proxies (addresses or networks, `10.0.0.1`, `10.0.0.0/8`) whose
    /// `X-Forwarded-For` / `X-Forwarded-Proto` are believed; from anyone else they are ignored.
    #[serde(default, deserialize_with = "proxies")]
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// The largest JSON request body, in bytes.
    pub max_body_bytes: Option<usize>,
    /// How long a client has to send a request's headers, e.g. `10s`.
    pub header_read_timeout: Option<String>,
    /// How long a request (not an event stream or an upload) may take, e.g. `30s`.
    pub request_timeout: Option<String>,
    /// Connections served at once; further ones wait in the listen queue.
    pub max_connections: Option<usize>,
}

/// `[http]`, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpConfig {
    pub trusted_proxies: Vec<ipnet::IpNet>,
    pub max_body_bytes: usize,
    pub header_read_timeout: std::time::Duration,
    pub request_timeout: std::time::Duration,
    pub max_connections: usize,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            trusted_proxies: Vec::new(),
            max_body_bytes: 64 * 1024,
            header_read_timeout: std::time::Duration::from_secs(10),
            request_timeout: std::time::Duration::from_secs(30),
            max_connections: 1024,
        }
    }
}

impl HttpConfig {
    pub(super) fn resolve(file: &HttpFileConfig) -> anyhow::Result<Self> {
        let defaults = Self::default();
        let header_read_timeout = match &file.header_read_timeout {
            Some(text) => duration("`http.header_read_timeout`", text, SHORT)?,
            None => defaults.header_read_timeout,
        };
        let request_timeout = match &file.request_timeout {
            Some(text) => duration("`http.request_timeout`", text, SHORT)?,
            None => defaults.request_timeout,
        };
        anyhow::ensure!(
            !header_read_timeout.is_zero() && !request_timeout.is_zero(),
            "`http.header_read_timeout` and `http.request_timeout` must be longer than 0s"
        );
        let max_body_bytes = file.max_body_bytes.unwrap_or(defaults.max_body_bytes);
        anyhow::ensure!(
            max_body_bytes >= 1024,
            "`http.max_body_bytes` must be at least 1024"
        );
        let max_connections = file.max_connections.unwrap_or(defaults.max_connections);
        anyhow::ensure!(
            max_connections >= 16,
            "`http.max_connections` must be at least 16 (a web client holds a few at once)"
        );
        Ok(Self {
            trusted_proxies: file.trusted_proxies.clone(),
            max_body_bytes,
            header_read_timeout,
            request_timeout,
            max_connections,
        })
    }
}

/// Proxies as the configuration writes them: a network (`10.0.0.0/8`) or one address
/// (`10.0.0.5`, the network of that address alone).
fn proxies<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<ipnet::IpNet>, D::Error> {
    Vec::<String>::deserialize(deserializer)?
        .iter()
        .map(|text| {
            let text = text.trim();
            text.parse::<ipnet::IpNet>()
                .or_else(|_| text.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| {
                    serde::de::Error::custom(format!(
                        "`{text}` is neither an address nor a network like 10.0.0.0/8"
                    ))
                })
        })
        .collect()
}
