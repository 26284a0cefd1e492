//! The TMC feed of format 2 (TUF metadata, docs/tmc-protocol.md) against real feeds on
//! loopback: `sms tmc serve --tuf`'s own server, and a mirror whose files each test sets (real
//! HTTP, real signatures, the vendor's real keys folder) to play the attacks TUF is made for.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path as UrlPath, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use backend::package::catalog::CatalogEntry;
use backend::package::tuf::{self, KeyRole, KeysFolder, Lifetimes, Versions};
use backend::storage::entity::tuf_root;
use backend::tools::tmc_server::{TmcServer, describe_package};
use backend::tools::tuf_feed::{FeedPublisher, PublishedFeed, TargetBody};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use sea_orm::EntityTrait;
use serde_json::Value;
use testkit::{TestApp, Vendor, assert_error, spawn_app_with};

/// The files a mirror serves under `/v2/`, by path (`metadata/timestamp.json`,
/// `targets/<sha256>.<name>`), and the `Date` it answers with.
#[derive(Default)]
struct Files {
    files: HashMap<String, Bytes>,
    date: Option<String>,
}

/// A mirror of the vendor's feed that the test controls.
struct Mirror {
    files: Arc<Mutex<Files>>,
    url: String,
}

impl Mirror {
    async fn start() -> Self {
        let files: Arc<Mutex<Files>> = Arc::default();
        let router = axum::Router::new()
            .route("/v2/{*path}", axum::routing::get(mirrored))
            .with_state(files.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await });
        Self { files, url }
    }

    /// Serves exactly the files of `feed`.
    fn publish(&self, feed: &PublishedFeed) {
        let mut files = HashMap::new();
        for (version, bytes) in &feed.roots {
            files.insert(format!("metadata/{version}.root.json"), bytes.clone());
        }
        for (version, bytes) in &feed.snapshots {
            files.insert(format!("metadata/{version}.snapshot.json"), bytes.clone());
        }
        for (version, bytes) in &feed.targets_metadata {
            files.insert(format!("metadata/{version}.targets.json"), bytes.clone());
        }
        files.insert("metadata/timestamp.json".into(), feed.timestamp.clone());
        for (name, body) in &feed.targets {
            let bytes = match body {
                TargetBody::Memory(bytes) => bytes.clone(),
                TargetBody::File(path) => Bytes::from(std::fs::read(path).unwrap()),
            };
            files.insert(format!("targets/{name}"), bytes);
        }
        self.files.lock().unwrap().files = files;
    }

    fn set(&self, path: &str, bytes: impl Into<Bytes>) {
        self.files
            .lock()
            .unwrap()
            .files
            .insert(path.to_owned(), bytes.into());
    }

    fn get(&self, path: &str) -> Bytes {
        self.files.lock().unwrap().files[path].clone()
    }

    fn answer_date(&self, date: DateTime<Utc>) {
        self.files.lock().unwrap().date = Some(date.to_rfc2822().replace("+0000", "GMT"));
    }
}

async fn mirrored(
    State(files): State<Arc<Mutex<Files>>>,
    UrlPath(path): UrlPath<String>,
) -> Response {
    let files = files.lock().unwrap();
    let mut response = match files.files.get(&path) {
        Some(bytes) => bytes.clone().into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    };
    if let Some(date) = &files.date {
        response
            .headers_mut()
            .insert(header::DATE, date.parse().unwrap());
    }
    response
}

/// The vendor's packages, as the feed lists them.
fn packages(vendor: &Vendor) -> Vec<(String, CatalogEntry)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(vendor.dir()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.ends_with(".pkg") {
            out.push((name.clone(), describe_package(&path, name).unwrap()));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Signs a state of the vendor's feed as `sms tmc serve --tuf` would at `now`.
async fn sign(publisher: &FeedPublisher, vendor: &Vendor, now: DateTime<Utc>) -> PublishedFeed {
    publisher
        .refresh(vendor.dir(), &packages(vendor), now)
        .await
        .unwrap();
    publisher.published().await.unwrap()
}

async fn app_trusting(vendor: &Vendor, url: &str) -> TestApp {
    let url = reqwest::Url::parse(url).unwrap();
    let app = spawn_app_with(|config| {
        vendor.trust_feed(config);
        config.tmc.url = Some(url);
        config.tmc.interval = Duration::from_secs(3600);
        config.tmc.timeout = Duration::from_secs(2);
    })
    .await;
    app.login_admin().await;
    app
}

pub(crate) async fn check(app: &TestApp) -> Value {
    let response = app.tmc_check().await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// Checks and expects the feed refused with `code`; returns the status's message.
async fn refused(app: &TestApp, code: &str) -> String {
    let status = check(app).await;
    assert_eq!(status["connection"], "invalid", "{status}");
    assert_eq!(status["code"], code, "{status}");
    let message = status["message"].as_str().unwrap().to_owned();
    println!("{code}: {message}");
    message
}

/// The patch ids the panel offers.
pub(crate) async fn offered(app: &TestApp) -> Vec<String> {
    let view = app.get_json("/api/v1/patches").await;
    view["available"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["patch"]["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Signs the roles of `feed` again, each version `step` higher, at `at`, with the keys the
/// vendor's newest root names.
async fn resign(
    vendor: &Vendor,
    feed: &PublishedFeed,
    step: u64,
    at: DateTime<Utc>,
) -> tuf::SignedRoles {
    let folder = KeysFolder::read(&vendor.tuf_keys()).unwrap();
    let (_, root) = folder.latest_root().unwrap();
    let v = feed.versions;
    tuf::sign_roles(
        &root.signed,
        &folder.all_keys(),
        feed.listed(),
        Versions {
            targets: v.targets + step,
            snapshot: v.snapshot + step,
            timestamp: v.timestamp + step,
        },
        Lifetimes::default(),
        at,
    )
    .await
    .unwrap()
}

/// Serves `roles` as the mirror's targets, snapshot and timestamp.
fn serve_roles(mirror: &Mirror, roles: &tuf::SignedRoles) {
    let v = roles.versions;
    mirror.set(
        &format!("metadata/{}.targets.json", v.targets),
        roles.targets.clone(),
    );
    mirror.set(
        &format!("metadata/{}.snapshot.json", v.snapshot),
        roles.snapshot.clone(),
    );
    mirror.set("metadata/timestamp.json", roles.timestamp.clone());
}

/// A vendor with a TUF feed whose root was rotated once, Patches 1 and 2, a mirror serving the
/// first signed state, and a server that accepted it.
async fn accepted_feed() -> (Vendor, FeedPublisher, Mirror, TestApp, DateTime<Utc>) {
    let vendor = Vendor::with_tuf().await;
    tuf::rotate_root(&vendor.tuf_keys(), Utc::now())
        .await
        .unwrap();
    vendor.package(1).write();
    vendor.package(2).write();
    let publisher = FeedPublisher::new(vendor.tuf_keys(), Lifetimes::default());
    let now = Utc::now();
    let mirror = Mirror::start().await;
    mirror.publish(&sign(&publisher, &vendor, now).await);
    let app = app_trusting(&vendor, &mirror.url).await;
    let status = check(&app).await;
    assert_eq!(status["connection"], "connected", "{status}");
    (vendor, publisher, mirror, app, now)
}

#[tokio::test]
async fn a_server_trusting_the_first_root_follows_a_rotation_and_downloads_from_the_feed() {
    let vendor = Vendor::with_tuf().await;
    tuf::rotate_root(&vendor.tuf_keys(), Utc::now())
        .await
        .unwrap();
    vendor.package(1).write();
    vendor.package(2).payload_kib(64).write();
    let tmc = TmcServer::serving(
        vendor.dir().to_owned(),
        None,
        Some(FeedPublisher::new(vendor.tuf_keys(), Lifetimes::default())),
        Duration::from_secs(86_400),
        None,
    );
    tmc.refresh().await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, tmc.router()).await });
    let app = app_trusting(&vendor, &url).await;

    let status = check(&app).await;
    assert_eq!(status["connection"], "connected", "{status}");
    assert_eq!(status["code"], Value::Null);
    assert_eq!(status["feed"]["root_version"], 2, "{status}");
    assert!(status["feed"]["timestamp_expires"].is_string(), "{status}");
    assert_eq!(offered(&app).await, ["6.4.0.2", "6.4.0.1"]);

    // The newest verified root is the trust from now on, kept in the database.
    let stored = tuf_root::Entity::find_by_id(1)
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.version, 2);
    assert_eq!(
        stored.root.as_bytes(),
        std::fs::read(vendor.tuf_keys().join("2.root.json")).unwrap()
    );

    // The package comes from its TUF target and is signed by the targets key the root names:
    // no --trust-key is needed.
    let job = app.follow_job(app.download("6.4.0.2").await).await;
    assert_eq!(job["state"], "succeeded", "{job}");
    let view = app.get_json("/api/v1/patches").await;
    assert_eq!(
        view["available"][0]["state"]["state"], "downloaded",
        "{view}"
    );
}

#[tokio::test]
async fn rotating_the_targets_key_rotates_what_the_feed_and_imports_trust() {
    let (mut vendor, publisher, mirror, app, now) = accepted_feed().await;
    // A package signed with the targets key before it leaks; it imports while the key is
    // trusted.
    let old = vendor.package(3).write();
    tuf::rotate_key(&vendor.tuf_keys(), KeyRole::Targets, now)
        .await
        .unwrap();
    vendor.sign_with("targets-1");
    let old_bytes = std::fs::read(&old).unwrap();
    std::fs::remove_file(&old).unwrap();
    let new = vendor.package(4).write();
    mirror.publish(&sign(&publisher, &vendor, now + chrono::Duration::seconds(5)).await);
    let status = check(&app).await;
    assert_eq!(status["connection"], "connected", "{status}");
    assert_eq!(status["feed"]["root_version"], 3, "{status}");

    // The old key signs nothing any more: not the feed, not an import.
    let response = app.import(old_bytes).await;
    let message = assert_error(response, 422, "unknown_key").await;
    println!("import signed with the rotated key: {message}");
    let imported = app.import_file(&new).await;
    assert_eq!(imported["id"], "6.4.0.4", "{imported}");

    // Targets metadata signed with the leaked key, with valid snapshot and timestamp around
    // it: refused.
    let folder = KeysFolder::read(&vendor.tuf_keys()).unwrap();
    let (_, root) = folder.latest_root().unwrap();
    let leaked = tuf::TufKey::load(
        &vendor
            .tuf_keys()
            .join(tuf::RETIRED)
            .join("targets-1-v2.key"),
    )
    .unwrap();
    let online = folder.keys_of(&root.signed, tough::schema::RoleType::Timestamp);
    let published = publisher.published().await.unwrap();
    let mut forged_root = root.signed.clone();
    // Sign the targets role with the leaked key by pretending the root still names it.
    let leaked_id: tough::schema::decoded::Decoded<tough::schema::decoded::Hex> =
        hex::decode(leaked.id().unwrap()).unwrap().into();
    forged_root.keys.insert(leaked_id.clone(), leaked.public());
    forged_root
        .roles
        .get_mut(&tough::schema::RoleType::Targets)
        .unwrap()
        .keyids = vec![leaked_id];
    let mut keys = online.clone();
    keys.push(leaked);
    let versions = Versions {
        targets: published.versions.targets + 1,
        snapshot: published.versions.snapshot + 1,
        timestamp: published.versions.timestamp + 1,
    };
    let forged = tuf::sign_roles(
        &forged_root,
        &keys,
        published.listed(),
        versions,
        Lifetimes::default(),
        now,
    )
    .await
    .unwrap();
    mirror.set(
        &format!("metadata/{}.targets.json", versions.targets),
        forged.targets,
    );
    mirror.set(
        &format!("metadata/{}.snapshot.json", versions.snapshot),
        forged.snapshot,
    );
    mirror.set("metadata/timestamp.json", forged.timestamp);
    refused(&app, "threshold_not_met").await;
    // Nothing recorded from a refused feed: the panel still offers what it did.
    assert_eq!(offered(&app).await[0], "6.4.0.4");
}

#[tokio::test]
async fn an_older_timestamp_snapshot_or_targets_is_a_rollback() {
    let (vendor, publisher, mirror, app, now) = accepted_feed().await;
    let first = publisher.published().await.unwrap();
    let second = sign(&publisher, &vendor, now + chrono::Duration::hours(13)).await;
    mirror.publish(&second);
    assert_eq!(check(&app).await["connection"], "connected");

    // The whole older state again (its timestamp is older).
    mirror.publish(&first);
    refused(&app, "rollback_detected").await;

    // A new timestamp that names the older snapshot.
    let folder = KeysFolder::read(&vendor.tuf_keys()).unwrap();
    let (_, root) = folder.latest_root().unwrap();
    let sign_versions = |targets: u64, snapshot: u64, timestamp: u64| {
        let root = root.signed.clone();
        let keys = folder.all_keys();
        let listed = second.listed().to_vec();
        async move {
            tuf::sign_roles(
                &root,
                &keys,
                &listed,
                Versions {
                    targets,
                    snapshot,
                    timestamp,
                },
                Lifetimes::default(),
                now,
            )
            .await
            .unwrap()
        }
    };
    let v = second.versions;
    let older_snapshot = sign_versions(v.targets, v.snapshot - 1, v.timestamp + 1).await;
    mirror.publish(&second);
    mirror.set(
        &format!("metadata/{}.snapshot.json", v.snapshot - 1),
        older_snapshot.snapshot,
    );
    mirror.set("metadata/timestamp.json", older_snapshot.timestamp);
    refused(&app, "rollback_detected").await;

    // A new timestamp and snapshot that name older targets.
    let older_targets = sign_versions(v.targets - 1, v.snapshot + 1, v.timestamp + 2).await;
    mirror.publish(&second);
    mirror.set(
        &format!("metadata/{}.targets.json", v.targets - 1),
        older_targets.targets,
    );
    mirror.set(
        &format!("metadata/{}.snapshot.json", v.snapshot + 1),
        older_targets.snapshot,
    );
    mirror.set("metadata/timestamp.json", older_targets.timestamp);
    refused(&app, "rollback_detected").await;

    // The root cannot go back either: an older root served as the next version.
    mirror.publish(&second);
    mirror.set("metadata/3.root.json", mirror.get("metadata/1.root.json"));
    refused(&app, "root_rotation_failed").await;

    // The timestamp of the last try was valid and is trusted now: an honest feed newer than
    // it is accepted again.
    let third = sign(&publisher, &vendor, now + chrono::Duration::hours(26)).await;
    mirror.publish(&third);
    assert_eq!(check(&app).await["connection"], "connected");
}

#[tokio::test]
async fn an_expired_timestamp_is_a_freeze_and_the_status_shows_both_clocks() {
    let (vendor, publisher, mirror, app, now) = accepted_feed().await;
    // Newer versions, signed two days ago with a timestamp that lived one day: what a frozen
    // mirror serves.
    let feed = publisher.published().await.unwrap();
    let stale = resign(&vendor, &feed, 1, now - chrono::Duration::days(2)).await;
    mirror.publish(&feed);
    serve_roles(&mirror, &stale);
    let message = refused(&app, "metadata_expired").await;
    assert!(message.contains("timestamp"), "{message}");

    // With the TMC's clock two hours from this server's, the status says so with both times.
    mirror.answer_date(now + chrono::Duration::hours(2));
    let status = check(&app).await;
    assert_eq!(status["code"], "metadata_expired");
    assert!(status["clock"]["tmc_time"].is_string(), "{status}");
    assert!(status["clock"]["server_time"].is_string(), "{status}");
    assert!(
        status["message"]
            .as_str()
            .unwrap()
            .contains("check the server's clock"),
        "{status}"
    );
}

#[tokio::test]
async fn metadata_of_two_versions_cannot_be_mixed() {
    let (vendor, publisher, mirror, app, now) = accepted_feed().await;
    let first = publisher.published().await.unwrap();
    let second = sign(&publisher, &vendor, now + chrono::Duration::hours(13)).await;
    mirror.publish(&second);
    // The new timestamp, with the snapshot of the first state under the new snapshot's name.
    let old_snapshot = first.snapshots[&first.versions.snapshot].clone();
    mirror.set(
        &format!("metadata/{}.snapshot.json", second.versions.snapshot),
        old_snapshot,
    );
    refused(&app, "metadata_mismatch").await;
}

#[tokio::test]
async fn endless_data_is_not_read_past_its_limit_for_any_role() {
    let (_vendor, publisher, mirror, app, _now) = accepted_feed().await;
    let feed = publisher.published().await.unwrap();
    let endless = Bytes::from(vec![b' '; 3 << 20]);
    for path in [
        "metadata/timestamp.json".to_owned(),
        format!("metadata/{}.snapshot.json", feed.versions.snapshot),
        format!("metadata/{}.targets.json", feed.versions.targets),
        "metadata/3.root.json".to_owned(),
    ] {
        mirror.publish(&feed);
        mirror.set(&path, endless.clone());
        let message = refused(&app, "metadata_too_large").await;
        assert!(message.contains(&path), "{path}: {message}");
    }
    // The catalog target longer than its TUF target says.
    mirror.publish(&feed);
    let catalog = feed
        .targets
        .keys()
        .find(|name| name.ends_with(".catalog.json"))
        .unwrap()
        .clone();
    let mut longer = mirror.get(&format!("targets/{catalog}")).to_vec();
    longer.extend_from_slice(&[b' '; 4096]);
    mirror.set(&format!("targets/{catalog}"), longer);
    refused(&app, "target_hash_mismatch").await;
}

#[tokio::test]
async fn a_root_rotation_needs_the_threshold_of_old_and_new_keys_and_no_skipped_version() {
    let (vendor, publisher, mirror, app, now) = accepted_feed().await;
    let feed = publisher.published().await.unwrap();
    let folder = KeysFolder::read(&vendor.tuf_keys()).unwrap();
    let (_, current) = folder.latest_root().unwrap();
    let root_keys = folder.keys_of(&current.signed, tough::schema::RoleType::Root);
    assert_eq!(root_keys.len(), 3);

    // Version 3 signed by one of the root keys only (the threshold is 2).
    let mut next = current.signed.clone();
    next.version = std::num::NonZeroU64::new(3).unwrap();
    let one_signature = tuf::sign_root(&next, &root_keys[..1], None).await.unwrap();
    mirror.publish(&feed);
    mirror.set("metadata/3.root.json", one_signature);
    refused(&app, "root_rotation_failed").await;

    // A root that says version 4 where 3 is asked for: versions cannot be skipped.
    let mut skipped = current.signed.clone();
    skipped.version = std::num::NonZeroU64::new(4).unwrap();
    let skipped = tuf::sign_root(&skipped, &root_keys, None).await.unwrap();
    mirror.publish(&feed);
    mirror.set("metadata/3.root.json", skipped);
    refused(&app, "root_rotation_failed").await;

    // The server still trusts version 2, and the honest feed.
    mirror.publish(&feed);
    let status = check(&app).await;
    assert_eq!(status["feed"]["root_version"], 2, "{status}");
    let _ = now;
}

#[tokio::test]
async fn a_package_that_is_not_its_tuf_target_fails_its_download_and_leaves_nothing() {
    let (_vendor, publisher, mirror, app, _now) = accepted_feed().await;
    let feed = publisher.published().await.unwrap();
    let target = feed
        .targets
        .keys()
        .find(|name| name.ends_with(".pkg") && name.contains("6.4.0.2"))
        .or_else(|| feed.targets.keys().find(|name| name.ends_with(".pkg")))
        .unwrap()
        .clone();
    let mut altered = mirror.get(&format!("targets/{target}")).to_vec();
    let last = altered.len() - 1;
    altered[last] ^= 0xff;
    mirror.set(&format!("targets/{target}"), altered);
    let id = offered(&app).await[0].clone();
    let job = app.follow_job(app.download(&id).await).await;
    assert_eq!(job["state"], "failed", "{job}");
    assert_eq!(job["error"]["code"], "target_hash_mismatch", "{job}");
    let view = app.get_json("/api/v1/patches").await;
    assert_eq!(
        view["available"][0]["state"]["state"], "available",
        "{view}"
    );
    let kept = std::fs::read_dir(app.state.repository.dir())
        .map(|dir| dir.count())
        .unwrap_or(0);
    assert_eq!(kept, 0);
}

#[tokio::test]
async fn format_1_is_refused_once_a_tuf_root_is_trusted() {
    let vendor = Vendor::new();
    vendor.package(1).write();
    let feed_vendor = Vendor::with_tuf().await;
    // A TMC serving format 1 only, to a server that trusts both its key and a TUF root.
    let tmc = TmcServer::with_rate(
        vendor.dir().to_owned(),
        backend::package::PackageSigner::load(&vendor.secret_key()).unwrap(),
        Duration::from_secs(86_400),
        None,
    );
    tmc.refresh().await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = reqwest::Url::parse(&format!("http://{}/", listener.local_addr().unwrap())).unwrap();
    tokio::spawn(async move { axum::serve(listener, tmc.router()).await });
    let app = spawn_app_with(|config| {
        vendor.trust(config);
        feed_vendor.trust_feed(config);
        config.tmc.url = Some(url);
        config.tmc.timeout = Duration::from_secs(2);
    })
    .await;
    app.login_admin().await;
    let status = check(&app).await;
    assert_eq!(status["connection"], "unreachable", "{status}");
    assert!(
        status["message"].as_str().unwrap().contains("format 2"),
        "{status}"
    );
    assert!(offered(&app).await.is_empty());
}

/// `sms doctor`'s line for `check` (`tmc`, `clock`), against a TMC at `url` whose feed starts
/// from `root`.
async fn doctor_line(url: &str, root: &std::path::Path, check: &str) -> String {
    let data = tempfile::tempdir().unwrap();
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_sms"))
        .arg("doctor")
        .env("SMS_DATA_DIR", data.path())
        .env("SMS_LISTEN", "127.0.0.1:1")
        .env("SMS_TMC_URL", url)
        .env("SMS_TRUST_ROOT", root)
        .env_remove("SMS_DATABASE_URL")
        .output()
        .await
        .unwrap();
    let out = String::from_utf8_lossy(&output.stdout).into_owned();
    out.lines()
        .find(|line| line.get(6..).is_some_and(|l| l.starts_with(check)))
        .unwrap_or_else(|| panic!("no {check} line: {out}"))
        .to_owned()
}

#[tokio::test]
async fn the_doctor_reads_the_feeds_timestamp_and_fails_it_when_it_has_expired() {
    let (vendor, publisher, mirror, _app, now) = accepted_feed().await;
    let line = doctor_line(&mirror.url, &vendor.trust_root(), "tmc").await;
    assert!(line.starts_with("WARN  tmc"), "plain HTTP: {line}");
    assert!(
        line.contains("v2/metadata/timestamp.json answers"),
        "{line}"
    );

    let feed = publisher.published().await.unwrap();
    serve_roles(
        &mirror,
        &resign(&vendor, &feed, 1, now - chrono::Duration::days(2)).await,
    );
    let line = doctor_line(&mirror.url, &vendor.trust_root(), "tmc").await;
    assert!(line.starts_with("FAIL  tmc"), "{line}");
    assert!(line.contains("expired"), "{line}");
}

#[tokio::test]
async fn a_database_restored_with_an_older_root_does_not_take_trust_back() {
    use sea_orm::{ActiveModelTrait, ActiveValue::Set};
    let (vendor, _publisher, _mirror, app, _now) = accepted_feed().await;
    // What a restore of a backup taken while root 1 was trusted leaves in the database.
    let first = std::fs::read_to_string(vendor.trust_root()).unwrap();
    tuf_root::ActiveModel {
        id: Set(1),
        version: Set(1),
        root: Set(first),
        updated_at: Set(Utc::now()),
    }
    .update(&app.state.db)
    .await
    .unwrap();
    // Trust starts again from the newer root the TUF cache keeps, and the database has it back.
    let status = check(&app).await;
    assert_eq!(status["connection"], "connected", "{status}");
    assert_eq!(status["feed"]["root_version"], 2, "{status}");
    let stored = tuf_root::Entity::find_by_id(1)
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.version, 2);
}
