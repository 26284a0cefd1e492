//! Notifications against real receivers: an HTTP receiver that checks the Standard Webhooks
//! signature, one that is down and comes back (each event delivered once, also across a
//! restart), one that answers 410, and a real SMTP server (aiosmtpd) for email.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use backend::config::Config;
use backend::service::notify::{SmtpConfig, SmtpTls};
use base64::Engine;
use serde_json::{Value, json};
use testkit::{TestApp, Vendor, assert_error, eventually, spawn_app_with};

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Received {
    id: String,
    timestamp: String,
    signature: String,
    body: String,
}

/// A webhook receiver on 127.0.0.1: records every POST and answers `status`.
#[derive(Clone)]
struct Receiver {
    url: String,
    got: Arc<Mutex<Vec<Received>>>,
    status: Arc<Mutex<StatusCode>>,
}

impl Receiver {
    async fn start(status: StatusCode) -> Self {
        let got: Arc<Mutex<Vec<Received>>> = Arc::default();
        let status = Arc::new(Mutex::new(status));
        let (record, answer) = (got.clone(), status.clone());
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: String| {
                let (record, answer) = (record.clone(), answer.clone());
                async move {
                    let header = |name: &str| {
                        headers
                            .get(name)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or_default()
                            .to_owned()
                    };
                    record.lock().unwrap().push(Received {
                        id: header("webhook-id"),
                        timestamp: header("webhook-timestamp"),
                        signature: header("webhook-signature"),
                        body,
                    });
                    *answer.lock().unwrap()
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { url, got, status }
    }

    fn answer(&self, status: StatusCode) {
        *self.status.lock().unwrap() = status;
    }

    fn got(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }
}

/// The signature check a receiver does, written from the Standard Webhooks specification.
fn verifies(secret: &str, got: &Received) -> bool {
    let key = base64::engine::general_purpose::STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &key);
    let signed = format!("{}.{}.{}", got.id, got.timestamp, got.body);
    let Some(tag) = got.signature.strip_prefix("v1,") else {
        return false;
    };
    let Ok(tag) = base64::engine::general_purpose::STANDARD.decode(tag) else {
        return false;
    };
    ring::hmac::verify(&key, signed.as_bytes(), &tag).is_ok()
}

async fn app(vendor: &Vendor, adjust: impl FnOnce(&mut Config)) -> TestApp {
    let app = spawn_app_with(move |config: &mut Config| {
        vendor.trust(config);
        config.system.reboot_window = Duration::from_millis(400);
        config.notify.retry_first = Duration::from_millis(200);
        adjust(config);
    })
    .await;
    app.login_admin().await;
    app
}

async fn add_target(app: &TestApp, body: Value) -> reqwest::Response {
    app.request(reqwest::Method::POST, "/api/v1/notifications/targets")
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn deliveries(app: &TestApp) -> Vec<Value> {
    let log: Value = app.get_json("/api/v1/notifications/deliveries").await;
    log["deliveries"].as_array().unwrap().clone()
}

#[tokio::test]
async fn a_webhook_gets_a_signed_test_and_its_secret_is_shown_once() {
    let vendor = Vendor::new();
    let app = app(&vendor, |_| {}).await;
    let receiver = Receiver::start(StatusCode::NO_CONTENT).await;

    for (body, code) in [
        (
            json!({"kind": "webhook", "url": "ftp://x/"}),
            "invalid_target_url",
        ),
        (
            json!({"kind": "webhook", "url": receiver.url, "secret": "s3cret"}),
            "invalid_secret",
        ),
        (
            json!({"kind": "email", "address": "ops@example.com"}),
            "email_not_configured",
        ),
    ] {
        let answer = add_target(&app, body).await;
        let status = if code == "email_not_configured" {
            409
        } else {
            400
        };
        assert_error(answer, status, code).await;
    }

    let answer = add_target(&app, json!({"kind": "webhook", "url": receiver.url})).await;
    assert_eq!(answer.status(), 201);
    let created: Value = answer.json().await.unwrap();
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"), "{created}");
    let id = created["target"]["id"].as_i64().unwrap();
    let list: Value = app.get_json("/api/v1/notifications/targets").await;
    assert_eq!(list["targets"][0]["destination"], receiver.url);
    assert!(
        !list.to_string().contains(&secret[6..]),
        "the secret is never shown again: {list}"
    );
    assert_eq!(list["email_configured"], false);

    let answer = app
        .post(&format!("/api/v1/notifications/targets/{id}/test"))
        .await;
    assert_eq!(answer.status(), 202);
    let queued: Value = answer.json().await.unwrap();
    assert_eq!(queued["event"], "test");
    let got = eventually(
        "the receiver got the test",
        Duration::from_secs(20),
        || async {
            match receiver.got().first() {
                Some(got) => Ok(got.clone()),
                None => Err("nothing yet"),
            }
        },
    )
    .await
    .unwrap();
    assert_eq!(got.id, queued["message_id"].as_str().unwrap());
    assert!(verifies(&secret, &got), "the signature verifies: {got:?}");
    let mut forged = got.clone();
    forged.body = forged.body.replace("test", "tost");
    assert!(
        !verifies(&secret, &forged),
        "a changed body does not verify"
    );
    let body: Value = serde_json::from_str(&got.body).unwrap();
    assert_eq!(body["type"], "test");
    assert!(
        body["data"]["summary"]
            .as_str()
            .unwrap()
            .contains("sent by admin")
    );

    let log = eventually(
        "the log shows it delivered",
        Duration::from_secs(10),
        || async {
            let log = deliveries(&app).await;
            match log.first().map(|d| d["state"].clone()) {
                Some(state) if state == "delivered" => Ok(log),
                other => Err(format!("{other:?}")),
            }
        },
    )
    .await
    .unwrap();
    assert_eq!(log[0]["last_outcome"], "HTTP 204");
    assert_eq!(log[0]["attempts"], 1);

    // Removing it: gone from the list, its log stays.
    let answer = app
        .request(
            reqwest::Method::DELETE,
            &format!("/api/v1/notifications/targets/{id}"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 204);
    let list: Value = app.get_json("/api/v1/notifications/targets").await;
    assert_eq!(list["targets"], json!([]));
    assert_eq!(deliveries(&app).await.len(), 1);
    let audit: Value = app.audit("?per_page=200").await.json().await.unwrap();
    let actions: Vec<&str> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    for action in [
        "notification_target_add",
        "notification_test",
        "notification_target_remove",
    ] {
        assert!(actions.contains(&action), "{action} audited: {actions:?}");
    }
}

#[tokio::test]
async fn a_receiver_that_is_down_gets_every_event_once_when_it_is_back_also_across_a_restart() {
    let vendor = Vendor::new();
    let app = app(&vendor, |_| {}).await;
    let receiver = Receiver::start(StatusCode::SERVICE_UNAVAILABLE).await;
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let answer = add_target(
        &app,
        json!({"kind": "webhook", "url": receiver.url, "secret": secret}),
    )
    .await;
    assert_eq!(answer.status(), 201);
    let created: Value = answer.json().await.unwrap();
    assert!(created["secret"].is_null(), "a given secret is not echoed");

    // An install: started and succeeded, while the receiver is down.
    app.import_file(&vendor.package(3).write()).await;
    let job = testkit::api::started_job(app.install("6.4.0.3").await).await;
    let done = app.wait_for_job(job["id"].as_i64().unwrap()).await;
    assert_eq!(done["state"], "succeeded");
    let pending = eventually(
        "both events were tried",
        Duration::from_secs(20),
        || async {
            let log = deliveries(&app).await;
            let tried = log
                .iter()
                .filter(|d| d["state"] == "pending" && d["attempts"].as_u64() >= Some(1))
                .count();
            if tried == 2 {
                Ok(log)
            } else {
                Err(format!("{log:?}"))
            }
        },
    )
    .await
    .unwrap();
    assert_eq!(pending[0]["last_outcome"], "HTTP 503");
    assert!(pending[0]["next_attempt_at"].is_string());

    // The server restarts while they wait; then the receiver is back.
    let app = app.restart().await;
    app.login_admin().await;
    receiver.answer(StatusCode::OK);
    eventually("every event delivered", Duration::from_secs(30), || async {
        let log = deliveries(&app).await;
        if log.iter().all(|d| d["state"] == "delivered") {
            Ok(())
        } else {
            Err(format!("{log:?}"))
        }
    })
    .await
    .unwrap();
    // Delivered once each: the successful tries carry two distinct ids, each tried under the
    // same id every time.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let got = receiver.got();
    let mut by_id: HashMap<String, Vec<Received>> = HashMap::new();
    for request in got {
        assert!(verifies(secret, &request), "{request:?}");
        by_id.entry(request.id.clone()).or_default().push(request);
    }
    assert_eq!(by_id.len(), 2, "{by_id:?}");
    let mut types: Vec<String> = by_id
        .values()
        .map(|tries| {
            let body: Value = serde_json::from_str(&tries[0].body).unwrap();
            body["type"].as_str().unwrap().to_owned()
        })
        .collect();
    types.sort();
    assert_eq!(types, ["install.started", "install.succeeded"]);
    let log = deliveries(&app).await;
    assert_eq!(log.len(), 2, "nothing was queued twice: {log:?}");
    let succeeded = log
        .iter()
        .find(|d| d["event"] == "install.succeeded")
        .unwrap();
    assert!(
        succeeded["summary"]
            .as_str()
            .unwrap()
            .contains("Patch 6.4.0.3 was installed"),
        "{succeeded}"
    );
}

#[tokio::test]
async fn a_410_disables_the_target_and_drops_what_waits_for_it() {
    let vendor = Vendor::new();
    let app = app(&vendor, |_| {}).await;
    let receiver = Receiver::start(StatusCode::GONE).await;
    let created: Value = add_target(&app, json!({"kind": "webhook", "url": receiver.url}))
        .await
        .json()
        .await
        .unwrap();
    let id = created["target"]["id"].as_i64().unwrap();
    app.post(&format!("/api/v1/notifications/targets/{id}/test"))
        .await;
    let target = eventually(
        "the target is disabled",
        Duration::from_secs(20),
        || async {
            let list: Value = app.get_json("/api/v1/notifications/targets").await;
            let target = list["targets"][0].clone();
            if target["enabled"] == false {
                Ok(target)
            } else {
                Err(format!("{target}"))
            }
        },
    )
    .await
    .unwrap();
    assert!(
        target["disabled_reason"]
            .as_str()
            .unwrap()
            .contains("410 Gone"),
        "{target}"
    );
    let log = deliveries(&app).await;
    assert_eq!(log[0]["state"], "dropped");
    assert_eq!(receiver.got().len(), 1, "tried once, never again");
    // An event now is not queued for it.
    app.post(&format!("/api/v1/notifications/targets/{id}/test"))
        .await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(receiver.got().len(), 1);
}

/// The Python of the test tools (aiosmtpd, prometheus-client), made by `scripts/setup.sh --test`.
pub(crate) fn test_python() -> std::path::PathBuf {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let python = root.join("target/test-venv/bin/python");
    assert!(
        python.is_file(),
        "{} is missing: run scripts/setup.sh --test (it installs aiosmtpd and prometheus-client)",
        python.display()
    );
    python
}

/// A real SMTP server (aiosmtpd) on a free loopback port, keeping mail in a maildir; `args`
/// add TLS. Killed when dropped.
struct SmtpServer {
    port: u16,
    maildir: tempfile::TempDir,
    _process: tokio::process::Child,
}

impl SmtpServer {
    async fn start(args: &[&std::ffi::OsStr]) -> Self {
        let [port] = testkit::free_ports::<1>();
        let maildir = tempfile::tempdir().unwrap();
        let process = tokio::process::Command::new(test_python())
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .args(args)
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(maildir.path().join("mail"))
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        eventually(
            "the SMTP server listens",
            Duration::from_secs(20),
            || async { tokio::net::TcpStream::connect(("127.0.0.1", port)).await },
        )
        .await
        .unwrap();
        Self {
            port,
            maildir,
            _process: process,
        }
    }

    /// The first mail that arrived.
    async fn first_mail(&self) -> String {
        eventually("the mail arrived", Duration::from_secs(20), || async {
            let new = self.maildir.path().join("mail/new");
            let file = std::fs::read_dir(&new)
                .map_err(|e| e.to_string())?
                .filter_map(Result::ok)
                .next()
                .ok_or("no mail yet")?;
            std::fs::read_to_string(file.path()).map_err(|e| e.to_string())
        })
        .await
        .unwrap()
    }
}

/// A server sending through `smtp`, with an email target for ops@example.com that was sent a
/// test.
async fn email_test(vendor: &Vendor, smtp: SmtpConfig) -> TestApp {
    let app = app(vendor, move |config| {
        config.smtp = Some(smtp);
        config.notify.console_url = Some("https://sms.example.com/".into());
    })
    .await;
    let answer = add_target(&app, json!({"kind": "email", "address": "not an address"})).await;
    assert_error(answer, 400, "invalid_email_address").await;
    let created: Value = add_target(&app, json!({"kind": "email", "address": "ops@example.com"}))
        .await
        .json()
        .await
        .unwrap();
    let id = created["target"]["id"].as_i64().unwrap();
    app.post(&format!("/api/v1/notifications/targets/{id}/test"))
        .await;
    app
}

async fn delivered_by_smtp(app: &TestApp) {
    let log = eventually("delivered", Duration::from_secs(20), || async {
        let log = deliveries(app).await;
        if log[0]["state"] == "delivered" {
            Ok(log)
        } else {
            Err(format!("{log:?}"))
        }
    })
    .await
    .unwrap();
    assert!(
        log[0]["last_outcome"]
            .as_str()
            .unwrap()
            .starts_with("SMTP 250"),
        "{log:?}"
    );
}

#[tokio::test]
async fn an_email_target_gets_the_test_through_a_real_smtp_server() {
    let smtp = SmtpServer::start(&[]).await;
    let vendor = Vendor::new();
    let app = email_test(
        &vendor,
        SmtpConfig {
            host: "127.0.0.1".into(),
            port: smtp.port,
            tls: SmtpTls::None,
            login: None,
            from: "SMS <sms@example.com>".into(),
            ca_file: None,
        },
    )
    .await;
    let mail = smtp.first_mail().await;
    assert!(mail.contains("To: ops@example.com"), "{mail}");
    assert!(mail.contains("From: SMS <sms@example.com>"), "{mail}");
    assert!(mail.contains("Subject: [SMS "), "{mail}");
    assert!(mail.contains("sent by admin"), "{mail}");
    assert!(
        mail.contains("Open the console: https://sms.example.com/"),
        "{mail}"
    );
    delivered_by_smtp(&app).await;
}

#[tokio::test]
async fn email_goes_over_starttls_and_over_tls_checked_against_the_given_ca() {
    let ca = crate::tls::TestCa::new();
    let (chain, key) = ca.issue(&["localhost"], -1, 30);
    let files = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let path = files.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let (cert, key, ca_file) = (
        write("cert.pem", &chain),
        write("key.pem", &key),
        write("ca.pem", ca.pem()),
    );
    let vendor = Vendor::new();
    for (flags, tls) in [
        (["--tlscert", "--tlskey"], SmtpTls::Starttls),
        (["--smtpscert", "--smtpskey"], SmtpTls::Tls),
    ] {
        // With --tlscert aiosmtpd takes no mail before STARTTLS; with --smtpscert it speaks
        // TLS from the first byte.
        let smtp = SmtpServer::start(&[
            flags[0].as_ref(),
            cert.as_os_str(),
            flags[1].as_ref(),
            key.as_os_str(),
        ])
        .await;
        let app = email_test(
            &vendor,
            SmtpConfig {
                host: "localhost".into(),
                port: smtp.port,
                tls,
                login: None,
                from: "SMS <sms@example.com>".into(),
                ca_file: Some(ca_file.clone()),
            },
        )
        .await;
        let mail = smtp.first_mail().await;
        assert!(mail.contains("sent by admin"), "{tls:?}: {mail}");
        delivered_by_smtp(&app).await;
    }

    // Without the CA the mail server's certificate does not pass: nothing is sent, and the
    // log says why.
    let smtp = SmtpServer::start(&[
        "--tlscert".as_ref(),
        cert.as_os_str(),
        "--tlskey".as_ref(),
        key.as_os_str(),
    ])
    .await;
    let app = email_test(
        &vendor,
        SmtpConfig {
            host: "localhost".into(),
            port: smtp.port,
            tls: SmtpTls::Starttls,
            login: None,
            from: "SMS <sms@example.com>".into(),
            ca_file: None,
        },
    )
    .await;
    let log = eventually("the try failed", Duration::from_secs(20), || async {
        let log = deliveries(&app).await;
        if log[0]["attempts"].as_u64() >= Some(1) {
            Ok(log)
        } else {
            Err(format!("{log:?}"))
        }
    })
    .await
    .unwrap();
    assert_eq!(log[0]["state"], "pending", "{log:?}");
    let outcome = log[0]["last_outcome"].as_str().unwrap().to_lowercase();
    assert!(
        outcome.contains("certificate") || outcome.contains("issuer"),
        "{outcome}"
    );
    assert!(
        !smtp.maildir.path().join("mail/new").is_dir()
            || std::fs::read_dir(smtp.maildir.path().join("mail/new"))
                .unwrap()
                .next()
                .is_none()
    );
}

#[tokio::test]
async fn a_tmc_out_of_reach_for_too_long_is_told_once() {
    let vendor = Vendor::new();
    let [closed] = testkit::free_ports::<1>();
    let receiver = Receiver::start(StatusCode::OK).await;
    let app = app(&vendor, move |config| {
        config.tmc.url = Some(reqwest::Url::parse(&format!("http://127.0.0.1:{closed}/")).unwrap());
        config.tmc.timeout = Duration::from_secs(1);
        config.notify.tmc_stale_after = Duration::from_secs(2);
    })
    .await;
    let answer = add_target(&app, json!({"kind": "webhook", "url": receiver.url})).await;
    assert_eq!(answer.status(), 201);
    let got = eventually("tmc.stale arrived", Duration::from_secs(20), || async {
        let stale: Vec<Received> = receiver
            .got()
            .into_iter()
            .filter(|r| r.body.contains("\"tmc.stale\""))
            .collect();
        if stale.is_empty() {
            Err("not yet")
        } else {
            Ok(stale)
        }
    })
    .await
    .unwrap();
    let body: Value = serde_json::from_str(&got[0].body).unwrap();
    assert!(
        body["data"]["summary"]
            .as_str()
            .unwrap()
            .contains("has not reached the TMC"),
        "{body}"
    );
    // Once, not again at every look.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let stale = receiver
        .got()
        .into_iter()
        .filter(|r| r.body.contains("\"tmc.stale\""))
        .count();
    assert_eq!(stale, 1);
}
