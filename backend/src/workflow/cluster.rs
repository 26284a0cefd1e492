//! The HA cluster's view and actions (`GET /api/v1/cluster`, disable, establish, swap): this
//! node and its peer, checked against the rule that a cluster is only (re-)established when
//! both run the same version and patch level, and audited.

use shared::cluster::{ClusterAction, ClusterInfo, ClusterRole, NodeInfo, mismatch};

use crate::service::cluster::Cluster;
use crate::service::events::Events;
use crate::service::jobs::Jobs;
use crate::service::{Audit, AuditEvent, Installed, ServiceError};

/// Why a cluster action was refused.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// Not possible in the cluster's present state (not configured, already so, a job runs,
    /// not the active node): the code says which.
    #[error("{message}")]
    Refused { code: &'static str, message: String },
    /// The nodes run different versions or patch levels.
    #[error("{0}")]
    Mismatch(String),
    /// The peer did not answer.
    #[error("{0}")]
    PeerUnreachable(String),
    #[error(transparent)]
    Service(#[from] ServiceError),
}

fn refused(code: &'static str, message: &str) -> ClusterError {
    ClusterError::Refused {
        code,
        message: message.to_owned(),
    }
}

/// What the cluster's view and actions use.
#[derive(Clone)]
pub struct ClusterActions {
    pub cluster: Cluster,
    pub installed: Installed,
    pub jobs: Jobs,
    pub audit: Audit,
    pub events: Events,
    pub node_name: String,
}

impl ClusterActions {
    /// What this node says of itself.
    pub async fn node_info(&self) -> Result<NodeInfo, ServiceError> {
        let installed = self.installed.get().await?;
        let running_job = self
            .jobs
            .running()
            .await
            .into_iter()
            .find(|job| job.kind.is_patch_job())
            .map(|job| job.id);
        Ok(NodeInfo {
            name: self.node_name.clone(),
            role: self.cluster.role(),
            product_version: installed.product_version,
            build: installed.build,
            patch_level: installed.patch_level,
            running_job,
        })
    }

    /// `GET /api/v1/cluster`.
    pub async fn info(&self) -> Result<ClusterInfo, ServiceError> {
        let node = self.node_info().await?;
        let (Some(row), Some(peer)) = (self.cluster.state().await?, self.cluster.peer().await)
        else {
            return Ok(ClusterInfo {
                configured: false,
                node,
                peer: None,
                enabled: false,
                active_url: None,
                mismatch: None,
                changed_by: None,
                changed_at: None,
            });
        };
        let mismatch = peer.node.as_ref().and_then(|peer| mismatch(&node, peer));
        Ok(ClusterInfo {
            configured: true,
            active_url: self.cluster.active_url(),
            node,
            peer: Some(peer),
            enabled: row.enabled,
            mismatch,
            changed_by: row.changed_by,
            changed_at: row.changed_at,
        })
    }

    /// Disables clustering, re-establishes it, or swaps the roles; audited either way.
    pub async fn act(
        &self,
        action: ClusterAction,
        actor: &str,
        source: Option<String>,
    ) -> Result<ClusterInfo, ClusterError> {
        let outcome = self.act_inner(action, actor).await;
        let event = match &outcome {
            Ok(details) => AuditEvent::success(action.audit_action(), actor).details(details),
            Err(err) => AuditEvent::failure(action.audit_action(), actor).details(err.to_string()),
        };
        self.audit
            .record(event.target(self.node_name.clone()).source(source))
            .await?;
        outcome?;
        self.cluster.tick().await;
        // The peer follows at once too.
        self.cluster.tell_peer().await;
        self.events
            .publish(shared::panel::ServerEvent::ClusterChanged);
        Ok(self.info().await?)
    }

    async fn act_inner(&self, action: ClusterAction, actor: &str) -> Result<String, ClusterError> {
        let Some(row) = self.cluster.state().await? else {
            return Err(refused(
                "cluster_not_configured",
                "This server is not part of an HA cluster: start it with --cluster-peer and \
                 --cluster-secret-file to make one.",
            ));
        };
        match action {
            ClusterAction::Disable => {
                if !row.enabled {
                    return Err(refused(
                        "cluster_disabled",
                        "Clustering is already disabled.",
                    ));
                }
                self.cluster.set_enabled(false, actor).await?;
                Ok(format!(
                    "clustering disabled on {}; both nodes now serve on their own",
                    self.node_name
                ))
            }
            ClusterAction::Establish => {
                if row.enabled {
                    return Err(refused("cluster_enabled", "Clustering is already enabled."));
                }
                let (this, peer) = self.both().await?;
                refuse_mismatch(&this, &peer)?;
                self.cluster.set_enabled(true, actor).await?;
                Ok(format!(
                    "cluster re-established: {} and {} run SMS {} {}",
                    this.name,
                    peer.name,
                    this.product_version,
                    shared::level_in_words(this.patch_level)
                ))
            }
            ClusterAction::Swap => {
                if !row.enabled {
                    return Err(refused(
                        "cluster_disabled",
                        "Clustering is disabled, so there are no roles to swap. Re-establish \
                         the cluster first.",
                    ));
                }
                if self.cluster.role() != ClusterRole::Active {
                    return Err(refused(
                        "not_active_node",
                        "Only the active node can hand its role over. Use the active node.",
                    ));
                }
                let (this, peer) = self.both().await?;
                refuse_mismatch(&this, &peer)?;
                if !self.cluster.hand_over(&peer.name).await? {
                    return Err(refused(
                        "not_active_node",
                        "This node no longer holds the lease; reload the cluster panel.",
                    ));
                }
                Ok(format!(
                    "roles swapped: {} is now active, {} passive",
                    peer.name, this.name
                ))
            }
        }
    }

    /// This node and its peer, for an action that needs both; refused while a job runs.
    async fn both(&self) -> Result<(NodeInfo, NodeInfo), ClusterError> {
        let this = self.node_info().await?;
        let Some(peer) = self.cluster.peer().await else {
            return Err(refused(
                "cluster_not_configured",
                "This server is not part of an HA cluster.",
            ));
        };
        let Some(peer_node) = peer.node else {
            return Err(ClusterError::PeerUnreachable(format!(
                "The peer node at {} did not answer: {}. Start it (or check its address and the \
                 cluster secret), then try again.",
                peer.url,
                peer.error.unwrap_or_default()
            )));
        };
        if this.running_job.is_some() || peer_node.running_job.is_some() {
            return Err(refused(
                "job_running",
                "An install or rollback is running on one of the nodes; wait until it ends.",
            ));
        }
        Ok((this, peer_node))
    }
}

fn refuse_mismatch(this: &NodeInfo, peer: &NodeInfo) -> Result<(), ClusterError> {
    match mismatch(this, peer) {
        None => Ok(()),
        Some(why) => Err(ClusterError::Mismatch(format!(
            "{why} Both nodes must run the same version and patch level: install or roll back \
             on one of them first."
        ))),
    }
}
