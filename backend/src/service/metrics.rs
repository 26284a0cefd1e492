//! The server's Prometheus metrics (`GET /metrics`, docs/metrics.md): what the HTTP layer, the
//! jobs, the TMC sync and the event streams record, and the gauges read when scraped.
//! Cheap to clone; one set per process, so counters carry over in-process restarts.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};
use shared::panel::{JobInfo, JobKind};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    method: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
    method: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct JobLabels {
    kind: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: String,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

fn latency_buckets() -> Histogram {
    // 1 ms to about 16 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

fn job_buckets() -> Histogram {
    // 1 s to about 68 min.
    Histogram::new(exponential_buckets(1.0, 2.0, 13))
}

/// The metrics, recorded by the layers that see what happens.
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    requests: Family<RequestLabels, Counter>,
    latency: Histograms<RouteLabels>,
    jobs: Family<JobLabels, Counter>,
    job_duration: Histograms<KindLabels>,
    tmc_syncs: Counter,
    tmc_failures: Counter,
    tmc_last_success: Gauge<f64, AtomicU64>,
    download_bytes: Counter,
    event_streams: Gauge,
    installed_level: Gauge,
    newer_patch: Gauge,
    outbox_pending: Gauge,
    scheduled_jobs: Gauge,
    data_dir_free: Gauge,
    data_dir_size: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("sms");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by route, method and status",
            requests.clone(),
        );
        let latency: Histograms<RouteLabels> =
            Family::new_with_constructor(latency_buckets as fn() -> Histogram);
        registry.register_with_unit(
            "http_request_duration",
            "Time to answer an HTTP request (to the response head), by route and method",
            Unit::Seconds,
            latency.clone(),
        );
        let jobs = Family::<JobLabels, Counter>::default();
        registry.register(
            "jobs",
            "Jobs ended, by kind (download, install, rollback) and outcome (succeeded, failed, cancelled)",
            jobs.clone(),
        );
        let job_duration: Histograms<KindLabels> =
            Family::new_with_constructor(job_buckets as fn() -> Histogram);
        registry.register_with_unit(
            "job_duration",
            "How long jobs ran, from start to end, by kind",
            Unit::Seconds,
            job_duration.clone(),
        );
        let tmc_syncs = Counter::default();
        registry.register(
            "tmc_syncs",
            "TMC checks ended, well or not",
            tmc_syncs.clone(),
        );
        let tmc_failures = Counter::default();
        registry.register(
            "tmc_sync_failures",
            "TMC checks that failed (unreachable, certificate, invalid catalog)",
            tmc_failures.clone(),
        );
        let tmc_last_success = Gauge::<f64, AtomicU64>::default();
        registry.register_with_unit(
            "tmc_last_success_timestamp",
            "When a TMC check last succeeded, in Unix time (0: never since the start)",
            Unit::Seconds,
            tmc_last_success.clone(),
        );
        let download_bytes = Counter::default();
        registry.register_with_unit(
            "download",
            "Bytes of patch packages downloaded from the TMC",
            Unit::Bytes,
            download_bytes.clone(),
        );
        let event_streams = Gauge::default();
        registry.register(
            "event_streams_open",
            "Live event streams (open browser windows) now",
            event_streams.clone(),
        );
        let installed_level = Gauge::default();
        registry.register(
            "installed_patch_level",
            "The patch level installed (0: the base release)",
            installed_level.clone(),
        );
        let newer_patch = Gauge::default();
        registry.register(
            "newer_patch_available",
            "1 when a patch newer than the installed level is known, else 0",
            newer_patch.clone(),
        );
        let outbox_pending = Gauge::default();
        registry.register(
            "notification_outbox_pending",
            "Notification deliveries waiting to be sent or retried",
            outbox_pending.clone(),
        );
        let scheduled_jobs = Gauge::default();
        registry.register(
            "scheduled_jobs",
            "Installs and rollbacks scheduled and waiting for their time",
            scheduled_jobs.clone(),
        );
        let data_dir_free = Gauge::default();
        registry.register_with_unit(
            "data_dir_free",
            "Free space in the data dir's file system (what the server may still use)",
            Unit::Bytes,
            data_dir_free.clone(),
        );
        let data_dir_size = Gauge::default();
        registry.register_with_unit(
            "data_dir_size",
            "Size of the data dir's file system",
            Unit::Bytes,
            data_dir_size.clone(),
        );
        Self {
            registry: Arc::new(registry),
            requests,
            latency,
            jobs,
            job_duration,
            tmc_syncs,
            tmc_failures,
            tmc_last_success,
            download_bytes,
            event_streams,
            installed_level,
            newer_patch,
            outbox_pending,
            scheduled_jobs,
            data_dir_free,
            data_dir_size,
        }
    }

    /// One HTTP answer: `route` is the matched route's pattern (not the path, so ids do not
    /// make new series), or `unmatched`.
    pub fn request(&self, route: &str, method: &str, status: u16, took: Duration) {
        self.requests
            .get_or_create(&RequestLabels {
                route: route.to_owned(),
                method: method.to_owned(),
                status: status.to_string(),
            })
            .inc();
        self.latency
            .get_or_create(&RouteLabels {
                route: route.to_owned(),
                method: method.to_owned(),
            })
            .observe(took.as_secs_f64());
    }

    /// A job ended.
    pub fn job_ended(&self, job: &JobInfo) {
        self.jobs
            .get_or_create(&JobLabels {
                kind: job.kind.as_str().to_owned(),
                outcome: job.state.as_str().to_owned(),
            })
            .inc();
        if let Some(finished) = job.finished_at {
            let seconds = (finished - job.started_at).num_milliseconds().max(0) as f64 / 1000.0;
            self.job_duration
                .get_or_create(&KindLabels {
                    kind: job.kind.as_str().to_owned(),
                })
                .observe(seconds);
        }
        if job.kind == JobKind::Download {
            self.download_bytes.inc_by(job.done_bytes);
        }
    }

    /// A TMC check ended; `success` holds its time when it succeeded.
    pub fn tmc_checked(&self, success: Option<chrono::DateTime<chrono::Utc>>) {
        self.tmc_syncs.inc();
        match success {
            Some(at) => {
                self.tmc_last_success
                    .set(at.timestamp_millis() as f64 / 1000.0);
            }
            None => {
                self.tmc_failures.inc();
            }
        }
    }

    /// An event stream opened; it counts as open until the guard is dropped.
    pub fn stream_opened(&self) -> StreamGuard {
        self.event_streams.inc();
        StreamGuard {
            gauge: self.event_streams.clone(),
        }
    }

    /// The text exposition, after setting the gauges read at scrape time.
    pub fn encode(&self, now: Scraped) -> Result<String, std::fmt::Error> {
        self.installed_level.set(i64::from(now.installed_level));
        self.newer_patch.set(i64::from(now.newer_patch));
        self.outbox_pending
            .set(i64::try_from(now.outbox_pending).unwrap_or(i64::MAX));
        self.scheduled_jobs.set(i64::from(now.scheduled));
        if let Some((free, size)) = now.data_dir {
            self.data_dir_free
                .set(i64::try_from(free).unwrap_or(i64::MAX));
            self.data_dir_size
                .set(i64::try_from(size).unwrap_or(i64::MAX));
        }
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)?;
        Ok(text)
    }
}

/// What is read at scrape time.
#[derive(Debug, Clone, Copy, Default)]
pub struct Scraped {
    pub installed_level: u32,
    pub newer_patch: bool,
    pub outbox_pending: u64,
    pub scheduled: bool,
    /// The data dir's free and total bytes, when they could be read.
    pub data_dir: Option<(u64, u64)>,
}

/// Keeps an event stream counted as open.
pub struct StreamGuard {
    gauge: Gauge,
}

impl Drop for StreamGuard {
    fn drop(&mut self) {
        self.gauge.dec();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exposition_names_every_series() {
        let metrics = Metrics::new();
        metrics.request("/api/v1/jobs/{id}", "GET", 200, Duration::from_millis(3));
        metrics.tmc_checked(None);
        let guard = metrics.stream_opened();
        let text = metrics
            .encode(Scraped {
                installed_level: 4,
                newer_patch: true,
                outbox_pending: 2,
                scheduled: false,
                data_dir: Some((5 << 30, 50 << 30)),
            })
            .unwrap();
        for line in [
            "sms_http_requests_total{route=\"/api/v1/jobs/{id}\",method=\"GET\",status=\"200\"} 1",
            "sms_tmc_sync_failures_total 1",
            "sms_event_streams_open 1",
            "sms_installed_patch_level 4",
            "sms_newer_patch_available 1",
            "sms_notification_outbox_pending 2",
            "sms_data_dir_free_bytes 5368709120",
            "sms_data_dir_size_bytes 53687091200",
            "# TYPE sms_http_request_duration_seconds histogram",
        ] {
            assert!(text.contains(line), "{line} in:\n{text}");
        }
        drop(guard);
        let text = metrics.encode(Scraped::default()).unwrap();
        assert!(text.contains("sms_event_streams_open 0"), "{text}");
    }
}
