//! Managed devices against simulated ones on loopback (`Simulator`, what `sms device simulate`
//! runs): adding them, the errors, polling, and their figures going on across an SMS reboot;
//! and devices that misbehave (redirects, oversize or endless answers, silence) or whose
//! address is one the server never connects to.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use backend::cli::args::{ServeArgs, StorageArgs};
use backend::config::Config;
use backend::tools::device_simulator::Simulator;
use serde_json::Value;
use testkit::{TestApp, Vendor, assert_error, eventually, spawn_app, spawn_app_with};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn simulate(count: usize) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, Simulator::new("ips", count).router()).await });
    format!("http://{addr}")
}

/// Serves `router` on a loopback port; its base URL and the number of requests it got.
async fn counted(router: Router) -> (String, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let router = router.layer(axum::middleware::from_fn(
        move |request: axum::extract::Request, next: axum::middleware::Next| {
            counter.fetch_add(1, Ordering::SeqCst);
            next.run(request)
        },
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    (format!("http://{addr}"), hits)
}

/// A device on a loopback port that answers every request with the raw bytes `answer` (none:
/// it accepts and never says a word), then keeps the connection open in silence.
async fn raw_device(answer: Vec<u8>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let answer = Arc::new(answer);
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let answer = answer.clone();
            tokio::spawn(async move {
                read_request_head(&mut stream).await;
                let _ = stream.write_all(&answer).await;
                std::future::pending::<()>().await;
                drop(stream);
            });
        }
    });
    format!("http://{addr}")
}

/// A device on a loopback port whose status answer never ends: chunk after chunk of JSON.
async fn endless_device() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                read_request_head(&mut stream).await;
                let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                            transfer-encoding: chunked\r\n\r\n2\r\n[\"\r\n";
                if stream.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                let chunk = format!("2000\r\n{}\r\n", "a".repeat(0x2000));
                while stream.write_all(chunk.as_bytes()).await.is_ok() {}
            });
        }
    });
    format!("http://{addr}")
}

/// Reads up to the end of an HTTP request's head (or of the connection).
async fn read_request_head(stream: &mut tokio::net::TcpStream) {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
}

/// A server started with the configuration file `toml` (and its data in a fresh folder),
/// admin logged in.
async fn app_with_config_file(toml: &str) -> TestApp {
    let data_dir = tempfile::tempdir().unwrap();
    let file = data_dir.path().join("sms.toml");
    std::fs::write(&file, toml).unwrap();
    let config = Config::load(&ServeArgs {
        storage: StorageArgs {
            config: Some(file),
            data_dir: Some(data_dir.path().to_owned()),
            ..StorageArgs::default()
        },
        listen: Some("127.0.0.1:0".parse().unwrap()),
        static_dir: Some(data_dir.path().join("dist")),
        node_name: Some("sms-test".into()),
        ..ServeArgs::default()
    })
    .unwrap();
    let app = TestApp::start(config, data_dir, None).await.unwrap();
    app.login_admin().await;
    app
}

async fn devices(app: &TestApp) -> Vec<Value> {
    let response = app.devices().await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// The managed device `name`, as the list shows it now.
async fn device(app: &TestApp, name: &str) -> Result<Value, String> {
    let all = devices(app).await;
    all.iter()
        .find(|d| d["name"] == name)
        .cloned()
        .ok_or_else(|| format!("no {name} in {all:?}"))
}

/// How long a test waits for the poller (every 200 ms) to have done what it checks.
const POLLED: Duration = Duration::from_secs(20);

async fn app(vendor: &Vendor) -> TestApp {
    let app = spawn_app_with(|config| {
        vendor.trust(config);
        config.system.reboot_window = Duration::from_millis(1500);
        config.devices.poll_interval = Duration::from_millis(200);
    })
    .await;
    app.login_admin().await;
    app
}

#[tokio::test]
async fn devices_are_added_by_their_status_address_and_polled() {
    let vendor = Vendor::new();
    let app = app(&vendor).await;
    let base = simulate(2).await;

    let response = app
        .add_device(&format!("{base}/v1/devices/ips-01/status"))
        .await;
    assert_eq!(response.status(), 201);
    let added: Value = response.json().await.unwrap();
    assert_eq!(added["name"], "ips-01");
    assert_eq!(added["model"], "TippingPoint 8200TX");
    assert_eq!(added["state"], "reachable");
    assert_eq!(
        app.add_device(&format!("{base}/v1/devices/ips-02/status"))
            .await
            .status(),
        201
    );

    assert_error(
        app.add_device(&format!("{base}/v1/devices/ips-01/status"))
            .await,
        409,
        "device_exists",
    )
    .await;
    assert_error(
        app.add_device("ftp://example/status").await,
        400,
        "invalid_device_url",
    )
    .await;
    assert_error(
        app.add_device(&format!("{base}/v1/devices/ips-09/status"))
            .await,
        422,
        "device_unreachable",
    )
    .await;
    assert_error(
        app.add_device("http://127.0.0.1:9/status").await,
        422,
        "device_unreachable",
    )
    .await;

    // The poll keeps the figures current: the counter rises.
    let first = devices(&app).await;
    assert_eq!(first.len(), 2);
    let name = first[0]["name"].as_str().unwrap().to_owned();
    let packets = first[0]["packets_inspected"].as_u64().unwrap();
    let polled = eventually(
        &format!("{name}'s packet counter to rise above {packets}"),
        POLLED,
        || async {
            let now = device(&app, &name).await?;
            match now["packets_inspected"].as_u64() {
                Some(later) if later > packets => Ok(now),
                _ => Err(format!("{now}")),
            }
        },
    )
    .await
    .unwrap();
    assert!(polled["last_contact"].is_string(), "{polled}");
    let later = devices(&app).await;

    // Removing one stops managing it (audited); operators cannot add.
    let id = later[1]["id"].as_i64().unwrap();
    let response = app.remove_device(id).await;
    assert_eq!(response.status(), 204);
    assert_eq!(devices(&app).await.len(), 1);
    let audit: Value = app.audit("").await.json().await.unwrap();
    let actions: Vec<&str> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.contains(&"device_add") && actions.contains(&"device_remove"),
        "{actions:?}"
    );
}

#[tokio::test]
async fn devices_run_on_while_the_sms_reboots() {
    let vendor = Vendor::new();
    let app = app(&vendor).await;
    let base = simulate(1).await;
    assert_eq!(
        app.add_device(&format!("{base}/v1/devices/ips-01/status"))
            .await
            .status(),
        201
    );
    app.import_file(&vendor.package(3).reboot().write()).await;
    let uptime = |d: &Value| d["uptime_seconds"].as_u64().unwrap();
    let packets = |d: &Value| d["packets_inspected"].as_u64().unwrap();
    // Figures the poller brought, from a device up for a second at least.
    let before = eventually("ips-01 to be polled after a second up", POLLED, || async {
        let now = device(&app, "ips-01").await?;
        if uptime(&now) >= 1 {
            Ok(now)
        } else {
            Err(format!("{now}"))
        }
    })
    .await
    .unwrap();

    let done = app.follow_job(app.install("6.4.0.3").await).await;
    assert_eq!(done["state"], "succeeded", "{done}");
    // Figures from a poll after the reboot.
    let finished: chrono::DateTime<chrono::Utc> =
        done["finished_at"].as_str().unwrap().parse().unwrap();
    let after = eventually("ips-01 to be polled after the reboot", POLLED, || async {
        let now = device(&app, "ips-01").await?;
        let contact = now["last_contact"]
            .as_str()
            .and_then(|t| t.parse::<chrono::DateTime<chrono::Utc>>().ok());
        match contact {
            Some(contact) if contact > finished => Ok(now),
            _ => Err(format!("{now}")),
        }
    })
    .await
    .unwrap();

    assert!(
        uptime(&after) > uptime(&before),
        "the device's uptime spans the SMS's downtime: {before} then {after}"
    );
    assert!(
        packets(&after) > packets(&before),
        "the counter never went back"
    );
    assert_eq!(after["state"], "reachable");
}

#[tokio::test]
async fn a_device_that_redirects_is_not_followed() {
    let app = spawn_app().await;
    app.login_admin().await;
    let (target, target_hits) = counted(Simulator::new("ips", 1).router()).await;
    let location = format!("{target}/v1/devices/ips-01/status");
    let (redirector, redirector_hits) = counted(Router::new().fallback(move || {
        let location = location.clone();
        async move {
            (
                axum::http::StatusCode::FOUND,
                [(axum::http::header::LOCATION, location)],
            )
        }
    }))
    .await;

    let message = assert_error(
        app.add_device(&format!("{redirector}/status")).await,
        422,
        "device_unreachable",
    )
    .await;

    assert!(message.contains("redirect"), "{message}");
    assert_eq!(redirector_hits.load(Ordering::SeqCst), 1);
    assert_eq!(
        target_hits.load(Ordering::SeqCst),
        0,
        "the redirect was followed"
    );
    assert!(devices(&app).await.is_empty());
}

#[tokio::test]
async fn devices_with_oversize_endless_or_unreadable_answers_are_unreachable() {
    let app = spawn_app().await;
    app.login_admin().await;
    // Says it sends 1 GiB, sends the start of a status, then nothing more.
    let declared = raw_device(
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1073741824\r\n\r\n{\"name\":"
            .to_vec(),
    )
    .await;
    let endless = endless_device().await;
    let not_json =
        raw_device(b"HTTP/1.1 200 OK\r\ncontent-length: 14\r\n\r\n<html></html>\n".to_vec()).await;

    for base in [&declared, &endless] {
        let started = Instant::now();
        let message = assert_error(
            app.add_device(&format!("{base}/status")).await,
            422,
            "device_unreachable",
        )
        .await;
        assert!(message.contains("too large"), "{base}: {message}");
        assert!(started.elapsed() < Duration::from_secs(3), "{base}");
    }
    let message = assert_error(
        app.add_device(&format!("{not_json}/status")).await,
        422,
        "device_unreachable",
    )
    .await;
    assert!(message.contains("not a device status"), "{message}");
    assert!(devices(&app).await.is_empty());
}

#[tokio::test]
async fn devices_at_link_local_unspecified_multicast_or_broadcast_addresses_are_refused() {
    let app = spawn_app().await;
    app.login_admin().await;

    for url in [
        "http://169.254.169.254/latest/meta-data/",
        "http://0.0.0.0:1/status",
        "http://[::]:1/status",
        "http://[fe80::1]/status",
        "http://[ff02::1]/status",
        "http://224.0.0.1/status",
        "http://255.255.255.255/status",
        "http://[::ffff:169.254.169.254]/status",
        "http://[::ffff:0.0.0.0]:1/status",
    ] {
        let started = Instant::now();
        let message = assert_error(app.add_device(url).await, 400, "device_address_refused").await;
        assert!(message.contains("refused"), "{url}: {message}");
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{url} was refused without a connection attempt"
        );
    }
    let message = assert_error(
        app.add_device("http://169.254.169.254/").await,
        400,
        "device_address_refused",
    )
    .await;
    assert!(message.contains("link-local"), "{message}");
    assert!(devices(&app).await.is_empty());

    // Loopback stays allowed, by address and by host name (resolved, then checked).
    let base = simulate(1).await;
    let by_name = base.replace("127.0.0.1", "localhost");
    let response = app
        .add_device(&format!("{by_name}/v1/devices/ips-01/status"))
        .await;
    assert_eq!(response.status(), 201);
}

#[tokio::test]
async fn the_configuration_file_limits_the_number_of_devices() {
    let app = app_with_config_file("[devices]\nmax_devices = 2\n").await;
    let base = simulate(2).await;
    for name in ["ips-01", "ips-02"] {
        let response = app
            .add_device(&format!("{base}/v1/devices/{name}/status"))
            .await;
        assert_eq!(response.status(), 201, "{name}");
    }
    let (third, third_hits) = counted(Simulator::new("extra", 1).router()).await;
    let third = format!("{third}/v1/devices/extra-01/status");

    let message = assert_error(app.add_device(&third).await, 409, "device_limit_reached").await;

    assert!(message.contains("max_devices"), "{message}");
    assert_eq!(
        third_hits.load(Ordering::SeqCst),
        0,
        "a device is contacted although none can be added"
    );
    let managed = devices(&app).await;
    assert_eq!(managed.len(), 2);
    // Removing one makes room.
    let id = managed[0]["id"].as_i64().unwrap();
    assert_eq!(app.remove_device(id).await.status(), 204);
    assert_eq!(app.add_device(&third).await.status(), 201);
}

#[tokio::test]
async fn a_device_that_never_answers_is_unreachable_within_the_timeout() {
    let app = spawn_app().await;
    app.login_admin().await;
    // Accepts and never says a word; answers its head and stops partway through the body.
    let silent = raw_device(Vec::new()).await;
    let stalled = raw_device(
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 200\r\n\r\n{\"name\":"
            .to_vec(),
    )
    .await;

    for base in [&silent, &stalled] {
        let started = Instant::now();
        let message = assert_error(
            app.add_device(&format!("{base}/status")).await,
            422,
            "device_unreachable",
        )
        .await;
        let took = started.elapsed();
        assert!(message.contains("within 3 s"), "{base}: {message}");
        assert!(took < Duration::from_secs(5), "{base}: {took:?}");
    }
    assert!(devices(&app).await.is_empty());
}
