//! Serving HTTPS: a server on a non-loopback address makes its own certificate and speaks
//! only HTTPS; a given certificate is served as it is; plain HTTP only on purpose.

use std::path::Path;
use std::process::Command;

use backend::service::certificate::fingerprint;
use testkit::{ADMIN_PASSWORD, TestApp, assert_error, process, spawn_app, spawn_app_with};

fn sms() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_sms"))
}

/// `sms serve` on every address (reached through 127.0.0.1), with `args` and `envs`.
fn serve_everywhere(data: &Path, args: &[&str]) -> process::Served {
    let mut command: Command = process::serve_command(sms(), data);
    command
        .env("SMS_LISTEN", "0.0.0.0:0")
        .env("SMS_BOOTSTRAP_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .args(args);
    process::start(command).unwrap_or_else(|err| panic!("{err:#}"))
}

fn port_of(url: &str) -> u16 {
    url.rsplit(':')
        .next()
        .unwrap()
        .trim_end_matches('/')
        .parse()
        .unwrap()
}

/// A client that trusts only the certificate in `cert_pem`.
fn trusting(cert_pem: &[u8]) -> reqwest::Client {
    backend::net::install_tls_provider();
    reqwest::Client::builder()
        .tls_certs_only(reqwest::Certificate::from_pem_bundle(cert_pem).unwrap())
        .cookie_store(true)
        .build()
        .unwrap()
}

fn leaf_der(cert_pem: &[u8]) -> Vec<u8> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    CertificateDer::pem_slice_iter(cert_pem)
        .next()
        .unwrap()
        .unwrap()
        .as_ref()
        .to_vec()
}

#[tokio::test]
async fn a_server_on_a_non_loopback_address_makes_its_certificate_and_speaks_only_https() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let served = serve_everywhere(&data, &[]);
    assert!(served.url.starts_with("https://"), "{}", served.url);
    let port = port_of(&served.url);

    let cert = std::fs::read(data.join("tls/cert.pem")).unwrap();
    let printed = served
        .lines
        .iter()
        .find(|line| line.contains("fingerprint"))
        .expect("the fingerprint is printed with the ready line");
    assert!(
        printed.contains(&fingerprint(&leaf_der(&cert))),
        "{printed}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(data.join("tls/key.pem"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "the key is readable by its owner only");
    }

    let client = trusting(&cert);
    let base = format!("https://127.0.0.1:{port}");
    let health = client
        .get(format!("{base}/api/v1/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let login = client
        .post(format!("{base}/api/v1/session"))
        .header("X-SMS-Client", "api/test")
        .json(&serde_json::json!({"username": "admin", "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    let cookie = login.headers()["set-cookie"].to_str().unwrap();
    assert!(cookie.contains("Secure"), "{cookie}");

    // Plain HTTP on the HTTPS port gets no page.
    let plain = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{port}/api/v1/health"))
        .send()
        .await;
    assert!(
        plain.as_ref().map_or(true, |r| !r.status().is_success()),
        "{plain:?}"
    );

    // The next start serves the same certificate.
    drop(served);
    let again = serve_everywhere(&data, &[]);
    assert_eq!(std::fs::read(data.join("tls/cert.pem")).unwrap(), cert);
    assert!(again.url.starts_with("https://"));
}

#[tokio::test]
async fn a_given_certificate_is_served_and_a_key_that_does_not_fit_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["sms.example".into(), "127.0.0.1".into()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let cert_file = dir.path().join("cert.pem");
    let key_file = dir.path().join("key.pem");
    std::fs::write(&cert_file, cert.pem()).unwrap();
    std::fs::write(&key_file, key.serialize_pem()).unwrap();
    let data = dir.path().join("data");
    let served = serve_everywhere(
        &data,
        &[
            "--tls-cert",
            cert_file.to_str().unwrap(),
            "--tls-key",
            key_file.to_str().unwrap(),
        ],
    );
    let client = trusting(cert.pem().as_bytes());
    let health = client
        .get(format!(
            "https://127.0.0.1:{}/api/v1/health",
            port_of(&served.url)
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    assert!(
        !data.join("tls").exists(),
        "no self-signed certificate was made"
    );
    drop(served);

    let other_key = rcgen::KeyPair::generate().unwrap();
    let wrong_key = dir.path().join("wrong.pem");
    std::fs::write(&wrong_key, other_key.serialize_pem()).unwrap();
    let output = Command::new(sms())
        .args(["serve", "--listen", "0.0.0.0:0", "--tls-cert"])
        .arg(&cert_file)
        .arg("--tls-key")
        .arg(&wrong_key)
        .env("SMS_DATA_DIR", &data)
        .env_remove("SMS_DATABASE_URL")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(said.contains("does not belong"), "{said}");
}

#[tokio::test]
async fn plain_http_on_a_non_loopback_address_only_on_purpose() {
    backend::net::install_tls_provider();
    let dir = tempfile::tempdir().unwrap();
    let served = serve_everywhere(&dir.path().join("data"), &["--insecure-http"]);
    assert!(served.url.starts_with("http://"), "{}", served.url);
    let health = reqwest::get(format!(
        "http://127.0.0.1:{}/api/v1/health",
        port_of(&served.url)
    ))
    .await
    .unwrap();
    assert_eq!(health.status(), 200);
}

/// `sms patch list` against `url` with `trust` (e.g. `--fingerprint X`), the admin's password
/// on standard input.
fn patch_list(url: &str, trust: &[&str]) -> std::process::Output {
    use std::io::Write;
    let mut child = Command::new(sms())
        .args([
            "patch",
            "list",
            "--server",
            url,
            "--user",
            "admin",
            "--password-stdin",
        ])
        .args(trust)
        .env_remove("SMS_PASSWORD")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "{ADMIN_PASSWORD}").unwrap();
    drop(stdin);
    child.wait_with_output().unwrap()
}

#[tokio::test]
async fn the_command_line_checks_an_https_server_by_fingerprint_or_ca_file() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let served = serve_everywhere(&data, &[]);
    let url = format!("https://127.0.0.1:{}/", port_of(&served.url));
    let cert_file = data.join("tls/cert.pem");
    let pin = fingerprint(&leaf_der(&std::fs::read(&cert_file).unwrap()));

    let pinned = patch_list(&url, &["--fingerprint", &pin]);
    assert!(
        pinned.status.success(),
        "{}",
        String::from_utf8_lossy(&pinned.stderr)
    );
    let with_ca = patch_list(&url, &["--ca-file", cert_file.to_str().unwrap()]);
    assert!(
        with_ca.status.success(),
        "{}",
        String::from_utf8_lossy(&with_ca.stderr)
    );

    let wrong = patch_list(&url, &["--fingerprint", &"00".repeat(32)]);
    assert!(!wrong.status.success());
    // Nor does it trust a self-signed certificate by itself.
    let unchecked = patch_list(&url, &[]);
    assert!(!unchecked.status.success());
    let said = String::from_utf8_lossy(&unchecked.stderr);
    assert!(said.contains("127.0.0.1"), "{said}");
}

/// A test certificate authority and the certificates it signs.
pub(crate) struct TestCa {
    params: rcgen::CertificateParams,
    key: rcgen::KeyPair,
    pem: String,
}

impl TestCa {
    pub(crate) fn new() -> Self {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "SMS test CA");
        let pem = params.self_signed(&key).unwrap().pem();
        Self { params, key, pem }
    }

    /// The CA's certificate (PEM).
    pub(crate) fn pem(&self) -> &str {
        &self.pem
    }

    /// A server certificate for `names`, valid `from`..`until` days from now, with its key:
    /// (chain PEM, key PEM).
    pub(crate) fn issue(&self, names: &[&str], from: i64, until: i64) -> (String, String) {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(
            names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>(),
        )
        .unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, names[0]);
        let day = |days: i64| {
            rcgen::date_time_ymd(2000, 1, 1)
                + std::time::Duration::from_secs(
                    ((chrono::Utc::now().timestamp() - 946_684_800) / 86_400 + days) as u64
                        * 86_400,
                )
        };
        params.not_before = day(from);
        params.not_after = day(until);
        let issuer = rcgen::Issuer::from_params(&self.params, &self.key);
        let leaf = params.signed_by(&key, &issuer).unwrap();
        (format!("{}{}", leaf.pem(), self.pem), key.serialize_pem())
    }
}

async fn put_certificate(app: &TestApp, chain: &str, key: &str) -> reqwest::Response {
    app.request(reqwest::Method::PUT, "/api/v1/tls")
        .json(&serde_json::json!({"certificate": chain, "key": key}))
        .send()
        .await
        .unwrap()
}

/// An in-process server on every address with its self-signed certificate.
async fn https_app() -> TestApp {
    spawn_app_with(|config| {
        config.listen = "0.0.0.0:0".parse().unwrap();
        config.transport = backend::config::Transport::HttpsSelfSigned;
    })
    .await
}

#[tokio::test]
async fn an_admin_sees_the_certificate_and_bad_replacements_are_refused_with_codes() {
    let app = https_app().await;
    app.login_admin().await;
    let status = app.get_json("/api/v1/tls").await;
    assert_eq!(status["https"], true, "{status}");
    let served = &status["certificate"];
    assert_eq!(served["self_signed"], true, "{status}");
    assert!(
        served["names"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!("127.0.0.1")),
        "{status}"
    );
    let cert_file = app.data_dir.path().join("tls/cert.pem");
    let on_disk = std::fs::read(&cert_file).unwrap();
    assert_eq!(
        served["fingerprint_sha256"],
        fingerprint(&leaf_der(&on_disk))
    );
    assert_eq!(served["expires_soon"], false);

    let ca = TestCa::new();
    let (chain, key) = ca.issue(&["127.0.0.1", "localhost"], -1, 90);
    let (_, other_key) = ca.issue(&["127.0.0.1"], -1, 90);
    let message = assert_error(
        put_certificate(&app, &chain, &other_key).await,
        400,
        "key_mismatch",
    )
    .await;
    assert!(message.contains("does not belong"), "{message}");

    let (expired, expired_key) = ca.issue(&["127.0.0.1"], -60, -1);
    assert_error(
        put_certificate(&app, &expired, &expired_key).await,
        400,
        "certificate_expired",
    )
    .await;
    let (later, later_key) = ca.issue(&["127.0.0.1"], 2, 90);
    assert_error(
        put_certificate(&app, &later, &later_key).await,
        400,
        "certificate_not_yet_valid",
    )
    .await;

    let (elsewhere, elsewhere_key) = ca.issue(&["sms.other.example", "10.9.9.9"], -1, 90);
    let message = assert_error(
        put_certificate(&app, &elsewhere, &elsewhere_key).await,
        400,
        "certificate_name_mismatch",
    )
    .await;
    assert!(
        message.contains("sms.other.example") && message.contains("127.0.0.1"),
        "{message}"
    );

    assert_error(
        put_certificate(&app, "not a certificate", &key).await,
        400,
        "certificate_unreadable",
    )
    .await;
    assert_error(
        put_certificate(&app, &chain, "not a key").await,
        400,
        "key_unreadable",
    )
    .await;

    // Nothing refused was saved or served.
    assert_eq!(std::fs::read(&cert_file).unwrap(), on_disk);
    let again = app.get_json("/api/v1/tls").await;
    assert_eq!(
        again["certificate"]["fingerprint_sha256"],
        served["fingerprint_sha256"]
    );

    // An operator sees it but cannot replace it.
    app.login_operator().await;
    assert_eq!(app.get("/api/v1/tls").await.status(), 200);
    assert_error(
        put_certificate(&app, &chain, &key).await,
        403,
        "admin_required",
    )
    .await;

    app.login_admin().await;
    let audit = app.get_json("/api/v1/audit?per_page=50").await;
    let refused = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|entry| entry["action"] == "certificate_replace" && entry["outcome"] == "failure")
        .count();
    assert_eq!(refused, 6, "every refused upload is audited: {audit}");
}

#[tokio::test]
async fn a_good_certificate_is_served_at_once_and_after_a_restart() {
    let app = https_app().await;
    app.login_admin().await;
    let old_pem = std::fs::read(app.data_dir.path().join("tls/cert.pem")).unwrap();
    let ca = TestCa::new();
    let (chain, key) = ca.issue(&["127.0.0.1", "localhost"], -1, 20);
    let answer = put_certificate(&app, &chain, &key).await;
    assert_eq!(answer.status(), 200);
    let info: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(info["self_signed"], false);
    assert_eq!(info["chain_length"], 2);
    assert_eq!(info["issuer"], "CN=SMS test CA");
    assert_eq!(info["expires_soon"], true, "20 days left warns: {info}");
    assert_eq!(
        info["fingerprint_sha256"],
        fingerprint(&leaf_der(chain.as_bytes()))
    );

    // A new connection trusting only the test CA gets the new certificate ...
    let health = |port: u16, client: reqwest::Client| async move {
        client
            .get(format!("https://127.0.0.1:{port}/api/v1/health"))
            .send()
            .await
    };
    let port = app.addr.port();
    assert_eq!(
        health(port, trusting(ca.pem.as_bytes()))
            .await
            .unwrap()
            .status(),
        200
    );
    // ... and one trusting only the old certificate is refused.
    assert!(health(port, trusting(&old_pem)).await.is_err());

    let audit = app.get_json("/api/v1/audit?per_page=10").await;
    let entry = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|entry| entry["action"] == "certificate_replace")
        .cloned()
        .unwrap();
    assert_eq!(entry["outcome"], "success", "{entry}");
    assert!(
        entry["details"].as_str().unwrap().contains("CN=127.0.0.1"),
        "{entry}"
    );

    // The files hold it, so the next start serves it too.
    let app = app.restart().await;
    assert_eq!(
        health(app.addr.port(), trusting(ca.pem.as_bytes()))
            .await
            .unwrap()
            .status(),
        200
    );
    assert!(!app.data_dir.path().join("tls/cert.pem.new").exists());
}

#[tokio::test]
async fn a_plain_http_server_has_no_certificate_to_replace() {
    let app = spawn_app().await;
    app.login_admin().await;
    let status = app.get_json("/api/v1/tls").await;
    assert_eq!(
        status,
        serde_json::json!({"https": false, "certificate": null})
    );
    let ca = TestCa::new();
    let (chain, key) = ca.issue(&["127.0.0.1"], -1, 90);
    assert_error(
        put_certificate(&app, &chain, &key).await,
        409,
        "tls_not_enabled",
    )
    .await;
}
