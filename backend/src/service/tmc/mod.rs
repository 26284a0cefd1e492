//! TMC sync: polls the TMC feed on an interval and on Check now, verifies it, records its
//! patches in one transaction, and keeps the TMC status (`docs/tmc-protocol.md`). With a trusted
//! TUF root (format 2, [`feed`]) nothing else is read; without one, the signed catalog of
//! format 1, as long as the admin trusts its key.

pub mod feed;
mod record;
mod settings;

pub use settings::{DEMO_TMC_INTERVAL, TmcConfig};

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rand_core::{OsRng, RngCore};
use sea_orm::{EntityTrait, QueryOrder};
use shared::PatchId;
use shared::panel::{ClockCheck, FeedInfo, ServerEvent, TmcConnection, TmcStatus};
use tokio::sync::{Mutex, Notify, RwLock};

use crate::package::TrustedKeys;
use crate::package::catalog::{CATALOG_PATH, Catalog, SIGNATURE_PATH};
use crate::service::ServiceError;
use crate::service::events::Events;
use crate::storage::db::Db;
use crate::storage::entity::{tmc_patch, tmc_state, tuf_root};

use feed::{Clocks, Feed, FeedCode, FeedError, FeedErrorKind};

/// The single `tmc_state` row.
const ROW_ID: i32 = 1;
/// The first retry after a failed check; it doubles up to the interval.
const FIRST_RETRY: Duration = Duration::from_secs(30);
/// The largest catalog read.
const MAX_CATALOG_BYTES: usize = 16 << 20;

/// Why a check failed.
#[derive(Debug, thiserror::Error)]
enum CheckError {
    #[error("{0}")]
    Unreachable(String),
    #[error("{0}")]
    CertificateInvalid(String),
    #[error("{0}")]
    Invalid(String),
    /// The TUF feed refused, with its code.
    #[error("{}", .0.message)]
    Feed(FeedError),
    #[error(transparent)]
    Storage(#[from] ServiceError),
}

impl From<sea_orm::DbErr> for CheckError {
    fn from(err: sea_orm::DbErr) -> Self {
        CheckError::Storage(ServiceError::Db(err))
    }
}

/// Why a catalog entry's package has no address to download it from.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct PackageUrlError(String);

/// What a successful check brought.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckOutcome {
    /// Patches in this catalog that the previous one did not have.
    pub new_patches: Vec<PatchId>,
}

/// The TMC link of this server.
pub struct TmcSync {
    db: Db,
    keys: Arc<TrustedKeys>,
    events: Events,
    base: Option<reqwest::Url>,
    interval: Duration,
    timeout: Duration,
    http: reqwest::Client,
    status: RwLock<TmcStatus>,
    /// One check at a time.
    running: Mutex<()>,
    wake: Notify,
    failures: std::sync::atomic::AtomicU32,
    /// Counts the checks, once set.
    metrics: std::sync::OnceLock<crate::service::metrics::Metrics>,
    /// `--trust-root`'s bytes: where the TUF feed's trust starts while the database has none.
    trust_root: Option<Vec<u8>>,
    /// `tough`'s cache (`DATA_DIR/tuf/`).
    cache: std::path::PathBuf,
    /// The TMC's clock as its last answer said it.
    clocks: Clocks,
}

/// What a check accepted: the serial shown, its new patches, and the feed's facts (format 2).
struct Accepted {
    serial: u64,
    outcome: CheckOutcome,
    feed: Option<FeedInfo>,
}

/// What is wrong with the TMC's certificate, when that is why `err` happened: the TLS layer's
/// own words, from the innermost cause that speaks of a certificate.
pub fn certificate_problem(err: &reqwest::Error) -> Option<String> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    let mut found = None;
    while let Some(cause) = source {
        let text = cause.to_string();
        if text.to_lowercase().contains("certificate") {
            found = Some(text);
        }
        source = cause.source();
    }
    found
}

/// The HTTP client the TMC is asked with: its certificate checked against the system's roots
/// plus `trust`, redirects only to HTTPS on the same host (what `sms doctor` asks with too).
pub fn http_client(trust: &crate::net::Trust) -> anyhow::Result<reqwest::Client> {
    let builder = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .user_agent(concat!("sms/", env!("CARGO_PKG_VERSION")))
        .redirect(redirect_policy());
    Ok(crate::net::trusting(builder, trust)?.build()?)
}

/// Redirects are followed only to HTTPS on the same host (at most 5): a TMC answer cannot send
/// the server to plain HTTP or to another host.
fn redirect_policy() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let from = attempt.previous().last();
        let same_host = from.is_some_and(|from| from.host_str() == attempt.url().host_str());
        if attempt.previous().len() > 5 {
            attempt.error("too many redirects")
        } else if attempt.url().scheme() == "https" && same_host {
            attempt.follow()
        } else {
            attempt.stop()
        }
    })
}

impl TmcSync {
    /// A sync for the TMC at `base` (none: not configured). Call [`TmcSync::load_recorded`]
    /// once the database is ready.
    pub fn new(
        db: Db,
        keys: Arc<TrustedKeys>,
        events: Events,
        config: &TmcConfig,
        cache: std::path::PathBuf,
    ) -> Result<Arc<Self>, ServiceError> {
        let base = config.url.clone();
        let http = http_client(&config.trust).map_err(|err| {
            ServiceError::Corrupt(format!("cannot build the HTTP client: {err:#}"))
        })?;
        let trust_root = match &config.trust_root {
            Some(path) => {
                let bytes = std::fs::read(path).map_err(|err| {
                    ServiceError::Corrupt(format!(
                        "cannot read the trusted TUF root {}: {err}",
                        path.display()
                    ))
                })?;
                crate::package::tuf::parse_root(path, &bytes)
                    .map_err(|err| ServiceError::Corrupt(err.to_string()))?;
                Some(bytes)
            }
            None => None,
        };
        let status = match &base {
            None => TmcStatus::not_configured(),
            Some(url) => TmcStatus {
                connection: TmcConnection::Pending,
                url: Some(url.to_string()),
                last_check: None,
                last_success: None,
                serial: None,
                message: None,
                next_check: Some(Utc::now()),
                checking: false,
                code: None,
                feed: None,
                clock: None,
            },
        };
        Ok(Arc::new(Self {
            db,
            keys,
            events,
            base,
            interval: config.interval,
            timeout: config.timeout,
            http,
            status: RwLock::new(status),
            running: Mutex::new(()),
            wake: Notify::new(),
            failures: std::sync::atomic::AtomicU32::new(0),
            metrics: std::sync::OnceLock::new(),
            trust_root,
            cache,
            clocks: Clocks::default(),
        }))
    }

    /// Takes the last check's times and serial from the database (they survive restarts), and
    /// trusts the package keys the feed's trusted root names.
    pub async fn load_recorded(&self) -> Result<(), ServiceError> {
        let root = tuf_root::Entity::find_by_id(ROW_ID).one(&self.db).await?;
        // Packages are signed with the keys the trusted root names for its targets role.
        let trusted = match &root {
            Some(row) => Some(row.root.as_bytes()),
            None => self.trust_root.as_deref(),
        };
        if let Some(bytes) = trusted
            && let Ok(signed) = serde_json::from_slice(bytes)
        {
            self.keys.set_feed_keys(feed::targets_keys(&signed));
        }
        if self.base.is_none() {
            return Ok(());
        }
        if let Some(row) = tmc_state::Entity::find_by_id(ROW_ID).one(&self.db).await? {
            let mut status = self.status.write().await;
            status.last_check = row.last_check;
            status.last_success = row.last_success;
            status.serial = row.serial.and_then(|s| u64::try_from(s).ok());
            status.code = row.code.clone();
            status.feed = record::feed_info(&row, root.as_ref());
        }
        Ok(())
    }

    /// The root the TUF feed's trust starts from: the newest verified one the database keeps,
    /// else `--trust-root`; none: the feed is read in format 1. A newer root in the TUF cache
    /// (the last one a check verified) wins, so that a database restored from an older backup
    /// does not take the trust back to retired keys.
    async fn trusted_root(&self) -> Result<Option<Vec<u8>>, CheckError> {
        let stored = tuf_root::Entity::find_by_id(ROW_ID).one(&self.db).await?;
        let trusted = stored
            .map(|row| row.root.into_bytes())
            .or_else(|| self.trust_root.clone());
        let Some(trusted) = trusted else {
            return Ok(None);
        };
        let cached = tokio::fs::read(self.cache.join("root.json")).await.ok();
        Ok(Some(match cached {
            Some(cached) if feed::root_version(&cached) > feed::root_version(&trusted) => cached,
            _ => trusted,
        }))
    }

    pub fn is_configured(&self) -> bool {
        self.base.is_some()
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// How long one request (or a pause in a download) may take.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The TMC status now.
    pub async fn status(&self) -> TmcStatus {
        self.status.read().await.clone()
    }

    /// Where a catalog entry's package is: its `url`, relative to the TMC's base URL.
    pub fn package_url(&self, url: &str) -> Result<reqwest::Url, PackageUrlError> {
        let base = self
            .base
            .as_ref()
            .ok_or_else(|| PackageUrlError("no TMC is configured".into()))?;
        base.join(url).map_err(|err| {
            PackageUrlError(format!(
                "the catalog's download url `{url}` is invalid: {err}"
            ))
        })
    }

    /// The accepted catalog's patches, newest first.
    pub async fn catalog(&self) -> Result<Vec<tmc_patch::Model>, ServiceError> {
        Ok(tmc_patch::Entity::find()
            .order_by_desc(tmc_patch::Column::ProductVersion)
            .order_by_desc(tmc_patch::Column::Patch)
            .all(&self.db)
            .await?)
    }

    /// Counts every check from now on in `metrics`.
    pub fn count_in(&self, metrics: crate::service::metrics::Metrics) {
        let _ = self.metrics.set(metrics);
    }

    /// Checks the TMC now (waiting for a check already running instead of starting a second
    /// one), and returns the status after it.
    pub async fn check(&self) -> (TmcStatus, Option<CheckOutcome>) {
        let Some(base) = self.base.clone() else {
            return (self.status().await, None);
        };
        let _one_at_a_time = self.running.lock().await;
        self.update_status(|s| s.checking = true).await;
        let result = self.check_once(&base).await;
        let now = Utc::now();
        let clock = self.clock_check(now);
        let outcome = match result {
            Ok(Accepted {
                serial,
                outcome,
                feed,
            }) => {
                self.failures.store(0, std::sync::atomic::Ordering::Relaxed);
                if let Some(metrics) = self.metrics.get() {
                    metrics.tmc_checked(Some(now));
                }
                let next = now + self.interval;
                self.update_status(|s| {
                    s.connection = TmcConnection::Connected;
                    s.last_check = Some(now);
                    s.last_success = Some(now);
                    s.serial = Some(serial);
                    s.message = None;
                    s.code = None;
                    s.next_check = Some(next);
                    s.checking = false;
                    s.clock = clock.clone();
                    if feed.is_some() {
                        s.feed = feed;
                    }
                })
                .await;
                if !outcome.new_patches.is_empty() {
                    let new: Vec<String> = outcome
                        .new_patches
                        .iter()
                        .map(ToString::to_string)
                        .collect();
                    tracing::info!(new = %new.join(", "), serial, "the TMC offers new patches");
                }
                Some(outcome)
            }
            Err(err) => {
                if let Some(metrics) = self.metrics.get() {
                    metrics.tmc_checked(None);
                }
                let failures = self
                    .failures
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
                    + 1;
                let delay = retry_delay(failures, self.interval, OsRng.next_u32());
                let next = now + delay;
                let (connection, code, message) = failure(&err);
                tracing::warn!(
                    tmc = %base,
                    retry_in_s = delay.as_secs(),
                    "TMC check failed: {message}"
                );
                let clock = clock.or_else(|| {
                    // Expired metadata may be a clock far ahead: show both clocks.
                    let expired = matches!(
                        &err,
                        CheckError::Feed(FeedError {
                            code: FeedCode::MetadataExpired,
                            ..
                        })
                    );
                    expired.then(|| self.tmc_clock(now)).flatten()
                });
                self.update_status(|s| {
                    s.connection = connection;
                    s.last_check = Some(now);
                    s.message = Some(message.clone());
                    s.code = Some(code.to_owned());
                    s.next_check = Some(next);
                    s.checking = false;
                    s.clock = clock;
                })
                .await;
                if let Err(err) = self.record_failure(connection, code, &message, now).await {
                    tracing::error!("cannot record the TMC status: {err}");
                }
                None
            }
        };
        (self.status().await, outcome)
    }

    /// Asks the background loop to check now.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Checks at start, then whenever the next check is due or [`TmcSync::wake`] is called;
    /// `on_success` runs after each successful check (notices, panel refresh).
    pub async fn run<F, Fut>(self: Arc<Self>, on_success: F)
    where
        F: Fn(CheckOutcome) -> Fut,
        Fut: std::future::Future<Output = ()>,
    {
        if self.base.is_none() {
            return;
        }
        loop {
            let (status, outcome) = self.check().await;
            if let Some(outcome) = outcome {
                on_success(outcome).await;
            }
            let wait = status
                .next_check
                .map(|next| (next - Utc::now()).to_std().unwrap_or_default())
                .unwrap_or(self.interval);
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = self.wake.notified() => {}
            }
        }
    }

    async fn update_status(&self, change: impl FnOnce(&mut TmcStatus)) {
        let status = {
            let mut status = self.status.write().await;
            change(&mut status);
            status.clone()
        };
        self.events.publish(ServerEvent::Tmc(status));
    }

    /// This server's clock and the TMC's, when they are further apart than
    /// [`feed::CLOCK_MARGIN`].
    fn clock_check(&self, now: DateTime<Utc>) -> Option<ClockCheck> {
        self.tmc_clock(now)
            .filter(|c| (c.tmc_time - c.server_time).abs() > feed::CLOCK_MARGIN)
    }

    /// Both clocks, as of the TMC's last answer.
    fn tmc_clock(&self, now: DateTime<Utc>) -> Option<ClockCheck> {
        let (tmc, at) = (*self.clocks.lock().ok()?)?;
        Some(ClockCheck {
            server_time: now,
            tmc_time: tmc + (now - at),
        })
    }

    async fn check_once(&self, base: &reqwest::Url) -> Result<Accepted, CheckError> {
        match self.trusted_root().await? {
            Some(root) => self.check_feed(base, &root).await,
            None => self.check_catalog(base).await,
        }
    }

    /// Format 2: the TUF feed from `root` on.
    async fn check_feed(&self, base: &reqwest::Url, root: &[u8]) -> Result<Accepted, CheckError> {
        let feed = Feed {
            http: &self.http,
            timeout: self.timeout,
            base,
            cache: &self.cache,
            clocks: self.clocks.clone(),
        };
        let checked = feed.check(root).await.map_err(CheckError::Feed)?;
        let (outcome, info) = self.record_feed(&checked, root).await?;
        self.keys.set_feed_keys(checked.targets_keys.clone());
        Ok(Accepted {
            serial: checked.timestamp_version,
            outcome,
            feed: Some(info),
        })
    }

    /// Format 1: the catalog signed by a trusted key.
    async fn check_catalog(&self, base: &reqwest::Url) -> Result<Accepted, CheckError> {
        let json = self.fetch(base, CATALOG_PATH, MAX_CATALOG_BYTES).await?;
        let signature = self.fetch(base, SIGNATURE_PATH, 1024).await?;
        let last_serial = tmc_state::Entity::find_by_id(ROW_ID)
            .one(&self.db)
            .await?
            .and_then(|row| row.serial)
            .and_then(|s| u64::try_from(s).ok());
        let catalog = Catalog::verify(&json, &signature, &self.keys, last_serial, Utc::now())
            .map_err(|err| CheckError::Invalid(err.to_string()))?;
        let outcome = self.record(&catalog).await?;
        Ok(Accepted {
            serial: catalog.serial,
            outcome,
            feed: None,
        })
    }

    /// GETs `path` under the TMC's base URL, reading at most `limit` bytes.
    async fn fetch(
        &self,
        base: &reqwest::Url,
        path: &str,
        limit: usize,
    ) -> Result<Vec<u8>, CheckError> {
        let url = base
            .join(path)
            .map_err(|err| CheckError::Invalid(format!("bad TMC address: {err}")))?;
        let unreachable = |err: reqwest::Error| {
            if let Some(why) = certificate_problem(&err) {
                return CheckError::CertificateInvalid(format!(
                    "the TMC at {base} has a certificate this server does not trust ({why}): \
                     give its CA with --tmc-ca-file, or check the TMC address"
                ));
            }
            CheckError::Unreachable(if err.is_timeout() {
                format!("the TMC did not answer within {} s", self.timeout.as_secs())
            } else if err.is_connect() {
                format!("cannot connect to the TMC at {base}")
            } else {
                format!("the connection to the TMC failed: {err}")
            })
        };
        let mut response = self
            .http
            .get(url.clone())
            .timeout(self.timeout)
            .send()
            .await
            .map_err(unreachable)?;
        feed::keep_clock(&self.clocks, &response);
        if !response.status().is_success() {
            return Err(CheckError::Unreachable(format!(
                "the TMC answered {} for {url}",
                response.status()
            )));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(unreachable)? {
            if body.len() + chunk.len() > limit {
                return Err(CheckError::Invalid(format!(
                    "{url} is larger than {limit} bytes"
                )));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

/// The connection, stable code and words of a failed check.
fn failure(err: &CheckError) -> (TmcConnection, &'static str, String) {
    match err {
        CheckError::Unreachable(m) => (TmcConnection::Unreachable, "tmc_unreachable", m.clone()),
        CheckError::CertificateInvalid(m) => (
            TmcConnection::CertificateInvalid,
            "certificate_invalid",
            m.clone(),
        ),
        CheckError::Invalid(m) => (TmcConnection::Invalid, "catalog_invalid", m.clone()),
        CheckError::Feed(feed) => (
            match feed.kind {
                FeedErrorKind::Unreachable => TmcConnection::Unreachable,
                FeedErrorKind::CertificateInvalid => TmcConnection::CertificateInvalid,
                FeedErrorKind::Refused => TmcConnection::Invalid,
            },
            feed.code.as_str(),
            feed.message.clone(),
        ),
        CheckError::Storage(e) => (
            TmcConnection::Invalid,
            "storage_error",
            format!("the catalog could not be recorded: {e}"),
        ),
    }
}

/// The wait before the next check after `failures` failures in a row: 30 s, doubling, at most
/// `interval`, plus up to 20 % jitter (from `random`) so that many servers do not retry together.
pub fn retry_delay(failures: u32, interval: Duration, random: u32) -> Duration {
    crate::service::backoff::Backoff {
        first: FIRST_RETRY,
        max: interval,
    }
    .delay_with_jitter(failures, random)
}

pub fn row_id(row: &tmc_patch::Model) -> Option<PatchId> {
    let version = row.product_version.parse().ok()?;
    PatchId::new(version, u32::try_from(row.patch).ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_double_from_30_seconds_up_to_the_interval_with_jitter() {
        let hour = Duration::from_secs(3600);
        assert_eq!(retry_delay(1, hour, 0), Duration::from_secs(30));
        assert_eq!(retry_delay(2, hour, 0), Duration::from_secs(60));
        assert_eq!(retry_delay(3, hour, 0), Duration::from_secs(120));
        assert_eq!(retry_delay(20, hour, 0), hour);
        assert_eq!(retry_delay(40, hour, 0), hour);
        let jittered = retry_delay(1, hour, 999);
        assert!(jittered > Duration::from_secs(30) && jittered <= Duration::from_secs(36));
        // A short interval (demo) still waits the first retry.
        assert_eq!(
            retry_delay(5, Duration::from_secs(10), 0),
            Duration::from_secs(30)
        );
    }
}
