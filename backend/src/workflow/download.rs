//! Downloading a patch from the TMC into the patch repository, as a job.
//!
//! The package streams through the same verifier as an import, and must also have the size and
//! SHA-256 the catalog gave. A connection that breaks is resumed with an HTTP Range request; a
//! failed or cancelled download leaves nothing in the repository.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::Stream;
use shared::api::{ErrorBody, PatchSource};
use shared::panel::{JobInfo, JobKind, ServerEvent};
use shared::{PatchId, PatchLevel};

use crate::package::verify::InstalledLevel;
use crate::service::ServiceError;
use crate::service::backoff::Backoff;
use crate::service::events::Events;
use crate::service::jobs::{JobHandle, Jobs};
use crate::service::repository::{Expected, ImportContext, ImportError, PatchRepository};
use crate::service::tmc::{TmcSync, row_id};
use crate::storage::entity::tmc_patch;
use crate::storage::space::{self, Purpose, Shortfall, Space};

/// Attempts per download (the first request and the resumes after a broken connection).
const ATTEMPTS: u32 = 5;

/// The wait before each resume: 0.5 s, doubling, at most 8 s.
const RESUME_BACKOFF: Backoff = Backoff {
    first: Duration::from_millis(500),
    max: Duration::from_secs(8),
};

/// Why a download cannot start.
#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    #[error("the TMC catalog has no patch {0}; press Check now to refresh it")]
    NotInCatalog(PatchId),
    #[error("{0} is already in the patch repository")]
    AlreadyDownloaded(String),
    #[error("{0} is being downloaded already (job {1})")]
    Running(PatchId, i64),
    #[error("no TMC is configured (start the server with --tmc-url)")]
    NoTmc,
    /// The data dir has no room for the package the catalog describes.
    #[error(transparent)]
    NoRoom(#[from] Shortfall),
    #[error(transparent)]
    Service(#[from] crate::service::ServiceError),
}

/// Everything a download needs.
#[derive(Clone)]
pub struct Downloader {
    pub tmc: Arc<TmcSync>,
    pub repository: PatchRepository,
    pub jobs: Jobs,
    pub events: Events,
}

impl Downloader {
    /// Starts downloading `id`; the job runs on after this returns.
    pub async fn start(
        &self,
        id: PatchId,
        installed: InstalledLevel,
        actor: &str,
        source: Option<String>,
    ) -> Result<JobInfo, DownloadError> {
        if !self.tmc.is_configured() {
            return Err(DownloadError::NoTmc);
        }
        let entry = self
            .tmc
            .catalog()
            .await?
            .into_iter()
            .find(|row| row_id(row) == Some(id))
            .ok_or(DownloadError::NotInCatalog(id))?;
        if let Some(existing) = self.repository.find(id).await? {
            return Err(DownloadError::AlreadyDownloaded(existing.display_name));
        }
        if let Some(job) = self
            .jobs
            .running()
            .await
            .into_iter()
            .find(|job| job.kind == JobKind::Download && job.patch == Some(id))
        {
            return Err(DownloadError::Running(id, job.id));
        }
        let size = u64::try_from(entry.size).unwrap_or(0);
        self.repository.ensure_room(size, Purpose::Download).await?;
        let (info, handle) = self
            .jobs
            .start(JobKind::Download, Some(id), size, actor)
            .await?;
        let this = self.clone();
        let actor = actor.to_owned();
        // A package of the TUF feed must be its target; one of a format-1 catalog, its entry.
        let listed_by = if entry
            .url
            .starts_with(crate::service::tmc::feed::TARGETS_PATH)
        {
            Listing::TufTarget
        } else {
            Listing::Catalog
        };
        tokio::spawn(async move {
            let outcome = this
                .run(&entry, installed, &handle, actor, source)
                .await
                .map_err(|err| error_body(&err, handle.is_cancelled(), listed_by));
            let succeeded = outcome.is_ok();
            if let Err(err) = handle.finish(outcome).await {
                tracing::error!(
                    job = handle.id,
                    "cannot record the download's outcome: {err}"
                );
            }
            if succeeded {
                this.events.publish(ServerEvent::PatchesChanged);
            }
        });
        Ok(info)
    }

    async fn run(
        &self,
        entry: &tmc_patch::Model,
        installed: InstalledLevel,
        handle: &JobHandle,
        actor: String,
        source: Option<String>,
    ) -> Result<(), ImportError> {
        let url = self
            .tmc
            .package_url(&entry.url)
            .map_err(|err| ImportError::Interrupted(err.to_string()))?;
        let size = u64::try_from(entry.size).unwrap_or(0);
        let file_name = url
            .path_segments()
            .and_then(|mut s| s.next_back())
            .map(str::to_owned);
        let context = ImportContext {
            actor,
            source,
            file_name,
            origin: PatchSource::Tmc,
            expected: Some(Expected {
                size,
                sha256: entry.sha256.clone(),
            }),
        };
        let stream = resumable(
            self.tmc.http().clone(),
            url,
            size,
            self.tmc.timeout(),
            handle.clone(),
        );
        match self
            .repository
            .import(Box::pin(stream), installed, context)
            .await
        {
            Ok(_) => Ok(()),
            Err(err) if is_full(&err) => Err(self.shortfall(size).await.map_or(err, Into::into)),
            Err(err) => Err(err),
        }
    }

    /// Why a download of `size` bytes that found the disk full stopped, with the figures.
    async fn shortfall(&self, size: u64) -> Option<Shortfall> {
        let dir = self.repository.data_dir();
        let space = Space::read(dir).await.ok()?;
        Some(Shortfall {
            dir: dir.to_owned(),
            free: space.free,
            needed: size.saturating_add(space::MARGIN),
            purpose: Purpose::Download,
        })
    }
}

/// Whether an import stopped because the disk or the database is full.
fn is_full(err: &ImportError) -> bool {
    match err {
        ImportError::Io(io) => space::io_is_full(io),
        ImportError::Service(ServiceError::Db(db)) => space::db_is_full(db).is_some(),
        ImportError::NoRoom(_) => true,
        _ => false,
    }
}

/// The installed level as the verifier wants it.
pub fn installed_level(
    product_version: shared::ProductVersion,
    patch_level: PatchLevel,
) -> InstalledLevel {
    InstalledLevel {
        product_version,
        patch_level,
    }
}

/// What listed a downloaded package's size and hash.
#[derive(Debug, Clone, Copy)]
enum Listing {
    Catalog,
    TufTarget,
}

fn error_body(err: &ImportError, cancelled: bool, listed_by: Listing) -> ErrorBody {
    if cancelled {
        return ErrorBody {
            code: "cancelled".into(),
            message: "The download was cancelled; nothing was kept.".into(),
        };
    }
    let (code, message) = match err {
        ImportError::Rejected(rejection) => (rejection.code.as_str().to_owned(), err.to_string()),
        ImportError::Exists(_) => ("already_in_repository".to_owned(), err.to_string()),
        ImportError::Mismatch(_) => match listed_by {
            Listing::Catalog => ("catalog_mismatch".to_owned(), err.to_string()),
            Listing::TufTarget => ("target_hash_mismatch".to_owned(), err.to_string()),
        },
        ImportError::Interrupted(_) => ("download_failed".to_owned(), err.to_string()),
        ImportError::NoRoom(_) => ("insufficient_storage".to_owned(), err.to_string()),
        ImportError::Service(_) | ImportError::Io(_) => {
            ("repository_error".to_owned(), err.to_string())
        }
    };
    ErrorBody { code, message }
}

struct Resume {
    http: reqwest::Client,
    url: reqwest::Url,
    size: u64,
    timeout: Duration,
    offset: u64,
    attempts: u32,
    response: Option<reqwest::Response>,
    job: JobHandle,
    done: bool,
}

/// The package's bytes; a broken connection is resumed with `Range: bytes=<offset>-`.
fn resumable(
    http: reqwest::Client,
    url: reqwest::Url,
    size: u64,
    timeout: Duration,
    job: JobHandle,
) -> impl Stream<Item = Result<Bytes, String>> {
    let state = Resume {
        http,
        url,
        size,
        timeout,
        offset: 0,
        attempts: 0,
        response: None,
        job,
        done: false,
    };
    futures_util::stream::unfold(state, |mut st| async move {
        if st.done {
            return None;
        }
        loop {
            if st.job.is_cancelled() {
                st.done = true;
                return Some((Err("the download was cancelled".to_owned()), st));
            }
            let err = match next_piece(&mut st).await {
                Ok(Some(chunk)) => return Some((Ok(chunk), st)),
                Ok(None) => return None,
                Err(Failure::Final(err)) => err,
                Err(Failure::Retry(err)) => match retry(&mut st, err).await {
                    Ok(()) => continue,
                    Err(err) => err,
                },
            };
            st.done = true;
            return Some((Err(err), st));
        }
    })
}

/// Why an attempt failed, and whether another attempt may help.
enum Failure {
    Retry(String),
    Final(String),
}

/// The next bytes of the package (`None`: all of them arrived), requesting them when needed.
async fn next_piece(st: &mut Resume) -> Result<Option<Bytes>, Failure> {
    let mut response = match st.response.take() {
        Some(response) => response,
        None => request(st).await?,
    };
    match tokio::time::timeout(st.timeout, response.chunk()).await {
        Ok(Ok(Some(chunk))) => {
            st.offset += chunk.len() as u64;
            st.job.progress(st.offset).await;
            st.response = Some(response);
            Ok(Some(chunk))
        }
        Ok(Ok(None)) if st.offset >= st.size => Ok(None),
        Ok(Ok(None)) => Err(Failure::Retry(format!(
            "the connection ended after {} of {} bytes",
            st.offset, st.size
        ))),
        Ok(Err(err)) => Err(Failure::Retry(format!("the connection broke: {err}"))),
        Err(_) => Err(Failure::Retry(format!(
            "the TMC sent nothing for {} s",
            st.timeout.as_secs()
        ))),
    }
}

/// One GET, from `st.offset` on.
async fn request(st: &Resume) -> Result<reqwest::Response, Failure> {
    let mut request = st.http.get(st.url.clone());
    if st.offset > 0 {
        request = request.header(reqwest::header::RANGE, format!("bytes={}-", st.offset));
    }
    let response = tokio::time::timeout(st.timeout, request.send())
        .await
        .map_err(|_| {
            Failure::Retry(format!(
                "the TMC did not answer within {} s",
                st.timeout.as_secs()
            ))
        })?
        .map_err(|err| Failure::Retry(format!("cannot reach the TMC: {err}")))?;
    let status = response.status();
    // 206 Partial Content: the TMC resumes at the byte asked for.
    if st.offset > 0 && status.as_u16() == 206 {
        let range = response
            .headers()
            .get(reqwest::header::CONTENT_RANGE)
            .and_then(|value| value.to_str().ok());
        if let Some(problem) = content_range_problem(range, st.offset, st.size) {
            // Bytes from elsewhere in the file cannot be fed on: start again.
            return Err(Failure::Final(format!(
                "the TMC resumed the download wrongly: {problem}; start the download again"
            )));
        }
        return Ok(response);
    }
    if st.offset > 0 && status.is_success() {
        // The whole file again: the bytes already verified cannot be fed twice.
        return Err(Failure::Final(format!(
            "the TMC cannot resume the download at byte {} (no Range support); start it again",
            st.offset
        )));
    }
    if status.is_success() {
        return Ok(response);
    }
    Err(Failure::Retry(format!(
        "the TMC answered {status} for {}",
        st.url
    )))
}

/// What is wrong with the `Content-Range` of a resumed answer, which must be
/// `bytes <offset>-<size - 1>/<size>` (or `/*`): the rest of the package, from where the
/// download stopped.
fn content_range_problem(value: Option<&str>, offset: u64, size: u64) -> Option<String> {
    let Some(value) = value else {
        return Some("its answer has no Content-Range".into());
    };
    let wanted = format!("bytes {offset}-{}/{size}", size.saturating_sub(1));
    let parsed = value
        .trim()
        .strip_prefix("bytes ")
        .and_then(|range| range.split_once('/'))
        .and_then(|(span, total)| {
            let (first, last) = span.split_once('-')?;
            let total = match total {
                "*" => None,
                total => Some(total.parse::<u64>().ok()?),
            };
            Some((first.parse::<u64>().ok()?, last.parse::<u64>().ok()?, total))
        });
    match parsed {
        Some((first, last, total))
            if first == offset && last + 1 == size && total.is_none_or(|total| total == size) =>
        {
            None
        }
        _ => Some(format!("it sent `Content-Range: {value}`, not `{wanted}`")),
    }
}

/// Waits before the next attempt, or gives up after [`ATTEMPTS`].
async fn retry(st: &mut Resume, err: String) -> Result<(), String> {
    st.attempts += 1;
    if st.attempts >= ATTEMPTS {
        return Err(format!("{err} (gave up after {} attempts)", st.attempts));
    }
    tracing::warn!(
        url = %st.url,
        offset = st.offset,
        attempt = st.attempts,
        "download interrupted, resuming: {err}"
    );
    let wait = RESUME_BACKOFF.delay(st.attempts);
    tokio::time::sleep(wait).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::content_range_problem;

    #[test]
    fn a_resumed_answer_must_hold_the_rest_of_the_package() {
        assert_eq!(
            content_range_problem(Some("bytes 100-999/1000"), 100, 1000),
            None
        );
        assert_eq!(
            content_range_problem(Some("bytes 100-999/*"), 100, 1000),
            None
        );
        for wrong in [
            "bytes 0-999/1000",
            "bytes 101-999/1000",
            "bytes 100-998/1000",
            "bytes 100-999/2000",
            "bytes 100-999",
            "items 100-999/1000",
            "bytes x-999/1000",
        ] {
            let problem = content_range_problem(Some(wrong), 100, 1000)
                .unwrap_or_else(|| panic!("{wrong} accepted"));
            assert!(problem.contains("bytes 100-999/1000"), "{problem}");
        }
        assert!(content_range_problem(None, 100, 1000).is_some());
    }
}
