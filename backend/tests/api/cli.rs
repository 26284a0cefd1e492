//! The `sms` binary: `serve` flags and shutdown, and the `user` commands.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;
use testkit::Api;
use testkit::process::{Served, terminate};

pub(crate) const SMS: &str = env!("CARGO_BIN_EXE_sms");

fn sms(data_dir: &std::path::Path, args: &[&str], stdin: Option<&str>) -> std::process::Output {
    let mut child = Command::new(SMS)
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .env_remove("SMS_DATABASE_URL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sms runs");
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

/// Starts this build's `sms serve` on `data_dir` with the flags `args` and the variables `envs`.
pub(crate) fn serve(data_dir: &Path, args: &[&str], envs: &[(&str, &str)]) -> Served {
    testkit::process::serve(Path::new(SMS), data_dir, args, envs)
}

#[test]
fn user_commands_add_list_and_change_passwords() {
    let dir = tempfile::tempdir().unwrap();

    let added = sms(
        dir.path(),
        &[
            "user",
            "add",
            "olga",
            "--role",
            "operator",
            "--password-stdin",
        ],
        Some("olga-password\n"),
    );
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );

    let duplicate = sms(
        dir.path(),
        &["user", "add", "olga", "--role", "admin", "--password-stdin"],
        Some("another-password\n"),
    );
    assert!(!duplicate.status.success());
    assert!(String::from_utf8_lossy(&duplicate.stderr).contains("already exists"));

    let short = sms(
        dir.path(),
        &["user", "add", "bob", "--role", "admin", "--password-stdin"],
        Some("short\n"),
    );
    assert!(!short.status.success());
    assert!(String::from_utf8_lossy(&short.stderr).contains("too short"));

    let bad_role = sms(
        dir.path(),
        &["user", "add", "bob", "--role", "root", "--password-stdin"],
        Some("long-enough-password\n"),
    );
    assert!(!bad_role.status.success());

    let passwd = sms(
        dir.path(),
        &["user", "passwd", "olga", "--password-stdin"],
        Some("new-olga-password\n"),
    );
    assert!(
        passwd.status.success(),
        "{}",
        String::from_utf8_lossy(&passwd.stderr)
    );

    let unknown = sms(
        dir.path(),
        &["user", "passwd", "nobody", "--password-stdin"],
        Some("new-password-1\n"),
    );
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no user named"));

    let list = sms(dir.path(), &["user", "list"], None);
    assert!(list.status.success());
    let text = String::from_utf8_lossy(&list.stdout);
    assert!(text.contains("olga"), "{text}");
    assert!(text.contains("operator"), "{text}");
}

#[tokio::test]
async fn a_user_added_by_the_cli_can_log_in_and_it_is_audited() {
    let dir = tempfile::tempdir().unwrap();
    let added = sms(
        dir.path(),
        &[
            "user",
            "add",
            "olga",
            "--role",
            "operator",
            "--password-stdin",
        ],
        Some("olga-password\n"),
    );
    assert!(added.status.success());

    let mut server = serve(
        dir.path(),
        &[],
        &[("SMS_BOOTSTRAP_ADMIN_PASSWORD", "unused-password")],
    );
    let api = Api::new(&server.url);
    let response = api.login("olga", "olga-password").await;
    assert_eq!(response.status(), 200);
    let page: Value = api.audit("").await.json().await.unwrap();
    let actions: Vec<&str> = page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["login", "user_add"], "{page}");
    assert_eq!(page["entries"][1]["source"], "cli");

    assert!(terminate(&mut server.child).success());
}

#[tokio::test]
async fn serve_prints_a_generated_admin_password_once_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();

    let mut server = serve(dir.path(), &["--log-format", "json"], &[]);
    let lines = &server.lines;
    let text = lines.join("\n");
    assert!(text.contains("created the user `admin`"), "{text}");
    let password = lines
        .iter()
        .map(|l| l.trim())
        .find(|l| l.len() == 24 && !l.contains(' '))
        .expect("the generated password is printed")
        .to_owned();
    let api = Api::new(&server.url);
    let health: Value = api.health().await.json().await.unwrap();
    assert_eq!(health["status"], "ok");
    let login = api.login("admin", &password).await;
    assert_eq!(login.status(), 200);
    assert!(
        terminate(&mut server.child).success(),
        "graceful shutdown exits 0"
    );

    let mut again = serve(dir.path(), &[], &[]);
    assert!(
        !again.lines.join("\n").contains(&password),
        "the password is shown only once"
    );
    assert!(terminate(&mut again.child).success());
}

#[tokio::test]
async fn demo_mode_shows_the_admin_login_at_every_start() {
    let dir = tempfile::tempdir().unwrap();

    let mut first = serve(dir.path(), &["--demo"], &[]);
    let login = first
        .lines
        .iter()
        .find_map(|l| l.trim().strip_prefix("Admin login: admin / "))
        .expect("the demo login is printed")
        .to_owned();
    assert!(terminate(&mut first.child).success());

    let mut second = serve(dir.path(), &["--demo"], &[]);
    let again = second
        .lines
        .iter()
        .find_map(|l| l.trim().strip_prefix("Admin login: admin / "))
        .expect("the demo login is printed again");
    assert_eq!(again, login);
    assert!(terminate(&mut second.child).success());
}

#[tokio::test]
async fn serve_reads_a_config_file_and_flags_win() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("sms.toml");
    std::fs::write(
        &config,
        "node_name = \"from-file\"\n[installed]\nproduct_version = \"6.5.0\"\nbuild = \"6.5.0.77\"\n",
    )
    .unwrap();
    let config_path = config.to_str().unwrap();

    let mut server = serve(
        dir.path(),
        &["--config", config_path],
        &[("SMS_BOOTSTRAP_ADMIN_PASSWORD", "config-test-password")],
    );
    let api = Api::new(&server.url);
    let health: Value = api.health().await.json().await.unwrap();
    assert_eq!(health["product_version"], "6.5.0");
    api.login("admin", "config-test-password").await;
    let info: Value = api.server_info().await.json().await.unwrap();
    assert_eq!(info["node_name"], "from-file");
    assert_eq!(info["build"], "6.5.0.77");
    assert!(terminate(&mut server.child).success());

    let mut server = serve(
        dir.path(),
        &["--config", config_path, "--node-name", "from-flag"],
        &[],
    );
    let api = Api::new(&server.url);
    api.login("admin", "config-test-password").await;
    let info: Value = api.server_info().await.json().await.unwrap();
    assert_eq!(info["node_name"], "from-flag");
    assert!(terminate(&mut server.child).success());
}

#[test]
fn a_broken_config_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("sms.toml");
    std::fs::write(&config, "listen = 8080\n").unwrap();
    let output = Command::new(SMS)
        .args(["serve", "--config", config.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("is not valid"), "{stderr}");
}

/// `sms doctor` with the environment of the server `served` keeps its data in `data`.
fn doctor(data: &Path, served: &Served, envs: &[(&str, &str)]) -> (bool, String) {
    let listen = served.url.trim_start_matches("http://");
    let mut command = Command::new(SMS);
    command
        .arg("doctor")
        .env("SMS_DATA_DIR", data)
        .env("SMS_LISTEN", listen)
        .env_remove("SMS_DATABASE_URL")
        .env_remove("SMS_TMC_URL");
    for (key, value) in envs {
        command.env(key, value);
    }
    let output = command.output().unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

#[tokio::test]
async fn doctor_passes_on_a_running_server_and_names_a_tmc_it_cannot_reach_with_a_fix() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut served = testkit::process::serve(
        Path::new(SMS),
        &data,
        &[],
        &[("SMS_BOOTSTRAP_ADMIN_PASSWORD", testkit::ADMIN_PASSWORD)],
    );

    let (ok, out) = doctor(&data, &served, &[]);
    assert!(ok, "{out}");
    for check in [
        "config",
        "data dir",
        "database",
        "install root",
        "tmc",
        "clock",
    ] {
        assert!(
            out.contains(&format!("ok    {check:<12}")),
            "{check}: {out}"
        );
    }
    assert!(
        out.contains("/api/v1/health answers: level 0 (no patch)"),
        "{out}"
    );

    // Nothing listens on port 1: the TMC check fails, says why and what to do.
    let (ok, out) = doctor(&data, &served, &[("SMS_TMC_URL", "http://127.0.0.1:1/")]);
    assert!(!ok, "{out}");
    let line = out
        .lines()
        .position(|l| l.starts_with("FAIL  tmc"))
        .unwrap_or_else(|| panic!("no failed tmc check: {out}"));
    assert!(out.lines().nth(line).unwrap().contains("refused"), "{out}");
    assert!(
        out.lines().nth(line + 1).unwrap().contains("fix: "),
        "{out}"
    );

    // And the server check fails once the server is gone.
    assert!(terminate(&mut served.child).success());
    let (ok, out) = doctor(&data, &served, &[]);
    assert!(!ok, "{out}");
    assert!(out.contains("FAIL  server"), "{out}");
}
