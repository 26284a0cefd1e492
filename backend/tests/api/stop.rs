//! `systemctl stop` or `restart` (SIGTERM to the supervisor) while an install or rollback runs:
//! the stop waits for the job, through its restart into the new level, and tells systemd it
//! needs the time (`EXTEND_TIMEOUT_USEC`), so the job is never cut halfway.

use std::os::unix::net::UnixDatagram;
use std::time::Duration;

use backend::storage::install_root::InstallRoot;
use testkit::process::sigterm;
use testkit::{Vendor, eventually};

use crate::install::{
    current_level, import_offline, logged_in, start_job, start_server_with, wait_for_exit,
};

/// The datagrams the supervisor sent systemd so far.
fn received(socket: &UnixDatagram) -> Vec<String> {
    let mut seen = Vec::new();
    let mut buffer = [0_u8; 4096];
    while let Ok(n) = socket.recv(&mut buffer) {
        seen.push(String::from_utf8_lossy(&buffer[..n]).into_owned());
    }
    seen
}

/// Starts `kind` ("install" of Patch 3, or "rollback" from it), stops the supervisor once the
/// job is at `stage` (where it waits 1.5 s), and checks the job ended before the supervisor did.
async fn stop_during(kind: &str, stage: &str) {
    let dir = tempfile::tempdir().unwrap();
    let vendor = Vendor::new();
    import_offline(
        dir.path(),
        &vendor,
        &vendor.package(3).database_changes().write(),
    );
    if kind == "rollback" {
        let mut server = start_server_with(dir.path(), &vendor, "", &[]);
        let api = logged_in(&server.url).await;
        let done = api.follow_job(api.install("6.4.0.3").await).await;
        assert_eq!(done["state"], "succeeded", "{done}");
        testkit::process::terminate(&mut server.child);
    }
    let to = if kind == "rollback" { 0 } else { 3 };

    // As systemd runs the service: its notify socket.
    let socket_path = dir.path().join("notify.sock");
    let systemd = UnixDatagram::bind(&socket_path).unwrap();
    systemd.set_nonblocking(true).unwrap();
    let pause = format!("{stage}:1500");
    let mut server = start_server_with(
        dir.path(),
        &vendor,
        "",
        &[
            ("SMS_PAUSE_AT", &pause),
            ("NOTIFY_SOCKET", socket_path.to_str().unwrap()),
        ],
    );
    let api = logged_in(&server.url).await;
    let id = start_job(&api, kind).await;
    eventually(
        &format!("the {kind} to reach `{stage}`"),
        Duration::from_secs(30),
        || async {
            // The job restarts the server on its way: a request cut by the hand-over is asked
            // again, as wait_for_job does.
            let answer = api
                .request(reqwest::Method::GET, &format!("/api/v1/jobs/{id}"))
                .send()
                .await
                .map_err(|err| format!("no answer: {err}"))?;
            let job: serde_json::Value = answer.json().await.map_err(|err| err.to_string())?;
            if job["stage"] == stage && job["state"] == "running" {
                Ok(())
            } else {
                Err(job.to_string())
            }
        },
    )
    .await
    .unwrap();

    sigterm(&server.child).unwrap();
    let status = wait_for_exit(
        &mut server,
        "the supervisor to stop once the job ended",
        Duration::from_secs(60),
    )
    .await;
    assert!(status.success(), "the supervisor stopped cleanly: {status}");
    let told = received(&systemd);
    assert!(
        told.iter().any(|m| m.contains("STOPPING=1")),
        "systemd heard of the stop: {told:?}"
    );
    let why = if kind == "rollback" {
        "STATUS=stopping once the rollback from Patch 3"
    } else {
        "STATUS=stopping once the install of patch 6.4.0.3"
    };
    assert!(
        told.iter()
            .any(|m| m.contains("EXTEND_TIMEOUT_USEC=") && m.contains(why)),
        "systemd was asked to wait for the {kind}, saying why: {told:?}"
    );

    // The job ended, done, before the stop: what the next start finds needs no recovery.
    assert_eq!(current_level(dir.path()), to);
    let root = InstallRoot::open(dir.path(), &"6.4.0.9001".parse().unwrap()).unwrap();
    assert_eq!(root.confirmed().unwrap().0, to, "the level was confirmed");
    let server = start_server_with(dir.path(), &vendor, "", &[]);
    let api = logged_in(&server.url).await;
    let job = api.wait_for_job(id).await;
    assert_eq!(job["state"], "succeeded", "{job}");
    assert_eq!(api.level().await, u64::from(to));
    assert_eq!(
        crate::levels::has_table(dir.path(), "patch_demo_1").await,
        to != 0,
        "the schema is at the level too: {job}"
    );
    drop(server);
}

#[tokio::test]
async fn a_stop_before_the_install_switches_waits_for_the_install_through_its_restart() {
    stop_during("install", "precheck").await;
}

#[tokio::test]
async fn a_stop_during_the_new_levels_trial_confirms_it_and_waits_for_the_post_check() {
    stop_during("install", "postcheck").await;
}

#[tokio::test]
async fn a_stop_during_a_rollback_waits_for_it() {
    stop_during("rollback", "precheck").await;
}
