//! A full disk, on a real small file system (a tmpfs, `testkit::SmallDisk`): writes are refused
//! with 507 `insufficient_storage`, uploads and downloads that cannot fit are refused before a
//! byte is written, no answered write is lost, and the very next request once space is back
//! works.

use std::time::Duration;

use futures_util::StreamExt;
use reqwest::{Client, Method};
use sea_orm::{ConnectionTrait, EntityTrait, PaginatorTrait, Statement};
use serde_json::Value;
use testkit::disk::SmallDisk;
use testkit::{ADMIN_PASSWORD, PgTestDb, TestApp, Vendor, assert_error, new_client, test_config};

use crate::tmc::serve_tmc_at_rate;

const MIB: u64 = 1 << 20;

/// A server with its data dir (and its SQLite file, or with `pg` its PostgreSQL database) on
/// `disk`, trusting `vendor`, with the admin logged in.
async fn app_on(disk: &SmallDisk, vendor: &Vendor, pg: Option<PgTestDb>) -> TestApp {
    app_with_tmc_on(disk, vendor, pg, None).await
}

/// [`app_on`] with the TMC at `tmc` (checked only on Check now).
async fn app_with_tmc_on(
    disk: &SmallDisk,
    vendor: &Vendor,
    pg: Option<PgTestDb>,
    tmc: Option<&str>,
) -> TestApp {
    let data_dir = disk.folder();
    let mut config = test_config(data_dir.path());
    vendor.trust(&mut config);
    if let Some(url) = tmc {
        config.tmc.url = Some(url.parse().unwrap());
        config.tmc.interval = Duration::from_secs(3600);
    }
    if let Some(pg) = &pg {
        config.storage.database_url = pg.url.clone();
    }
    let app = TestApp::start(config, data_dir, pg)
        .await
        .expect("the server starts on the small disk");
    app.login_admin().await;
    app
}

/// What a request answered: its status and error code (empty for a success).
async fn outcome(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    let code = body["error"]["code"].as_str().unwrap_or("").to_owned();
    (status, code)
}

/// Asserts a write on a full disk either worked or was refused with 507 `insufficient_storage`
/// (never 500); returns whether it worked.
fn worked_or_refused(what: &str, (status, code): &(u16, String)) -> bool {
    match status {
        200..=299 => true,
        507 => {
            assert_eq!(code, "insufficient_storage", "{what}");
            false
        }
        _ => panic!("{what} on a full disk answered {status} {code}"),
    }
}

/// A session of `client` works: `GET /api/v1/session` answers 200.
async fn session_works(app: &TestApp, client: &Client) -> bool {
    let response = client.get(app.url("/api/v1/session")).send().await.unwrap();
    response.status() == 200
}

async fn login(app: &TestApp, client: &Client, password: &str) -> (u16, String) {
    outcome(app.login_with(client, "admin", password).await).await
}

#[tokio::test]
async fn an_import_that_does_not_fit_is_refused_before_its_body_is_read() {
    let disk = SmallDisk::mount(96);
    let vendor = Vendor::new();
    let app = app_on(&disk, &vendor, None).await;
    disk.fill_leaving(40 * MIB);

    // 80 MiB announced; one chunk sent, then the body stalls: only an answer that does not
    // wait for the body comes back.
    let first = futures_util::stream::once(async { Ok::<_, std::io::Error>(vec![0u8; 4096]) });
    let stalled = first.chain(futures_util::stream::pending());
    let request = app
        .request(Method::POST, "/api/v1/patches/import")
        .header("Content-Type", "application/octet-stream")
        .header("Content-Length", (80 * MIB).to_string())
        .header("X-SMS-File-Name", "big.smspatch")
        .body(reqwest::Body::wrap_stream(stalled));
    let response = tokio::time::timeout(Duration::from_secs(20), request.send())
        .await
        .expect("answered without the whole body")
        .unwrap();
    let message = assert_error(response, 507, "insufficient_storage").await;
    assert!(message.contains("has 40 MiB free"), "{message}");
    assert!(message.contains("needs 144 MiB"), "{message}");
    assert!(message.contains("import a smaller patch"), "{message}");

    let repository = app.data_dir.path().join("patches");
    let left: Vec<_> = std::fs::read_dir(&repository)
        .map(|entries| entries.map(|e| e.unwrap().file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "nothing is left behind: {left:?}");
    let audit = app.get_json("/api/v1/audit").await;
    assert!(
        audit["entries"].as_array().unwrap().iter().any(|e| {
            e["action"] == "patch_import"
                && e["outcome"] == "failure"
                && e["details"].as_str().unwrap_or("").contains("big.smspatch")
        }),
        "the refusal is audited: {audit}"
    );
}

#[tokio::test]
async fn an_upload_of_unknown_size_that_fills_the_disk_is_refused_and_leaves_nothing() {
    let disk = SmallDisk::mount(128);
    let vendor = Vendor::new();
    let package = vendor.package(2).random_payload_bytes(12 * MIB).bytes();
    let app = app_on(&disk, &vendor, None).await;
    disk.fill_leaving(4 * MIB);

    // Streamed without a length: the server learns it does not fit only when the disk is full.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        package.chunks(64 * 1024).map(|c| Ok(c.to_vec())).collect();
    let response = app
        .import(reqwest::Body::wrap_stream(futures_util::stream::iter(
            chunks,
        )))
        .await;
    let message = assert_error(response, 507, "insufficient_storage").await;
    assert!(message.contains("MiB free"), "{message}");
    let left: Vec<_> = std::fs::read_dir(app.data_dir.path().join("patches"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "the partial file is removed: {left:?}");
    assert!(disk.free() >= 3 * MIB, "the space is given back");

    // Room again: the same package goes in.
    disk.empty();
    let response = app.import(package).await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
}

#[tokio::test]
async fn a_download_that_does_not_fit_is_refused_up_front_without_a_job() {
    let disk = SmallDisk::mount(96);
    let vendor = Vendor::new();
    vendor.package(2).payload_kib(600).write();
    let (_tmc, url) = serve_tmc_at_rate(&vendor, None).await;

    let data_dir = disk.folder();
    let mut config = test_config(data_dir.path());
    vendor.trust(&mut config);
    config.tmc.url = Some(url.parse().unwrap());
    config.tmc.interval = Duration::from_secs(3600);
    let app = TestApp::start(config, data_dir, None).await.unwrap();
    app.login_admin().await;
    assert_eq!(app.tmc_check().await.status(), 200);
    disk.fill_leaving(40 * MIB);

    let message = assert_error(app.download("6.4.0.2").await, 507, "insufficient_storage").await;
    assert!(message.contains("has 40 MiB free"), "{message}");
    assert!(message.contains("this download needs 65 MiB"), "{message}");
    let jobs = backend::storage::entity::job::Entity::find()
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(jobs, 0, "no job started");

    disk.empty();
    let response = app.download("6.4.0.2").await;
    assert_eq!(response.status(), 202, "room again: the download starts");
    let job: Value = response.json().await.unwrap();
    let done = app.wait_for_job(job["id"].as_i64().unwrap()).await;
    assert_eq!(done["state"], "succeeded", "{done}");
}

/// On a full disk: logins, a wrong password (an audit entry), a setting change and an install
/// (a job and its stages) answer 2xx or 507, never 500; once space is back the very next login
/// and write work, every 2xx write holds across a restart, and the database is intact.
async fn a_full_disk_loses_no_answered_write(pg: Option<PgTestDb>, disk: SmallDisk) {
    let vendor = Vendor::new();
    let postgres = pg.is_some();
    let package = vendor.package(3).write();
    let (tmc, url) = serve_tmc_at_rate(&vendor, None).await;
    let app = app_with_tmc_on(&disk, &vendor, pg, Some(&url)).await;
    assert_eq!(app.tmc_check().await.status(), 200);
    app.import_file(&package).await;
    disk.fill();

    // Reading needs no room: the panel shows the disk is low.
    let view = app.get_json("/api/v1/patches").await;
    assert_eq!(view["storage"]["low"], true, "{}", view["storage"]);

    let mut tried = Vec::new();
    let mut sessions = Vec::new();
    for round in 0..3 {
        let client = new_client();
        let answer = login(&app, &client, ADMIN_PASSWORD).await;
        if worked_or_refused("a login", &answer) {
            sessions.push(client);
        }
        tried.push((format!("login {round}"), answer));
    }
    let wrong = login(&app, &new_client(), "not-the-password").await;
    assert!(
        wrong.0 == 401 || wrong == (507, "insufficient_storage".into()),
        "a wrong password on a full disk answered {wrong:?}"
    );
    let wrong_audited = wrong.0 == 401;
    tried.push(("wrong password".into(), wrong));
    let setting = outcome(app.set_notifications(false).await).await;
    let setting_stored = worked_or_refused("a setting change", &setting);
    tried.push(("setting change".into(), setting));
    let install = app.install("6.4.0.3").await;
    let install_answer = install.status().as_u16();
    let job = if install_answer == 202 {
        let job: Value = install.json().await.unwrap();
        Some(app.wait_for_job(job["id"].as_i64().unwrap()).await)
    } else {
        let answer = outcome(install).await;
        worked_or_refused("an install", &answer);
        None
    };
    if let Some(job) = &job {
        assert_eq!(job["state"], "failed", "no room to install: {job}");
        assert_eq!(job["error"]["code"], "insufficient_storage", "{job}");
    }
    tried.push((
        "install".into(),
        (
            install_answer,
            job.map(|j| j["error"]["code"].to_string())
                .unwrap_or_default(),
        ),
    ));
    // The TMC offers a new patch: the sync records it, or cannot and says so.
    vendor.package(4).payload_kib(8).write();
    tmc.refresh().await.unwrap();
    let check = app.tmc_check().await;
    let check = (
        check.status().as_u16(),
        check.json::<Value>().await.unwrap_or(Value::Null),
    );
    assert!(
        check.0 == 507 || check.0 == 200,
        "Check now on a full disk: {check:?}"
    );
    tried.push(("TMC check".into(), (check.0, check.1.to_string())));
    eprintln!(
        "on a full disk ({}): {tried:?}",
        if postgres { "PostgreSQL" } else { "SQLite" }
    );

    // Space back: the very next requests work.
    disk.empty();
    let freed = std::time::Instant::now();
    let client = new_client();
    let (status, code) = login(&app, &client, ADMIN_PASSWORD).await;
    assert_eq!(
        (status, code.as_str()),
        (200, ""),
        "the first login after freeing space"
    );
    eprintln!("first write after freeing space: {:?}", freed.elapsed());
    assert!(session_works(&app, &client).await, "its session works");
    let response = app.set_notifications(true).await;
    assert_eq!(
        response.status(),
        200,
        "the first setting change after freeing space"
    );
    let status: Value = app.tmc_check().await.json().await.unwrap();
    assert_eq!(status["connection"], "connected", "{status}");
    let view = app.get_json("/api/v1/patches").await;
    assert!(
        view["available"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["patch"]["id"] == "6.4.0.4"),
        "the catalog is recorded once space is back: {view}"
    );
    for client in &sessions {
        assert!(
            session_works(&app, client).await,
            "a session whose login answered 200 works"
        );
    }

    // Every answered write is there after a restart.
    let app = app.restart().await;
    let settings = app.get_json("/api/v1/settings").await;
    assert_eq!(settings["notifications_enabled"], true, "{settings}");
    for client in sessions.iter().chain([&client]) {
        assert!(
            session_works(&app, client).await,
            "a 200 login's session survives a restart"
        );
    }
    let audit = app.get_json("/api/v1/audit").await;
    let entries = |action: &str, outcome: &str| {
        audit["entries"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["action"] == action && e["outcome"] == outcome)
            .count()
    };
    let changes = entries("setting_change", "success");
    let expected = if setting_stored { 2 } else { 1 };
    assert_eq!(
        changes, expected,
        "each answered setting change is audited: {audit}"
    );
    if wrong_audited {
        assert_eq!(
            entries("login", "failure"),
            1,
            "the 401's audit entry: {audit}"
        );
    }
    if !postgres {
        let check = app
            .state
            .db
            .query_one_raw(Statement::from_string(
                app.state.db.get_database_backend(),
                "PRAGMA integrity_check",
            ))
            .await
            .unwrap()
            .unwrap();
        let verdict: String = check.try_get_by_index(0).unwrap();
        assert_eq!(verdict, "ok");
    }
}

#[tokio::test]
async fn a_full_disk_loses_no_answered_write_on_sqlite() {
    a_full_disk_loses_no_answered_write(None, SmallDisk::mount(128)).await;
}

#[tokio::test]
async fn a_full_disk_loses_no_answered_write_on_postgres() {
    let disk = SmallDisk::mount(128);
    // The database's tablespace on the same small disk: PostgreSQL's own writes find it full.
    let Some(pg) = PgTestDb::create_on(disk.path()).await else {
        return;
    };
    a_full_disk_loses_no_answered_write(Some(pg), disk).await;
}

/// The `disk.low` deliveries queued so far.
async fn disk_low_deliveries(app: &TestApp) -> Vec<Value> {
    let log = app.get_json("/api/v1/notifications/deliveries").await;
    log["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["event"] == "disk.low")
        .cloned()
        .collect()
}

#[tokio::test]
async fn low_space_shows_in_the_panel_and_the_metrics_and_disk_low_is_sent_once_until_space_is_back()
 {
    let disk = SmallDisk::mount(96);
    let vendor = Vendor::new();
    let app = app_on(&disk, &vendor, None).await;
    let target = app
        .request(Method::POST, "/api/v1/notifications/targets")
        .json(&serde_json::json!({"kind": "webhook", "url": "http://127.0.0.1:9/hook"}))
        .send()
        .await
        .unwrap();
    assert_eq!(target.status(), 201);

    // Plenty of room: the figure, no warning.
    let view = app.get_json("/api/v1/patches").await;
    let storage = &view["storage"];
    assert_eq!(storage["low"], false, "{storage}");
    assert_eq!(storage["total_bytes"], 96 * MIB, "{storage}");
    // By default the warning starts at 10 % of the file system, but never under the 64 MiB
    // every write keeps free.
    assert_eq!(storage["warn_below_bytes"], 64 * MIB, "{storage}");
    assert!(!app.state.disk.check().await.unwrap());
    assert!(disk_low_deliveries(&app).await.is_empty());

    disk.fill_leaving(4 * MIB);
    // The panel's answer is kept for at most a second.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let view = app.get_json("/api/v1/patches").await;
    let storage = &view["storage"];
    assert_eq!(storage["low"], true, "{storage}");
    let free = storage["free_bytes"].as_u64().unwrap();
    assert!((3 * MIB..=5 * MIB).contains(&free), "{storage}");
    let metrics = app.get("/metrics").await.text().await.unwrap();
    let line = metrics
        .lines()
        .find(|l| l.starts_with("sms_data_dir_free_bytes "))
        .unwrap_or_else(|| panic!("no free-space gauge in {metrics}"));
    let gauge: u64 = line.rsplit(' ').next().unwrap().parse().unwrap();
    assert!((3 * MIB..=5 * MIB).contains(&gauge), "{line}");
    assert!(metrics.contains(&format!("sms_data_dir_size_bytes {}", 96 * MIB)));

    // Told once, not at every look.
    assert!(app.state.disk.check().await.unwrap());
    assert!(app.state.disk.check().await.unwrap());
    let sent = disk_low_deliveries(&app).await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    let summary = sent[0]["summary"].as_str().unwrap();
    assert!(summary.contains("MiB free in its data dir"), "{summary}");

    // Space back, then low again: told again.
    disk.empty();
    assert!(!app.state.disk.check().await.unwrap());
    disk.fill_leaving(4 * MIB);
    assert!(app.state.disk.check().await.unwrap());
    assert_eq!(disk_low_deliveries(&app).await.len(), 2);
}

#[tokio::test]
async fn the_doctor_fails_the_data_dir_with_a_fix_when_nothing_fits_any_more() {
    let disk = SmallDisk::mount(96);
    let data = disk.path().join("data");
    let mut served = testkit::process::serve(
        std::path::Path::new(env!("CARGO_BIN_EXE_sms")),
        &data,
        &[],
        &[("SMS_BOOTSTRAP_ADMIN_PASSWORD", ADMIN_PASSWORD)],
    );
    let doctor = || {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_sms"))
            .arg("doctor")
            .env("SMS_DATA_DIR", &data)
            .env("SMS_LISTEN", served.url.trim_start_matches("http://"))
            .env_remove("SMS_DATABASE_URL")
            .env_remove("SMS_TMC_URL")
            .output()
            .unwrap();
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let out = doctor();
    let line = out.lines().find(|l| l.contains("data dir")).unwrap();
    assert!(line.starts_with("ok    data dir"), "{out}");
    assert!(line.contains("MiB free of 96 MiB"), "{out}");

    disk.fill_leaving(4 * MIB);
    let out = doctor();
    let at = out
        .lines()
        .position(|l| l.starts_with("FAIL  data dir"))
        .unwrap_or_else(|| panic!("no failed data dir check: {out}"));
    let fix = out.lines().nth(at + 1).unwrap();
    assert!(fix.contains("fix: free space"), "{out}");
    disk.empty();
    testkit::process::terminate(&mut served.child);
}

#[tokio::test]
async fn a_scheduled_install_without_room_fails_in_its_window_with_insufficient_storage() {
    let disk = SmallDisk::mount(96);
    let vendor = Vendor::new();
    let data_dir = disk.folder();
    let mut config = test_config(data_dir.path());
    vendor.trust(&mut config);
    // The window at 02:00 opens about 3 s after the start (the clock runs 20 times as fast).
    let start = chrono::DateTime::parse_from_rfc3339("2027-05-04T01:59:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    config.clock = backend::clock::Clock::starting_at(start, 20);
    let app = TestApp::start(config, data_dir, None).await.unwrap();
    app.login_admin().await;
    app.import_file(&vendor.package(3).write()).await;
    let windows = app
        .request(Method::PUT, "/api/v1/maintenance")
        .json(&serde_json::json!({"windows": [
            {"schedule": "0 2 * * *", "duration_minutes": 60, "time_zone": "UTC"}
        ]}))
        .send()
        .await
        .unwrap();
    assert_eq!(windows.status(), 200);
    let scheduled = app
        .request(Method::POST, "/api/v1/patches/6.4.0.3/install")
        .json(&serde_json::json!({"when": "next_window"}))
        .send()
        .await
        .unwrap();
    assert_eq!(scheduled.status(), 202);
    let job: Value = scheduled.json().await.unwrap();

    // Room for the database, not for the install (twice its payload plus 64 MiB).
    disk.fill_leaving(20 * MIB);
    let id = job["id"].as_i64().unwrap();
    let done = testkit::eventually("the window opened", Duration::from_secs(60), || async {
        let job: Value = app.job(id).await.json().await.unwrap();
        match job["state"].as_str() {
            Some("scheduled" | "running") => Err(format!("{job}")),
            _ => Ok(job),
        }
    })
    .await
    .unwrap();
    assert_eq!(done["state"], "failed", "{done}");
    assert_eq!(done["error"]["code"], "insufficient_storage", "{done}");
    let message = done["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("MiB free; this install needs"),
        "{message}"
    );
    assert_eq!(app.level().await, 0, "nothing changed");
}

#[tokio::test]
async fn a_download_cut_by_a_full_disk_fails_and_is_recorded_once_space_is_back() {
    let disk = SmallDisk::mount(128);
    let vendor = Vendor::new();
    vendor.package(2).random_payload_bytes(24 * MIB).write();
    // 4 MiB a second: the download takes about 6 s.
    let (_tmc, url) = serve_tmc_at_rate(&vendor, Some(4 * MIB)).await;
    let app = app_with_tmc_on(&disk, &vendor, None, Some(&url)).await;
    assert_eq!(app.tmc_check().await.status(), 200);

    let started = app.download("6.4.0.2").await;
    assert_eq!(started.status(), 202);
    let job: Value = started.json().await.unwrap();
    let id = job["id"].as_i64().unwrap();
    testkit::eventually(
        "the download is under way",
        Duration::from_secs(20),
        || async {
            let job: Value = app.job(id).await.json().await.unwrap();
            match job["done_bytes"].as_u64() {
                Some(done) if done > 0 => Ok(()),
                _ => Err(format!("{job}")),
            }
        },
    )
    .await
    .unwrap();
    // The disk fills up under it: the package's writes and the job's own records fail.
    disk.fill();
    tokio::time::sleep(Duration::from_secs(2)).await;
    disk.empty();

    let done = testkit::eventually(
        "the download's end is recorded",
        Duration::from_secs(60),
        || async {
            let job: Value = app.job(id).await.json().await.unwrap();
            match job["state"].as_str() {
                Some("running") => Err(format!("{job}")),
                _ => Ok(job),
            }
        },
    )
    .await
    .unwrap();
    assert_eq!(done["state"], "failed", "{done}");
    assert_eq!(done["error"]["code"], "insufficient_storage", "{done}");
    let left: Vec<_> = std::fs::read_dir(app.data_dir.path().join("patches"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "nothing of the package is left: {left:?}");
    // And it can be downloaded again.
    let again = app.download("6.4.0.2").await;
    assert_eq!(again.status(), 202, "{}", again.text().await.unwrap());
}
