//! The TMC link against real TMCs on loopback: `TmcServer` (what `sms tmc serve` runs) and, for
//! the failure cases, a TMC whose answers each test sets (still real HTTP, real signatures).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use backend::package::PackageSigner;
use backend::package::catalog::{Catalog, CatalogEntry, FORMAT};
use backend::storage::entity::patch;
use backend::tools::tmc_server::{TmcServer, describe_package};
use bytes::Bytes;
use chrono::Utc;
use futures_util::StreamExt;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::Value;
use testkit::{ADMIN_PASSWORD, TestApp, Vendor, assert_error, eventually, spawn_app_with};

/// Packs SMS 6.4.0 Patch `n` (payload of `kib` KiB) into the vendor's folder, which the TMCs
/// here serve.
fn add(vendor: &Vendor, n: u32, kib: u64) -> PathBuf {
    vendor.package(n).payload_kib(kib).write()
}

/// A catalog over `entries` with `serial` signed by `vendor`, valid for a day from `generated`.
fn catalog(
    vendor: &Vendor,
    serial: u64,
    entries: Vec<CatalogEntry>,
    generated: chrono::DateTime<Utc>,
) -> (Bytes, Bytes) {
    let catalog = Catalog {
        format: FORMAT,
        serial,
        generated_at: generated,
        expires_at: generated + chrono::Duration::days(1),
        key_id: vendor.key_id().to_owned(),
        patches: entries,
    };
    let json = serde_json::to_vec(&catalog).unwrap();
    let signature = vendor.signer().sign(&json);
    (Bytes::from(json), Bytes::copy_from_slice(&signature))
}

/// `TmcServer` on a loopback port.
async fn serve_tmc(vendor: &Vendor) -> (Arc<TmcServer>, String) {
    serve_tmc_at_rate(vendor, None).await
}

/// `TmcServer` on a loopback port, serving packages at most `rate` bytes per second.
pub(crate) async fn serve_tmc_at_rate(
    vendor: &Vendor,
    rate: Option<u64>,
) -> (Arc<TmcServer>, String) {
    let tmc = TmcServer::with_rate(
        vendor.dir().to_owned(),
        PackageSigner::load(&vendor.secret_key()).unwrap(),
        Duration::from_secs(86_400),
        rate,
    );
    tmc.refresh().await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let router = tmc.clone().router();
    tokio::spawn(async move { axum::serve(listener, router).await });
    (tmc, url)
}

/// What the scripted TMC answers.
#[derive(Default)]
struct Script {
    catalog: Option<(Bytes, Bytes)>,
    /// Answer the catalog with this status instead.
    status: Option<StatusCode>,
    /// Wait this long before answering the catalog.
    delay: Option<Duration>,
    packages: HashMap<String, Bytes>,
    /// Bytes sent on the first package request before the connection is cut.
    cut_first_at: Option<usize>,
    /// Answer a resume with a `Content-Range` that starts this many bytes later than asked.
    shift_resume_by: usize,
    requests: Vec<Option<String>>,
}

type Scripted = Arc<Mutex<Script>>;

async fn serve_scripted() -> (Scripted, String) {
    let script: Scripted = Arc::default();
    let router = scripted_router(script.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    (script, url)
}

fn scripted_router(script: Scripted) -> axum::Router {
    axum::Router::new()
        .route(
            "/v1/catalog.json",
            get(|State(s): State<Scripted>| async move {
                let (catalog, status, delay) = {
                    let s = s.lock().unwrap();
                    (s.catalog.clone(), s.status, s.delay)
                };
                if let Some(delay) = delay {
                    tokio::time::sleep(delay).await;
                }
                match (status, catalog) {
                    (Some(status), _) => (status, "TMC trouble").into_response(),
                    (None, Some((json, _))) => json.into_response(),
                    (None, None) => (StatusCode::OK, "this is not a catalog").into_response(),
                }
            }),
        )
        .route(
            "/v1/catalog.sig",
            get(|State(s): State<Scripted>| async move {
                match s.lock().unwrap().catalog.clone() {
                    Some((_, sig)) => sig.into_response(),
                    None => (StatusCode::OK, "no signature either").into_response(),
                }
            }),
        )
        .route("/v1/packages/{name}", get(scripted_package))
        .with_state(script)
}

async fn scripted_package(
    State(script): State<Scripted>,
    UrlPath(name): UrlPath<String>,
    headers: HeaderMap,
) -> Response {
    let range = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let (bytes, cut, shift) = {
        let mut s = script.lock().unwrap();
        s.requests.push(range.clone());
        let Some(bytes) = s.packages.get(&name).cloned() else {
            return StatusCode::NOT_FOUND.into_response();
        };
        (bytes, s.cut_first_at.take(), s.shift_resume_by)
    };
    let start: usize = range
        .as_deref()
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| r.strip_suffix('-'))
        .and_then(|n| n.parse::<usize>().ok())
        .map_or(0, |start| start + shift);
    if let Some(cut) = cut {
        // Announce the whole file, send part of it, then break the connection (after a pause,
        // so that the part reaches the client first).
        let head = bytes.slice(..cut);
        let stream = futures_util::stream::iter([Ok::<Bytes, std::io::Error>(head)]).chain(
            futures_util::stream::once(async {
                tokio::time::sleep(Duration::from_millis(300)).await;
                Err(std::io::Error::other("connection reset"))
            }),
        );
        return Response::builder()
            .header(header::CONTENT_LENGTH, bytes.len())
            .body(Body::from_stream(stream))
            .unwrap();
    }
    let status = if start > 0 {
        StatusCode::PARTIAL_CONTENT
    } else {
        StatusCode::OK
    };
    let mut response = Response::builder().status(status);
    if start > 0 {
        response = response.header(
            header::CONTENT_RANGE,
            format!("bytes {start}-{}/{}", bytes.len() - 1, bytes.len()),
        );
    }
    response.body(Body::from(bytes.slice(start..))).unwrap()
}

async fn app_with_tmc(vendor: &Vendor, url: &str) -> TestApp {
    let url = reqwest::Url::parse(url).unwrap();
    let app = spawn_app_with(|config| {
        vendor.trust(config);
        config.tmc.url = Some(url);
        config.tmc.interval = Duration::from_secs(3600);
        config.tmc.timeout = Duration::from_secs(1);
    })
    .await;
    app.login_admin().await;
    app
}

async fn check(app: &TestApp) -> Value {
    let response = app.tmc_check().await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// `(id, state, recommended)` of each row of the panel.
async fn panel(app: &TestApp) -> Vec<(String, String, bool)> {
    let view = app.get_json("/api/v1/patches").await;
    view["available"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            (
                row["patch"]["id"].as_str().unwrap().to_owned(),
                row["state"]["state"].as_str().unwrap().to_owned(),
                row["recommended"].as_bool().unwrap(),
            )
        })
        .collect()
}

async fn repository_rows(app: &TestApp) -> (usize, u64) {
    let files = std::fs::read_dir(app.state.repository.dir())
        .map(|d| d.count())
        .unwrap_or(0);
    let rows = patch::Entity::find().count(&app.state.db).await.unwrap();
    (files, rows)
}

#[tokio::test]
async fn a_patch_the_tmc_offers_is_installed_only_once_downloaded() {
    let vendor = Vendor::new();
    add(&vendor, 2, 8);
    let (_tmc, url) = serve_tmc(&vendor).await;
    let app = app_with_tmc(&vendor, &url).await;
    check(&app).await;

    // Offered but not downloaded: the shared install rule says so, with what to do.
    let message = assert_error(app.install("6.4.0.2").await, 412, "patch_not_downloaded").await;
    assert!(message.contains("Download it first"), "{message}");
    // Neither offered nor in the repository.
    assert_error(app.install("6.4.0.7").await, 404, "patch_not_found").await;
    // A patch of another product version that nobody offers is unknown as well.
    assert_error(app.install("6.5.0.1").await, 404, "patch_not_found").await;
}

#[tokio::test]
async fn check_now_records_the_signed_catalog_and_the_panel_offers_the_newest() {
    let vendor = Vendor::new();
    add(&vendor, 1, 8);
    add(&vendor, 2, 8);
    let (tmc, url) = serve_tmc(&vendor).await;
    let app = app_with_tmc(&vendor, &url).await;

    let status = check(&app).await;
    assert_eq!(status["connection"], "connected", "{status}");
    assert!(status["serial"].as_u64().unwrap() > 0);
    assert_eq!(
        panel(&app).await,
        vec![
            ("6.4.0.2".into(), "available".into(), true),
            ("6.4.0.1".into(), "superseded".into(), false),
        ]
    );

    // The vendor publishes Patch 3: the TMC notices the file, the next check records it.
    add(&vendor, 3, 8);
    assert!(tmc.refresh().await.unwrap());
    let serial = check(&app).await["serial"].as_u64().unwrap();
    assert!(serial > status["serial"].as_u64().unwrap());
    let rows = panel(&app).await;
    assert_eq!(rows[0], ("6.4.0.3".into(), "available".into(), true));
    assert_eq!(rows.len(), 3);
    let view = app.get_json("/api/v1/patches").await;
    assert_eq!(view["newer_patch"]["id"], "6.4.0.3");

    let audit = app.get_json("/api/v1/audit").await;
    assert_eq!(audit["entries"][0]["action"], "tmc_check");

    // The command line sees the same panel.
    let listed = sms_patch_list(&app, ADMIN_PASSWORD).await;
    assert!(listed.status.success(), "{listed:?}");
    let text = String::from_utf8_lossy(&listed.stdout);
    assert!(
        text.contains("SMS 6.4.0, no patch installed (build 6.4.0.9001)"),
        "{text}"
    );
    assert!(text.contains("TMC: connected"), "{text}");
    let patch3 = text
        .lines()
        .find(|l| l.starts_with("6.4.0.3"))
        .unwrap_or_default();
    assert!(patch3.contains("available (recommended)"), "{text}");
    let patch1 = text
        .lines()
        .find(|l| l.starts_with("6.4.0.1"))
        .unwrap_or_default();
    assert!(patch1.contains("superseded by Patch 3"), "{text}");

    let refused = sms_patch_list(&app, "wrong-password").await;
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("invalid_credentials"));
}

async fn sms_patch_list(app: &TestApp, password: &str) -> std::process::Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_sms"))
        .args(["patch", "list", "--user", "admin", "--server"])
        .arg(app.url("/"))
        .env("SMS_PASSWORD", password)
        .output()
        .await
        .unwrap()
}

#[tokio::test]
async fn only_admins_check_now_and_without_a_tmc_there_is_nothing_to_check() {
    let app = spawn_app_with(|_| {}).await;
    app.login_admin().await;
    let status = app.get_json("/api/v1/tmc").await;
    assert_eq!(status["connection"], "not_configured");
    assert_error(app.tmc_check().await, 412, "tmc_not_configured").await;

    app.login_operator().await;
    assert_error(app.tmc_check().await, 403, "admin_required").await;
    let view = app.get_json("/api/v1/patches").await;
    assert_eq!(view["tmc"]["connection"], "not_configured");
}

#[tokio::test]
async fn a_tmc_that_is_down_or_answers_garbage_gets_a_status_and_nothing_is_recorded() {
    let vendor = Vendor::new();

    // Nothing listens on the port.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", closed.local_addr().unwrap());
    drop(closed);
    let app = app_with_tmc(&vendor, &url).await;
    let status = check(&app).await;
    assert_eq!(status["connection"], "unreachable", "{status}");
    assert!(
        status["message"]
            .as_str()
            .unwrap()
            .contains("cannot connect")
    );
    assert!(status["next_check"].is_string());
    assert!(panel(&app).await.is_empty());

    // A TMC that answers, but not with a catalog; then tampered, unknown-key, expired and
    // replayed catalogs.
    let (script, url) = serve_scripted().await;
    let app = app_with_tmc(&vendor, &url).await;
    let status = check(&app).await;
    assert_eq!(status["connection"], "invalid", "{status}");

    let good = describe_package(&add(&vendor, 1, 4), "v1/packages/sms-6.4.0.1.pkg".into()).unwrap();
    let now = Utc::now();
    let (json, sig) = catalog(&vendor, 100, vec![good.clone()], now);
    let mut tampered = json.to_vec();
    let at = tampered.len() - 3;
    tampered[at] ^= 0x01;
    script.lock().unwrap().catalog = Some((Bytes::from(tampered), sig.clone()));
    let status = check(&app).await;
    assert_eq!(status["connection"], "invalid");
    assert!(panel(&app).await.is_empty());

    let stranger = Vendor::named("someone-else");
    script.lock().unwrap().catalog = Some(catalog(&stranger, 100, vec![good.clone()], now));
    let status = check(&app).await;
    assert!(
        status["message"]
            .as_str()
            .unwrap()
            .contains("does not trust"),
        "{status}"
    );

    script.lock().unwrap().catalog = Some(catalog(
        &vendor,
        100,
        vec![good.clone()],
        now - chrono::Duration::days(2),
    ));
    assert!(
        check(&app).await["message"]
            .as_str()
            .unwrap()
            .contains("expired")
    );

    script.lock().unwrap().catalog = Some((json, sig));
    assert_eq!(check(&app).await["connection"], "connected");
    assert_eq!(panel(&app).await.len(), 1);

    // An older serial is a replay: refused, and the recorded catalog stays.
    script.lock().unwrap().catalog = Some(catalog(&vendor, 99, vec![], now));
    let status = check(&app).await;
    assert!(
        status["message"].as_str().unwrap().contains("lower"),
        "{status}"
    );
    assert_eq!(panel(&app).await.len(), 1);

    // A 500, and a TMC slower than the timeout: unreachable, the catalog stays, the server serves.
    script.lock().unwrap().status = Some(StatusCode::INTERNAL_SERVER_ERROR);
    let status = check(&app).await;
    assert_eq!(status["connection"], "unreachable");
    assert!(
        status["message"].as_str().unwrap().contains("500"),
        "{status}"
    );
    {
        let mut s = script.lock().unwrap();
        s.status = None;
        s.delay = Some(Duration::from_secs(3));
    }
    let status = check(&app).await;
    assert!(
        status["message"]
            .as_str()
            .unwrap()
            .contains("did not answer within"),
        "{status}"
    );
    assert_eq!(panel(&app).await.len(), 1);
    assert_eq!(app.health().await.status(), 200);
}

#[tokio::test]
async fn a_download_cut_short_for_good_fails_and_leaves_nothing() {
    let vendor = Vendor::new();
    let file = add(&vendor, 1, 64);
    let entry = describe_package(&file, "v1/packages/p1.pkg".into()).unwrap();
    let full = std::fs::read(&file).unwrap();
    let (script, url) = serve_scripted().await;
    {
        let mut s = script.lock().unwrap();
        s.catalog = Some(catalog(&vendor, 5, vec![entry], Utc::now()));
        // The TMC only ever has the first half of the file.
        s.packages.insert(
            "p1.pkg".into(),
            Bytes::from(full[..full.len() / 2].to_vec()),
        );
    }
    let app = app_with_tmc(&vendor, &url).await;
    check(&app).await;

    let job: Value = app.download("6.4.0.1").await.json().await.unwrap();
    let done = app.wait_for_job(job["id"].as_i64().unwrap()).await;

    assert_eq!(done["state"], "failed", "{done}");
    assert_eq!(done["error"]["code"], "download_failed", "{done}");
    assert_eq!(repository_rows(&app).await, (0, 0));
}

#[tokio::test]
async fn a_download_streams_into_the_repository_through_the_verifier() {
    let vendor = Vendor::new();
    add(&vendor, 2, 600);
    let (_tmc, url) = serve_tmc(&vendor).await;
    let app = app_with_tmc(&vendor, &url).await;
    check(&app).await;

    assert_error(app.download("6.4.0.9").await, 404, "patch_not_found").await;
    assert_error(app.download("six").await, 400, "invalid_patch_id").await;

    let response = app.download("6.4.0.2").await;
    assert_eq!(response.status(), 202);
    let job: Value = response.json().await.unwrap();
    assert_eq!(job["kind"], "download");
    let done = app.wait_for_job(job["id"].as_i64().unwrap()).await;
    assert_eq!(done["state"], "succeeded", "{done}");
    assert_eq!(done["done_bytes"], done["total_bytes"]);
    assert_eq!(repository_rows(&app).await, (1, 1));
    assert_eq!(
        panel(&app).await,
        vec![("6.4.0.2".into(), "downloaded".into(), true)]
    );
    let audit = app.get_json("/api/v1/audit").await;
    assert!(
        audit["entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "patch_download" && e["outcome"] == "success")
    );
    assert_error(app.download("6.4.0.2").await, 409, "already_in_repository").await;

    // The Software Details answer: facts, state and sanitized notes.
    let details = app.get_json("/api/v1/patches/6.4.0.2").await;
    assert_eq!(details["state"]["state"], "downloaded");
    assert!(
        details["patch"]["release_notes_html"]
            .as_str()
            .unwrap()
            .contains("<h2>Patch 2</h2>")
    );
    assert_error(app.patch("6.4.0.7").await, 404, "patch_not_found").await;
}

#[tokio::test]
async fn what_a_patch_the_tmc_offers_changes_is_known_once_it_is_downloaded() {
    let vendor = Vendor::new();
    vendor
        .package(2)
        .updates_client()
        .database_changes()
        .write();
    let (_tmc, url) = serve_tmc(&vendor).await;
    let app = app_with_tmc(&vendor, &url).await;
    check(&app).await;
    let changes = |view: &Value| view["available"][0]["patch"]["changes"].clone();

    // The catalog does not list the package's files.
    assert_eq!(changes(&app.get_json("/api/v1/patches").await), Value::Null);
    let details = app.get_json("/api/v1/patches/6.4.0.2").await;
    assert_eq!(details["patch"]["changes"], Value::Null);

    let job: Value = app.download("6.4.0.2").await.json().await.unwrap();
    let done = app.wait_for_job(job["id"].as_i64().unwrap()).await;
    assert_eq!(done["state"], "succeeded", "{done}");

    let expected = serde_json::json!({
        "server_executable": false, "web_client": true, "migrations": 1
    });
    assert_eq!(changes(&app.get_json("/api/v1/patches").await), expected);
    let details = app.get_json("/api/v1/patches/6.4.0.2").await;
    assert_eq!(details["patch"]["changes"], expected);
}

#[tokio::test]
async fn a_broken_connection_is_resumed_with_a_range_request() {
    let vendor = Vendor::new();
    let (script, url) = serve_scripted().await;
    breaking_script(&script, &vendor);
    let app = app_with_tmc(&vendor, &url).await;
    check(&app).await;

    let job: Value = app.download("6.4.0.1").await.json().await.unwrap();
    let done = app.wait_for_job(job["id"].as_i64().unwrap()).await;

    assert_eq!(done["state"], "succeeded", "{done}");
    let requests = script.lock().unwrap().requests.clone();
    assert_eq!(requests[0], None);
    assert_eq!(requests[1].as_deref(), Some("bytes=100000-"));
    assert_eq!(repository_rows(&app).await, (1, 1));
}

#[tokio::test]
async fn a_package_that_is_not_what_the_catalog_says_leaves_nothing() {
    let vendor = Vendor::new();
    let file = add(&vendor, 1, 16);
    let mut entry = describe_package(&file, "v1/packages/p1.pkg".into()).unwrap();
    entry.sha256 = "0".repeat(64);
    let (script, url) = serve_scripted().await;
    {
        let mut s = script.lock().unwrap();
        s.catalog = Some(catalog(&vendor, 5, vec![entry], Utc::now()));
        s.packages
            .insert("p1.pkg".into(), Bytes::from(std::fs::read(&file).unwrap()));
    }
    let app = app_with_tmc(&vendor, &url).await;
    check(&app).await;

    let job: Value = app.download("6.4.0.1").await.json().await.unwrap();
    let done = app.wait_for_job(job["id"].as_i64().unwrap()).await;

    assert_eq!(done["state"], "failed");
    assert_eq!(done["error"]["code"], "catalog_mismatch", "{done}");
    assert_eq!(repository_rows(&app).await, (0, 0));
    assert_eq!(
        panel(&app).await,
        vec![("6.4.0.1".into(), "available".into(), true)]
    );
}

#[tokio::test]
async fn a_cancelled_download_keeps_nothing() {
    let vendor = Vendor::new();
    add(&vendor, 1, 512);
    let (_tmc, url) = serve_tmc_at_rate(&vendor, Some(64 * 1024)).await;
    let app = app_with_tmc(&vendor, &url).await;
    check(&app).await;

    let job: Value = app.download("6.4.0.1").await.json().await.unwrap();
    let id = job["id"].as_i64().unwrap();
    assert_error(app.download("6.4.0.1").await, 409, "download_running").await;
    let cancel = app.cancel_job(id).await;
    assert_eq!(cancel.status(), 202);
    let done = app.wait_for_job(id).await;

    assert_eq!(done["state"], "cancelled", "{done}");
    assert_eq!(repository_rows(&app).await, (0, 0));
    assert_error(app.cancel_job(id).await, 409, "job_not_running").await;
    app.login_operator().await;
    assert_error(app.download("6.4.0.1").await, 403, "admin_required").await;
}

#[tokio::test]
async fn demo_mode_serves_its_own_tmc_with_patch_5_recommended() {
    let app = spawn_app_with(|config| config.demo = true).await;
    app.login_admin().await;
    let view = eventually(
        "the demo TMC to be connected",
        Duration::from_secs(30),
        || async {
            let view = app.get_json("/api/v1/patches").await;
            if view["tmc"]["connection"] == "connected" {
                Ok(view)
            } else {
                Err(view["tmc"].to_string())
            }
        },
    )
    .await
    .unwrap();

    let rows = panel(&app).await;
    let ids: Vec<&str> = rows.iter().map(|(id, _, _)| id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "6.4.0.5", "6.4.0.4", "6.4.0.3", "6.4.0.2", "6.4.0.1", "6.5.0.1"
        ]
    );
    assert_eq!(rows[0], ("6.4.0.5".into(), "available".into(), true));
    for (id, state, recommended) in &rows[1..5] {
        assert_eq!(
            (state.as_str(), *recommended),
            ("superseded", false),
            "{id}"
        );
    }
    assert_eq!(rows[5].1, "not_applicable");

    // The varied effects the demo promises.
    let facts: Vec<&Value> = view["available"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| &row["patch"])
        .collect();
    assert!(facts.iter().any(|p| p["restart"] == "reboot"));
    assert!(facts.iter().any(|p| p["database_changes"] == true));
    assert!(facts.iter().any(|p| p["rollback"] == false));
    assert!(
        facts
            .iter()
            .any(|p| p["updates"] == "both" && p["client_version"].is_string())
    );
    assert_eq!(view["newer_patch"]["id"], "6.4.0.5");
}

#[tokio::test]
async fn a_job_cut_off_by_a_stop_is_failed_at_the_next_start() {
    let app = spawn_app_with(|_| {}).await;
    let (job, _handle) = app
        .state
        .jobs
        .start(shared::panel::JobKind::Download, None, 100, "admin")
        .await
        .unwrap();

    let app = app.restart().await;
    app.login_admin().await;

    let after = app.get_json(&format!("/api/v1/jobs/{}", job.id)).await;
    assert_eq!(after["state"], "failed", "{after}");
    assert_eq!(after["error"]["code"], "server_stopped");
    assert!(after["finished_at"].is_string());
}

/// Reads SSE messages until one named `event` arrives (or the time is up).
async fn wait_for_event(
    stream: &mut (impl futures_util::Stream<Item = reqwest::Result<Bytes>> + Unpin),
    buffer: &mut String,
    event: &str,
    within: Duration,
) -> Option<String> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        while let Some(end) = buffer.find("\n\n") {
            let message: String = buffer.drain(..end + 2).collect();
            if message.lines().any(|l| l == format!("event: {event}")) {
                return Some(message);
            }
        }
        match tokio::time::timeout_at(deadline, stream.next()).await {
            Ok(Some(Ok(chunk))) => buffer.push_str(&String::from_utf8_lossy(&chunk)),
            _ => return None,
        }
    }
}

#[tokio::test]
async fn the_event_stream_announces_new_patches_only_while_notifications_are_enabled() {
    let vendor = Vendor::new();
    add(&vendor, 1, 4);
    let (tmc, url) = serve_tmc(&vendor).await;
    let app = app_with_tmc(&vendor, &url).await;
    check(&app).await;

    let response = app.events().await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let mut events = response.bytes_stream();
    let mut buffer = String::new();
    let hello = wait_for_event(&mut events, &mut buffer, "tmc", Duration::from_secs(5)).await;
    assert!(hello.unwrap().contains("\"connected\""));

    // Disabled: a new patch changes the panel, but no notice.
    assert_eq!(app.set_notifications(false).await.status(), 200);
    add(&vendor, 2, 4);
    tmc.refresh().await.unwrap();
    check(&app).await;
    let notice = wait_for_event(
        &mut events,
        &mut buffer,
        "patch_notice",
        Duration::from_millis(700),
    )
    .await;
    assert!(notice.is_none(), "no notice while disabled: {notice:?}");

    // Enabled: the next new patch is announced to every open client.
    assert_eq!(app.set_notifications(true).await.status(), 200);
    add(&vendor, 3, 4);
    tmc.refresh().await.unwrap();
    check(&app).await;
    let notice = wait_for_event(
        &mut events,
        &mut buffer,
        "patch_notice",
        Duration::from_secs(5),
    )
    .await
    .expect("a patch notice");
    assert!(notice.contains("6.4.0.3"), "{notice}");

    // A download's progress arrives on the same stream.
    app.download("6.4.0.3").await;
    let job = wait_for_event(&mut events, &mut buffer, "job", Duration::from_secs(5))
        .await
        .expect("a job event");
    assert!(job.contains("\"download\""), "{job}");
}

/// `sms tmc serve` of `vendor`'s folder on a loopback port with `args` (its signing: `--key`
/// or `--tuf`, and more): the process (killed when dropped, also when the test fails) and the
/// URL of its ready line.
pub(crate) fn sms_tmc_serve_with(
    vendor: &Vendor,
    args: &[&std::ffi::OsStr],
) -> (testkit::process::Served, String) {
    use std::io::BufRead;
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_sms"))
        .args(["tmc", "serve", "--listen", "127.0.0.1:0", "--dir"])
        .arg(vendor.dir())
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Killed when dropped from here on, also if it never says it is ready.
    let mut served = testkit::process::Served {
        child,
        url: String::new(),
        lines: Vec::new(),
    };
    let stdout = served.child.stdout.take().unwrap();
    let mut lines = std::io::BufReader::new(stdout).lines();
    let url = loop {
        let line = lines.next().expect("a ready line").unwrap();
        if let Some(rest) = line.strip_prefix("TMC ready at ") {
            break rest.to_owned();
        }
    };
    // Keep draining stdout so the TMC never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    served.url.clone_from(&url);
    (served, url)
}

/// `sms tmc serve` signing a format-1 catalog with `vendor`'s key, with `args`.
fn sms_tmc_serve(vendor: &Vendor, args: &[&str]) -> (testkit::process::Served, String) {
    let key = vendor.secret_key();
    let mut all = vec![std::ffi::OsStr::new("--key"), key.as_os_str()];
    all.extend(args.iter().map(std::ffi::OsStr::new));
    sms_tmc_serve_with(vendor, &all)
}

#[tokio::test]
async fn sms_tmc_serve_over_https_is_synced_from_by_a_server_trusting_its_ca() {
    let vendor = Vendor::new();
    add(&vendor, 3, 16);
    let dir = tempfile::tempdir().unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["127.0.0.1".into()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let (cert_file, key_file) = (dir.path().join("tmc.pem"), dir.path().join("tmc.key"));
    std::fs::write(&cert_file, cert.pem()).unwrap();
    std::fs::write(&key_file, key.serialize_pem()).unwrap();
    let (_tmc, url) = sms_tmc_serve(
        &vendor,
        &[
            "--tls-cert",
            cert_file.to_str().unwrap(),
            "--tls-key",
            key_file.to_str().unwrap(),
        ],
    );
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");

    let app = app_trusting_tmc_ca(&vendor, &url, &cert_file).await;
    assert_eq!(check(&app).await["connection"], "connected");
    assert_eq!(panel(&app).await[0].0, "6.4.0.3");
    let done = app.follow_job(app.download("6.4.0.3").await).await;
    assert_eq!(done["state"], "succeeded", "{done}");
}

#[tokio::test]
async fn sms_tmc_serve_serves_a_signed_catalog_and_packages_with_range() {
    let vendor = Vendor::new();
    let file = add(&vendor, 4, 32);
    let (_tmc, url) = sms_tmc_serve(&vendor, &[]);
    backend::net::install_tls_provider();
    let http = reqwest::Client::new();
    let json = http
        .get(format!("{url}v1/catalog.json"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let sig = http
        .get(format!("{url}v1/catalog.sig"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let mut keys = backend::package::TrustedKeys::new();
    keys.add_file(vendor.public_key()).unwrap();
    let catalog = Catalog::verify(&json, &sig, &keys, None, Utc::now()).unwrap();
    assert_eq!(catalog.patches.len(), 1);
    let entry = &catalog.patches[0];
    assert_eq!(entry.patch, 4);
    assert_eq!(entry.size, std::fs::metadata(&file).unwrap().len());

    let partial = http
        .get(format!("{url}{}", entry.url))
        .header(header::RANGE, "bytes=1000-")
        .send()
        .await
        .unwrap();
    assert_eq!(partial.status(), 206);
    let tail = partial.bytes().await.unwrap();
    assert_eq!(&tail[..], &std::fs::read(&file).unwrap()[1000..]);
}

/// `router` over HTTPS on a loopback port, with a new self-signed certificate for 127.0.0.1:
/// its URL and the certificate's PEM.
async fn serve_https(router: axum::Router) -> (String, String) {
    backend::net::install_tls_provider();
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["127.0.0.1".into()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![cert.der().clone()], key.into())
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://{}/", listener.local_addr().unwrap());
    let limits = backend::app::serve::ConnectionLimits {
        max_connections: 64,
        header_read_timeout: Duration::from_secs(10),
    };
    tokio::spawn(backend::app::serve::serve(
        listener,
        router,
        limits,
        Some(acceptor),
        std::future::pending(),
    ));
    (url, cert.pem())
}

/// A logged-in server whose TMC is at `url`, trusting the CA in `ca_file` for it.
async fn app_trusting_tmc_ca(vendor: &Vendor, url: &str, ca_file: &std::path::Path) -> TestApp {
    let url = reqwest::Url::parse(url).unwrap();
    let app = spawn_app_with(|config| {
        vendor.trust(config);
        config.tmc.url = Some(url);
        config.tmc.interval = Duration::from_secs(3600);
        config.tmc.timeout = Duration::from_secs(5);
        config.tmc.trust.ca_file = Some(ca_file.to_owned());
    })
    .await;
    app.login_admin().await;
    app
}

#[tokio::test]
async fn a_tmc_over_https_is_checked_against_its_ca_and_redirects_stay_on_https() {
    let vendor = Vendor::new();
    add(&vendor, 1, 8);
    let (tmc, _) = serve_tmc(&vendor).await;
    let (url, cert_pem) = serve_https(tmc.router()).await;
    let ca = tempfile::tempdir().unwrap();
    let ca_file = ca.path().join("tmc-ca.pem");
    std::fs::write(&ca_file, &cert_pem).unwrap();

    // Trusted through the CA file: the sync works, a download too.
    let trusting = app_trusting_tmc_ca(&vendor, &url, &ca_file).await;
    let status = check(&trusting).await;
    assert_eq!(status["connection"], "connected", "{status}");
    assert_eq!(panel(&trusting).await[0].0, "6.4.0.1");
    let job = trusting
        .follow_job(trusting.download("6.4.0.1").await)
        .await;
    assert_eq!(job["state"], "succeeded", "{job}");

    // Without it, the self-signed certificate is refused, and the server keeps serving.
    let untrusting = app_with_tmc(&vendor, &url).await;
    let status = check(&untrusting).await;
    assert_eq!(status["connection"], "certificate_invalid", "{status}");
    let shown = untrusting.get_json("/api/v1/patches").await;
    assert_eq!(shown["tmc"]["connection"], "certificate_invalid", "{shown}");
    let message = status["message"]
        .as_str()
        .unwrap_or_default()
        .to_lowercase();
    assert!(
        message.contains("certificate") || message.contains("tls"),
        "{status}"
    );
    assert_eq!(untrusting.health().await.status(), 200);

    // An HTTPS TMC that redirects to plain HTTP (where a valid TMC answers) is not followed.
    let (_, plain_url) = serve_tmc(&vendor).await;
    let target = plain_url.clone();
    let redirecting = axum::Router::new().fallback(move |uri: axum::http::Uri| {
        let to = format!("{}{}", target.trim_end_matches('/'), uri.path());
        async move { (StatusCode::FOUND, [(header::LOCATION, to)]) }
    });
    let (redirect_url, redirect_pem) = serve_https(redirecting).await;
    std::fs::write(&ca_file, &redirect_pem).unwrap();
    let redirected = app_trusting_tmc_ca(&vendor, &redirect_url, &ca_file).await;
    let status = check(&redirected).await;
    assert_ne!(status["connection"], "connected", "{status}");
}

/// A package from a scripted TMC whose first package answer breaks after 100,000 bytes.
fn breaking_script(script: &Scripted, vendor: &Vendor) {
    let file = add(vendor, 1, 256);
    let entry = describe_package(&file, "v1/packages/p1.pkg".into()).unwrap();
    let mut s = script.lock().unwrap();
    s.catalog = Some(catalog(vendor, 5, vec![entry], Utc::now()));
    s.packages
        .insert("p1.pkg".into(), Bytes::from(std::fs::read(&file).unwrap()));
    s.cut_first_at = Some(100_000);
}

#[tokio::test]
async fn a_download_over_https_is_resumed_and_a_resume_from_the_wrong_byte_is_refused() {
    let vendor = Vendor::new();
    let script: Scripted = Arc::default();
    breaking_script(&script, &vendor);
    let (url, cert_pem) = serve_https(scripted_router(script.clone())).await;
    let ca = tempfile::tempdir().unwrap();
    let ca_file = ca.path().join("tmc-ca.pem");
    std::fs::write(&ca_file, &cert_pem).unwrap();
    let app = app_trusting_tmc_ca(&vendor, &url, &ca_file).await;
    assert_eq!(check(&app).await["connection"], "connected");

    let done = app.follow_job(app.download("6.4.0.1").await).await;
    assert_eq!(done["state"], "succeeded", "{done}");
    let requests = script.lock().unwrap().requests.clone();
    assert_eq!(requests, vec![None, Some("bytes=100000-".to_owned())]);
    assert_eq!(repository_rows(&app).await, (1, 1));

    // A TMC that answers the resume with bytes from elsewhere in the file is not believed.
    let vendor = Vendor::new();
    let (script, url) = serve_scripted().await;
    breaking_script(&script, &vendor);
    script.lock().unwrap().shift_resume_by = 4096;
    let app = app_with_tmc(&vendor, &url).await;
    check(&app).await;
    let done = app.follow_job(app.download("6.4.0.1").await).await;
    assert_eq!(done["state"], "failed", "{done}");
    let message = done["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("Content-Range") && message.contains("bytes 100000-"),
        "{done}"
    );
    assert_eq!(repository_rows(&app).await, (0, 0));
}

#[tokio::test]
async fn a_scheduled_install_downloads_its_package_at_once_and_installs_it_in_its_window() {
    let vendor = Vendor::new();
    add(&vendor, 2, 8);
    let (_tmc, url) = serve_tmc(&vendor).await;
    let url = reqwest::Url::parse(&url).unwrap();
    // The schedule clock reads 01:59 and runs 20 times as fast: the window opens in 3 s.
    let start = chrono::DateTime::parse_from_rfc3339("2027-05-04T01:59:00Z")
        .unwrap()
        .with_timezone(&Utc);
    let app = spawn_app_with(|config| {
        vendor.trust(config);
        config.tmc.url = Some(url);
        config.tmc.interval = Duration::from_secs(3600);
        config.tmc.timeout = Duration::from_secs(1);
        config.system.reboot_window = Duration::from_millis(400);
        config.clock = backend::clock::Clock::starting_at(start, 20);
    })
    .await;
    app.login_admin().await;
    check(&app).await;
    let answer = app
        .request(reqwest::Method::PUT, "/api/v1/maintenance")
        .json(&serde_json::json!({"windows": [
            {"schedule": "0 2 * * *", "duration_minutes": 60, "time_zone": "UTC"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);

    // Offered, not downloaded: scheduling it starts the download now.
    let answer = app
        .request(reqwest::Method::POST, "/api/v1/patches/6.4.0.2/install")
        .json(&serde_json::json!({"when": "next_window"}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 202);
    let job: Value = answer.json().await.unwrap();
    assert_eq!(job["state"], "scheduled");
    assert!(
        job["schedule_note"]
            .as_str()
            .unwrap()
            .contains("being downloaded now"),
        "{job}"
    );
    eventually(
        "the package is downloaded",
        Duration::from_secs(20),
        || async {
            let rows = panel(&app).await;
            match rows.iter().find(|(id, ..)| id == "6.4.0.2") {
                Some((_, state, _)) if state == "downloaded" => Ok(()),
                other => Err(format!("{other:?}")),
            }
        },
    )
    .await
    .unwrap();
    let id = job["id"].as_i64().unwrap();
    let done = eventually(
        "installed in its window",
        Duration::from_secs(60),
        || async {
            let job: Value = app.job(id).await.json().await.unwrap();
            match job["state"].as_str() {
                Some("succeeded") => Ok(job),
                other => Err(format!("{other:?}")),
            }
        },
    )
    .await
    .unwrap();
    assert_eq!(done["to_level"], 2);
    assert_eq!(app.level().await, 2);
}
