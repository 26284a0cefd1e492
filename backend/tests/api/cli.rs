//! The `sms` binary: `serve` flags and shutdown, and the `user` commands.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

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

/// Starts `sms serve` on a free port and returns the child and its base URL.
pub(crate) fn serve(
    data_dir: &std::path::Path,
    extra: &[&str],
    envs: &[(&str, &str)],
) -> (Child, String, Vec<String>) {
    let mut command = Command::new(SMS);
    command
        .arg("serve")
        .args(extra)
        .env("SMS_DATA_DIR", data_dir)
        .env("SMS_LISTEN", "127.0.0.1:0")
        .env("SMS_STATIC_DIR", data_dir.join("dist"))
        .env_remove("SMS_DATABASE_URL")
        .env_remove("SMS_BOOTSTRAP_ADMIN_PASSWORD")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for (key, value) in envs {
        command.env(key, value);
    }
    let mut child = command.spawn().expect("sms serve starts");
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let mut seen = Vec::new();
    let url = loop {
        let line = lines
            .next()
            .expect("sms serve printed its address")
            .expect("stdout");
        seen.push(line.clone());
        if let Some(rest) = line.strip_prefix("SMS server ready at ") {
            break rest.trim_end_matches('/').to_owned();
        }
    };
    // Keep draining stdout so the server never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    (child, url, seen)
}

/// Logs `client` in at the server `url`.
pub(crate) async fn login(
    client: &reqwest::Client,
    url: &str,
    username: &str,
    password: &str,
) -> reqwest::Response {
    client
        .post(format!("{url}/api/v1/session"))
        .header("X-SMS-Client", "api/test")
        .json(&serde_json::json!({"username": username, "password": password}))
        .send()
        .await
        .unwrap()
}

pub(crate) fn terminate(child: &mut Child) -> std::process::ExitStatus {
    let pid = child.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    child.wait().unwrap()
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

    let (mut child, url, _) = serve(
        dir.path(),
        &[],
        &[("SMS_BOOTSTRAP_ADMIN_PASSWORD", "unused-password")],
    );
    let client = crate::helpers::new_client();
    let response = login(&client, &url, "olga", "olga-password").await;
    assert_eq!(response.status(), 200);
    let page: Value = client
        .get(format!("{url}/api/v1/audit"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let actions: Vec<&str> = page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["login", "user_add"], "{page}");
    assert_eq!(page["entries"][1]["source"], "cli");

    assert!(terminate(&mut child).success());
}

#[tokio::test]
async fn serve_prints_a_generated_admin_password_once_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();

    let (mut child, url, lines) = serve(dir.path(), &["--log-format", "json"], &[]);
    let text = lines.join("\n");
    assert!(text.contains("created the user `admin`"), "{text}");
    let password = lines
        .iter()
        .map(|l| l.trim())
        .find(|l| l.len() == 24 && !l.contains(' '))
        .expect("the generated password is printed")
        .to_owned();
    let health: Value = reqwest::get(format!("{url}/api/v1/health"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");
    let client = crate::helpers::new_client();
    let login = login(&client, &url, "admin", &password).await;
    assert_eq!(login.status(), 200);
    assert!(terminate(&mut child).success(), "graceful shutdown exits 0");

    let (mut again, _, lines) = serve(dir.path(), &[], &[]);
    assert!(
        !lines.join("\n").contains(&password),
        "the password is shown only once"
    );
    assert!(terminate(&mut again).success());
}

#[tokio::test]
async fn demo_mode_shows_the_admin_login_at_every_start() {
    let dir = tempfile::tempdir().unwrap();

    let (mut first, _, lines) = serve(dir.path(), &["--demo"], &[]);
    let login = lines
        .iter()
        .find_map(|l| l.trim().strip_prefix("Admin login: admin / "))
        .expect("the demo login is printed")
        .to_owned();
    assert!(terminate(&mut first).success());

    let (mut second, _, lines) = serve(dir.path(), &["--demo"], &[]);
    let again = lines
        .iter()
        .find_map(|l| l.trim().strip_prefix("Admin login: admin / "))
        .expect("the demo login is printed again");
    assert_eq!(again, login);
    assert!(terminate(&mut second).success());
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

    let (mut child, url, _) = serve(
        dir.path(),
        &["--config", config_path],
        &[("SMS_BOOTSTRAP_ADMIN_PASSWORD", "config-test-password")],
    );
    let health: Value = reqwest::get(format!("{url}/api/v1/health"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["product_version"], "6.5.0");
    let client = crate::helpers::new_client();
    login(&client, &url, "admin", "config-test-password").await;
    let info: Value = client
        .get(format!("{url}/api/v1/server"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["node_name"], "from-file");
    assert_eq!(info["build"], "6.5.0.77");
    assert!(terminate(&mut child).success());

    let (mut child, url, _) = serve(
        dir.path(),
        &["--config", config_path, "--node-name", "from-flag"],
        &[],
    );
    login(&client, &url, "admin", "config-test-password").await;
    let info: Value = client
        .get(format!("{url}/api/v1/server"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["node_name"], "from-flag");
    assert!(terminate(&mut child).success());
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
