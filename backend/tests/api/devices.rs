//! Managed devices against simulated ones on loopback (`Simulator`, what `sms device simulate`
//! runs): adding them, the errors, polling, and their figures going on across an SMS reboot.

use std::time::Duration;

use backend::tools::device_simulator::Simulator;
use serde_json::Value;
use testkit::{TestApp, Vendor, assert_error, eventually, spawn_app_with};

async fn simulate(count: usize) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, Simulator::new("ips", count).router()).await });
    format!("http://{addr}")
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
        config.device_poll_interval = Duration::from_millis(200);
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
