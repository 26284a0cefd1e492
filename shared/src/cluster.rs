//! HA clusters: two SMS nodes sharing one PostgreSQL database, one active, one passive.
//!
//! A leadership lease in the database decides which node is active. Clients use the active
//! node; the passive one says so and links to it. While clustering is enabled, a patch with
//! database changes is refused ([`HA_PROCEDURE`]); a patch without them is installed on both
//! nodes from the active one. A cluster is (re-)established only when both nodes run the same
//! version and patch level ([`mismatch`]).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

use crate::{Build, PatchLevel, ProductVersion};

/// The documented procedure for a patch with database changes on a cluster.
pub const HA_PROCEDURE: &str = "Disable clustering, install the patch on each node separately \
     (the active node first, then the other one), then re-establish the cluster.";

/// The HA rule: a patch with database changes cannot be installed while clustering is enabled
/// (the server refuses it with [`HA_PROCEDURE`]; the web client says so before Install).
pub fn ha_refuses(database_changes: bool, clustering_enabled: bool) -> bool {
    database_changes && clustering_enabled
}

/// What a node does in its cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ClusterRole {
    /// Holds the leadership lease: serves the clients, syncs the TMC, polls the devices.
    Active,
    /// Waits to take over; sends clients to the active node.
    Passive,
    /// Clustering is disabled: the node serves on its own (to be patched separately).
    Standalone,
}

impl ClusterRole {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Passive => "passive",
            Self::Standalone => "standalone",
        }
    }

    /// Whether the node serves clients in this role.
    pub fn serves(self) -> bool {
        self != Self::Passive
    }
}

impl std::fmt::Display for ClusterRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What one node says of itself (`GET /cluster/v1/node`, and in [`ClusterInfo`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct NodeInfo {
    pub name: String,
    pub role: ClusterRole,
    pub product_version: ProductVersion,
    pub build: Build,
    pub patch_level: PatchLevel,
    /// An install or rollback running on the node, if any (its job id).
    pub running_job: Option<i64>,
}

/// The peer node as this node sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PeerInfo {
    /// The peer's address (`--cluster-peer`).
    pub url: String,
    /// What the peer said; `None` when it did not answer.
    pub node: Option<NodeInfo>,
    /// Why the peer did not answer.
    pub error: Option<String>,
}

/// `GET /api/v1/cluster`: this node, its peer, and the cluster's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ClusterInfo {
    /// `false` on a single server (no `--cluster-peer`): the rest says nothing then.
    pub configured: bool,
    pub node: NodeInfo,
    pub peer: Option<PeerInfo>,
    /// Whether clustering is enabled (the lease decides the roles) or disabled (both nodes
    /// serve on their own).
    pub enabled: bool,
    /// Where clients should go: the active node's address, when it is the peer.
    pub active_url: Option<String>,
    /// What differs between the two nodes (version, patch level), when something does.
    pub mismatch: Option<String>,
    /// Who last enabled or disabled clustering, and when.
    pub changed_by: Option<String>,
    #[serde(default, deserialize_with = "crate::time::utc_opt")]
    pub changed_at: Option<DateTime<Utc>>,
}

/// A cluster action (`POST /api/v1/cluster/{disable|establish|swap}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ClusterAction {
    Disable,
    Establish,
    Swap,
}

impl ClusterAction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Disable => "disable",
            Self::Establish => "establish",
            Self::Swap => "swap",
        }
    }

    /// The audit log's action name.
    pub fn audit_action(self) -> &'static str {
        match self {
            Self::Disable => "cluster_disable",
            Self::Establish => "cluster_establish",
            Self::Swap => "cluster_swap",
        }
    }
}

/// `Patch 3`, or `level 0 (no patch)`.
/// What differs between two nodes, in words (`None` when they run the same version and patch
/// level): the rule for (re-)establishing a cluster.
pub fn mismatch(this: &NodeInfo, peer: &NodeInfo) -> Option<String> {
    if this.product_version != peer.product_version {
        return Some(format!(
            "The product versions differ: {} runs SMS {}, {} runs SMS {}.",
            this.name, this.product_version, peer.name, peer.product_version
        ));
    }
    if this.patch_level != peer.patch_level {
        return Some(format!(
            "The patch levels differ: {} runs {}, {} runs {}.",
            this.name,
            crate::version::level_in_words(this.patch_level),
            peer.name,
            crate::version::level_in_words(peer.patch_level)
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(name: &str, version: &str, level: u32) -> NodeInfo {
        let product_version: ProductVersion = version.parse().unwrap();
        NodeInfo {
            name: name.into(),
            role: ClusterRole::Active,
            product_version,
            build: Build {
                version: product_version,
                number: 9001,
            },
            patch_level: PatchLevel(level),
            running_job: None,
        }
    }

    #[test]
    fn only_a_database_patch_on_an_enabled_cluster_is_refused() {
        assert!(ha_refuses(true, true));
        assert!(!ha_refuses(true, false));
        assert!(!ha_refuses(false, true));
        assert!(!ha_refuses(false, false));
    }

    #[test]
    fn same_version_and_level_match() {
        assert_eq!(
            mismatch(&node("a", "6.4.0", 2), &node("b", "6.4.0", 2)),
            None
        );
    }

    #[test]
    fn a_different_level_is_named_with_both_levels() {
        let why = mismatch(&node("a", "6.4.0", 3), &node("b", "6.4.0", 0)).unwrap();
        assert!(why.contains("patch levels differ"), "{why}");
        assert!(why.contains("a runs Patch 3"), "{why}");
        assert!(why.contains("b runs level 0 (no patch)"), "{why}");
    }

    #[test]
    fn a_different_version_is_named_first() {
        let why = mismatch(&node("a", "6.4.0", 3), &node("b", "6.5.0", 1)).unwrap();
        assert!(why.contains("product versions differ"), "{why}");
        assert!(why.contains("SMS 6.5.0"), "{why}");
    }

    #[test]
    fn only_the_passive_role_does_not_serve() {
        assert!(ClusterRole::Active.serves());
        assert!(ClusterRole::Standalone.serves());
        assert!(!ClusterRole::Passive.serves());
        for role in [
            ClusterRole::Active,
            ClusterRole::Passive,
            ClusterRole::Standalone,
        ] {
            let json = serde_json::to_string(&role).unwrap();
            assert_eq!(json, format!("\"{}\"", role.as_str()));
        }
    }
}
