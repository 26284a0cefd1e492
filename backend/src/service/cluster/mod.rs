//! The HA cluster: the leadership lease in PostgreSQL and the peer node's client (the actions
//! are `workflow::cluster`).
//!
//! Both nodes run [`Cluster::run`]: every `lease_renew` it tries to take or renew the lease
//! (one `UPDATE ... WHERE holder = me OR expired` in the database), which decides this node's
//! role. A node that cannot renew for `lease_ttl` steps down; a stopping node gives the lease
//! up, so its peer takes over at its next try. Calls between the nodes carry the shared secret
//! as a bearer token (see docs/cluster.md).

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use shared::cluster::{ClusterRole, NodeInfo, PeerInfo};
use shared::panel::{JobInfo, JobState};
use shared::{PatchId, PatchLevel};
use tokio::sync::watch;

use crate::service::ServiceError;
use crate::storage::db::Db;

mod settings;

pub use settings::{ClusterConfig, ClusterSettings};

/// How long a call to the peer may take (a package push has its own, longer limit).
const PEER_TIMEOUT: Duration = Duration::from_secs(3);

/// The header of node-to-node calls' secret: `Authorization: Bearer <secret>`.
pub const AUTHORIZATION_SCHEME: &str = "Bearer ";

/// This node's part in a cluster; `Cluster::single()` on a single server.
#[derive(Clone)]
pub struct Cluster {
    inner: Option<Arc<Inner>>,
}

struct Inner {
    db: Db,
    name: String,
    config: ClusterConfig,
    http: reqwest::Client,
    role: watch::Sender<ClusterRole>,
    /// Whether this node holds the lease, and when it last renewed it.
    renewed: Mutex<Option<Instant>>,
    /// Installs this node started on the peer: local job id -> the peer's job id.
    peer_jobs: Mutex<HashMap<i64, i64>>,
}

/// Whether clustering is enabled, and who changed that when (the `cluster` row).
#[derive(Debug, Clone)]
pub struct ClusterState {
    pub enabled: bool,
    pub changed_by: Option<String>,
    pub changed_at: Option<chrono::DateTime<Utc>>,
}

impl Cluster {
    /// A single server: always serving, no peer.
    pub fn single() -> Self {
        Self { inner: None }
    }

    /// A node of a cluster; starts passive until its first lease attempt.
    pub fn new(db: Db, name: &str, config: ClusterConfig) -> anyhow::Result<Self> {
        // An https:// peer is only ever called over HTTPS, checked as `[cluster]` says: reqwest
        // never falls back to plain HTTP, and redirects (to http:// or elsewhere) are not followed.
        let builder = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(PEER_TIMEOUT);
        let http = crate::net::trusting(builder, &config.peer_trust)?.build()?;
        Ok(Self {
            inner: Some(Arc::new(Inner {
                db,
                name: name.to_owned(),
                config,
                http,
                role: watch::Sender::new(ClusterRole::Passive),
                renewed: Mutex::new(None),
                peer_jobs: Mutex::new(HashMap::new()),
            })),
        })
    }

    pub fn is_configured(&self) -> bool {
        self.inner.is_some()
    }

    /// This node's role now (`standalone` on a single server).
    pub fn role(&self) -> ClusterRole {
        match &self.inner {
            Some(inner) => *inner.role.borrow(),
            None => ClusterRole::Standalone,
        }
    }

    /// Whether this node serves clients, syncs the TMC and polls the devices.
    pub fn serves(&self) -> bool {
        self.role().serves()
    }

    /// Whether this node is the active node of an enabled cluster (installs go to both nodes).
    pub fn is_active_in_cluster(&self) -> bool {
        self.inner.is_some() && self.role() == ClusterRole::Active
    }

    /// The peer's address, when this node is passive (where clients should go).
    pub fn active_url(&self) -> Option<String> {
        let inner = self.inner.as_ref()?;
        (self.role() == ClusterRole::Passive).then(|| inner.config.peer.to_string())
    }

    /// Changes of the role, to tell clients about.
    pub fn watch_role(&self) -> Option<watch::Receiver<ClusterRole>> {
        self.inner.as_ref().map(|inner| inner.role.subscribe())
    }

    /// Whether `token` is the cluster's secret (compared in constant time).
    pub fn secret_matches(&self, token: &str) -> bool {
        let Some(inner) = &self.inner else {
            return false;
        };
        crate::service::auth::secrets_match(token, &inner.config.secret)
    }

    /// Whether clustering is enabled (read from the database).
    pub async fn enabled(&self) -> Result<bool, ServiceError> {
        match &self.inner {
            Some(inner) => Ok(inner.row().await?.enabled),
            None => Ok(false),
        }
    }

    /// Keeps taking or renewing the lease (until the task is dropped; then [`Cluster::release`]).
    pub async fn run(self) {
        let Some(inner) = self.inner.clone() else {
            return;
        };
        loop {
            inner.tick().await;
            // A passive node looks more often, so it takes over soon after the active node
            // gives the lease up; renewing once per interval is enough for the holder.
            let wait = match *inner.role.borrow() {
                ClusterRole::Passive => inner.config.lease_renew / 4,
                _ => inner.config.lease_renew,
            };
            tokio::time::sleep(wait).await;
        }
    }

    /// Gives the lease up (a stopping node), so the peer takes over at its next try.
    pub async fn release(&self) {
        if let Some(inner) = &self.inner {
            inner.release().await;
        }
    }

    /// One lease attempt now: at start, and after an action, so the role follows at once.
    pub async fn tick(&self) {
        if let Some(inner) = &self.inner {
            inner.tick().await;
        }
    }

    /// Whether clustering is enabled, and who changed that when; `None` on a single server.
    pub async fn state(&self) -> Result<Option<ClusterState>, ServiceError> {
        match &self.inner {
            Some(inner) => Ok(Some(inner.row().await?)),
            None => Ok(None),
        }
    }

    /// What the peer says of itself (or why it did not); `None` on a single server.
    pub async fn peer(&self) -> Option<PeerInfo> {
        match &self.inner {
            Some(inner) => Some(inner.peer_info().await),
            None => None,
        }
    }

    /// Records clustering as enabled or disabled, by `actor`.
    pub async fn set_enabled(&self, enabled: bool, actor: &str) -> Result<(), ServiceError> {
        match &self.inner {
            Some(inner) => inner.set_enabled(enabled, actor).await,
            None => Err(ServiceError::InvalidInput(
                "this server is not part of an HA cluster".into(),
            )),
        }
    }

    /// Hands the lease to the node `peer` (a swap); false when this node no longer held it.
    pub async fn hand_over(&self, peer: &str) -> Result<bool, ServiceError> {
        match &self.inner {
            Some(inner) => inner.hand_over(peer).await,
            None => Ok(false),
        }
    }

    /// Asks the peer to look at the lease at once, so its clients see a change without
    /// waiting for its next lease attempt; a peer that does not answer follows at that attempt.
    pub async fn tell_peer(&self) {
        if let Some(inner) = &self.inner
            && let Err(err) = inner
                .request(reqwest::Method::POST, "cluster/v1/refresh")
                .send()
                .await
        {
            tracing::debug!("cannot ask the peer to look at the cluster again: {err}");
        }
    }

    /// Sends the package of patch `id` to the peer and starts its install there; returns the
    /// peer's job id.
    pub async fn push_install(
        &self,
        local_job: i64,
        id: PatchId,
        package: &Path,
        actor: &str,
    ) -> Result<i64, PeerError> {
        let Some(inner) = &self.inner else {
            return Err(PeerError("this server is not part of a cluster".into()));
        };
        let node = inner.peer_node().await.map_err(|err| {
            format!(
                "the passive node at {} did not answer: {err}",
                inner.config.peer
            )
        })?;
        if node.patch_level.0 < id.patch() {
            let path = package;
            let file = tokio::fs::File::open(path)
                .await
                .map_err(|err| format!("cannot read {}: {err}", path.display()))?;
            let body = reqwest::Body::from(file);
            let response = inner
                .request(reqwest::Method::PUT, "cluster/v1/patches")
                .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
                .timeout(Duration::from_secs(600))
                .body(body)
                .send()
                .await
                .map_err(|err| format!("sending the package failed: {err}"))?;
            peer_ok(response).await?;
        }
        let response = inner
            .request(reqwest::Method::POST, "cluster/v1/install")
            .timeout(PEER_TIMEOUT * 5)
            .json(&PeerInstall {
                patch: id.to_string(),
                actor: actor.to_owned(),
            })
            .send()
            .await
            .map_err(|err| format!("starting the install failed: {err}"))?;
        let job: JobInfo = peer_ok(response)
            .await?
            .json()
            .await
            .map_err(|err| format!("the passive node's answer is unreadable: {err}"))?;
        if let Ok(mut jobs) = inner.peer_jobs.lock() {
            jobs.insert(local_job, job.id);
        }
        Ok(job.id)
    }

    /// Waits for the peer to finish the install this node started there as `local_job` (or,
    /// when this process did not start it, for the peer to reach `target`).
    pub async fn wait_peer_install(
        &self,
        local_job: i64,
        target: PatchLevel,
        limit: Duration,
    ) -> Result<(), PeerError> {
        let Some(inner) = &self.inner else {
            return Ok(());
        };
        let peer_job = inner
            .peer_jobs
            .lock()
            .ok()
            .and_then(|jobs| jobs.get(&local_job).copied());
        let deadline = Instant::now() + limit;
        let mut last_error = String::from("no answer yet");
        while Instant::now() < deadline {
            match inner.peer_progress(peer_job, target).await {
                Ok(Some(outcome)) => {
                    if let Ok(mut jobs) = inner.peer_jobs.lock() {
                        jobs.remove(&local_job);
                    }
                    return outcome.map_err(PeerError);
                }
                Ok(None) => {}
                Err(err) => last_error = err,
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        Err(PeerError(format!(
            "the passive node did not finish within {} s ({last_error})",
            limit.as_secs()
        )))
    }
}

/// A call to the peer node that failed, in words.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct PeerError(pub String);

impl From<String> for PeerError {
    fn from(message: String) -> Self {
        PeerError(message)
    }
}

/// The body of `POST /cluster/v1/install`.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct PeerInstall {
    pub patch: String,
    /// Who started the install on the active node.
    pub actor: String,
}

/// The peer's answer when it succeeded, else its error message.
async fn peer_ok(response: reqwest::Response) -> Result<reqwest::Response, String> {
    if response.status().is_success() {
        return Ok(response);
    }
    let status = response.status();
    let body: Option<shared::api::ErrorResponse> = response.json().await.ok();
    Err(match body {
        Some(body) => format!("{} ({})", body.error.message, body.error.code),
        None => format!("it answered {status}"),
    })
}

impl Inner {
    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let url = self
            .config
            .peer
            .join(path)
            .unwrap_or_else(|_| self.config.peer.clone());
        self.http
            .request(method, url)
            .timeout(PEER_TIMEOUT)
            .bearer_auth(&self.config.secret)
    }

    async fn peer_node(&self) -> Result<NodeInfo, String> {
        let response = self
            .request(reqwest::Method::GET, "cluster/v1/node")
            .send()
            .await
            .map_err(|err| describe_reqwest(&err))?;
        peer_ok(response)
            .await?
            .json()
            .await
            .map_err(|err| format!("its answer is unreadable: {err}"))
    }

    async fn peer_info(&self) -> PeerInfo {
        let url = self.config.peer.to_string();
        match self.peer_node().await {
            Ok(node) => PeerInfo {
                url,
                node: Some(node),
                error: None,
            },
            Err(err) => PeerInfo {
                url,
                node: None,
                error: Some(err),
            },
        }
    }

    /// `Some(outcome)` once the peer's install ended; `None` while it runs; `Err` when the
    /// peer did not answer (it may be restarting).
    async fn peer_progress(
        &self,
        peer_job: Option<i64>,
        target: PatchLevel,
    ) -> Result<Option<Result<(), String>>, String> {
        if let Some(job) = peer_job {
            let response = self
                .request(reqwest::Method::GET, &format!("cluster/v1/jobs/{job}"))
                .send()
                .await
                .map_err(|err| describe_reqwest(&err))?;
            let job: JobInfo = peer_ok(response)
                .await?
                .json()
                .await
                .map_err(|err| format!("its answer is unreadable: {err}"))?;
            return Ok(match job.state {
                JobState::Running => None,
                JobState::Succeeded => Some(Ok(())),
                _ => Some(Err(job.error.map_or_else(
                    || format!("its install ended {}", job.state.as_str()),
                    |err| err.message,
                ))),
            });
        }
        let node = self.peer_node().await?;
        if node.running_job.is_some() {
            return Ok(None);
        }
        Ok(Some(if node.patch_level == target {
            Ok(())
        } else {
            Err(format!(
                "it runs {}",
                shared::level_in_words(node.patch_level)
            ))
        }))
    }

    async fn row(&self) -> Result<ClusterState, ServiceError> {
        use sea_orm::EntityTrait;
        let row = crate::storage::entity::cluster::Entity::find_by_id(1)
            .one(&self.db)
            .await?
            .ok_or_else(|| ServiceError::Corrupt("the cluster row is missing".into()))?;
        Ok(ClusterState {
            enabled: row.enabled,
            changed_by: row.changed_by,
            changed_at: row.changed_at,
        })
    }

    /// Takes or renews the lease; sets the role from the outcome.
    async fn tick(&self) {
        let ttl = self.config.lease_ttl.as_secs_f64();
        let renewed = self
            .db
            .query_one_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "UPDATE cluster SET holder = $1, \
                 expires_at = now() + make_interval(secs => $2) \
                 WHERE id = 1 AND (holder = $1 OR holder IS NULL OR expires_at IS NULL \
                 OR expires_at < now()) RETURNING enabled",
                [self.name.clone().into(), ttl.into()],
            ))
            .await;
        let enabled_and_held = match renewed {
            Ok(Some(row)) => match row.try_get::<bool>("", "enabled") {
                Ok(enabled) => Ok((enabled, true)),
                Err(err) => Err(err),
            },
            Ok(None) => self
                .row()
                .await
                .map(|row| (row.enabled, false))
                .map_err(|err| sea_orm::DbErr::Custom(err.to_string())),
            Err(err) => Err(err),
        };
        let role = match enabled_and_held {
            Ok((enabled, held)) => {
                if let Ok(mut renewed) = self.renewed.lock() {
                    *renewed = held.then(Instant::now);
                }
                match (enabled, held) {
                    (false, _) => ClusterRole::Standalone,
                    (true, true) => ClusterRole::Active,
                    (true, false) => ClusterRole::Passive,
                }
            }
            Err(err) => {
                // Without the database this node cannot know; once its lease has surely run
                // out, it must not act as the active node any more.
                let current = *self.role.borrow();
                let lapsed = self
                    .renewed
                    .lock()
                    .ok()
                    .and_then(|renewed| *renewed)
                    .is_none_or(|at| at.elapsed() >= self.config.lease_ttl);
                tracing::warn!("cannot renew the cluster lease: {err}");
                if current == ClusterRole::Active && lapsed {
                    ClusterRole::Passive
                } else {
                    current
                }
            }
        };
        self.role.send_if_modified(|current| {
            if *current == role {
                return false;
            }
            tracing::warn!(node = %self.name, from = %*current, to = %role, "cluster role changed");
            *current = role;
            true
        });
    }

    /// Gives the lease up (a stopping node), so the peer takes over at its next try.
    async fn release(&self) {
        let released = self
            .db
            .execute_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "UPDATE cluster SET holder = NULL, expires_at = NULL WHERE id = 1 AND holder = $1",
                [self.name.clone().into()],
            ))
            .await;
        match released {
            Ok(done) if done.rows_affected() > 0 => {
                tracing::info!(node = %self.name, "gave up the cluster lease");
            }
            Ok(_) => {}
            Err(err) => tracing::warn!("cannot give up the cluster lease: {err}"),
        }
        self.role.send_replace(ClusterRole::Passive);
    }

    /// Hands the lease to `peer` (a swap); false when this node no longer held it.
    async fn hand_over(&self, peer: &str) -> Result<bool, ServiceError> {
        let ttl = self.config.lease_ttl.as_secs_f64();
        let done = self
            .db
            .execute_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "UPDATE cluster SET holder = $2, expires_at = now() + make_interval(secs => $3) \
                 WHERE id = 1 AND holder = $1",
                [self.name.clone().into(), peer.into(), ttl.into()],
            ))
            .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        self.role.send_replace(ClusterRole::Passive);
        Ok(true)
    }

    async fn set_enabled(&self, enabled: bool, actor: &str) -> Result<(), ServiceError> {
        use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait};
        let row = crate::storage::entity::cluster::Entity::find_by_id(1)
            .one(&self.db)
            .await?
            .ok_or_else(|| ServiceError::Corrupt("the cluster row is missing".into()))?;
        let mut row: crate::storage::entity::cluster::ActiveModel = row.into();
        row.enabled = Set(enabled);
        row.changed_by = Set(Some(actor.to_owned()));
        row.changed_at = Set(Some(Utc::now()));
        row.update(&self.db).await?;
        Ok(())
    }
}

/// A failed call to the peer in words.
fn describe_reqwest(err: &reqwest::Error) -> String {
    if err.is_connect() {
        "connection refused or unreachable".into()
    } else if err.is_timeout() {
        "no answer in time".into()
    } else {
        err.to_string()
    }
}
