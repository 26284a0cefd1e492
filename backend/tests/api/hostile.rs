//! Hostile input and faults: what whoever can reach the port tries. Logins throttled without
//! locking the admin out, bounded bodies, connections and time, no panic reaching a
//! connection, sessions and audit entries that stay bounded, the browser hardening headers.

use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use reqwest::Method;
use serde_json::{Value, json};
use testkit::{
    ADMIN_PASSWORD, Api, assert_error, client_from, eventually, process, spawn_app, spawn_app_with,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The status of a login with `password` through `client`.
async fn login_status(app: &Api, client: &reqwest::Client, user: &str, password: &str) -> u16 {
    app.login_with(client, user, password)
        .await
        .status()
        .as_u16()
}

#[tokio::test]
async fn an_anonymous_attacker_cannot_lock_the_admin_out() {
    let app = spawn_app().await;
    let attacker = client_from([127, 0, 0, 1]);
    for _ in 0..30 {
        login_status(&app, &attacker, "admin", "guess").await;
    }
    assert_eq!(login_status(&app, &attacker, "admin", "guess").await, 429);

    let admin = client_from([127, 0, 0, 2]);
    assert_eq!(
        login_status(&app, &admin, "admin", ADMIN_PASSWORD).await,
        200,
        "the admin logs in from their own address while the attacker's is throttled"
    );
}

#[tokio::test]
async fn a_burst_of_parallel_guesses_is_counted_in_full() {
    let app = spawn_app().await;
    let guesses = (0..40).map(|_| {
        let app = &app;
        async move { login_status(app, &app.client, "admin", "guess").await }
    });
    let statuses = futures_util::future::join_all(guesses).await;
    let judged = statuses.iter().filter(|s| **s == 401).count();
    let throttled = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(
        judged, 5,
        "only the first five guesses were judged: {statuses:?}"
    );
    assert_eq!(throttled, 35, "{statuses:?}");
}

#[tokio::test]
async fn unknown_names_are_throttled_like_known_ones() {
    let app = spawn_app().await;
    let known = client_from([127, 0, 0, 3]);
    let unknown = client_from([127, 0, 0, 4]);
    let mut seen_known = Vec::new();
    let mut seen_unknown = Vec::new();
    for _ in 0..7 {
        seen_known.push(login_status(&app, &known, "admin", "guess").await);
        seen_unknown.push(login_status(&app, &unknown, "no-such-user", "guess").await);
    }
    assert_eq!(seen_known, [401, 401, 401, 401, 401, 429, 429]);
    assert_eq!(
        seen_unknown, seen_known,
        "a 429 must not tell which names exist"
    );
}

#[tokio::test]
async fn forwarded_for_is_believed_from_a_trusted_proxy_only() {
    // Not trusted: the header changes nothing, the peer is throttled.
    let app = spawn_app().await;
    for n in 0..5 {
        let response = app
            .request(Method::POST, "/api/v1/session")
            .header("X-Forwarded-For", format!("203.0.113.{n}"))
            .json(&json!({"username": "admin", "password": "guess"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401);
    }
    let spoofed = app
        .request(Method::POST, "/api/v1/session")
        .header("X-Forwarded-For", "203.0.113.200")
        .json(&json!({"username": "admin", "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(spoofed.status(), 429);

    // Trusted: the proxy's client is who counts, and is what the audit log shows.
    let app = spawn_app_with(|config| {
        config.http.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await;
    let via_proxy = |client: &'static str, password: &'static str| {
        app.request(Method::POST, "/api/v1/session")
            .header("X-Forwarded-For", format!("198.51.100.77, {client}"))
            .json(&json!({"username": "admin", "password": password}))
            .send()
    };
    for _ in 0..5 {
        assert_eq!(
            via_proxy("203.0.113.9", "guess").await.unwrap().status(),
            401
        );
    }
    assert_eq!(
        via_proxy("203.0.113.9", ADMIN_PASSWORD)
            .await
            .unwrap()
            .status(),
        429
    );
    assert_eq!(
        via_proxy("203.0.113.10", ADMIN_PASSWORD)
            .await
            .unwrap()
            .status(),
        200
    );
    let audit: Value = app.get_json("/api/v1/audit?per_page=1").await;
    assert_eq!(audit["entries"][0]["action"], "login");
    assert_eq!(audit["entries"][0]["source"], "203.0.113.10");
}

#[tokio::test]
async fn over_long_credentials_and_bodies_are_refused_before_any_hashing() {
    let app = spawn_app().await;
    let long_name = "a".repeat(65);
    assert_error(
        app.login(&long_name, "whatever-password").await,
        400,
        "invalid_input",
    )
    .await;
    let long_password = "p".repeat(1025);
    assert_error(
        app.login("admin", &long_password).await,
        400,
        "invalid_input",
    )
    .await;

    let huge = json!({"username": "admin", "password": "x".repeat(100 * 1024)});
    let response = app
        .request(Method::POST, "/api/v1/session")
        .json(&huge)
        .send()
        .await
        .unwrap();
    assert_error(response, 413, "body_too_large").await;
    // None of it counted as a guess.
    assert_eq!(app.login("admin", ADMIN_PASSWORD).await.status(), 200);
}

#[tokio::test]
async fn parameters_out_of_range_get_invalid_query_in_the_error_shape() {
    let app = spawn_app().await;
    app.login_admin().await;
    for path in [
        "/api/v1/audit?page=18446744073709551615",
        "/api/v1/audit?page=0",
        "/api/v1/audit?per_page=201",
        "/api/v1/audit?page=-1",
        "/api/v1/audit?page=abc",
        "/api/v1/jobs/99999999999999999999",
        "/api/v1/jobs/not-a-number",
    ] {
        let response = app.get(path).await;
        assert_eq!(
            response.headers()["content-type"],
            "application/json",
            "{path}"
        );
        assert_error(response, 400, "invalid_query").await;
    }
}

#[tokio::test]
async fn a_panicking_handler_is_answered_500_and_the_connection_lives_on() {
    let data = tempfile::tempdir().unwrap();
    let served = process::serve(
        Path::new(env!("CARGO_BIN_EXE_sms")),
        &data.path().join("data"),
        &[],
        &[
            ("SMS_BOOTSTRAP_ADMIN_PASSWORD", ADMIN_PASSWORD),
            ("SMS_PANIC_IN", "server_info"),
        ],
    );
    let api = Api::new(&served.url);
    assert_eq!(api.login("admin", ADMIN_PASSWORD).await.status(), 200);
    for _ in 0..3 {
        let message = assert_error(api.server_info().await, 500, "internal_error").await;
        assert!(message.contains("logged"), "{message}");
    }
    // The same server (and its connection pool) goes on answering.
    assert_eq!(api.session().await.status(), 200);
}

#[tokio::test]
async fn a_client_that_trickles_its_headers_is_let_go() {
    let app = spawn_app_with(|config| {
        config.http.header_read_timeout = Duration::from_secs(1);
    })
    .await;
    let mut slow = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    slow.write_all(b"GET /api/v1/health HTTP/1.1\r\nHost: sms\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    let mut buffer = [0u8; 512];
    let outcome = tokio::time::timeout(Duration::from_secs(10), slow.read(&mut buffer))
        .await
        .expect("the server let the connection go within its header timeout");
    assert!(started.elapsed() < Duration::from_secs(5));
    match outcome {
        Ok(n) => {
            let answer = String::from_utf8_lossy(&buffer[..n]);
            assert!(n == 0 || answer.starts_with("HTTP/1.1 408"), "{answer}");
        }
        Err(err) => assert!(
            err.kind() == std::io::ErrorKind::ConnectionReset,
            "the read ended with {err}"
        ),
    }
}

#[tokio::test]
async fn connections_past_the_limit_wait_until_one_closes() {
    let app = spawn_app_with(|config| {
        config.http.max_connections = 16;
        config.http.header_read_timeout = Duration::from_secs(60);
    })
    .await;
    let mut idle: Vec<TcpStream> = (0..16)
        .map(|_| TcpStream::connect(app.addr).unwrap())
        .collect();
    // Let the server take all of them in.
    tokio::time::sleep(Duration::from_millis(300)).await;
    backend::net::install_tls_provider();
    let waiting = reqwest::Client::new()
        .get(app.url("/api/v1/health"))
        .timeout(Duration::from_millis(800))
        .send()
        .await;
    assert!(
        waiting.is_err(),
        "a 17th connection is not served while 16 are open: {waiting:?}"
    );
    idle.truncate(8);
    eventually(
        "a connection slot to free up",
        Duration::from_secs(10),
        || async {
            let client = reqwest::Client::new();
            match client
                .get(app.url("/api/v1/health"))
                .timeout(Duration::from_secs(2))
                .send()
                .await
            {
                Ok(response) if response.status() == 200 => Ok(()),
                other => Err(format!("{other:?}")),
            }
        },
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn a_request_past_its_time_limit_gets_503_request_timeout() {
    // A TMC that accepts connections and never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let tmc_url = format!("http://{}/", silent.local_addr().unwrap());
    let holder = std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in silent.incoming().take(8) {
            held.push(stream);
        }
    });
    let app = spawn_app_with(move |config| {
        config.tmc.url = Some(reqwest::Url::parse(&tmc_url).unwrap());
        config.tmc.timeout = Duration::from_secs(60);
        config.http.request_timeout = Duration::from_secs(1);
    })
    .await;
    app.login_admin().await;
    let started = Instant::now();
    let response = app.tmc_check().await;
    assert!(response.headers().contains_key("retry-after"));
    assert_error(response, 503, "request_timeout").await;
    assert!(started.elapsed() < Duration::from_secs(10));
    drop(holder);
}

#[tokio::test]
async fn an_event_stream_ends_soon_after_its_session_ends() {
    let app = spawn_app().await;
    app.login_admin().await;
    let stream = app.events().await;
    assert_eq!(stream.status(), 200);
    let mut body = stream.bytes_stream();
    // The stream is open: its first event arrives.
    let first = tokio::time::timeout(Duration::from_secs(5), body.next()).await;
    assert!(matches!(first, Ok(Some(Ok(_)))), "{first:?}");

    assert_eq!(app.logout().await.status(), 204);
    let ended = tokio::time::timeout(Duration::from_secs(8), async {
        while let Some(chunk) = body.next().await {
            if chunk.is_err() {
                break;
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "the event stream outlived its session");
}

#[tokio::test]
async fn a_session_ends_at_its_absolute_lifetime_however_busy() {
    let app = spawn_app_with(|config| {
        config.auth.session_max_age = chrono::Duration::seconds(2);
    })
    .await;
    app.login_admin().await;
    let started = Instant::now();
    loop {
        let status = app.session().await.status();
        if status == 401 {
            break;
        }
        assert_eq!(status, 200);
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the session kept sliding past its absolute lifetime"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(started.elapsed() >= Duration::from_millis(1500));
}

#[tokio::test]
async fn audit_entries_are_cut_to_size_and_the_log_to_its_retention() {
    let app = spawn_app_with(|config| config.audit.max_entries = 10).await;
    app.login_admin().await;
    let long_url = format!("http://{}.invalid/status", "a".repeat(5000));
    let response = app
        .request(Method::POST, "/api/v1/devices")
        .json(&json!({ "url": long_url }))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_client_error(), "{}", response.status());
    let audit: Value = app.get_json("/api/v1/audit?per_page=1").await;
    let entry = &audit["entries"][0];
    assert_eq!(entry["action"], "device_add", "{entry}");
    let target = entry["target"].as_str().unwrap();
    assert!(
        target.chars().count() <= 256,
        "{} chars",
        target.chars().count()
    );
    assert!(target.ends_with('…'), "{target}");

    for n in 0..20 {
        assert_eq!(app.set_notifications(n % 2 == 0).await.status(), 200);
    }
    let app = app.restart().await;
    eventually(
        "the audit log to be pruned",
        Duration::from_secs(10),
        || async {
            let audit: Value = app.get_json("/api/v1/audit?per_page=1").await;
            match audit["total"].as_u64() {
                Some(total) if total <= 10 => Ok(()),
                other => Err(format!("{other:?} entries")),
            }
        },
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn every_answer_carries_a_content_security_policy_and_the_page_allows_its_loader() {
    let app = spawn_app().await;
    for path in ["/api/v1/health", "/api/v1/nothing-here", "/missing.js"] {
        let response = app.get(path).await;
        let policy = response.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        for directive in [
            "default-src 'self'",
            "script-src 'self' 'wasm-unsafe-eval'",
            "object-src 'none'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
            "img-src 'self' data:",
        ] {
            assert!(policy.contains(directive), "{path}: {policy}");
        }
    }

    let dist = &app.config.static_dir;
    std::fs::create_dir_all(dist).unwrap();
    let loader = "import init from '/frontend.js'; await init();";
    std::fs::write(
        dist.join("index.html"),
        format!("<html><head><script type=\"module\">{loader}</script></head></html>"),
    )
    .unwrap();
    let page = app.get("/").await;
    assert_eq!(page.status(), 200);
    let policy = page.headers()["content-security-policy"].to_str().unwrap();
    use base64::Engine;
    use sha2::Digest;
    let hash = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(loader));
    assert!(policy.contains(&format!("'sha256-{hash}'")), "{policy}");
}
