//! Maintenance windows and scheduled jobs against a real server whose schedule clock starts a
//! little before a window and runs twenty times as fast: a job waits for its window and runs in
//! it, can be cancelled until then, survives a restart, and moves to the next window when it
//! misses its own; the automatic policy picks the recommended patch and skips the excluded ones.

use std::time::Duration;

use backend::clock::Clock;
use backend::config::Config;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use testkit::{TestApp, Vendor, assert_error, eventually, spawn_app_with};

/// The clock reads 01:58:30 UTC when the server starts and runs 20 times as fast: the window
/// at 02:00 opens about 4.5 s later.
const START: &str = "2027-05-04T01:58:30Z";
const RATE: u32 = 20;

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

async fn app_with_clock(vendor: &Vendor, start: &str) -> TestApp {
    let start = at(start);
    let app = spawn_app_with(move |config: &mut Config| {
        vendor.trust(config);
        config.system.reboot_window = Duration::from_millis(400);
        config.clock = Clock::starting_at(start, RATE);
    })
    .await;
    app.login_admin().await;
    app
}

async fn set_windows(app: &TestApp, body: Value) -> reqwest::Response {
    app.request(reqwest::Method::PUT, "/api/v1/maintenance")
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn nightly(app: &TestApp) {
    let answer = set_windows(
        app,
        json!({"windows": [{"schedule": "0 2 * * *", "duration_minutes": 60, "time_zone": "UTC"}]}),
    )
    .await;
    assert_eq!(answer.status(), 200, "{}", answer.text().await.unwrap());
}

async fn schedule(app: &TestApp, id: &str, body: Value) -> reqwest::Response {
    app.request(
        reqwest::Method::POST,
        &format!("/api/v1/patches/{id}/install"),
    )
    .json(&body)
    .send()
    .await
    .unwrap()
}

/// The audit entries of `action`, newest first.
pub(crate) async fn audited(app: &TestApp, action: &str) -> Vec<Value> {
    let page: Value = app.audit("?per_page=200").await.json().await.unwrap();
    page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == action)
        .cloned()
        .collect()
}

/// Waits until job `id` succeeded (a minute at most), and answers it.
async fn succeeded(app: &TestApp, id: i64, what: &str) -> Value {
    eventually(what, Duration::from_secs(60), || async {
        let job = job_state(app, id).await;
        match job["state"].as_str() {
            Some("succeeded") => Ok(job),
            other => Err(format!("{other:?}: {job}")),
        }
    })
    .await
    .unwrap()
}

async fn job_state(app: &TestApp, id: i64) -> Value {
    app.job(id).await.json().await.unwrap()
}

#[tokio::test]
async fn windows_are_checked_and_their_openings_listed() {
    let vendor = Vendor::new();
    let app = app_with_clock(&vendor, START).await;
    for (window, code) in [
        (
            json!({"schedule": "0 2 * *", "duration_minutes": 60, "time_zone": "UTC"}),
            "invalid_schedule",
        ),
        (
            json!({"schedule": "0 2 * * *", "duration_minutes": 0, "time_zone": "UTC"}),
            "invalid_duration",
        ),
        (
            json!({"schedule": "0 2 * * *", "duration_minutes": 60, "time_zone": "Mars/Base"}),
            "invalid_time_zone",
        ),
        (
            json!({"schedule": "0 0 30 2 *", "duration_minutes": 60, "time_zone": "UTC"}),
            "window_never_opens",
        ),
    ] {
        let answer = set_windows(&app, json!({"windows": [window]})).await;
        let message = assert_error(answer, 400, code).await;
        assert!(message.starts_with("Window 1:"), "{message}");
    }
    let view: Value = app.get_json("/api/v1/maintenance").await;
    assert_eq!(view["settings"]["windows"], json!([]));
    assert!(view["next_window"].is_null());

    // Berlin at 04:00 on Saturdays, for two hours: 02:00 UTC in summer.
    let answer = set_windows(
        &app,
        json!({"windows": [{"schedule": "0 4 * * SAT", "duration_minutes": 120, "time_zone": "Europe/Berlin"}],
               "policy": {"enabled": false}}),
    )
    .await;
    assert_eq!(answer.status(), 200);
    let view: Value = answer.json().await.unwrap();
    assert_eq!(view["next_window"]["start"], "2027-05-08T02:00:00Z");
    assert_eq!(view["next_window"]["end"], "2027-05-08T04:00:00Z");
    assert_eq!(view["openings"].as_array().unwrap().len(), 5);
    assert_eq!(view["openings"][1]["start"], "2027-05-15T02:00:00Z");
    assert_eq!(audited(&app, "maintenance_change").await.len(), 1);
}

#[tokio::test]
async fn a_scheduled_install_waits_for_its_window_then_runs_in_it() {
    let vendor = Vendor::new();
    let app = app_with_clock(&vendor, START).await;
    app.import_file(&vendor.package(3).write()).await;

    let answer = schedule(&app, "6.4.0.3", json!({"when": "next_window"})).await;
    assert_error(answer, 409, "no_maintenance_window").await;
    nightly(&app).await;
    let answer = schedule(&app, "6.4.0.3", json!({"when": "next_window"})).await;
    assert_eq!(answer.status(), 202);
    let job: Value = answer.json().await.unwrap();
    let id = job["id"].as_i64().unwrap();
    assert_eq!(job["state"], "scheduled", "{job}");
    assert_eq!(job["scheduled_for"], "2027-05-04T02:00:00Z");
    assert_eq!(job["window_end"], "2027-05-04T03:00:00Z");

    // Not before its window: the panel and the maintenance view show it waiting.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(job_state(&app, id).await["state"], "scheduled");
    let view: Value = app.patches().await.json().await.unwrap();
    assert_eq!(view["history"][0]["state"], "scheduled");
    assert_eq!(view["history"][0]["scheduled_for"], "2027-05-04T02:00:00Z");
    assert_eq!(app.level().await, 0);
    let maintenance: Value = app.get_json("/api/v1/maintenance").await;
    assert_eq!(maintenance["scheduled"]["id"], id);

    // A second one is refused unless it replaces the first.
    let answer = app
        .request(reqwest::Method::POST, "/api/v1/rollback")
        .json(&json!({"when": "next_window"}))
        .send()
        .await
        .unwrap();
    assert_error(answer, 409, "no_patch_installed").await;

    let done = succeeded(&app, id, "the scheduled install ran").await;
    assert_eq!(done["from_level"], 0);
    assert_eq!(app.level().await, 3);
    let audit = audited(&app, "install_schedule").await;
    assert_eq!(audit[0]["actor"], "admin", "{audit:?}");
}

#[tokio::test]
async fn a_scheduled_install_is_cancelled_before_it_starts_and_a_second_replaces_the_first() {
    let vendor = Vendor::new();
    let app = app_with_clock(&vendor, START).await;
    app.import_file(&vendor.package(3).write()).await;
    app.import_file(&vendor.package(4).write()).await;
    nightly(&app).await;

    let first: Value = schedule(&app, "6.4.0.3", json!({"when": "next_window"}))
        .await
        .json()
        .await
        .unwrap();
    let answer = schedule(&app, "6.4.0.4", json!({"when": "next_window"})).await;
    let message = assert_error(answer, 409, "job_already_scheduled").await;
    assert!(message.contains("Patch 6.4.0.3"), "{message}");
    let answer = schedule(
        &app,
        "6.4.0.4",
        json!({"when": "next_window", "replace": true}),
    )
    .await;
    assert_eq!(answer.status(), 202);
    let second: Value = answer.json().await.unwrap();
    let first = job_state(&app, first["id"].as_i64().unwrap()).await;
    assert_eq!(first["state"], "cancelled");
    assert_eq!(first["error"]["code"], "replaced");

    let id = second["id"].as_i64().unwrap();
    let cancelled = app.cancel_job(id).await;
    assert_eq!(cancelled.status(), 202);
    let cancelled: Value = cancelled.json().await.unwrap();
    assert_eq!(cancelled["state"], "cancelled");
    assert_error(app.cancel_job(id).await, 409, "job_not_running").await;

    // The window opens and passes: nothing is installed.
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(app.level().await, 0);
    assert_eq!(job_state(&app, id).await["state"], "cancelled");
    let view: Value = app.patches().await.json().await.unwrap();
    assert_eq!(view["history"][0]["state"], "cancelled");
}

#[tokio::test]
async fn a_scheduled_install_survives_a_restart() {
    let vendor = Vendor::new();
    let app = app_with_clock(&vendor, START).await;
    app.import_file(&vendor.package(3).write()).await;
    nightly(&app).await;
    let job: Value = schedule(&app, "6.4.0.3", json!({"when": "next_window"}))
        .await
        .json()
        .await
        .unwrap();
    let id = job["id"].as_i64().unwrap();

    let app = app.restart().await;
    app.login_admin().await;
    assert_eq!(job_state(&app, id).await["state"], "scheduled");
    let done = succeeded(&app, id, "the install ran after the restart").await;
    assert_eq!(done["to_level"], 3);
    assert_eq!(app.level().await, 3);
}

#[tokio::test]
async fn a_job_that_misses_its_window_waits_for_the_next_and_says_so() {
    let vendor = Vendor::new();
    let mut app = app_with_clock(&vendor, START).await;
    app.import_file(&vendor.package(3).write()).await;
    // A one-minute window at 02:00: open from about 4.5 s to 7.5 s from the start.
    let answer = set_windows(
        &app,
        json!({"windows": [{"schedule": "0 2 * * *", "duration_minutes": 1, "time_zone": "UTC"}]}),
    )
    .await;
    assert_eq!(answer.status(), 200);
    // A time in the past is refused.
    let answer = schedule(&app, "6.4.0.3", json!({"when": "2027-05-04T01:00:00Z"})).await;
    assert_error(answer, 400, "invalid_when").await;
    let job: Value = schedule(&app, "6.4.0.3", json!({"when": "next_window"}))
        .await
        .json()
        .await
        .unwrap();
    let id = job["id"].as_i64().unwrap();

    // The server is down through the whole window.
    app.stop().await;
    tokio::time::sleep(Duration::from_secs(9)).await;
    let app = app.restart().await;
    app.login_admin().await;
    let moved = eventually(
        "the job moved to the next window",
        Duration::from_secs(20),
        || async {
            let job = job_state(&app, id).await;
            match job["scheduled_for"].as_str() {
                Some("2027-05-05T02:00:00Z") => Ok(job),
                other => Err(format!("{other:?}: {job}")),
            }
        },
    )
    .await
    .unwrap();
    assert_eq!(moved["state"], "scheduled");
    let note = moved["schedule_note"].as_str().unwrap();
    assert!(
        note.contains("could not start in its window 2027-05-04 02:00")
            && note.contains("next window, which opens 2027-05-05 02:00"),
        "{note}"
    );
    assert_eq!(app.level().await, 0);
}

#[tokio::test]
async fn the_policy_schedules_the_recommended_patch_and_skips_what_it_does_not_allow() {
    let vendor = Vendor::new();
    let app = app_with_clock(&vendor, START).await;
    app.import_file(&vendor.package(3).write()).await;
    app.import_file(&vendor.package(4).reboot().write()).await;
    let policy = |allow_reboot: bool| {
        json!({"windows": [{"schedule": "0 2 * * *", "duration_minutes": 60, "time_zone": "UTC"}],
               "policy": {"enabled": true, "allow_reboot": allow_reboot}})
    };
    // Patch 4 is the recommended one, and it reboots: skipped, with the reason audited once.
    assert_eq!(set_windows(&app, policy(false)).await.status(), 200);
    let audit = eventually("the policy decided", Duration::from_secs(20), || async {
        let audit = audited(&app, "auto_install").await;
        match audit.len() {
            0 => Err("no decision yet"),
            _ => Ok(audit),
        }
    })
    .await
    .unwrap();
    // Audited once, though the policy looked again and again.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(audited(&app, "auto_install").await.len(), 1);
    let entry = &audit[0];
    assert_eq!(entry["outcome"], "failure", "{entry}");
    assert_eq!(entry["target"], "6.4.0.4");
    assert!(
        entry["details"]
            .as_str()
            .unwrap()
            .starts_with("reboot_not_allowed: "),
        "{entry}"
    );
    let view: Value = app.get_json("/api/v1/maintenance").await;
    assert!(view["scheduled"].is_null(), "nothing is scheduled: {view}");

    // Reboots allowed: it is scheduled for the next window by the policy, and installed there.
    assert_eq!(set_windows(&app, policy(true)).await.status(), 200);
    let job = eventually(
        "the policy scheduled patch 4",
        Duration::from_secs(20),
        || async {
            let view: Value = app.get_json("/api/v1/maintenance").await;
            match view["scheduled"]["patch"].as_str() {
                Some("6.4.0.4") => Ok(view["scheduled"].clone()),
                other => Err(format!("{other:?}")),
            }
        },
    )
    .await
    .unwrap();
    assert_eq!(job["started_by"], "policy");
    assert_eq!(job["scheduled_for"], "2027-05-04T02:00:00Z");
    // The decision is audited just after the job is recorded.
    eventually("the decision audited", Duration::from_secs(10), || async {
        let audit = audited(&app, "auto_install").await;
        if audit[0]["outcome"] == "success" {
            Ok(())
        } else {
            Err(format!("{audit:?}"))
        }
    })
    .await
    .unwrap();
}
