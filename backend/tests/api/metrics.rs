//! `GET /metrics`, read by a real Prometheus parser (prometheus-client's OpenMetrics parser, in
//! target/test-venv): every series of docs/metrics.md is there, and the counters move as an
//! install runs. Without a token only loopback reads them; with one, only its bearer.

use std::collections::HashMap;
use std::time::Duration;

use backend::config::Config;
use testkit::{TestApp, Vendor, assert_error, spawn_app_with};

use crate::notifications::test_python;

/// The parser's view: for each sample name, its (labels, value) pairs.
type Samples = HashMap<String, Vec<(HashMap<String, String>, f64)>>;

const PARSE: &str = r#"
import json, sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
out = {}
for family in text_string_to_metric_families(sys.stdin.read()):
    for sample in family.samples:
        out.setdefault(sample.name, []).append([sample.labels, sample.value])
print(json.dumps(out))
"#;

async fn scrape(app: &TestApp) -> (String, Samples) {
    let answer = app.get("/metrics").await;
    assert_eq!(answer.status(), 200);
    assert!(
        answer.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text"),
    );
    let text = answer.text().await.unwrap();
    let mut parser = tokio::process::Command::new(test_python())
        .args(["-c", PARSE])
        .kill_on_drop(true)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use tokio::io::AsyncWriteExt;
    let mut stdin = parser.stdin.take().unwrap();
    stdin.write_all(text.as_bytes()).await.unwrap();
    drop(stdin);
    let out = parser.wait_with_output().await.unwrap();
    assert!(
        out.status.success(),
        "the Prometheus parser refused the metrics: {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    let parsed: Samples = serde_json::from_slice(&out.stdout).unwrap();
    (text, parsed)
}

fn value(samples: &Samples, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    samples.get(name)?.iter().find_map(|(have, value)| {
        labels
            .iter()
            .all(|(k, v)| have.get(*k).map(String::as_str) == Some(*v))
            .then_some(*value)
    })
}

#[tokio::test]
async fn the_metrics_parse_and_move_as_an_install_runs() {
    let vendor = Vendor::new();
    let app = spawn_app_with(|config: &mut Config| {
        vendor.trust(config);
        config.system.reboot_window = Duration::from_millis(400);
    })
    .await;
    app.login_admin().await;
    let (_, before) = scrape(&app).await;
    // Every series of docs/metrics.md is there (those with labels once they have a sample).
    for name in [
        "sms_tmc_syncs_total",
        "sms_tmc_sync_failures_total",
        "sms_tmc_last_success_timestamp_seconds",
        "sms_download_bytes_total",
        "sms_event_streams_open",
        "sms_installed_patch_level",
        "sms_newer_patch_available",
        "sms_notification_outbox_pending",
        "sms_scheduled_jobs",
        "sms_http_requests_total",
        "sms_http_request_duration_seconds_bucket",
    ] {
        assert!(before.contains_key(name), "{name} in {before:?}");
    }
    assert_eq!(value(&before, "sms_installed_patch_level", &[]), Some(0.0));
    assert_eq!(
        value(&before, "sms_jobs_total", &[("kind", "install")]),
        None
    );

    let events = app.events().await;
    app.import_file(&vendor.package(3).write()).await;
    let (_, streaming) = scrape(&app).await;
    assert_eq!(value(&streaming, "sms_event_streams_open", &[]), Some(1.0));
    assert_eq!(
        value(&streaming, "sms_newer_patch_available", &[]),
        Some(1.0)
    );
    drop(events);

    let job = testkit::api::started_job(app.install("6.4.0.3").await).await;
    let done = app.wait_for_job(job["id"].as_i64().unwrap()).await;
    assert_eq!(done["state"], "succeeded");
    let (text, after) = scrape(&app).await;
    assert_eq!(
        value(
            &after,
            "sms_jobs_total",
            &[("kind", "install"), ("outcome", "succeeded")]
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        value(
            &after,
            "sms_job_duration_seconds_count",
            &[("kind", "install")]
        ),
        Some(1.0)
    );
    assert_eq!(value(&after, "sms_installed_patch_level", &[]), Some(3.0));
    assert_eq!(value(&after, "sms_newer_patch_available", &[]), Some(0.0));
    assert_eq!(value(&after, "sms_event_streams_open", &[]), Some(0.0));
    // Requests are counted by route, not by path.
    assert_eq!(
        value(
            &after,
            "sms_http_requests_total",
            &[
                ("route", "/api/v1/patches/{id}/install"),
                ("method", "POST"),
                ("status", "202")
            ]
        ),
        Some(1.0),
        "{text}"
    );
    let polled = value(
        &after,
        "sms_http_requests_total",
        &[
            ("route", "/api/v1/jobs/{id}"),
            ("method", "GET"),
            ("status", "200"),
        ],
    )
    .unwrap_or(0.0);
    assert!(polled >= 1.0, "{text}");
    assert!(!text.contains("6.4.0.3/install"), "no path makes a series");
}

#[tokio::test]
async fn with_a_token_only_its_bearer_reads_the_metrics() {
    let app = spawn_app_with(|config: &mut Config| {
        config.metrics.token = Some("a-long-scrape-token-0123".into());
    })
    .await;
    assert_error(app.get("/metrics").await, 401, "metrics_token_required").await;
    let wrong = app
        .request(reqwest::Method::GET, "/metrics")
        .bearer_auth("a-long-scrape-token-0124")
        .send()
        .await
        .unwrap();
    assert_error(wrong, 401, "metrics_token_required").await;
    let right = app
        .request(reqwest::Method::GET, "/metrics")
        .bearer_auth("a-long-scrape-token-0123")
        .send()
        .await
        .unwrap();
    assert_eq!(right.status(), 200);
    let text = right.text().await.unwrap();
    assert!(text.ends_with("# EOF\n"), "{text}");
}
