//! `sms tmc serve`: a TMC that serves a folder of packages, as a TUF feed (format 2,
//! [`super::tuf_feed`]) and, with a format-1 key, as a signed catalog.
//!
//! The folder is looked at every [`RESCAN`]; when a package was added, removed or changed, a new
//! catalog is built and signed with a higher serial, and the feed signs a new state. Packages
//! are served with HTTP Range support.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::body::Body;
use axum::extract::{Path as UrlPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use tokio::sync::RwLock;
use tower::ServiceExt;
use tower_http::services::ServeFile;

use crate::package::catalog::{
    CATALOG_PATH, Catalog, CatalogEntry, FORMAT, PACKAGES_PATH, SIGNATURE_PATH,
};
use crate::package::ustar::{self, BLOCK, Header};
use crate::package::verify::MANIFEST_ENTRY;
use crate::package::{Manifest, PackageError, PackageSigner, RejectCode};
use crate::tools::tuf_feed::{FeedPublisher, TargetBody};

/// How often the folder is looked at.
pub const RESCAN: Duration = Duration::from_secs(2);
/// How long a catalog stays valid by default.
pub const DEFAULT_EXPIRY: Duration = Duration::from_secs(7 * 24 * 3600);
/// The largest manifest the TMC reads.
const MAX_MANIFEST: u64 = 1 << 20;

/// A signed catalog, ready to serve.
#[derive(Debug, Clone)]
pub struct Published {
    pub catalog: Catalog,
    pub json: Bytes,
    pub signature: Bytes,
}

/// What identifies a file's version without reading it.
type Fingerprint = (u64, Option<SystemTime>);

/// The TMC: a folder, its keys, and what it published last.
pub struct TmcServer {
    dir: PathBuf,
    /// The format-1 catalog's key; none: format 1 is not served.
    signer: Option<PackageSigner>,
    /// The TUF feed (format 2); none: not served.
    feed: Option<FeedPublisher>,
    expires_in: Duration,
    /// Serve packages at most this fast (bytes per second); none: as fast as possible.
    rate: Option<u64>,
    published: RwLock<Option<Published>>,
    /// Facts of the packages already read, by file name, with the fingerprint they were read at.
    known: RwLock<HashMap<String, (Fingerprint, Option<CatalogEntry>)>>,
}

impl TmcServer {
    pub fn new(dir: PathBuf, signer: PackageSigner, expires_in: Duration) -> Arc<Self> {
        Self::with_rate(dir, signer, expires_in, None)
    }

    /// Like [`TmcServer::new`], serving packages at most `rate` bytes per second (to watch
    /// download progress in a demo or a test).
    pub fn with_rate(
        dir: PathBuf,
        signer: PackageSigner,
        expires_in: Duration,
        rate: Option<u64>,
    ) -> Arc<Self> {
        Self::serving(dir, Some(signer), None, expires_in, rate)
    }

    /// A TMC serving the format-1 catalog when `signer` is given and the TUF feed when `feed`
    /// is.
    pub fn serving(
        dir: PathBuf,
        signer: Option<PackageSigner>,
        feed: Option<FeedPublisher>,
        expires_in: Duration,
        rate: Option<u64>,
    ) -> Arc<Self> {
        Arc::new(Self {
            dir,
            signer,
            feed,
            expires_in,
            rate,
            published: RwLock::new(None),
            known: RwLock::new(HashMap::new()),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The catalog being served.
    pub async fn published(&self) -> Option<Published> {
        self.published.read().await.clone()
    }

    /// The TUF feed, when served.
    pub fn feed(&self) -> Option<&FeedPublisher> {
        self.feed.as_ref()
    }

    /// Looks at the folder and publishes a new catalog when something changed, or when the
    /// current one is past half its validity. Returns whether it published.
    pub async fn refresh(&self) -> anyhow::Result<bool> {
        let listing = list_packages(&self.dir).await?;
        // Which files are new or changed; they are read without holding the lock, so that
        // package downloads go on while a large new file is hashed.
        let to_read: Vec<(String, Fingerprint)> = {
            let known = self.known.read().await;
            listing
                .iter()
                .filter(|(name, fingerprint)| {
                    known
                        .get(*name)
                        .is_none_or(|(seen, _)| seen != *fingerprint)
                })
                .map(|(name, fingerprint)| (name.clone(), *fingerprint))
                .collect()
        };
        let mut read = Vec::with_capacity(to_read.len());
        for (name, fingerprint) in to_read {
            let path = self.dir.join(&name);
            let url = format!("{PACKAGES_PATH}{name}");
            let entry =
                match tokio::task::spawn_blocking(move || describe_package(&path, url)).await? {
                    Ok(entry) => Some(entry),
                    Err(err) => {
                        tracing::warn!(file = %name, "not served: {err}");
                        None
                    }
                };
            read.push((name, fingerprint, entry));
        }
        let mut changed = !read.is_empty();
        {
            let mut known = self.known.write().await;
            let before = known.len();
            known.retain(|name, _| listing.contains_key(name));
            changed |= known.len() != before;
            for (name, fingerprint, entry) in read {
                known.insert(name, (fingerprint, entry));
            }
        }
        let now = Utc::now();
        let mut published = false;
        if let Some(feed) = &self.feed {
            let packages = self.served_packages().await;
            published |= feed.refresh(&self.dir, &packages, now).await?;
        }
        let Some(signer) = &self.signer else {
            return Ok(published);
        };
        let stale = match &*self.published.read().await {
            None => true,
            Some(p) => {
                let half = (p.catalog.expires_at - p.catalog.generated_at) / 2;
                now >= p.catalog.generated_at + half
            }
        };
        if !changed && !stale {
            return Ok(published);
        }
        self.publish(signer, now).await?;
        Ok(true)
    }

    /// The packages served: one file per patch, by file name.
    pub async fn served_packages(&self) -> Vec<(String, CatalogEntry)> {
        let mut patches: Vec<(String, CatalogEntry)> = Vec::new();
        let known = self.known.read().await;
        let mut names: Vec<&String> = known.keys().collect();
        names.sort();
        for name in names {
            let Some((_, Some(entry))) = known.get(name) else {
                continue;
            };
            if patches
                .iter()
                .any(|(_, p)| p.product_version == entry.product_version && p.patch == entry.patch)
            {
                tracing::warn!(
                    file = %name,
                    "not served: another file in the folder is the same patch"
                );
                continue;
            }
            patches.push((name.clone(), entry.clone()));
        }
        patches
    }

    async fn publish(&self, signer: &PackageSigner, now: DateTime<Utc>) -> anyhow::Result<()> {
        let mut patches: Vec<CatalogEntry> = self
            .served_packages()
            .await
            .into_iter()
            .map(|(_, entry)| entry)
            .collect();
        patches.sort_by_key(|p| std::cmp::Reverse((p.product_version, p.patch)));
        let mut published = self.published.write().await;
        let last = published.as_ref().map(|p| p.catalog.serial).unwrap_or(0);
        let serial = u64::try_from(now.timestamp()).unwrap_or(0).max(last + 1);
        let catalog = Catalog {
            format: FORMAT,
            serial,
            generated_at: now,
            expires_at: now + self.expires_in,
            key_id: signer.key_id.clone(),
            patches,
        };
        let json = serde_json::to_vec_pretty(&catalog)?;
        let signature = signer.sign(&json);
        tracing::info!(
            serial,
            patches = catalog.patches.len(),
            "published a new TMC catalog"
        );
        *published = Some(Published {
            catalog,
            json: Bytes::from(json),
            signature: Bytes::copy_from_slice(&signature),
        });
        Ok(())
    }

    /// The serial of the catalog served now.
    pub async fn published_serial(&self) -> Option<u64> {
        self.published
            .read()
            .await
            .as_ref()
            .map(|p| p.catalog.serial)
    }

    /// Refreshes every [`RESCAN`] until the task is dropped.
    pub async fn watch(self: Arc<Self>) {
        let mut ticker = tokio::time::interval(RESCAN);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            if let Err(err) = self.refresh().await {
                tracing::warn!("cannot read the TMC folder {}: {err:#}", self.dir.display());
            }
        }
    }

    /// The TMC's HTTP routes.
    pub fn router(self: Arc<Self>) -> Router {
        Router::new()
            .route(&format!("/{CATALOG_PATH}"), get(catalog_json))
            .route(&format!("/{SIGNATURE_PATH}"), get(catalog_sig))
            .route(&format!("/{PACKAGES_PATH}{{name}}"), get(package))
            .route("/v2/metadata/{name}", get(feed_metadata))
            .route("/v2/targets/{name}", get(feed_target))
            .fallback(|| async { (StatusCode::NOT_FOUND, "not found\n") })
            .with_state(self)
    }
}

async fn catalog_json(State(tmc): State<Arc<TmcServer>>) -> Response {
    match tmc.published().await {
        Some(p) => (
            [
                (header::CONTENT_TYPE, "application/json"),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            p.json,
        )
            .into_response(),
        None => not_ready(),
    }
}

async fn catalog_sig(State(tmc): State<Arc<TmcServer>>) -> Response {
    match tmc.published().await {
        Some(p) => (
            [
                (header::CONTENT_TYPE, "application/octet-stream"),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            p.signature,
        )
            .into_response(),
        None => not_ready(),
    }
}

fn not_ready() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::RETRY_AFTER, HeaderValue::from_static("2"))],
        "the catalog is being built; try again in a moment\n",
    )
        .into_response()
}

/// A metadata file of the TUF feed.
async fn feed_metadata(
    State(tmc): State<Arc<TmcServer>>,
    UrlPath(name): UrlPath<String>,
) -> Response {
    let Some(feed) = tmc.feed() else {
        return (StatusCode::NOT_FOUND, "this TMC serves no TUF feed\n").into_response();
    };
    match feed.published().await {
        None => not_ready(),
        Some(published) => match published.metadata(&name) {
            Some(bytes) => (
                [
                    (header::CONTENT_TYPE, "application/json"),
                    (header::CACHE_CONTROL, "no-cache"),
                ],
                bytes,
            )
                .into_response(),
            None => (StatusCode::NOT_FOUND, "no such metadata\n").into_response(),
        },
    }
}

/// A target of the TUF feed (`<sha256>.<name>`): the catalog, or a package with Range support.
async fn feed_target(
    State(tmc): State<Arc<TmcServer>>,
    UrlPath(name): UrlPath<String>,
    request: Request,
) -> Response {
    let body = match tmc.feed() {
        Some(feed) => feed
            .published()
            .await
            .and_then(|p| p.targets.get(&name).cloned()),
        None => None,
    };
    match body {
        None => (StatusCode::NOT_FOUND, "no such target\n").into_response(),
        Some(TargetBody::Memory(bytes)) => {
            ([(header::CONTENT_TYPE, "application/octet-stream")], bytes).into_response()
        }
        Some(TargetBody::File(path)) => serve_file(&tmc, &path, request).await,
    }
}

/// Serves a package of the catalog, with Range support.
async fn package(
    State(tmc): State<Arc<TmcServer>>,
    UrlPath(name): UrlPath<String>,
    request: Request,
) -> Response {
    let served = tmc
        .known
        .read()
        .await
        .get(&name)
        .is_some_and(|(_, entry)| entry.is_some());
    if !served {
        return (StatusCode::NOT_FOUND, "no such package\n").into_response();
    }
    serve_file(&tmc, &tmc.dir.join(&name), request).await
}

/// Serves a package file, with Range support, throttled when the TMC is.
async fn serve_file(tmc: &TmcServer, path: &Path, request: Request) -> Response {
    if let Some(rate) = tmc.rate {
        return throttled(path, rate, request.headers()).await;
    }
    // `.pkg` has no registered type, so it is served as application/octet-stream.
    let file = ServeFile::new(path);
    match file.oneshot(request).await {
        Ok(response) => response.map(Body::new),
        Err(err) => (StatusCode::INTERNAL_SERVER_ERROR, format!("{err}\n")).into_response(),
    }
}

/// Serves `path` at most `rate` bytes per second, honouring `Range: bytes=N-`.
async fn throttled(path: &Path, rate: u64, headers: &axum::http::HeaderMap) -> Response {
    use tokio::io::{AsyncReadExt, AsyncSeekExt};
    let mut file = match tokio::fs::File::open(path).await {
        Ok(file) => file,
        Err(err) => return (StatusCode::NOT_FOUND, format!("{err}\n")).into_response(),
    };
    let len = match file.metadata().await {
        Ok(meta) => meta.len(),
        Err(err) => return (StatusCode::INTERNAL_SERVER_ERROR, format!("{err}\n")).into_response(),
    };
    let start = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("bytes="))
        .and_then(|v| v.strip_suffix('-'))
        .and_then(|v| v.parse::<u64>().ok());
    if let Some(start) = start
        && start >= len
    {
        return (
            StatusCode::RANGE_NOT_SATISFIABLE,
            [(header::CONTENT_RANGE, format!("bytes */{len}"))],
        )
            .into_response();
    }
    let from = start.unwrap_or(0);
    if let Err(err) = file.seek(std::io::SeekFrom::Start(from)).await {
        return (StatusCode::INTERNAL_SERVER_ERROR, format!("{err}\n")).into_response();
    }
    // A tenth of a second's worth per piece.
    let piece = usize::try_from((rate / 10).max(1024)).unwrap_or(1 << 20);
    let body =
        futures_util::stream::unfold((file, len - from), move |(mut file, left)| async move {
            if left == 0 {
                return None;
            }
            let mut buffer = vec![0u8; piece.min(usize::try_from(left).unwrap_or(piece))];
            match file.read(&mut buffer).await {
                Ok(0) => None,
                Ok(n) => {
                    buffer.truncate(n);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    Some((
                        Ok::<_, std::io::Error>(Bytes::from(buffer)),
                        (file, left - n as u64),
                    ))
                }
                Err(err) => Some((Err(err), (file, 0))),
            }
        });
    let mut response = Response::builder()
        .header(header::CONTENT_TYPE, "application/octet-stream")
        .header(header::CONTENT_LENGTH, len - from)
        .header(header::ACCEPT_RANGES, "bytes");
    if start.is_some() {
        response = response.status(StatusCode::PARTIAL_CONTENT).header(
            header::CONTENT_RANGE,
            format!("bytes {from}-{}/{len}", len - 1),
        );
    }
    response
        .body(Body::from_stream(body))
        .unwrap_or_else(|err| {
            (StatusCode::INTERNAL_SERVER_ERROR, format!("{err}\n")).into_response()
        })
}

/// The `*.pkg` files directly in `dir`, with their fingerprints.
async fn list_packages(dir: &Path) -> std::io::Result<HashMap<String, Fingerprint>> {
    let mut out = HashMap::new();
    let mut entries = tokio::fs::read_dir(dir).await?;
    while let Some(entry) = entries.next_entry().await? {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.ends_with(".pkg") || name.starts_with('.') {
            continue;
        }
        let meta = entry.metadata().await?;
        if meta.is_file() {
            out.insert(name, (meta.len(), meta.modified().ok()));
        }
    }
    Ok(out)
}

/// Reads a package's manifest (its first entry) and hashes the whole file.
pub fn describe_package(path: &Path, url: String) -> anyhow::Result<CatalogEntry> {
    let mut file = std::fs::File::open(path)?;
    let manifest = read_manifest(&mut file)?;
    drop(file);
    let (size, sha256) = hash_file(path)?;
    Ok(CatalogEntry::from_manifest(&manifest, size, sha256, url))
}

/// The manifest of a package, read from the start of `reader` (the signature is not checked:
/// the TMC lists what it serves; every SMS server verifies what it downloads).
pub fn read_manifest(reader: &mut impl Read) -> Result<Manifest, PackageError> {
    let mut block = [0u8; BLOCK];
    reader.read_exact(&mut block).map_err(|_| {
        PackageError::new(
            RejectCode::NotAPackage,
            "the file is shorter than a tar header",
        )
    })?;
    let size = match ustar::parse_header(&block, 0)? {
        Header::File { name, size } if name == MANIFEST_ENTRY => size,
        _ => {
            return Err(PackageError::new(
                RejectCode::MissingEntry,
                "the first entry is not manifest.json",
            ));
        }
    };
    if size > MAX_MANIFEST {
        return Err(PackageError::new(
            RejectCode::TooLarge,
            "manifest.json is larger than 1 MiB",
        ));
    }
    let mut bytes = vec![0u8; size as usize];
    reader.read_exact(&mut bytes).map_err(|_| {
        PackageError::new(RejectCode::Truncated, "the file ends inside manifest.json")
    })?;
    Manifest::parse(&bytes)
}

/// Size and lowercase hex SHA-256 of a file, read in 1 MiB pieces.
pub fn hash_file(path: &Path) -> std::io::Result<(u64, String)> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
        size += n as u64;
    }
    Ok((size, hex::encode(hasher.finalize())))
}
