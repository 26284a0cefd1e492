//! Restoring database backups (docs/backups.md) on SQLite and PostgreSQL: from the console, a
//! job that keeps the server's own records; a rollback that restores the backup taken before
//! its patch, bringing back rows the patch's migration changed; a damaged backup refused with
//! its code; and a stop at every stage leaving the old database or the backup's, never a mix.

use std::path::Path;
use std::time::Duration;

use reqwest::Method;
use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};
use serde_json::{Value, json};
use testkit::process::terminate;
use testkit::{PgTestDb, TestApp, Vendor, assert_error};

use crate::backups::{app, backups, stages, take};
use crate::install::{current_level, job_id, logged_in, start_server_with, wait_for_exit};

/// A patch whose migration changes rows it cannot give back: the notifications setting is
/// turned off; its down migration only drops its table.
fn quieting_patch(vendor: &Vendor) -> std::path::PathBuf {
    vendor
        .package(3)
        .migration(
            "0001-quiet.up.sql",
            "CREATE TABLE patch_quiet (id INTEGER PRIMARY KEY);\n\
             UPDATE settings SET value = 'false' WHERE key = 'notifications_enabled';\n",
        )
        .migration("0001-quiet.down.sql", "DROP TABLE patch_quiet;\n")
        .write()
}

async fn notifications(api: &testkit::Api) -> bool {
    let settings: Value = api.settings().await.json().await.unwrap();
    settings["notifications_enabled"].as_bool().unwrap()
}

/// Whether the database at `url` has the table `name`.
async fn has_table(url: &str, name: &str) -> bool {
    let db = Database::connect(url).await.unwrap();
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => {
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' \
             AND table_name = $1"
        }
        _ => "SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?",
    };
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(backend, sql, [name.into()]))
        .await
        .unwrap();
    db.close().await.unwrap();
    !rows.is_empty()
}

fn audited(audit: &Value, action: &str) -> Vec<Value> {
    audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == action)
        .cloned()
        .collect()
}

async fn a_restore_brings_the_database_back_and_keeps_the_servers_records(pg: Option<PgTestDb>) {
    let vendor = Vendor::new();
    let app = app(&vendor, pg, |_| {}).await;
    assert_eq!(app.set_notifications(true).await.status(), 200);
    let backup_job = take(&app).await;
    assert_eq!(backup_job["state"], "succeeded", "{backup_job}");
    let id = backups(&app).await[0]["id"].as_str().unwrap().to_owned();
    // Written after the backup: a setting (restored) and its audit entry (kept).
    assert_eq!(app.set_notifications(false).await.status(), 200);

    let job = app
        .follow_job(app.post(&format!("/api/v1/backups/{id}/restore")).await)
        .await;
    assert_eq!(job["state"], "succeeded", "{job}");
    assert_eq!(job["kind"], "restore");
    assert_eq!(job["backup"], id.as_str());
    let names: Vec<(String, Option<String>)> = stages(&job);
    assert_eq!(
        names.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
        [
            "verify",
            "precheck",
            "stop_clients",
            "restore_database",
            "restart",
            "postcheck",
            "done"
        ],
        "the level did not change: no switch"
    );
    assert!(
        names.iter().all(|(_, o)| o.as_deref() == Some("ok")),
        "{names:?}"
    );

    // The same session still works (sessions are kept), and the setting is the backup's.
    assert!(notifications(&app).await, "the setting is back");
    assert_eq!(app.level().await, 0);
    let audit = app.get_json("/api/v1/audit?per_page=100").await;
    assert!(
        !audited(&audit, "setting_change").is_empty(),
        "the audit log is kept: {audit}"
    );
    let restored = audited(&audit, "backup_restore");
    assert_eq!(restored.len(), 1, "{audit}");
    assert_eq!(restored[0]["outcome"], "success");
    assert_eq!(restored[0]["target"], id.as_str());
    // The job history is kept: the backup's own job is still there.
    let backup_job_id = backup_job["id"].as_i64().unwrap();
    assert_eq!(app.job(backup_job_id).await.status(), 200);
    // New writes go on after it, with fresh ids.
    assert_eq!(app.set_notifications(false).await.status(), 200);
    assert!(!notifications(&app).await);
    let second = take(&app).await;
    assert!(second["id"].as_i64().unwrap() > job["id"].as_i64().unwrap());
}

#[tokio::test]
async fn a_restore_brings_the_database_back_and_keeps_the_servers_records_on_sqlite() {
    a_restore_brings_the_database_back_and_keeps_the_servers_records(None).await;
}

#[tokio::test]
async fn a_restore_brings_the_database_back_and_keeps_the_servers_records_on_postgres() {
    let Some(pg) = PgTestDb::create().await else {
        return;
    };
    a_restore_brings_the_database_back_and_keeps_the_servers_records(Some(pg)).await;
}

async fn a_rollback_that_restores_the_backup_brings_back_rows_the_patch_changed(
    pg: Option<PgTestDb>,
) {
    let vendor = Vendor::new();
    let app = app(&vendor, pg, |_| {}).await;
    let url = app.config.storage.database_url.clone();
    assert_eq!(app.set_notifications(false).await.status(), 200);
    assert_eq!(app.set_notifications(true).await.status(), 200);
    app.import_file(&quieting_patch(&vendor)).await;

    // Without a backup of its install, the rollback cannot restore one.
    let job = app.follow_job(app.install("6.4.0.3").await).await;
    assert_eq!(job["state"], "succeeded", "{job}");
    assert!(
        !notifications(&app).await,
        "the patch's migration turned it off"
    );
    assert!(has_table(&url, "patch_quiet").await);
    let list = backups(&app).await;
    let before = list
        .iter()
        .find(|b| b["reason"] == "before_install")
        .unwrap();
    let id = before["id"].as_str().unwrap().to_owned();
    assert_eq!(before["patch"], "6.4.0.3");

    let restoring = app
        .request(Method::POST, "/api/v1/rollback")
        .json(&json!({"restore_backup": true, "when": "next_window"}))
        .send()
        .await
        .unwrap();
    assert_error(restoring, 400, "invalid_when").await;

    let started = app
        .request(Method::POST, "/api/v1/rollback")
        .json(&json!({"restore_backup": true}))
        .send()
        .await
        .unwrap();
    let job = app.follow_job(started).await;
    assert_eq!(job["state"], "succeeded", "{job}");
    assert_eq!(job["kind"], "rollback");
    assert_eq!(job["backup"], id.as_str());
    let names: Vec<String> = stages(&job).into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        [
            "verify",
            "precheck",
            "stop_clients",
            "restore_database",
            "switch",
            "restart",
            "postcheck",
            "done"
        ]
    );
    assert_eq!(app.level().await, 0);
    assert_eq!(current_level(app.data_dir.path()), 0);
    assert!(
        notifications(&app).await,
        "the row the migration changed is back"
    );
    assert!(
        !has_table(&url, "patch_quiet").await,
        "and the schema is the base's"
    );
    let audit = app.get_json("/api/v1/audit?per_page=100").await;
    let rollbacks = audited(&audit, "patch_rollback");
    assert!(
        rollbacks[0]["details"]
            .as_str()
            .unwrap()
            .contains(&format!("restoring the backup {id}")),
        "{audit}"
    );

    // At level 0 there is nothing to roll back; the patch again, then a plain rollback keeps
    // the data as the patch left it.
    let again = app
        .request(Method::POST, "/api/v1/rollback")
        .json(&json!({"restore_backup": true}))
        .send()
        .await
        .unwrap();
    assert_error(again, 409, "no_patch_installed").await;
    let job = app.follow_job(app.install("6.4.0.3").await).await;
    assert_eq!(job["state"], "succeeded", "{job}");
    let job = app.follow_job(app.rollback().await).await;
    assert_eq!(job["state"], "succeeded", "{job}");
    assert!(
        !notifications(&app).await,
        "down migrations do not bring rows back"
    );
}

#[tokio::test]
async fn a_rollback_that_restores_the_backup_brings_back_rows_the_patch_changed_on_sqlite() {
    a_rollback_that_restores_the_backup_brings_back_rows_the_patch_changed(None).await;
}

#[tokio::test]
async fn a_rollback_that_restores_the_backup_brings_back_rows_the_patch_changed_on_postgres() {
    let Some(pg) = PgTestDb::create().await else {
        return;
    };
    a_rollback_that_restores_the_backup_brings_back_rows_the_patch_changed(Some(pg)).await;
}

#[tokio::test]
async fn a_damaged_or_unknown_backup_is_refused_with_its_code_and_nothing_changes() {
    let vendor = Vendor::new();
    let app = app(&vendor, None, |_| {}).await;
    take(&app).await;
    let info = backups(&app).await[0].clone();
    let id = info["id"].as_str().unwrap();
    assert_eq!(app.set_notifications(false).await.status(), 200);

    let unknown = app
        .post("/api/v1/backups/20990101-000000-manual/restore")
        .await;
    assert_error(unknown, 404, "backup_not_found").await;
    let hostile = app.post("/api/v1/backups/..%2Fsms/restore").await;
    assert_error(hostile, 404, "backup_not_found").await;
    // A patch without a backup of its install: a rollback cannot restore one.
    app.import_file(&vendor.package(2).write()).await;
    let job = app.follow_job(app.install("6.4.0.2").await).await;
    assert_eq!(job["state"], "succeeded", "{job}");
    let refused = app
        .request(Method::POST, "/api/v1/rollback")
        .json(&json!({"restore_backup": true}))
        .send()
        .await
        .unwrap();
    assert_error(refused, 412, "no_rollback_backup").await;

    // One byte changed in the middle of the file.
    let file = app.data_dir.path().join(format!("backups/{id}.sqlite"));
    let mut bytes = std::fs::read(&file).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&file, bytes).unwrap();
    let job = app
        .follow_job(app.post(&format!("/api/v1/backups/{id}/restore")).await)
        .await;
    assert_eq!(job["state"], "failed", "{job}");
    assert_eq!(job["error"]["code"], "backup_corrupt", "{job}");
    let names = stages(&job);
    assert_eq!(names[0], ("verify".to_owned(), Some("failed".to_owned())));
    assert!(!notifications(&app).await, "nothing changed");
    assert_eq!(app.level().await, 2);
    assert_eq!(
        app.session().await.status(),
        200,
        "clients were never stopped"
    );
}

/// Runs a restore of the backup taken before Patch 3's install (level 0) while Patch 3 runs,
/// with the server aborted at `point` (a stage's start, or `restore_commit`,
/// `restore_committed`); the next start leaves the old database and level, or the backup's,
/// never a mix.
async fn a_stop_during_a_restore(point: &str, pg: Option<PgTestDb>) {
    let dir = tempfile::tempdir().unwrap();
    let vendor = Vendor::new();
    let url = pg.as_ref().map_or_else(
        || format!("sqlite://{}?mode=rwc", dir.path().join("sms.db").display()),
        |pg| pg.url.clone(),
    );
    let mut envs: Vec<(&str, &str)> = Vec::new();
    if let Some(pg) = &pg {
        envs.push(("SMS_DATABASE_URL", pg.url.as_str()));
    }
    let package = vendor.package(3).database_changes().write();

    let mut server = start_server_with(dir.path(), &vendor, "", &envs);
    let api = logged_in(&server.url).await;
    api.import_file(&package).await;
    let job = api.follow_job(api.install("6.4.0.3").await).await;
    assert_eq!(job["state"], "succeeded", "{job}");
    assert_eq!(api.set_notifications(false).await.status(), 200);
    let list = api.get_json("/api/v1/backups").await;
    let id = list["backups"][0]["id"].as_str().unwrap().to_owned();
    terminate(&mut server.child);

    let mut crashing_envs = envs.clone();
    crashing_envs.push(("SMS_CRASH_AT", point));
    let mut crashing = start_server_with(dir.path(), &vendor, "", &crashing_envs);
    let api = logged_in(&crashing.url).await;
    let started = api.post(&format!("/api/v1/backups/{id}/restore")).await;
    let job = job_id(started).await;
    let status = wait_for_exit(
        &mut crashing,
        "the server to abort where it was told to",
        Duration::from_secs(60),
    )
    .await;
    assert!(!status.success(), "the server aborted at {point}");

    let mut server = start_server_with(dir.path(), &vendor, "", &envs);
    let api = logged_in(&server.url).await;
    let job = api.wait_for_job(job).await;
    let level = api.level().await;
    assert_eq!(
        current_level(dir.path()) as u64,
        level,
        "the install root follows the database: {job}"
    );
    let restored = match job["state"].as_str() {
        Some("succeeded") => true,
        Some("failed") => {
            assert_eq!(job["error"]["code"], "server_stopped", "{job}");
            false
        }
        other => panic!("the job must be completed or failed, not {other:?}: {job}"),
    };
    let committed = stages(&job)
        .iter()
        .any(|(n, o)| n == "restore_database" && o.as_deref() == Some("ok"));
    assert_eq!(restored, committed, "the journal says which: {job}");
    if restored {
        assert_eq!(level, 0, "{job}");
        assert!(notifications(&api).await, "the backup's setting");
        assert!(
            !has_table(&url, "patch_demo_1").await,
            "the backup's schema"
        );
    } else {
        assert_eq!(level, 3, "{job}");
        assert!(!notifications(&api).await, "the old setting");
        assert!(has_table(&url, "patch_demo_1").await, "the old schema");
    }
    let before_commit = [
        "verify",
        "precheck",
        "stop_clients",
        "restore_database",
        "restore_commit",
    ];
    if !(pg.is_some() && point == "restore_commit") {
        // (PostgreSQL: the transaction is psql's, which may commit once its input ends.)
        assert_eq!(restored, !before_commit.contains(&point), "{job}");
    }
    // What the stop left of the restore is gone, and the server takes new jobs.
    let left: Vec<_> = std::fs::read_dir(dir.path().join("backups"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".part"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    let next = api.follow_job(api.post("/api/v1/backups").await).await;
    assert_eq!(next["state"], "succeeded", "{next}");
    terminate(&mut server.child);
}

macro_rules! restore_stop_tests {
    ($($name:ident: $point:literal $(, $pg:ident)?;)*) => {
        $(
            #[tokio::test]
            async fn $name() {
                #[allow(unused_mut, unused_assignments)]
                let mut pg = None;
                $(
                    let _ = stringify!($pg);
                    pg = PgTestDb::create().await;
                    if pg.is_none() {
                        return;
                    }
                )?
                a_stop_during_a_restore($point, pg).await;
            }
        )*
    };
}

restore_stop_tests! {
    a_stop_at_the_restores_verify: "verify";
    a_stop_at_the_restores_precheck: "precheck";
    a_stop_at_the_restores_stop_clients: "stop_clients";
    a_stop_at_the_restores_restore_database: "restore_database";
    a_stop_before_the_restores_commit: "restore_commit";
    a_stop_after_the_restores_commit: "restore_committed";
    a_stop_at_the_restores_switch: "switch";
    a_stop_at_the_restores_restart: "restart";
    a_stop_at_the_restores_postcheck: "postcheck";
    a_stop_at_the_restores_done: "done";
    a_stop_before_the_restores_commit_on_postgres: "restore_commit", pg;
    a_stop_after_the_restores_commit_on_postgres: "restore_committed", pg;
    a_stop_at_the_restores_switch_on_postgres: "switch", pg;
}

/// The restore's own file work, on its own: a backup restored twice in a row gives the same
/// database.
#[tokio::test]
async fn a_backup_restored_twice_gives_the_same_database() {
    let vendor = Vendor::new();
    let app: TestApp = app(&vendor, None, |_| {}).await;
    take(&app).await;
    let id = backups(&app).await[0]["id"].as_str().unwrap().to_owned();
    for _ in 0..2 {
        assert_eq!(app.set_notifications(false).await.status(), 200);
        let job = app
            .follow_job(app.post(&format!("/api/v1/backups/{id}/restore")).await)
            .await;
        assert_eq!(job["state"], "succeeded", "{job}");
        assert!(notifications(&app).await);
    }
    assert!(Path::new(&app.data_dir.path().join("sms.db")).exists());
}
