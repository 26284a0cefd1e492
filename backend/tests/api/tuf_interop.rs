//! The TMC feed of format 2 (TUF metadata, docs/tmc-protocol.md) against python-tuf, the
//! reference implementation of The Update Framework (PyPI `tuf`, in target/test-venv from
//! `scripts/setup.sh --test-tools`), both ways: python-tuf's client reads what `sms tmc serve
//! --tuf` publishes, and a server reads a repository python-tuf's metadata API built. The
//! Python side is backend/tests/interop/: `tuf_client.py` and `tuf_repo.py`.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use backend::package::catalog::{FEED_FORMAT, FeedCatalog};
use backend::storage::entity::tuf_root;
use backend::tools::tmc_server::describe_package;
use chrono::Utc;
use sea_orm::EntityTrait;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use testkit::{Vendor, spawn_app_with};

use crate::notifications::test_python;
use crate::tuf::offered;

/// How long one run of an interop script may take.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(120);

/// A script of backend/tests/interop/.
fn interop_script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/interop")
        .join(name)
}

/// Runs the interop script `name` with `args` in the test tools' Python and returns the JSON
/// line it prints; a failure shows what it wrote on stderr (python-tuf's error).
async fn run_script<I, S>(name: &str, args: I) -> Value
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let run = tokio::process::Command::new(test_python())
        .arg(interop_script(name))
        .args(args)
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(SCRIPT_TIMEOUT, run)
        .await
        .unwrap_or_else(|_| panic!("{name} did not finish within {SCRIPT_TIMEOUT:?}"))
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{name} failed ({}):\n{stderr}",
        output.status
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|err| {
        panic!(
            "{name} printed no JSON line ({err}):\n{}\n{stderr}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

/// python-tuf's `Updater`, trusting `trusted_root`, refreshes the feed under the TMC at `url`
/// and downloads `target` into `out`: what it trusted and what it downloaded.
async fn python_tuf_download(url: &str, trusted_root: &Path, target: &str, out: &Path) -> Value {
    let metadata = format!("{url}v2/metadata/");
    let targets = format!("{url}v2/targets/");
    run_script(
        "tuf_client.py",
        [
            OsStr::new("--metadata-url"),
            OsStr::new(&metadata),
            OsStr::new("--targets-url"),
            OsStr::new(&targets),
            OsStr::new("--trusted-root"),
            trusted_root.as_os_str(),
            OsStr::new("--target"),
            OsStr::new(target),
            OsStr::new("--out"),
            out.as_os_str(),
        ],
    )
    .await
}

/// `sms tmc serve --tuf` of `vendor`'s folder and keys folder on a loopback port.
fn sms_tmc_serve_tuf(vendor: &Vendor) -> (testkit::process::Served, String) {
    let keys = vendor.tuf_keys();
    crate::tmc::sms_tmc_serve_with(vendor, &[OsStr::new("--tuf"), keys.as_os_str()])
}

/// A static web server of `dir` on a loopback port (what a vendor's plain mirror is): its URL.
async fn serve_dir(dir: &Path) -> String {
    let router = axum::Router::new().fallback_service(tower_http::services::ServeDir::new(dir));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    url
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[tokio::test]
async fn python_tufs_client_follows_a_root_rotation_of_sms_tmc_serve_and_downloads_a_package() {
    let vendor = Vendor::with_tuf().await;
    // The vendor rotates the root keys once: the client, trusting 1.root.json, must follow.
    let rotated = std::process::Command::new(env!("CARGO_BIN_EXE_sms"))
        .args(["tuf", "rotate-root", "--dir"])
        .arg(vendor.tuf_keys())
        .output()
        .unwrap();
    assert!(rotated.status.success(), "{rotated:?}");
    vendor.package(1).write();
    let package = vendor.package(2).payload_kib(64).write();
    let (_tmc, url) = sms_tmc_serve_tuf(&vendor);
    let out = tempfile::tempdir().unwrap();

    let read = python_tuf_download(&url, &vendor.trust_root(), "sms-6.4.0.2.pkg", out.path()).await;
    assert_eq!(read["root_version"], 2, "{read}");
    assert_eq!(read["consistent_snapshot"], true, "{read}");
    assert_eq!(
        read["targets"],
        json!(["catalog.json", "sms-6.4.0.1.pkg", "sms-6.4.0.2.pkg"]),
        "{read}"
    );
    // python-tuf checked the length and hash against the targets metadata; they are the file's.
    let bytes = std::fs::read(&package).unwrap();
    let download = &read["download"];
    assert_eq!(download["length"], bytes.len() as u64, "{read}");
    assert_eq!(download["sha256"], sha256_hex(&bytes), "{read}");
    let downloaded = PathBuf::from(download["path"].as_str().unwrap());
    assert_eq!(std::fs::read(&downloaded).unwrap(), bytes);

    // The catalog target, verified the same way, is the catalog an SMS reads: it names the
    // package's target with the target's size and hash.
    let read = python_tuf_download(&url, &vendor.trust_root(), "catalog.json", out.path()).await;
    assert_eq!(read["root_version"], 2, "{read}");
    let catalog =
        FeedCatalog::parse(&std::fs::read(read["download"]["path"].as_str().unwrap()).unwrap())
            .unwrap();
    let entry = catalog.patches.iter().find(|p| p.patch == 2).unwrap();
    assert_eq!(entry.url, "sms-6.4.0.2.pkg");
    assert_eq!(entry.size, bytes.len() as u64);
    assert_eq!(entry.sha256, sha256_hex(&bytes));
}

#[tokio::test]
async fn a_server_trusting_a_root_made_by_python_tuf_follows_its_rotation_and_offers_the_patch() {
    // The packages are signed with the vendor's targets key, which python-tuf's repository
    // names for its targets role (`--targets-key`): the server trusts them through that root.
    let vendor = Vendor::with_tuf().await;
    let package = vendor.package(3).write();
    let name = "sms-6.4.0.3.pkg";
    let work = tempfile::tempdir().unwrap();
    let catalog = work.path().join("catalog.json");
    let document = FeedCatalog {
        format: FEED_FORMAT,
        generated_at: Utc::now(),
        patches: vec![describe_package(&package, name.to_owned()).unwrap()],
    };
    std::fs::write(&catalog, serde_json::to_vec_pretty(&document).unwrap()).unwrap();

    // The repository python-tuf builds, under `v2/` of a static web server.
    let www = work.path().join("www");
    let repository = www.join("v2");
    let targets_key = vendor.secret_key();
    let built = run_script(
        "tuf_repo.py",
        [
            OsStr::new("--out"),
            repository.as_os_str(),
            OsStr::new("--catalog"),
            catalog.as_os_str(),
            OsStr::new("--target"),
            package.as_os_str(),
            OsStr::new("--targets-key"),
            targets_key.as_os_str(),
            OsStr::new("--rotate-root"),
        ],
    )
    .await;
    assert_eq!(built["root_versions"], json!([1, 2]), "{built}");
    // python-tuf computes the key id this product's key file gives (the TUF key id).
    assert_eq!(built["targets_keys"], json!([vendor.key_id()]), "{built}");
    let url = serve_dir(&www).await;

    let trust_root = repository.join("metadata/1.root.json");
    let app = spawn_app_with(|config| {
        config.tmc.trust_root = Some(trust_root);
        config.tmc.url = Some(reqwest::Url::parse(&url).unwrap());
        config.tmc.interval = Duration::from_secs(3600);
        config.tmc.timeout = Duration::from_secs(2);
    })
    .await;
    app.login_admin().await;

    let checked = app.tmc_check().await;
    assert_eq!(checked.status(), 200);
    let status = app.get_json("/api/v1/tmc").await;
    assert_eq!(status["connection"], "connected", "{status}");
    assert_eq!(status["code"], Value::Null, "{status}");
    assert_eq!(status["feed"]["root_version"], 2, "{status}");
    assert_eq!(status["feed"]["timestamp_version"], 1, "{status}");
    assert_eq!(offered(&app).await, ["6.4.0.3"]);

    // The rotated root python-tuf signed is the trust from now on, kept as it was signed.
    let stored = tuf_root::Entity::find_by_id(1)
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.version, 2);
    assert_eq!(
        stored.root.as_bytes(),
        std::fs::read(repository.join("metadata/2.root.json")).unwrap()
    );

    // The package comes from its target (`targets/<sha256>.<name>`) and verifies with the
    // targets key python-tuf's root names.
    let job = app.follow_job(app.download("6.4.0.3").await).await;
    assert_eq!(job["state"], "succeeded", "{job}");
    let view = app.get_json("/api/v1/patches").await;
    assert_eq!(
        view["available"][0]["state"]["state"], "downloaded",
        "{view}"
    );
}

#[tokio::test]
async fn the_feed_sms_tuf_sign_writes_is_read_from_any_static_web_server() {
    let vendor = Vendor::with_tuf().await;
    let keys = vendor.tuf_keys();
    vendor.package(2).write();
    let www = tempfile::tempdir().unwrap();
    let out = www.path().join("v2");
    let signed = tokio::process::Command::new(env!("CARGO_BIN_EXE_sms"))
        .args(["tuf", "sign", "--dir"])
        .arg(&keys)
        .arg("--packages")
        .arg(vendor.dir())
        .arg("--out")
        .arg(&out)
        .output()
        .await
        .unwrap();
    let said = String::from_utf8_lossy(&signed.stdout);
    assert!(signed.status.success(), "{said}");
    assert!(said.contains("Signed the feed of 1 package(s)"), "{said}");
    assert!(out.join("metadata/1.root.json").is_file());
    assert!(out.join("metadata/timestamp.json").is_file());

    let url = reqwest::Url::parse(&serve_dir(www.path()).await).unwrap();
    let app = spawn_app_with(|config| {
        vendor.trust_feed(config);
        config.tmc.url = Some(url);
        config.tmc.interval = Duration::from_secs(3600);
    })
    .await;
    app.login_admin().await;
    let status = crate::tuf::check(&app).await;
    assert_eq!(status["connection"], "connected", "{status}");
    assert_eq!(offered(&app).await, ["6.4.0.2"]);
    let job = app.follow_job(app.download("6.4.0.2").await).await;
    assert_eq!(job["state"], "succeeded", "{job}");
}
