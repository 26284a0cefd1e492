//! A later release as a patch (docs/schema.md): a level whose server executable brings a
//! built-in schema migration the base does not know (this build with `SMS_EXTRA_MIGRATION`,
//! behind a wrapper script as the payload's `server/bin/sms`) is judged a database change,
//! installed, and rolled back through its own server, which undoes the migration first; one
//! that cannot be undone is refused up front; a stop in the switch leaves one level on its own
//! schema.

use std::process::{Command, Stdio};
use std::time::Duration;

use sea_orm::{ConnectionTrait, Database, Statement};
use serde_json::{Value, json};
use testkit::process::terminate;
use testkit::{PgTestDb, Vendor, assert_error};

use crate::cli::SMS;
use crate::install::{current_level, job_id, logged_in, start_server_with, wait_for_exit};

const REVERSIBLE: &str = "m20270101_000099_future_table";
const IRREVERSIBLE: &str = "m20270101_000099_future_table_irreversible";

/// Patch 3 whose server is this build with one more built-in migration (`reversible` or
/// `irreversible`); its manifest says it changes nothing in the database.
fn later_release(vendor: &Vendor, kind: &str) -> std::path::PathBuf {
    vendor
        .package(3)
        .server_script(&format!("SMS_EXTRA_MIGRATION={kind} exec {SMS} \"$@\"\n"))
        .write()
}

/// The server's own migrations applied to the database at `url`.
async fn builtin(url: &str) -> Vec<String> {
    let db = Database::connect(url).await.unwrap();
    let backend = db.get_database_backend();
    let rows = db
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT version FROM seaql_migrations ORDER BY version",
        ))
        .await
        .unwrap();
    db.close().await.unwrap();
    rows.iter()
        .map(|row| row.try_get::<String>("", "version").unwrap())
        .collect()
}

fn database(dir: &std::path::Path, pg: &Option<PgTestDb>) -> String {
    match pg {
        Some(pg) => pg.url.clone(),
        None => format!("sqlite://{}?mode=rwc", dir.join("sms.db").display()),
    }
}

fn envs(pg: &Option<PgTestDb>) -> Vec<(&str, &str)> {
    match pg {
        Some(pg) => vec![("SMS_DATABASE_URL", pg.url.as_str())],
        None => Vec::new(),
    }
}

fn stage_names(job: &Value) -> Vec<String> {
    job["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_owned())
        .collect()
}

async fn a_level_bringing_a_schema_migration_is_installed_and_rolled_back(pg: Option<PgTestDb>) {
    let dir = tempfile::tempdir().unwrap();
    let vendor = Vendor::new();
    let url = database(dir.path(), &pg);
    let mut server = start_server_with(dir.path(), &vendor, "", &envs(&pg));
    let api = logged_in(&server.url).await;
    api.import_file(&later_release(&vendor, "reversible")).await;
    // The panel says it changes the database, and with what.
    let panel: Value = api.patches().await.json().await.unwrap();
    let patch = panel["available"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["patch"]["id"] == "6.4.0.3")
        .unwrap();
    assert_eq!(
        patch["patch"]["database_changes"], false,
        "the manifest's word"
    );
    assert_eq!(patch["patch"]["server_migrations"], json!([REVERSIBLE]));

    let job = api.follow_job(api.install("6.4.0.3").await).await;
    assert_eq!(job["state"], "succeeded", "{job}");
    assert!(
        stage_names(&job).contains(&"backup".to_owned()),
        "a database change: backed up first: {job}"
    );
    assert!(builtin(&url).await.contains(&REVERSIBLE.to_owned()));
    let audit = api.get_json("/api/v1/audit?per_page=200").await;
    assert!(
        audit["entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "patch_install"
                && e["details"].as_str().unwrap_or("").contains(REVERSIBLE)),
        "the install's record names the migration: {audit}"
    );

    let job = api.follow_job(api.rollback().await).await;
    assert_eq!(job["state"], "succeeded", "{job}");
    assert_eq!(api.level().await, 0);
    assert_eq!(current_level(dir.path()), 0);
    let applied = builtin(&url).await;
    assert!(
        !applied.contains(&REVERSIBLE.to_owned()),
        "undone by the level's own server before the base ran: {applied:?}"
    );
    // The base runs again and takes the level once more.
    let job = api.follow_job(api.install("6.4.0.3").await).await;
    assert_eq!(job["state"], "succeeded", "{job}");
    terminate(&mut server.child);
}

#[tokio::test]
async fn a_level_bringing_a_schema_migration_is_installed_and_rolled_back_on_sqlite() {
    a_level_bringing_a_schema_migration_is_installed_and_rolled_back(None).await;
}

#[tokio::test]
async fn a_level_bringing_a_schema_migration_is_installed_and_rolled_back_on_postgres() {
    let Some(pg) = PgTestDb::create().await else {
        return;
    };
    a_level_bringing_a_schema_migration_is_installed_and_rolled_back(Some(pg)).await;
}

#[tokio::test]
async fn a_migration_without_a_down_refuses_the_rollback_up_front_and_the_backup_restores() {
    let dir = tempfile::tempdir().unwrap();
    let vendor = Vendor::new();
    let url = database(dir.path(), &None);
    let mut server = start_server_with(dir.path(), &vendor, "", &[]);
    let api = logged_in(&server.url).await;
    api.import_file(&later_release(&vendor, "irreversible"))
        .await;
    let job = api.follow_job(api.install("6.4.0.3").await).await;
    assert_eq!(job["state"], "succeeded", "{job}");

    let message = assert_error(api.rollback().await, 412, "rollback_schema_irreversible").await;
    assert!(message.contains(IRREVERSIBLE), "{message}");
    assert!(
        message.contains("backup"),
        "it offers the backup: {message}"
    );
    assert_eq!(api.level().await, 3, "nothing changed");

    let started = api
        .request(reqwest::Method::POST, "/api/v1/rollback")
        .json(&json!({"restore_backup": true}))
        .send()
        .await
        .unwrap();
    let job = api.follow_job(started).await;
    assert_eq!(job["state"], "succeeded", "{job}");
    assert_eq!(api.level().await, 0);
    assert!(!builtin(&url).await.contains(&IRREVERSIBLE.to_owned()));
    // The audit log kept its rows, in the base's structure of the table (the later release
    // had added a column to it).
    let audit = api.get_json("/api/v1/audit?per_page=200").await;
    assert!(
        audit["entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "patch_install" && e["outcome"] == "success"),
        "{audit}"
    );
    terminate(&mut server.child);
}

#[tokio::test]
async fn the_doctor_and_the_base_name_a_schema_migration_of_a_later_release() {
    let dir = tempfile::tempdir().unwrap();
    let vendor = Vendor::new();
    let mut server = start_server_with(dir.path(), &vendor, "", &[]);
    let api = logged_in(&server.url).await;
    api.import_file(&later_release(&vendor, "reversible")).await;
    let job = api.follow_job(api.install("6.4.0.3").await).await;
    assert_eq!(job["state"], "succeeded", "{job}");
    terminate(&mut server.child);

    let doctor = Command::new(SMS)
        .arg("doctor")
        .arg("--data-dir")
        .arg(dir.path())
        .env_remove("SMS_DATABASE_URL")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&doctor.stdout);
    assert!(!doctor.status.success(), "{out}");
    assert!(out.contains(REVERSIBLE), "{out}");
    assert!(out.contains("sms backup restore"), "{out}");

    let backups = Command::new(SMS)
        .args(["backup", "create", "--data-dir"])
        .arg(dir.path())
        .env_remove("SMS_DATABASE_URL")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&backups.stderr);
    assert!(!backups.status.success(), "{err}");
    assert!(err.contains("schema_from_later_release"), "{err}");
    assert!(err.contains(REVERSIBLE), "{err}");
}

#[test]
fn sms_pack_warns_when_the_payloads_server_brings_schema_migrations_the_manifest_denies() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("vendor");
    let keygen = Command::new(SMS)
        .args(["keygen", "--key-id", "vendor", "--out"])
        .arg(&key)
        .output()
        .unwrap();
    assert!(keygen.status.success());
    let payload = dir.path().join("payload");
    std::fs::create_dir_all(payload.join("server/bin")).unwrap();
    let script = payload.join("server/bin/sms");
    std::fs::write(
        &script,
        format!("#!/bin/sh\nSMS_EXTRA_MIGRATION=reversible exec {SMS} \"$@\"\n"),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let manifest = dir.path().join("manifest.json");
    let vendor = Vendor::new();
    let mut template = vendor.package(3).manifest();
    template.as_object_mut().unwrap().remove("files");
    template["key_id"] = json!("vendor");
    template["database_changes"] = json!(false);
    std::fs::write(&manifest, template.to_string()).unwrap();
    let pack = |out: &str| {
        Command::new(SMS)
            .arg("pack")
            .arg("--key")
            .arg(key.with_extension("key"))
            .arg("--manifest")
            .arg(&manifest)
            .arg("--payload")
            .arg(&payload)
            .arg("--out")
            .arg(dir.path().join(out))
            .output()
            .unwrap()
    };
    let packed = pack("p3.pkg");
    let err = String::from_utf8_lossy(&packed.stderr);
    assert!(packed.status.success(), "{err}");
    assert!(err.contains("warning:"), "{err}");
    assert!(err.contains(REVERSIBLE), "{err}");

    // The same executable without the extra migration: no warning.
    std::fs::write(&script, format!("#!/bin/sh\nexec {SMS} \"$@\"\n")).unwrap();
    let packed = pack("p3b.pkg");
    let err = String::from_utf8_lossy(&packed.stderr);
    assert!(packed.status.success(), "{err}");
    assert!(!err.contains("warning:"), "{err}");
}

/// A stop at `point` of the rollback of a level that brought a built-in migration leaves the
/// old level on its schema (migration there) or the base on its own (migration undone).
async fn a_stop_in_the_rollback_of_a_later_release(point: &str) {
    let dir = tempfile::tempdir().unwrap();
    let vendor = Vendor::new();
    let url = database(dir.path(), &None);
    let mut server = start_server_with(dir.path(), &vendor, "", &[]);
    let api = logged_in(&server.url).await;
    api.import_file(&later_release(&vendor, "reversible")).await;
    let job = api.follow_job(api.install("6.4.0.3").await).await;
    assert_eq!(job["state"], "succeeded", "{job}");
    terminate(&mut server.child);

    let mut crashing = start_server_with(dir.path(), &vendor, "", &[("SMS_CRASH_AT", point)]);
    let api = logged_in(&crashing.url).await;
    let id = job_id(api.rollback().await).await;
    let status = wait_for_exit(
        &mut crashing,
        "the server to abort where it was told to",
        Duration::from_secs(60),
    )
    .await;
    assert!(!status.success());

    let mut server = start_server_with(dir.path(), &vendor, "", &[]);
    let api = logged_in(&server.url).await;
    let job = api.wait_for_job(id).await;
    let level = api.level().await;
    assert_eq!(current_level(dir.path()) as u64, level, "{job}");
    let applied = builtin(&url).await;
    assert_eq!(
        applied.contains(&REVERSIBLE.to_owned()),
        level == 3,
        "each level on its own schema: {job} {applied:?}"
    );
    terminate(&mut server.child);
}

#[tokio::test]
async fn a_stop_before_the_commit_of_a_rollback_that_undoes_a_schema_migration() {
    a_stop_in_the_rollback_of_a_later_release("migration_commit").await;
}

#[tokio::test]
async fn a_stop_after_the_commit_of_a_rollback_that_undoes_a_schema_migration() {
    a_stop_in_the_rollback_of_a_later_release("migration_committed").await;
}

#[tokio::test]
async fn a_stop_at_the_handover_of_a_rollback_that_undoes_a_schema_migration() {
    a_stop_in_the_rollback_of_a_later_release("handover").await;
}

#[tokio::test]
async fn a_level_bringing_a_schema_migration_is_refused_while_clustering_is_enabled() {
    let vendor = Vendor::new();
    let Some(pg) = PgTestDb::create().await else {
        return;
    };
    // Node a is the real, supervised `sms serve`, which asks the level's executable.
    let (mut node_a, _b, _dirs) = crate::cluster::a_served_and_b(&vendor, pg).await;

    let a = logged_in(&node_a.url).await;
    a.import_file(&later_release(&vendor, "reversible")).await;
    let message = assert_error(a.install("6.4.0.3").await, 412, "ha_cluster_enabled").await;
    assert!(message.contains("Disable clustering"), "{message}");
    assert_eq!(a.level().await, 0);
    terminate(&mut node_a.child);
}

#[tokio::test]
async fn a_level_that_migrated_and_did_not_come_up_undoes_its_migration_before_the_switch_back() {
    let dir = tempfile::tempdir().unwrap();
    let vendor = Vendor::new();
    let url = database(dir.path(), &None);
    // As a server, it opens the database (which applies its migration), then fails.
    let package = vendor
        .package(3)
        .server_script(&format!(
            "if [ \"$1\" = serve ]; then\n  shift\n  SMS_EXTRA_MIGRATION=reversible {SMS} backup \
             create \"$@\" >/dev/null 2>&1\n  echo 'cannot serve'\n  exit 3\nfi\n\
             SMS_EXTRA_MIGRATION=reversible exec {SMS} \"$@\"\n"
        ))
        .write();
    let mut server = start_server_with(dir.path(), &vendor, "", &[]);
    let api = logged_in(&server.url).await;
    api.import_file(&package).await;
    let job = api.follow_job(api.install("6.4.0.3").await).await;
    assert_eq!(job["state"], "failed", "{job}");
    assert_eq!(job["error"]["code"], "server_start_failed", "{job}");
    assert_eq!(api.level().await, 0, "the base runs again");
    assert_eq!(current_level(dir.path()), 0);
    assert!(
        !builtin(&url).await.contains(&REVERSIBLE.to_owned()),
        "the level's own executable undid its migration before the switch back"
    );
    terminate(&mut server.child);
}
