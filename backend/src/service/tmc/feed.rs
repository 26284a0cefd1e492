//! Format 2 of the TMC feed (docs/tmc-protocol.md): TUF metadata read and checked by `tough`
//! over this server's own HTTP client (its TLS trust, redirect rule, timeout and size caps),
//! starting from the trusted root the database keeps, with `tough`'s cache and "latest known
//! time" under `DATA_DIR/tuf/`. The catalog document is one of the feed's targets.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::{StreamExt, TryStreamExt};
use tough::error::Error as TufError;
use tough::schema::RoleType;
use tough::{IntoVec, TargetName, TransportError, TransportErrorKind, TransportStream};

use crate::package::catalog::{CatalogEntry, FEED_CATALOG_TARGET, FeedCatalog};

/// Where the feed's metadata and targets are, relative to the TMC's base URL.
pub const METADATA_PATH: &str = "v2/metadata/";
pub const TARGETS_PATH: &str = "v2/targets/";

/// `tough`'s cache inside the data dir.
pub const CACHE_DIR: &str = "tuf";

/// The largest response read for any metadata file.
const MAX_RESPONSE: u64 = 16 << 20;
/// How far this server's clock may be from the TMC's before the status says so.
pub const CLOCK_MARGIN: chrono::TimeDelta = chrono::TimeDelta::minutes(5);

/// Why a check of the feed failed: the TMC status's connection, its stable code, and words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedError {
    pub kind: FeedErrorKind,
    pub code: FeedCode,
    pub message: String,
}

/// The stable code of a refused feed (docs/tmc-protocol.md, "Refusals").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedCode {
    CertificateInvalid,
    ClockSteppedBack,
    MetadataExpired,
    MetadataInvalid,
    MetadataMismatch,
    MetadataTooLarge,
    RollbackDetected,
    RootRotationFailed,
    StorageError,
    TargetHashMismatch,
    ThresholdNotMet,
    TmcUnreachable,
    TrustRootInvalid,
}

impl FeedCode {
    pub fn as_str(self) -> &'static str {
        match self {
            FeedCode::CertificateInvalid => "certificate_invalid",
            FeedCode::ClockSteppedBack => "clock_stepped_back",
            FeedCode::MetadataExpired => "metadata_expired",
            FeedCode::MetadataInvalid => "metadata_invalid",
            FeedCode::MetadataMismatch => "metadata_mismatch",
            FeedCode::MetadataTooLarge => "metadata_too_large",
            FeedCode::RollbackDetected => "rollback_detected",
            FeedCode::RootRotationFailed => "root_rotation_failed",
            FeedCode::StorageError => "storage_error",
            FeedCode::TargetHashMismatch => "target_hash_mismatch",
            FeedCode::ThresholdNotMet => "threshold_not_met",
            FeedCode::TmcUnreachable => "tmc_unreachable",
            FeedCode::TrustRootInvalid => "trust_root_invalid",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedErrorKind {
    Unreachable,
    CertificateInvalid,
    /// The TMC answered with metadata this server refuses.
    Refused,
}

impl FeedError {
    fn refused(code: FeedCode, message: impl Into<String>) -> Self {
        Self {
            kind: FeedErrorKind::Refused,
            code,
            message: message.into(),
        }
    }
}

/// What a successful check read.
#[derive(Debug, Clone)]
pub struct FeedCheck {
    /// The newest verified root's version, and its bytes as served when it is newer than the
    /// one the check started from.
    pub root_version: u64,
    pub new_root: Option<Vec<u8>>,
    pub timestamp_version: u64,
    pub timestamp_expires: DateTime<Utc>,
    /// The catalog's entries; each `url` is the package's target path under the base URL, and
    /// `size` / `sha256` are the target's.
    pub patches: Vec<CatalogEntry>,
    /// The Ed25519 keys the targets role names (key id, public key): they sign packages.
    pub targets_keys: Vec<(String, ed25519_dalek::VerifyingKey)>,
}

/// The TMC's clock, as its last answer's `Date` header said, and when.
pub type Clocks = Arc<Mutex<Option<(DateTime<Utc>, DateTime<Utc>)>>>;

/// Keeps the TMC's clock from an answer's `Date` header, when it has one.
pub fn keep_clock(clocks: &Clocks, response: &reqwest::Response) {
    if let Some(date) = response
        .headers()
        .get(reqwest::header::DATE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| DateTime::parse_from_rfc2822(v).ok())
        && let Ok(mut clocks) = clocks.lock()
    {
        *clocks = Some((date.with_timezone(&Utc), Utc::now()));
    }
}

/// `tough`'s transport over this server's reqwest client: a 404 is `FileNotFound`, every
/// answer is capped, and the bytes of each `N.root.json` are kept so that the newest root is
/// stored exactly as it was signed.
#[derive(Debug, Clone)]
struct HttpTransport {
    http: reqwest::Client,
    timeout: Duration,
    roots: Arc<Mutex<BTreeMap<u64, Vec<u8>>>>,
    clocks: Clocks,
}

#[tough::async_trait]
impl tough::Transport for HttpTransport {
    async fn fetch(&self, url: reqwest::Url) -> Result<TransportStream, TransportError> {
        let other = |err: reqwest::Error| {
            TransportError::new_with_cause(TransportErrorKind::Other, url.as_str(), err)
        };
        let response = self
            .http
            .get(url.clone())
            .timeout(self.timeout)
            .send()
            .await
            .map_err(other)?;
        keep_clock(&self.clocks, &response);
        let status = response.status();
        // 404 Not Found, 410 Gone: no such file (read as numbers: status codes are http's).
        if matches!(status.as_u16(), 404 | 410) {
            return Err(TransportError::new(
                TransportErrorKind::FileNotFound,
                url.as_str(),
            ));
        }
        if !status.is_success() {
            return Err(TransportError::new_with_cause(
                TransportErrorKind::Other,
                url.as_str(),
                format!("the TMC answered {status}"),
            ));
        }
        let root_version = url
            .path_segments()
            .and_then(|mut s| s.next_back())
            .and_then(|name| name.strip_suffix(".root.json"))
            .and_then(|n| n.parse::<u64>().ok());
        let at = url.to_string();
        let mut seen = 0u64;
        let capped = response.bytes_stream().map(move |chunk| {
            let chunk = chunk.map_err(|err| {
                TransportError::new_with_cause(TransportErrorKind::Other, &at, err)
            })?;
            seen = seen.saturating_add(chunk.len() as u64);
            if seen > MAX_RESPONSE {
                return Err(TransportError::new_with_cause(
                    TransportErrorKind::Other,
                    &at,
                    format!("the answer is larger than {MAX_RESPONSE} bytes"),
                ));
            }
            Ok(chunk)
        });
        let Some(version) = root_version else {
            return Ok(Box::pin(capped));
        };
        // A root is small (the loader caps it at 1 MiB): read it whole and keep its bytes.
        let bytes: Vec<u8> = capped
            .try_fold(Vec::new(), |mut all, chunk| async move {
                all.extend_from_slice(&chunk);
                Ok(all)
            })
            .await?;
        if let Ok(mut roots) = self.roots.lock() {
            roots.insert(version, bytes.clone());
        }
        Ok(Box::pin(futures_util::stream::once(async move {
            Ok(bytes::Bytes::from(bytes))
        })))
    }
}

/// The feed's address under a TMC base URL.
pub struct Feed<'a> {
    pub http: &'a reqwest::Client,
    pub timeout: Duration,
    pub base: &'a reqwest::Url,
    /// `tough`'s cache of the last timestamp and snapshot, and its latest known time.
    pub cache: &'a Path,
    pub clocks: Clocks,
}

impl Feed<'_> {
    /// Reads and checks the feed's metadata from `trusted_root` on, then its catalog.
    pub async fn check(&self, trusted_root: &[u8]) -> Result<FeedCheck, FeedError> {
        let join = |path: &str| {
            self.base.join(path).map_err(|err| {
                FeedError::refused(FeedCode::MetadataInvalid, format!("bad TMC address: {err}"))
            })
        };
        let metadata = join(METADATA_PATH)?;
        let targets = join(TARGETS_PATH)?;
        std::fs::create_dir_all(self.cache).map_err(|err| {
            FeedError::refused(
                FeedCode::StorageError,
                format!(
                    "cannot create the TUF cache {}: {err}",
                    self.cache.display()
                ),
            )
        })?;
        let transport = HttpTransport {
            http: self.http.clone(),
            timeout: self.timeout,
            roots: Arc::default(),
            clocks: self.clocks.clone(),
        };
        let trusted_version =
            serde_json::from_slice::<tough::schema::Signed<tough::schema::Root>>(trusted_root)
                .map(|root| root.signed.version.get())
                .map_err(|err| {
                    FeedError::refused(
                        FeedCode::TrustRootInvalid,
                        format!("the trusted root metadata cannot be read: {err}"),
                    )
                })?;
        let repository =
            tough::RepositoryLoader::new(&trusted_root, metadata.clone(), targets.clone())
                .transport(transport.clone())
                .datastore(PathBuf::from(self.cache))
                .load()
                .await
                .map_err(|err| self.classify(&err))?;
        let root_version = repository.root().signed.version.get();
        let new_root = if root_version > trusted_version {
            let kept = transport
                .roots
                .lock()
                .ok()
                .and_then(|roots| roots.get(&root_version).cloned());
            Some(kept.ok_or_else(|| {
                FeedError::refused(
                    FeedCode::RootRotationFailed,
                    format!("root version {root_version} was verified but its bytes were not kept"),
                )
            })?)
        } else {
            None
        };
        let catalog_name = TargetName::new(FEED_CATALOG_TARGET)
            .map_err(|err| FeedError::refused(FeedCode::MetadataInvalid, err.to_string()))?;
        let stream = repository
            .read_target(&catalog_name)
            .await
            .map_err(|err| self.classify(&err))?
            .ok_or_else(|| {
                FeedError::refused(
                    FeedCode::MetadataInvalid,
                    "the feed's targets metadata lists no catalog.json",
                )
            })?;
        let bytes = stream.into_vec().await.map_err(|err| self.classify(&err))?;
        let catalog = FeedCatalog::parse(&bytes)
            .map_err(|err| FeedError::refused(FeedCode::MetadataInvalid, err.to_string()))?;
        let mut patches = Vec::with_capacity(catalog.patches.len());
        for mut entry in catalog.patches {
            let name = TargetName::new(entry.url.clone()).map_err(|err| {
                FeedError::refused(
                    FeedCode::MetadataInvalid,
                    format!("the catalog names the target `{}`: {err}", entry.url),
                )
            })?;
            let target = repository
                .targets()
                .signed
                .targets
                .get(&name)
                .ok_or_else(|| {
                    FeedError::refused(
                        FeedCode::MetadataInvalid,
                        format!(
                            "the catalog lists {}, which the feed's targets metadata does not",
                            entry.url
                        ),
                    )
                })?;
            let sha256 = hex::encode(target.hashes.sha256.as_ref());
            if target.length != entry.size || sha256 != entry.sha256 {
                return Err(FeedError::refused(
                    FeedCode::TargetHashMismatch,
                    format!(
                        "the catalog's size and SHA-256 of {} are not those its TUF target gives",
                        entry.url
                    ),
                ));
            }
            entry.url = format!("{TARGETS_PATH}{sha256}.{}", name.resolved());
            patches.push(entry);
        }
        let timestamp = repository.timestamp();
        Ok(FeedCheck {
            root_version,
            new_root,
            timestamp_version: timestamp.signed.version.get(),
            timestamp_expires: crate::package::tuf::chrono_time(timestamp.signed.expires),
            patches,
            targets_keys: targets_keys(repository.root()),
        })
    }

    /// The code and words of a `tough` error.
    fn classify(&self, err: &TufError) -> FeedError {
        classify(err, self.base, self.timeout, self.tmc_clock())
    }

    /// The TMC's clock, when its last answer had a `Date` header.
    fn tmc_clock(&self) -> Option<DateTime<Utc>> {
        self.clocks.lock().ok().and_then(|c| c.map(|(tmc, _)| tmc))
    }
}

/// The version of root metadata; 0 when it cannot be read.
pub fn root_version(bytes: &[u8]) -> u64 {
    serde_json::from_slice::<tough::schema::Signed<tough::schema::Root>>(bytes)
        .map_or(0, |root| root.signed.version.get())
}

/// The Ed25519 keys the root names for the targets role.
pub fn targets_keys(
    root: &tough::schema::Signed<tough::schema::Root>,
) -> Vec<(String, ed25519_dalek::VerifyingKey)> {
    let Some(role) = root.signed.roles.get(&RoleType::Targets) else {
        return Vec::new();
    };
    role.keyids
        .iter()
        .filter_map(|id| {
            let key = root.signed.keys.get(id)?;
            let tough::schema::key::Key::Ed25519 { keyval, .. } = key else {
                return None;
            };
            let bytes: [u8; 32] = keyval.public.as_ref().try_into().ok()?;
            let key = ed25519_dalek::VerifyingKey::from_bytes(&bytes).ok()?;
            Some((hex::encode(id.as_ref()), key))
        })
        .collect()
}

/// Names a role as people read it.
fn role_name(role: RoleType) -> &'static str {
    match role {
        RoleType::Root => "root",
        RoleType::Snapshot => "snapshot",
        RoleType::Targets => "targets",
        RoleType::Timestamp => "timestamp",
        RoleType::DelegatedTargets => "delegated targets",
    }
}

/// The code and words of a `tough` error (see docs/tmc-protocol.md for the codes).
fn classify(
    err: &TufError,
    base: &reqwest::Url,
    timeout: Duration,
    tmc_clock: Option<DateTime<Utc>>,
) -> FeedError {
    let now = Utc::now();
    let refused = FeedError::refused;
    match err {
        TufError::ExpiredMetadata { role, .. } => {
            let clock = match tmc_clock {
                Some(tmc) if (tmc - now).abs() > CLOCK_MARGIN => format!(
                    "; this server's clock says {} and the TMC's says {}: check the server's clock",
                    now.format("%Y-%m-%d %H:%M:%S UTC"),
                    tmc.format("%Y-%m-%d %H:%M:%S UTC")
                ),
                _ => format!(
                    " (this server's clock says {}): the TMC serves an out-of-date copy, or the \
                     server's clock is wrong",
                    now.format("%Y-%m-%d %H:%M:%S UTC")
                ),
            };
            refused(
                FeedCode::MetadataExpired,
                format!(
                    "the feed's {} metadata has expired{clock}",
                    role_name(*role)
                ),
            )
        }
        TufError::SystemTimeSteppedBackward {
            sys_time,
            latest_known_time,
            ..
        } => refused(
            FeedCode::ClockSteppedBack,
            format!(
                "this server's clock says {sys_time}, earlier than {latest_known_time}, a time it \
                 has already seen: check the server's clock (the feed is refused until it is \
                 right, so that old metadata cannot be replayed)"
            ),
        ),
        TufError::OlderMetadata {
            role: RoleType::Root,
            current_version,
            new_version,
            ..
        } => refused(
            FeedCode::RootRotationFailed,
            format!(
                "the TMC's next root after version {current_version} says it is version \
                 {new_version}: root versions cannot be skipped"
            ),
        ),
        TufError::OlderMetadata {
            role,
            current_version,
            new_version,
            ..
        } => refused(
            FeedCode::RollbackDetected,
            format!(
                "the TMC serves {} metadata version {new_version}, older than version \
                 {current_version} this server has already accepted: an old copy is being replayed",
                role_name(*role)
            ),
        ),
        TufError::OlderSnapshotInTimestamp {
            snapshot_new,
            snapshot_old,
            ..
        } => refused(
            FeedCode::RollbackDetected,
            format!(
                "the TMC's timestamp names snapshot version {snapshot_new}, older than version \
                 {snapshot_old} already accepted: an old copy is being replayed"
            ),
        ),
        TufError::SnapshotRoleRollback { role, .. }
        | TufError::SnapshotRoleMissing { role, .. } => refused(
            FeedCode::RollbackDetected,
            format!("the TMC's snapshot names an older {role} than one already accepted"),
        ),
        TufError::VerifyMetadata {
            role: RoleType::Root,
            ..
        } => refused(
            FeedCode::RootRotationFailed,
            format!(
                "the TMC's new root metadata is not signed by enough keys of both the trusted \
                 root and itself ({}); this server keeps trusting its current root",
                describe_source(err)
            ),
        ),
        TufError::MaxUpdatesExceeded {
            max_root_updates, ..
        } => refused(
            FeedCode::RootRotationFailed,
            format!("the TMC offers more than {max_root_updates} new root versions at once"),
        ),
        TufError::VerifyMetadata { role, .. } => refused(
            FeedCode::ThresholdNotMet,
            format!(
                "the feed's {} metadata is not signed by enough of the keys the trusted root \
                 names ({})",
                role_name(*role),
                describe_source(err)
            ),
        ),
        TufError::VerifyTrustedMetadata { .. } | TufError::ParseTrustedMetadata { .. } => refused(
            FeedCode::TrustRootInvalid,
            format!("the trusted root metadata is not valid: {err}"),
        ),
        TufError::VersionMismatch {
            role,
            fetched,
            expected,
            ..
        } => refused(
            FeedCode::MetadataMismatch,
            format!(
                "the TMC served {} metadata version {fetched} where version {expected} was \
                 named: metadata of different versions cannot be mixed",
                role_name(*role)
            ),
        ),
        TufError::ParseMetadata { role, .. } => refused(
            FeedCode::MetadataInvalid,
            format!(
                "the feed's {} metadata is not valid: {err}",
                role_name(*role)
            ),
        ),
        TufError::DatastoreCreate { .. }
        | TufError::DatastoreOpen { .. }
        | TufError::DatastoreRemove { .. }
        | TufError::DatastoreSerialize { .. }
        | TufError::DatastoreInit { .. } => refused(
            FeedCode::StorageError,
            format!("the TUF cache cannot be written ({err}): free space in the data dir"),
        ),
        TufError::Transport { source, url, .. } => transport_error(source, url, base, timeout),
        other => refused(FeedCode::MetadataInvalid, other.to_string()),
    }
}

/// The innermost cause's words.
fn describe_source(err: &(dyn std::error::Error + 'static)) -> String {
    let mut cause: &(dyn std::error::Error + 'static) = err;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// A transport failure: the TMC could not be reached, or what it sent broke a limit or a hash.
fn transport_error(
    source: &TransportError,
    url: &reqwest::Url,
    base: &reqwest::Url,
    timeout: Duration,
) -> FeedError {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(source);
    while let Some(err) = cause {
        if let Some(tuf) = err.downcast_ref::<TufError>() {
            let is_target = url.path().contains(TARGETS_PATH);
            match tuf {
                TufError::HashMismatch { .. } if is_target => {
                    return FeedError::refused(
                        FeedCode::TargetHashMismatch,
                        format!("{url} does not have the SHA-256 its TUF target gives"),
                    );
                }
                TufError::HashMismatch { .. } => {
                    return FeedError::refused(
                        FeedCode::MetadataMismatch,
                        format!(
                            "{url} is not the metadata the role above it names (its SHA-256 \
                             differs): metadata of different versions cannot be mixed"
                        ),
                    );
                }
                TufError::MaxSizeExceeded { max_size, .. } if is_target => {
                    return FeedError::refused(
                        FeedCode::TargetHashMismatch,
                        format!("{url} is longer than the {max_size} bytes its TUF target gives"),
                    );
                }
                TufError::MaxSizeExceeded { max_size, .. } => {
                    return FeedError::refused(
                        FeedCode::MetadataTooLarge,
                        format!("{url} is larger than {max_size} bytes; it was not read further"),
                    );
                }
                _ => {}
            }
        }
        if let Some(http) = err.downcast_ref::<reqwest::Error>() {
            if let Some(why) = super::certificate_problem(http) {
                return FeedError {
                    kind: FeedErrorKind::CertificateInvalid,
                    code: FeedCode::CertificateInvalid,
                    message: format!(
                        "the TMC at {base} has a certificate this server does not trust ({why}): \
                         give its CA with --tmc-ca-file, or check the TMC address"
                    ),
                };
            }
            return FeedError {
                kind: FeedErrorKind::Unreachable,
                code: FeedCode::TmcUnreachable,
                message: if http.is_timeout() {
                    format!("the TMC did not answer within {} s", timeout.as_secs())
                } else if http.is_connect() {
                    format!("cannot connect to the TMC at {base}")
                } else {
                    format!("the connection to the TMC failed: {http}")
                },
            };
        }
        cause = err.source();
    }
    if source.kind() == TransportErrorKind::FileNotFound {
        return FeedError {
            kind: FeedErrorKind::Unreachable,
            code: FeedCode::TmcUnreachable,
            message: format!(
                "the TMC has no {url}: does it serve the TUF feed (format 2, `sms tmc serve \
                 --tuf`)?"
            ),
        };
    }
    FeedError {
        kind: FeedErrorKind::Unreachable,
        code: FeedCode::TmcUnreachable,
        message: format!("fetching {url} failed: {}", describe_source(source)),
    }
}
