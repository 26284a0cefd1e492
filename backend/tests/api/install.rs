//! Installs and rollbacks: the journaled job, the in-process restart, the simulated reboot, the
//! pre-check codes, one job at a time, and crash safety (the `sms` binary built with
//! `fault-injection`, aborted at the start of every stage and started again).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use backend::config::Config;
use backend::storage::install_root::InstallRoot;
use futures_util::StreamExt;
use serde_json::Value;
use testkit::api::started_job;
use testkit::process::{Served, terminate};
use testkit::{ADMIN_PASSWORD, Api, TestApp, Vendor, assert_error, eventually, spawn_app_with};

use crate::cli::{SMS, serve};

/// A server trusting `vendor`, rebooting for 400 ms, with the client logged in as admin.
pub(crate) async fn app(vendor: &Vendor) -> TestApp {
    let app = spawn_app_with(|config: &mut Config| {
        vendor.trust(config);
        config.system.reboot_window = Duration::from_millis(400);
    })
    .await;
    app.login_admin().await;
    app
}

pub(crate) fn stage_names(job: &Value) -> Vec<(String, Option<String>)> {
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

/// The install root's folders: the level dirs and anything else at the top.
pub(crate) fn install_root_entries(data_dir: &Path) -> (Vec<String>, Vec<String>) {
    let root = data_dir.join("install");
    let mut top: Vec<String> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    top.sort();
    let mut levels: Vec<String> = std::fs::read_dir(root.join("levels"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    levels.sort();
    (top, levels)
}

pub(crate) fn current_level(data_dir: &Path) -> u32 {
    let root = InstallRoot::open(data_dir, &"6.4.0.9001".parse().unwrap()).unwrap();
    root.current().unwrap().0
}

#[tokio::test]
async fn an_install_restarts_the_application_and_the_new_level_runs() {
    let vendor = Vendor::new();
    let app = app(&vendor).await;
    app.import_file(&vendor.package(3).write()).await;

    // An open event stream hears the restart coming, then ends.
    let events = app.events().await;
    assert_eq!(events.status(), 200);
    let stream = tokio::spawn(async move {
        let mut body = events.bytes_stream();
        let mut text = String::new();
        while let Some(Ok(chunk)) = body.next().await {
            text.push_str(&String::from_utf8_lossy(&chunk));
        }
        text
    });

    let job = started_job(app.install("6.4.0.3").await).await;
    assert_eq!(job["kind"], "install");
    assert_eq!(job["from_level"], 0);
    assert_eq!(job["to_level"], 3);
    let id = job["id"].as_i64().unwrap();

    let heard = tokio::time::timeout(Duration::from_secs(30), stream)
        .await
        .expect("the event stream ends when the clients are stopped")
        .unwrap();
    assert!(
        heard.contains("event: server") && heard.contains("restarting"),
        "the stream should announce the restart: {heard}"
    );

    let done = app.wait_for_job(id).await;
    assert_eq!(done["state"], "succeeded", "{done}");
    let expected = [
        "verify",
        "precheck",
        "stop_clients",
        "stage_payload",
        "switch",
        "restart",
        "postcheck",
        "done",
    ];
    let stages = stage_names(&done);
    assert_eq!(
        stages.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
        expected
    );
    assert!(
        stages.iter().all(|(_, o)| o.as_deref() == Some("ok")),
        "{done}"
    );

    // The session survived the restart; the new level runs, on disk and in the database.
    assert_eq!(app.level().await, 3);
    assert_eq!(current_level(app.data_dir.path()), 3);
    let (_, levels) = install_root_entries(app.data_dir.path());
    assert_eq!(levels, ["0", "3"]);
    let installed = app.data_dir.path().join("install/levels/3/server/app.bin");
    assert!(installed.is_file(), "the payload is staged as level 3");

    // History and audit.
    let view: Value = app.patches().await.json().await.unwrap();
    let entry = &view["history"][0];
    assert_eq!(entry["kind"], "install");
    assert_eq!(entry["patch"], "6.4.0.3");
    assert_eq!(entry["from_level"], 0);
    assert_eq!(entry["to_level"], 3);
    assert_eq!(entry["by"], "admin");
    assert_eq!(entry["state"], "succeeded");
    assert!(entry["finished_at"].is_string());
    let audit: Value = app.audit("").await.json().await.unwrap();
    let install = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "patch_install")
        .expect("the install is audited");
    assert_eq!(install["outcome"], "success");
    assert_eq!(install["target"], "6.4.0.3");
    assert!(
        install["details"]
            .as_str()
            .unwrap()
            .contains("from level 0 (no patch) to Patch 3"),
        "{install}"
    );
}

#[tokio::test]
async fn a_rollback_goes_back_to_level_0_and_removes_the_patch_files() {
    let vendor = Vendor::new();
    let app = app(&vendor).await;
    app.import_file(&vendor.package(2).write()).await;
    app.import_file(&vendor.package(4).write()).await;
    assert_error(app.rollback().await, 409, "no_patch_installed").await;

    let done = app.follow_job(app.install("6.4.0.2").await).await;
    assert_eq!(done["state"], "succeeded", "{done}");
    let done = app.follow_job(app.install("6.4.0.4").await).await;
    assert_eq!(done["state"], "succeeded", "{done}");
    assert_eq!(app.level().await, 4);
    // Cumulative: only the current level's files are kept.
    assert_eq!(install_root_entries(app.data_dir.path()).1, ["0", "4"]);

    let job = started_job(app.rollback().await).await;
    assert_eq!(job["kind"], "rollback");
    assert_eq!(job["to_level"], 0, "a rollback always goes to level 0");
    let done = app.wait_for_job(job["id"].as_i64().unwrap()).await;
    assert_eq!(done["state"], "succeeded", "{done}");
    assert_eq!(
        stage_names(&done)
            .iter()
            .map(|(n, _)| n.as_str())
            .collect::<Vec<_>>(),
        [
            "precheck",
            "stop_clients",
            "switch",
            "restart",
            "postcheck",
            "done"
        ]
    );
    assert_eq!(app.level().await, 0);
    let info: Value = app.server_info().await.json().await.unwrap();
    assert_eq!(
        info["build"], "6.4.0.9001",
        "the base release's build again"
    );
    assert_eq!(current_level(app.data_dir.path()), 0);
    assert_eq!(install_root_entries(app.data_dir.path()).1, ["0"]);

    let view: Value = app.patches().await.json().await.unwrap();
    let history = view["history"].as_array().unwrap();
    assert_eq!(history.len(), 3);
    assert_eq!(history[0]["kind"], "rollback");
    assert_eq!(history[0]["from_level"], 4);
    assert_eq!(history[0]["to_level"], 0);
    assert_error(app.rollback().await, 409, "no_patch_installed").await;
}

#[tokio::test]
async fn a_patch_that_says_so_cannot_be_rolled_back() {
    let vendor = Vendor::new();
    let app = app(&vendor).await;
    app.import_file(&vendor.package(3).without_rollback().write())
        .await;
    let done = app.follow_job(app.install("6.4.0.3").await).await;
    assert_eq!(done["state"], "succeeded", "{done}");

    let message = assert_error(app.rollback().await, 412, "rollback_not_supported").await;
    assert!(message.contains("cannot be rolled back"), "{message}");
    assert_eq!(app.level().await, 3);
}

#[tokio::test]
async fn the_prechecks_refuse_with_their_own_codes() {
    let vendor = Vendor::new();
    let app = app(&vendor).await;
    assert_error(app.install("6.4.0.3").await, 404, "patch_not_found").await;
    assert_error(app.install("six").await, 400, "invalid_patch_id").await;
    app.import_file(&vendor.package(2).write()).await;
    app.import_file(&vendor.package(3).write()).await;
    app.follow_job(app.install("6.4.0.3").await).await;

    assert_error(app.install("6.4.0.3").await, 409, "already_installed").await;
    let message = assert_error(app.install("6.4.0.2").await, 409, "older_than_installed").await;
    assert!(message.contains("roll back"), "{message}");

    // Operators and anonymous clients cannot install.
    let anonymous = Api::new(&app.base_url);
    assert_eq!(anonymous.install("6.4.0.3").await.status(), 401);
}

#[tokio::test]
async fn of_fifty_simultaneous_installs_exactly_one_starts() {
    let vendor = Vendor::new();
    let app = app(&vendor).await;
    app.import_file(&vendor.package(3).write()).await;

    let requests = (0..50).map(|_| async {
        let response = app.install("6.4.0.3").await;
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        (status, body)
    });
    let answers = futures_util::future::join_all(requests).await;
    let accepted: Vec<&Value> = answers
        .iter()
        .filter(|(s, _)| *s == 202)
        .map(|(_, b)| b)
        .collect();
    assert_eq!(accepted.len(), 1, "exactly one install starts: {answers:?}");
    for (status, body) in answers.iter().filter(|(s, _)| *s != 202) {
        // The others were refused because a job runs (or, once the clients are stopped, because
        // the server is restarting, or the patch is installed already).
        assert!(
            matches!(
                (status, body["error"]["code"].as_str()),
                (409, Some("job_running"))
                    | (503, Some("server_restarting"))
                    | (409, Some("already_installed"))
            ),
            "{status} {body}"
        );
    }
    assert!(
        answers
            .iter()
            .any(|(s, b)| *s == 409 && b["error"]["code"] == "job_running"),
        "the requests that raced the first are refused with job_running"
    );
    let id = accepted[0]["id"].as_i64().unwrap();
    let done = app.wait_for_job(id).await;
    assert_eq!(done["state"], "succeeded");
    let view: Value = app.patches().await.json().await.unwrap();
    assert_eq!(view["history"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_reboot_patch_leaves_the_server_unreachable_then_it_comes_back_at_the_new_level() {
    let vendor = Vendor::new();
    let app = app(&vendor).await;
    app.import_file(&vendor.package(5).reboot().write()).await;
    let job = started_job(app.install("6.4.0.5").await).await;
    let id = job["id"].as_i64().unwrap();
    assert!(
        stage_names(&job).iter().any(|(n, _)| n == "reboot"),
        "{job}"
    );

    // Nothing answers for a while: the listener is closed.
    eventually(
        "a window in which nothing answers (the reboot)",
        Duration::from_secs(20),
        || async {
            match app.client.get(app.url("/api/v1/health")).send().await {
                Err(_) => Ok(()),
                Ok(response) => Err(format!("health answered {}", response.status())),
            }
        },
    )
    .await
    .unwrap();

    let done = app.wait_for_job(id).await;
    assert_eq!(done["state"], "succeeded", "{done}");
    let stages = stage_names(&done);
    assert!(
        stages.iter().all(|(_, o)| o.as_deref() == Some("ok")),
        "{done}"
    );
    assert_eq!(app.level().await, 5, "the session survived the reboot too");
}

/// Starts `sms serve` on `dir` trusting `vendor`, with extra environment.
fn start_server(dir: &Path, vendor: &Vendor, envs: &[(&str, &str)]) -> Served {
    start_server_with(dir, vendor, "", envs)
}

/// Starts `sms serve` on `dir` trusting `vendor`, with `config` added to its configuration
/// file and extra environment.
pub(crate) fn start_server_with(
    dir: &Path,
    vendor: &Vendor,
    config: &str,
    envs: &[(&str, &str)],
) -> Served {
    let text = format!("[system]\nreboot_window = \"300ms\"\n{config}");
    let config = dir.join("sms.toml");
    std::fs::write(&config, text).unwrap();
    let key = vendor.public_key().to_str().unwrap().to_owned();
    let config_path = config.to_str().unwrap().to_owned();
    let mut all: Vec<(&str, &str)> = vec![("SMS_BOOTSTRAP_ADMIN_PASSWORD", ADMIN_PASSWORD)];
    all.extend_from_slice(envs);
    serve(dir, &["--trust-key", &key, "--config", &config_path], &all)
}

/// Imports a package offline, as `sms patch import` does.
pub(crate) fn import_offline(dir: &Path, vendor: &Vendor, file: &Path) {
    let output = Command::new(SMS)
        .args(["patch", "import"])
        .arg(file)
        .arg("--data-dir")
        .arg(dir)
        .arg("--trust-key")
        .arg(vendor.public_key())
        .env_remove("SMS_DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A client of the server at `url`, logged in as admin.
pub(crate) async fn logged_in(url: &str) -> Api {
    let api = Api::new(url);
    api.login_admin().await;
    api
}

/// The id of the job `response` (a 202) started.
pub(crate) async fn job_id(response: reqwest::Response) -> i64 {
    started_job(response).await["id"].as_i64().unwrap()
}

/// Starts a rollback (`kind` "rollback") or else the install of Patch 3; its job's id.
pub(crate) async fn start_job(api: &Api, kind: &str) -> i64 {
    let started = if kind == "rollback" {
        api.rollback().await
    } else {
        api.install("6.4.0.3").await
    };
    job_id(started).await
}

/// Waits for the server process to end by itself (`what` says why it should), at most
/// `within`; it is killed when dropped.
pub(crate) async fn wait_for_exit(
    server: &mut Served,
    what: &str,
    within: Duration,
) -> std::process::ExitStatus {
    eventually(what, within, || {
        let exited = match server.child.try_wait() {
            Ok(Some(status)) => Ok(status),
            Ok(None) => Err("still running".to_owned()),
            Err(err) => Err(err.to_string()),
        };
        std::future::ready(exited)
    })
    .await
    .unwrap()
}

/// What a crash at the start of `stage` must leave, once the server started again.
async fn crash_during(kind: &str, stage: &str, reboot: bool) {
    let dir = tempfile::tempdir().unwrap();
    let vendor = Vendor::new();
    // Both carry a database migration: the schema must follow the level too.
    let patch3 = vendor.package(3).database_changes();
    let patch3 = if reboot { patch3.reboot() } else { patch3 };
    import_offline(dir.path(), &vendor, &patch3.write());
    import_offline(
        dir.path(),
        &vendor,
        &vendor.package(4).database_changes().write(),
    );

    let from = if kind == "rollback" {
        // Install Patch 3 first, without faults.
        let mut server = start_server(dir.path(), &vendor, &[]);
        let api = logged_in(&server.url).await;
        let done = api.follow_job(api.install("6.4.0.3").await).await;
        assert_eq!(done["state"], "succeeded", "{done}");
        terminate(&mut server.child);
        3
    } else {
        0
    };
    let to = if kind == "rollback" { 0 } else { 3 };

    let mut crashing = start_server(dir.path(), &vendor, &[("SMS_CRASH_AT", stage)]);
    let api = logged_in(&crashing.url).await;
    let id = start_job(&api, kind).await;
    let status = wait_for_exit(
        &mut crashing,
        "the server to abort at the stage it was told to",
        Duration::from_secs(30),
    )
    .await;
    assert!(!status.success(), "the server aborted at {stage}");

    let mut server = start_server(dir.path(), &vendor, &[]);
    let api = logged_in(&server.url).await;
    let job = api.wait_for_job(id).await;
    let db_level = api.level().await as u32;
    let root_level = current_level(dir.path());
    assert_eq!(
        db_level, root_level,
        "the install root matches the database: {job}"
    );
    let switched = stage_names(&job)
        .iter()
        .any(|(n, o)| n == "switch" && o.as_deref() == Some("ok"));
    match job["state"].as_str() {
        Some("succeeded") => {
            assert_eq!(db_level, to, "completed: at the new level");
            assert!(switched, "{job}");
        }
        Some("failed") => {
            assert_eq!(db_level, from, "failed: at the old level, untouched");
            assert_eq!(job["error"]["code"], "server_stopped", "{job}");
            assert!(
                job["error"]["message"].as_str().unwrap().contains(stage),
                "the reason names the stage: {job}"
            );
        }
        other => panic!("the job must be completed or failed, not {other:?}: {job}"),
    }
    // The crash point decides which: before the switch the old level stays.
    let before_switch = [
        "verify",
        "precheck",
        "stop_clients",
        "stage_payload",
        "switch",
    ];
    assert_eq!(
        job["state"] == "succeeded",
        !before_switch.contains(&stage),
        "{job}"
    );

    assert_eq!(
        crate::levels::has_table(dir.path(), "patch_demo_1").await,
        db_level != 0,
        "the schema is at the level too: {job}"
    );
    // No orphans: no staging, no temporary pointer, no level but the base and the current one.
    let (top, levels) = install_root_entries(dir.path());
    assert_eq!(top, ["confirmed", "current", "levels"], "{top:?}");
    let mut expected = vec!["0".to_owned()];
    if db_level != 0 {
        expected.push(db_level.to_string());
    }
    assert_eq!(levels, expected);

    // A new job can run: from here, Patch 4.
    let next = api.follow_job(api.install("6.4.0.4").await).await;
    assert_eq!(next["state"], "succeeded", "{next}");
    assert_eq!(current_level(dir.path()), 4);
    terminate(&mut server.child);
}

macro_rules! crash_tests {
    ($($name:ident: $kind:literal at $stage:literal $(, $reboot:literal)?;)*) => {
        $(
            #[tokio::test]
            async fn $name() {
                crash_during($kind, $stage, false $(|| $reboot)?).await;
            }
        )*
    };
}

crash_tests! {
    a_crash_at_install_verify: "install" at "verify";
    a_crash_at_install_precheck: "install" at "precheck";
    a_crash_at_install_stop_clients: "install" at "stop_clients";
    a_crash_at_install_stage_payload: "install" at "stage_payload";
    a_crash_at_install_switch: "install" at "switch";
    a_crash_at_install_restart: "install" at "restart";
    a_crash_at_install_reboot: "install" at "reboot", true;
    a_crash_at_install_postcheck: "install" at "postcheck";
    a_crash_at_install_done: "install" at "done";
    a_crash_at_rollback_precheck: "rollback" at "precheck";
    a_crash_at_rollback_stop_clients: "rollback" at "stop_clients";
    a_crash_at_rollback_switch: "rollback" at "switch";
    a_crash_at_rollback_restart: "rollback" at "restart";
    a_crash_at_rollback_postcheck: "rollback" at "postcheck";
    a_crash_at_rollback_done: "rollback" at "done";
    a_crash_before_the_install_migration_commit: "install" at "migration_commit";
    a_crash_after_the_install_migration_commit: "install" at "migration_committed";
    a_crash_at_the_install_handover: "install" at "handover";
    a_crash_as_the_installed_level_starts: "install" at "server_start";
    a_crash_of_the_supervisor_during_the_install_start_timeout: "install" at "start_timeout";
    a_crash_before_the_rollback_migration_commit: "rollback" at "migration_commit";
    a_crash_at_the_rollback_handover: "rollback" at "handover";
    a_crash_as_the_rolled_back_level_starts: "rollback" at "server_start";
}

#[tokio::test]
async fn a_failed_postcheck_switches_back_by_itself() {
    let dir = tempfile::tempdir().unwrap();
    let vendor = Vendor::new();
    import_offline(dir.path(), &vendor, &vendor.package(3).write());
    let mut server = start_server(dir.path(), &vendor, &[("SMS_FAIL_POSTCHECK", "1")]);
    let api = logged_in(&server.url).await;
    let job = api.follow_job(api.install("6.4.0.3").await).await;
    assert_eq!(job["state"], "failed", "{job}");
    assert_eq!(job["error"]["code"], "postcheck_failed", "{job}");
    assert!(
        job["error"]["message"]
            .as_str()
            .unwrap()
            .contains("switched back to level 0"),
        "{job}"
    );
    // The job's outcome is recorded before the old level's server starts again.
    assert_eq!(current_level(dir.path()), 0);
    eventually(
        "the old level's server to serve and the new level's files to go",
        Duration::from_secs(30),
        || async {
            let info = api
                .client
                .get(api.url("/api/v1/server"))
                .send()
                .await
                .map_err(|err| format!("no answer: {err}"))?;
            if info.status() != 200 {
                return Err(format!("server info answered {}", info.status()));
            }
            let info: Value = info.json().await.map_err(|e| e.to_string())?;
            let levels = install_root_entries(dir.path()).1;
            if info["patch_level"] == 0 && info["executable"]["level"] == 0 && levels == ["0"] {
                Ok(())
            } else {
                Err(format!("{info} with levels {levels:?}"))
            }
        },
    )
    .await
    .unwrap();
    terminate(&mut server.child);
}

#[tokio::test]
async fn too_little_disk_space_is_refused_before_anything_changes() {
    let dir = tempfile::tempdir().unwrap();
    let vendor = Vendor::new();
    import_offline(dir.path(), &vendor, &vendor.package(3).write());
    let mut server = start_server(dir.path(), &vendor, &[("SMS_FREE_BYTES", "1000")]);
    let api = logged_in(&server.url).await;
    let job = api.follow_job(api.install("6.4.0.3").await).await;
    assert_eq!(job["state"], "failed", "{job}");
    assert_eq!(job["error"]["code"], "insufficient_storage", "{job}");
    let stages = stage_names(&job);
    assert_eq!(
        stages[1],
        ("precheck".to_owned(), Some("failed".to_owned()))
    );
    assert!(
        stages[2].1.is_none(),
        "nothing after the pre-check ran: {job}"
    );
    assert_eq!(current_level(dir.path()), 0);
    // The server kept serving.
    assert_eq!(api.health().await.status(), 200);
    terminate(&mut server.child);
}

/// Runs `sms patch ARGS --server URL --user admin --password-stdin` with the admin's password.
async fn sms_remote(url: &str, args: &[&str]) -> std::process::Output {
    use tokio::io::AsyncWriteExt;
    let mut child = tokio::process::Command::new(SMS)
        .arg("patch")
        .args(args)
        .args(["--server", url, "--user", "admin", "--password-stdin"])
        .env_remove("SMS_PASSWORD")
        // Ended with the test, also when it times out below.
        .kill_on_drop(true)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(format!("{ADMIN_PASSWORD}\n").as_bytes())
        .await
        .unwrap();
    drop(stdin);
    tokio::time::timeout(Duration::from_secs(120), child.wait_with_output())
        .await
        .expect("the command ends within two minutes")
        .unwrap()
}

#[tokio::test]
async fn the_command_line_installs_and_rolls_back_following_every_stage() {
    let dir = tempfile::tempdir().unwrap();
    let vendor = Vendor::new();
    import_offline(dir.path(), &vendor, &vendor.package(3).reboot().write());
    let mut server = start_server(dir.path(), &vendor, &[]);
    let url = server.url.clone();

    // Install: a reboot patch, so the command rides out the time nothing answers.
    let installed = sms_remote(&url, &["install", "6.4.0.3"]).await;
    let out = String::from_utf8_lossy(&installed.stdout);
    assert!(
        installed.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&installed.stderr)
    );
    for line in [
        "[1/8] verify: Verify the package ... ok",
        "[3/8] stop_clients: Stop client connections ... ok",
        "[6/8] reboot: Reboot the SMS server ... ok",
        "[8/8] done: Done ... ok",
    ] {
        assert!(out.lines().any(|l| l == line), "no `{line}` in:\n{out}");
    }
    assert!(
        out.contains("Installed SMS 6.4.0 Patch 3: the server runs level 3."),
        "{out}"
    );
    assert_eq!(current_level(dir.path()), 3);

    let listed = sms_remote(&url, &["list"]).await;
    assert!(listed.status.success(), "{listed:?}");
    let text = String::from_utf8_lossy(&listed.stdout);
    assert!(
        text.contains("SMS 6.4.0, Patch 3 installed (build 6.4.0.9203)"),
        "{text}"
    );
    let patch3 = text
        .lines()
        .find(|l| l.starts_with("6.4.0.3"))
        .unwrap_or_default();
    assert!(patch3.ends_with("installed"), "{text}");

    // Rollback: an application restart, to level 0.
    let rolled_back = sms_remote(&url, &["rollback"]).await;
    let out = String::from_utf8_lossy(&rolled_back.stdout);
    assert!(
        rolled_back.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&rolled_back.stderr)
    );
    for line in [
        "[1/6] precheck: Check the server can take it ... ok",
        "[4/6] restart: Restart the SMS server application ... ok",
        "[6/6] done: Done ... ok",
    ] {
        assert!(out.lines().any(|l| l == line), "no `{line}` in:\n{out}");
    }
    assert!(
        out.contains("Rolled back Patch 3: the server runs level 0 (no patch)."),
        "{out}"
    );
    assert_eq!(current_level(dir.path()), 0);

    // Nothing left to roll back: refused, with the code.
    let refused = sms_remote(&url, &["rollback"]).await;
    assert!(!refused.status.success());
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.contains("error: no_patch_installed: "), "{err}");
    terminate(&mut server.child);
}

#[tokio::test]
async fn the_command_line_fails_with_the_jobs_code_when_the_install_fails() {
    let dir = tempfile::tempdir().unwrap();
    let vendor = Vendor::new();
    import_offline(dir.path(), &vendor, &vendor.package(3).write());
    let mut server = start_server(dir.path(), &vendor, &[("SMS_FREE_BYTES", "1000")]);
    let url = server.url.clone();

    let failed = sms_remote(&url, &["install", "6.4.0.3"]).await;

    assert!(!failed.status.success());
    let out = String::from_utf8_lossy(&failed.stdout);
    assert!(
        out.lines()
            .any(|l| l == "[2/8] precheck: Check the server can take it ... failed"),
        "{out}"
    );
    let err = String::from_utf8_lossy(&failed.stderr);
    assert!(err.contains("error: insufficient_storage: "), "{err}");
    let unknown = sms_remote(&url, &["install", "6.4.0.7"]).await;
    assert!(!unknown.status.success());
    let err = String::from_utf8_lossy(&unknown.stderr);
    assert!(err.contains("error: patch_not_found: "), "{err}");
    terminate(&mut server.child);
}
