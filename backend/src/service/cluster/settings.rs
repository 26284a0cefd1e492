//! `[cluster]`: the HA cluster this node belongs to, as the configuration writes it and
//! resolved (the secret read, the peer's certificate check settled).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use serde::Deserialize;

use crate::net;
use crate::storage::db::StorageConfig;
use crate::values;

/// The shortest cluster secret accepted.
pub const MIN_SECRET_LEN: usize = 16;

/// `[cluster]` as the file writes it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterSettings {
    #[serde(default, deserialize_with = "values::base_url")]
    pub peer: Option<reqwest::Url>,
    pub secret_file: Option<PathBuf>,
    /// How long the leadership lease lasts without renewal.
    #[serde(deserialize_with = "values::short")]
    pub lease_ttl: Duration,
    /// How often the lease is renewed (and a passive node tries to take it).
    #[serde(deserialize_with = "values::short")]
    pub lease_renew: Duration,
    /// An `https://` peer: PEM file of the CA that signs its certificate.
    pub ca_file: Option<PathBuf>,
    /// An `https://` peer: the SHA-256 fingerprint of its certificate, the only one accepted.
    pub peer_fingerprint: Option<String>,
}

/// The HA cluster, resolved: the secret read, the peer's certificate check settled.
#[derive(Clone)]
pub struct ClusterConfig {
    /// The peer node's base URL (ends with `/`).
    pub peer: reqwest::Url,
    /// The shared secret for node-to-node calls.
    pub secret: String,
    pub lease_ttl: Duration,
    pub lease_renew: Duration,
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

impl ClusterSettings {
    /// The cluster, when `peer` and `secret_file` are given (both, or neither).
    pub fn resolve(
        &self,
        storage: &StorageConfig,
        from: &dyn Fn(&str) -> String,
    ) -> anyhow::Result<Option<ClusterConfig>> {
        let (peer, secret_file) = match (self.peer.clone(), self.secret_file.clone()) {
            (None, None) => return Ok(None),
            (Some(peer), Some(file)) => (peer, file),
            (Some(_), None) => anyhow::bail!(
                "`cluster.peer`{} needs `cluster.secret_file` (--cluster-secret-file): the nodes \
                 of a cluster authenticate their calls to each other with a shared secret",
                from("cluster.peer")
            ),
            (None, Some(_)) => anyhow::bail!(
                "`cluster.secret_file`{} needs `cluster.peer` (--cluster-peer): the address of \
                 the other node",
                from("cluster.secret_file")
            ),
        };
        anyhow::ensure!(
            storage.database_url.starts_with("postgres://")
                || storage.database_url.starts_with("postgresql://"),
            "an HA cluster needs PostgreSQL: both nodes share one database, so give \
             --database-url postgres://USER@HOST/DB (SQLite is for a single server)"
        );
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
        anyhow::ensure!(
            self.lease_renew >= Duration::from_millis(50) && self.lease_renew * 2 <= self.lease_ttl,
            "`cluster.lease_renew`{} must be at least 50ms and at most half of `cluster.lease_ttl`",
            from("cluster.lease_renew")
        );
        let fingerprint = match &self.peer_fingerprint {
            Some(text) => Some(net::parse_fingerprint(text).with_context(|| {
                format!(
                    "invalid `cluster.peer_fingerprint`{}",
                    from("cluster.peer_fingerprint")
                )
            })?),
            None => None,
        };
        anyhow::ensure!(
            peer.scheme() == "https" || (fingerprint.is_none() && self.ca_file.is_none()),
            "`cluster.ca_file` and `cluster.peer_fingerprint` check an https:// peer: give \
             `cluster.peer`{} as https://",
            from("cluster.peer")
        );
        Ok(Some(ClusterConfig {
            peer,
            secret,
            lease_ttl: self.lease_ttl,
            lease_renew: self.lease_renew,
            peer_trust: net::Trust {
                ca_file: self.ca_file.clone(),
                fingerprint,
            },
        }))
    }
}
