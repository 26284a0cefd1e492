//! `[cluster]`: the HA cluster this node belongs to, resolved from the flags and the file.

use std::path::PathBuf;

use anyhow::Context;
use serde::Deserialize;

use super::{SHORT, StorageConfig, duration};
use crate::net;

/// `[cluster]`: the HA cluster this node belongs to.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterFileConfig {
    pub peer: Option<String>,
    pub secret_file: Option<PathBuf>,
    /// How long the leadership lease lasts without renewal, e.g. `3s`.
    pub lease_ttl: Option<String>,
    /// How often the lease is renewed (and a passive node tries to take it), e.g. `1s`.
    pub lease_renew: Option<String>,
    /// An `https://` peer: PEM file of the CA that signs its certificate.
    pub ca_file: Option<PathBuf>,
    /// An `https://` peer: the SHA-256 fingerprint of its certificate, the only one accepted.
    pub peer_fingerprint: Option<String>,
}

/// The default lifetime of the leadership lease.
pub const LEASE_TTL: std::time::Duration = std::time::Duration::from_secs(3);
/// The default time between two lease renewals.
pub const LEASE_RENEW: std::time::Duration = std::time::Duration::from_secs(1);
/// The shortest cluster secret accepted.
pub const MIN_SECRET_LEN: usize = 16;

/// The HA cluster, resolved.
#[derive(Clone)]
pub struct ClusterConfig {
    /// The peer node's base URL (ends with `/`).
    pub peer: reqwest::Url,
    /// The shared secret for node-to-node calls.
    pub secret: String,
    pub lease_ttl: std::time::Duration,
    pub lease_renew: std::time::Duration,
    /// How the peer's certificate is checked when its URL is `https://`.
    pub peer_trust: net::Trust,
}

impl std::fmt::Debug for ClusterConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterConfig")
            .field("peer", &self.peer.as_str())
            .field("secret", &"<hidden>")
            .field("lease_ttl", &self.lease_ttl)
            .field("lease_renew", &self.lease_renew)
            .field("peer_trust", &self.peer_trust)
            .finish()
    }
}

impl ClusterConfig {
    pub(super) fn resolve(
        file: &ClusterFileConfig,
        storage: &StorageConfig,
    ) -> anyhow::Result<Option<Self>> {
        let peer = file.peer.clone();
        let secret_file = file.secret_file.clone();
        let (peer, secret_file) = match (peer, secret_file) {
            (None, None) => return Ok(None),
            (Some(peer), Some(file)) => (peer, file),
            (Some(_), None) => anyhow::bail!(
                "--cluster-peer needs --cluster-secret-file: the nodes of a cluster authenticate \
                 their calls to each other with a shared secret"
            ),
            (None, Some(_)) => anyhow::bail!(
                "--cluster-secret-file needs --cluster-peer: the address of the other node"
            ),
        };
        anyhow::ensure!(
            storage.database_url.starts_with("postgres://")
                || storage.database_url.starts_with("postgresql://"),
            "an HA cluster needs PostgreSQL: both nodes share one database, so give \
             --database-url postgres://USER@HOST/DB (SQLite is for a single server)"
        );
        let mut peer = reqwest::Url::parse(&peer)
            .with_context(|| format!("`{peer}` is not a valid cluster peer URL"))?;
        anyhow::ensure!(
            matches!(peer.scheme(), "http" | "https"),
            "the cluster peer URL must start with http:// or https://"
        );
        if !peer.path().ends_with('/') {
            let path = format!("{}/", peer.path());
            peer.set_path(&path);
        }
        let secret = std::fs::read_to_string(&secret_file)
            .with_context(|| {
                format!(
                    "cannot read the cluster secret file {}",
                    secret_file.display()
                )
            })?
            .trim()
            .to_owned();
        anyhow::ensure!(
            secret.len() >= MIN_SECRET_LEN,
            "the cluster secret in {} is too short: use at least {MIN_SECRET_LEN} characters \
             (e.g. `openssl rand -hex 32`), the same on both nodes",
            secret_file.display()
        );
        let lease_ttl = match &file.lease_ttl {
            Some(text) => duration("`cluster.lease_ttl`", text, SHORT)?,
            None => LEASE_TTL,
        };
        let lease_renew = match &file.lease_renew {
            Some(text) => duration("`cluster.lease_renew`", text, SHORT)?,
            None => LEASE_RENEW,
        };
        anyhow::ensure!(
            lease_renew >= std::time::Duration::from_millis(50) && lease_renew * 2 <= lease_ttl,
            "`cluster.lease_renew` must be at least 50ms and at most half of `cluster.lease_ttl`"
        );
        let peer_fingerprint = match &file.peer_fingerprint {
            Some(text) => {
                Some(net::parse_fingerprint(text).context("invalid `cluster.peer_fingerprint`")?)
            }
            None => None,
        };
        anyhow::ensure!(
            peer.scheme() == "https" || (peer_fingerprint.is_none() && file.ca_file.is_none()),
            "`cluster.ca_file` and `cluster.peer_fingerprint` check an https:// peer: give the \
             peer URL as https://"
        );
        Ok(Some(Self {
            peer,
            secret,
            lease_ttl,
            lease_renew,
            peer_trust: net::Trust {
                ca_file: file.ca_file.clone(),
                fingerprint: peer_fingerprint,
            },
        }))
    }
}
