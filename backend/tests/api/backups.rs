//! Database backups (docs/backups.md) on SQLite and PostgreSQL: taken as a job, listed,
//! downloaded and removed; consistent while writes go on; taken before the install of a patch
//! that changes the database, which stops cleanly when it cannot be taken.

use std::time::Duration;

use backend::config::Config;
use reqwest::Method;
use serde_json::Value;
use sha2::{Digest, Sha256};
use testkit::api::started_job;
use testkit::{PgTestDb, TestApp, Vendor, assert_error, test_config};

pub(crate) async fn app(
    vendor: &Vendor,
    pg: Option<PgTestDb>,
    adjust: impl FnOnce(&mut Config),
) -> TestApp {
    let data_dir = tempfile::tempdir().unwrap();
    let mut config = test_config(data_dir.path());
    vendor.trust(&mut config);
    config.system.reboot_window = Duration::from_millis(400);
    if let Some(pg) = &pg {
        config.storage.database_url = pg.url.clone();
    }
    adjust(&mut config);
    let app = TestApp::start(config, data_dir, pg).await.unwrap();
    app.login_admin().await;
    app
}

/// Takes a backup through the API and waits for its job; returns the job.
pub(crate) async fn take(app: &TestApp) -> Value {
    let started = app.post("/api/v1/backups").await;
    let job = started_job(started).await;
    assert_eq!(job["kind"], "backup", "{job}");
    app.wait_for_job(job["id"].as_i64().unwrap()).await
}

pub(crate) async fn backups(app: &TestApp) -> Vec<Value> {
    let list = app.get_json("/api/v1/backups").await;
    list["backups"].as_array().unwrap().clone()
}

async fn a_backup_is_taken_listed_downloaded_and_removed(pg: Option<PgTestDb>) {
    let postgres = pg.is_some();
    let vendor = Vendor::new();
    let app = app(&vendor, pg, |_| {}).await;

    let job = take(&app).await;
    assert_eq!(job["state"], "succeeded", "{job}");
    let list = backups(&app).await;
    assert_eq!(list.len(), 1, "{list:?}");
    let backup = &list[0];
    assert_eq!(backup["reason"], "manual");
    assert_eq!(backup["taken_by"], "admin");
    assert_eq!(backup["patch_level"], 0);
    assert_eq!(backup["product_version"], "6.4.0");
    assert_eq!(
        backup["database"],
        if postgres { "postgres" } else { "sqlite" }
    );
    let id = backup["id"].as_str().unwrap();
    assert_eq!(
        app.get_json(&format!("/api/v1/backups/{id}")).await,
        *backup
    );

    let download = app.get(&format!("/api/v1/backups/{id}/download")).await;
    assert_eq!(download.status(), 200);
    assert_eq!(
        download.headers()["x-sms-sha256"],
        backup["sha256"].as_str().unwrap()
    );
    let bytes = download.bytes().await.unwrap();
    assert_eq!(bytes.len() as u64, backup["size"].as_u64().unwrap());
    assert_eq!(
        hex::encode(Sha256::digest(&bytes)),
        backup["sha256"].as_str().unwrap()
    );
    if postgres {
        assert!(bytes.starts_with(b"PGDMP"), "a pg_dump archive");
    } else {
        assert!(bytes.starts_with(b"SQLite format 3\0"), "a SQLite database");
    }

    // An operator may list, not download or remove.
    app.add_user("olga", shared::Role::Operator, "operator-password")
        .await;
    let operator = testkit::Api::new(&app.url(""));
    assert_eq!(
        operator.login("olga", "operator-password").await.status(),
        200
    );
    assert_eq!(operator.get("/api/v1/backups").await.status(), 200);
    let refused = operator
        .get(&format!("/api/v1/backups/{id}/download"))
        .await;
    assert_error(refused, 403, "admin_required").await;
    let refused = operator
        .request(Method::DELETE, &format!("/api/v1/backups/{id}"))
        .send()
        .await
        .unwrap();
    assert_error(refused, 403, "admin_required").await;

    let removed = app
        .request(Method::DELETE, &format!("/api/v1/backups/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status(), 204);
    assert!(backups(&app).await.is_empty());
    let gone = app.get(&format!("/api/v1/backups/{id}")).await;
    assert_error(gone, 404, "backup_not_found").await;
    assert_error(
        app.get("/api/v1/backups/..%2Fsms/download").await,
        404,
        "backup_not_found",
    )
    .await;
    let files: Vec<_> = std::fs::read_dir(app.data_dir.path().join("backups"))
        .unwrap()
        .collect();
    assert!(files.is_empty(), "nothing is left of it");

    let audit = app.get_json("/api/v1/audit").await;
    for action in ["backup_create", "backup_delete"] {
        assert!(
            audit["entries"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["action"] == action),
            "{action} is audited: {audit}"
        );
    }
}

#[tokio::test]
async fn a_backup_is_taken_listed_downloaded_and_removed_on_sqlite() {
    a_backup_is_taken_listed_downloaded_and_removed(None).await;
}

#[tokio::test]
async fn a_backup_is_taken_listed_downloaded_and_removed_on_postgres() {
    let Some(pg) = PgTestDb::create().await else {
        return;
    };
    a_backup_is_taken_listed_downloaded_and_removed(Some(pg)).await;
}

#[tokio::test]
async fn a_backup_taken_while_writes_go_on_is_a_consistent_snapshot() {
    let vendor = Vendor::new();
    let app = app(&vendor, None, |_| {}).await;
    let writer = {
        let api = testkit::Api::new(&app.url(""));
        assert_eq!(
            api.login("admin", testkit::ADMIN_PASSWORD).await.status(),
            200
        );
        tokio::spawn(async move {
            for round in 0..150 {
                let answer = api.set_notifications(round % 2 == 0).await;
                assert_eq!(answer.status(), 200);
            }
        })
    };
    for _ in 0..3 {
        assert_eq!(take(&app).await["state"], "succeeded");
    }
    writer.await.unwrap();

    // In each copy the setting and the audit entry of its last change agree: every change and
    // its entry are in the copy together, or neither is.
    for backup in backups(&app).await {
        let file = app
            .data_dir
            .path()
            .join("backups")
            .join(format!("{}.sqlite", backup["id"].as_str().unwrap()));
        let url = format!("sqlite://{}?mode=ro", file.display());
        let copy = sea_orm::Database::connect(url.as_str()).await.unwrap();
        use sea_orm::{ConnectionTrait, Statement};
        let one = |sql: &str| Statement::from_string(copy.get_database_backend(), sql.to_owned());
        let setting = copy
            .query_one_raw(one(
                "SELECT value FROM settings WHERE key = 'notifications_enabled'",
            ))
            .await
            .unwrap();
        let last = copy
            .query_one_raw(one(
                "SELECT details FROM audit_log WHERE action = 'setting_change' \
                 ORDER BY id DESC LIMIT 1",
            ))
            .await
            .unwrap();
        match (setting, last) {
            (Some(setting), Some(last)) => {
                let value: String = setting.try_get_by_index(0).unwrap();
                let details: String = last.try_get_by_index(0).unwrap();
                assert!(
                    details.ends_with(&format!("-> {value}")),
                    "{value} vs {details}"
                );
            }
            (None, None) => {}
            other => panic!("a change without its entry, or the reverse: {other:?}"),
        }
        let check = copy
            .query_one_raw(one("PRAGMA integrity_check"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(check.try_get_by_index::<String>(0).unwrap(), "ok");
    }
}

/// The stages of `job`, as `(name, outcome)`.
pub(crate) fn stages(job: &Value) -> Vec<(String, Option<String>)> {
    job["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_owned(),
                s["outcome"].as_str().map(str::to_owned),
            )
        })
        .collect()
}

#[tokio::test]
async fn the_install_of_a_database_patch_backs_the_database_up_first() {
    let vendor = Vendor::new();
    let app = app(&vendor, None, |_| {}).await;
    app.import_file(&vendor.package(2).write()).await;
    app.import_file(&vendor.package(3).database_changes().write())
        .await;

    // A patch that leaves the database alone takes no backup.
    let job = app.follow_job(app.install("6.4.0.2").await).await;
    assert_eq!(job["state"], "succeeded", "{job}");
    assert!(!stages(&job).iter().any(|(name, _)| name == "backup"));
    assert!(backups(&app).await.is_empty());

    let job = app.follow_job(app.install("6.4.0.3").await).await;
    assert_eq!(job["state"], "succeeded", "{job}");
    let names: Vec<String> = stages(&job).into_iter().map(|(name, _)| name).collect();
    assert_eq!(
        names[..4],
        ["verify", "precheck", "backup", "stop_clients"],
        "{names:?}"
    );
    let list = backups(&app).await;
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["reason"], "before_install");
    assert_eq!(list[0]["patch"], "6.4.0.3");
    assert_eq!(list[0]["patch_level"], 2, "taken at the level before");
}

async fn a_backup_that_fails_stops_the_install_before_anything_changes(
    pg: Option<PgTestDb>,
    adjust: impl FnOnce(&mut Config),
) {
    let vendor = Vendor::new();
    let app = app(&vendor, pg, adjust).await;
    app.import_file(&vendor.package(3).database_changes().write())
        .await;
    let job = app.follow_job(app.install("6.4.0.3").await).await;
    assert_eq!(job["state"], "failed", "{job}");
    assert_eq!(job["error"]["code"], "backup_failed", "{job}");
    let message = job["error"]["message"].as_str().unwrap();
    assert!(message.contains("Nothing was changed"), "{message}");
    let stages = stages(&job);
    let at = stages
        .iter()
        .position(|(name, _)| name == "backup")
        .unwrap();
    assert_eq!(stages[at].1.as_deref(), Some("failed"), "{stages:?}");
    assert!(
        stages[at + 1..]
            .iter()
            .all(|(_, outcome)| outcome.is_none()),
        "{stages:?}"
    );
    assert_eq!(app.level().await, 0);
    let audit = app.get_json("/api/v1/audit").await;
    assert!(
        audit["entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "backup_create" && e["outcome"] == "failure"),
        "{audit}"
    );
}

#[tokio::test]
async fn a_backup_that_fails_stops_the_install_before_anything_changes_on_sqlite() {
    // The backups folder cannot be made: a file is in its place.
    let blocker = tempfile::NamedTempFile::new().unwrap();
    let path = blocker.path().join("backups");
    a_backup_that_fails_stops_the_install_before_anything_changes(None, move |config| {
        config.backups.dir = path;
    })
    .await;
}

#[tokio::test]
async fn a_backup_that_fails_stops_the_install_before_anything_changes_on_postgres() {
    let Some(pg) = PgTestDb::create().await else {
        return;
    };
    a_backup_that_fails_stops_the_install_before_anything_changes(Some(pg), |config| {
        config.backups.pg_dump = "/nonexistent/pg_dump".into();
    })
    .await;
}

#[tokio::test]
async fn the_command_line_takes_and_lists_backups_while_the_server_is_stopped() {
    let vendor = Vendor::new();
    let mut app = app(&vendor, None, |_| {}).await;
    app.stop().await;
    let sms = |args: &[&str]| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_sms"))
            .args(args)
            .env("SMS_DATA_DIR", app.data_dir.path())
            .env_remove("SMS_DATABASE_URL")
            .env_remove("SMS_CONFIG")
            .output()
            .unwrap();
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let (ok, out, err) = sms(&["backup", "create"]);
    assert!(ok, "{out}{err}");
    assert!(out.starts_with("Took the backup "), "{out}");
    assert!(out.contains("-manual"), "{out}");
    let (ok, out, err) = sms(&["backup", "list"]);
    assert!(ok, "{out}{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(lines[1].contains("manual"), "{out}");

    // The server finds it when it is back.
    let app = app.restart().await;
    let list = backups(&app).await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["taken_by"], "cli");
}

#[tokio::test]
async fn a_scheduled_backup_is_taken_when_its_time_comes() {
    let vendor = Vendor::new();
    // The clock reads 02:59:00 UTC at the start and runs 20 times as fast: 03:00 comes in
    // about 3 s.
    let start = chrono::DateTime::parse_from_rfc3339("2027-05-04T02:59:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let app = app(&vendor, None, |config| {
        config.clock = backend::clock::Clock::starting_at(start, 20);
        config.backups.schedule = Some("0 3 * * *".into());
    })
    .await;
    let list = testkit::eventually("the scheduled backup", Duration::from_secs(20), || async {
        let list = backups(&app).await;
        if list.is_empty() {
            Err("none yet")
        } else {
            Ok(list)
        }
    })
    .await
    .unwrap();
    assert_eq!(list[0]["reason"], "scheduled");
    assert_eq!(list[0]["taken_by"], "system");
}

#[test]
fn a_bad_backup_schedule_is_refused_at_the_start_with_what_is_wrong() {
    use backend::config::Config;
    let read =
        |text: &str| Config::from_layers(&serde_json::json!({}), Some(("sms.toml".into(), text)));
    let err = read("[backups]\nschedule = \"0 3 * *\"").unwrap_err();
    assert!(err.to_string().contains("backups.schedule"), "{err}");
    let err = read("[backups]\nschedule = \"0 3 * * *\"\ntime_zone = \"Mars/Base\"").unwrap_err();
    assert!(err.to_string().contains("Mars/Base"), "{err}");
}

/// `sms backup ARGS` with the environment of `app`'s server (its data dir, its database, its
/// address); `(success, stdout, stderr)`. Awaited, so that the server in this process answers
/// meanwhile.
async fn sms_backup(app: &TestApp, args: &[&str]) -> (bool, String, String) {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_sms"))
        .arg("backup")
        .args(args)
        .env("SMS_DATA_DIR", app.data_dir.path())
        .env("SMS_DATABASE_URL", &app.config.storage.database_url)
        .env("SMS_LISTEN", app.addr.to_string())
        .env_remove("SMS_CONFIG")
        .output()
        .await
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

async fn a_restore_with_the_server_stopped_brings_the_database_back(pg: Option<PgTestDb>) {
    let vendor = Vendor::new();
    let mut app = app(&vendor, pg, |_| {}).await;
    assert_eq!(app.set_notifications(false).await.status(), 200);
    assert_eq!(take(&app).await["state"], "succeeded");
    let id = backups(&app).await[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(app.set_notifications(true).await.status(), 200);

    // Not while the server runs.
    let (ok, _, err) = sms_backup(&app, &["restore", &id]).await;
    assert!(!ok);
    assert!(err.contains("backup_server_running"), "{err}");

    app.stop().await;
    let (ok, out, err) = sms_backup(&app, &["restore", &id]).await;
    assert!(ok, "{out}{err}");
    assert!(out.contains(&format!("Restored the backup {id}")), "{out}");
    let app = app.restart().await;
    let settings = app.get_json("/api/v1/settings").await;
    assert_eq!(
        settings["notifications_enabled"], false,
        "as it was when it was taken"
    );
    let audit = app.get_json("/api/v1/audit").await;
    assert_eq!(audit["entries"][0]["action"], "backup_restore", "{audit}");
    assert_eq!(audit["entries"][0]["target"], id.as_str());
}

#[tokio::test]
async fn a_restore_with_the_server_stopped_brings_the_database_back_on_sqlite() {
    a_restore_with_the_server_stopped_brings_the_database_back(None).await;
}

#[tokio::test]
async fn a_restore_with_the_server_stopped_brings_the_database_back_on_postgres() {
    let Some(pg) = PgTestDb::create().await else {
        return;
    };
    a_restore_with_the_server_stopped_brings_the_database_back(Some(pg)).await;
}

#[tokio::test]
async fn a_damaged_backup_or_one_of_another_level_is_refused_and_nothing_changes() {
    let vendor = Vendor::new();
    let mut app = app(&vendor, None, |_| {}).await;
    assert_eq!(take(&app).await["state"], "succeeded");
    let id = backups(&app).await[0]["id"].as_str().unwrap().to_owned();
    app.import_file(&vendor.package(2).write()).await;
    let installed = app.follow_job(app.install("6.4.0.2").await).await;
    assert_eq!(installed["state"], "succeeded", "{installed}");
    app.stop().await;

    // Of level 0, while level 2 runs.
    let (ok, _, err) = sms_backup(&app, &["restore", &id]).await;
    assert!(!ok);
    assert!(err.contains("backup_mismatch"), "{err}");
    assert!(
        err.contains("install or roll back to that level first"),
        "{err}"
    );

    // One byte changed in the file.
    let file = app
        .data_dir
        .path()
        .join("backups")
        .join(format!("{id}.sqlite"));
    let mut bytes = std::fs::read(&file).unwrap();
    let at = bytes.len() - 100;
    bytes[at] ^= 0xff;
    std::fs::write(&file, bytes).unwrap();
    let (ok, _, err) = sms_backup(&app, &["restore", file.to_str().unwrap()]).await;
    assert!(!ok);
    assert!(err.contains("backup_corrupt"), "{err}");

    let (ok, _, err) = sms_backup(&app, &["restore", "no-such-backup"]).await;
    assert!(!ok);
    assert!(err.contains("backup_not_found"), "{err}");

    let app = app.restart().await;
    assert_eq!(app.level().await, 2, "nothing changed");
}

#[tokio::test]
async fn what_a_crash_left_of_a_backup_is_removed_at_the_next_start() {
    let vendor = Vendor::new();
    let app = app(&vendor, None, |_| {}).await;
    assert_eq!(take(&app).await["state"], "succeeded");
    let id = backups(&app).await[0]["id"].as_str().unwrap().to_owned();
    let dir = app.data_dir.path().join("backups");
    // A copy cut off, a copy renamed but without its manifest, a manifest cut off.
    for leftover in [
        "20270101-000000-manual.sqlite.part",
        "20270101-000001-manual.sqlite",
        "20270101-000002-manual.json.part",
    ] {
        std::fs::write(dir.join(leftover), b"cut off").unwrap();
    }
    let app = app.restart().await;
    let mut left: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, [format!("{id}.json"), format!("{id}.sqlite")]);
    assert_eq!(backups(&app).await.len(), 1);
}
