//! Managed devices against simulated ones on loopback (`Simulator`, what `sms device simulate`
//! runs): adding them, the errors, polling, and their figures going on across an SMS reboot.

use std::time::Duration;

use backend::tools::device_simulator::Simulator;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error};
use crate::install::{Flags, Vendor, import, wait_for_job};

async fn simulate(count: usize) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, Simulator::new("ips", count).router()).await });
    format!("http://{addr}")
}

async fn add(app: &TestApp, url: &str) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/devices"))
        .header("X-SMS-Client", "api/test")
        .json(&json!({ "url": url }))
        .send()
        .await
        .unwrap()
}

async fn devices(app: &TestApp) -> Vec<Value> {
    let response = app
        .client
        .get(app.url("/api/v1/devices"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn app(vendor: &Vendor) -> TestApp {
    let public = vendor.public_key().to_owned();
    let app = crate::helpers::spawn_app_with(move |config| {
        config.trust_keys = vec![public];
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

    let response = add(&app, &format!("{base}/v1/devices/ips-01/status")).await;
    assert_eq!(response.status(), 201);
    let device: Value = response.json().await.unwrap();
    assert_eq!(device["name"], "ips-01");
    assert_eq!(device["model"], "TippingPoint 8200TX");
    assert_eq!(device["state"], "reachable");
    assert_eq!(
        add(&app, &format!("{base}/v1/devices/ips-02/status"))
            .await
            .status(),
        201
    );

    assert_error(
        add(&app, &format!("{base}/v1/devices/ips-01/status")).await,
        409,
        "device_exists",
    )
    .await;
    assert_error(
        add(&app, "ftp://example/status").await,
        400,
        "invalid_device_url",
    )
    .await;
    assert_error(
        add(&app, &format!("{base}/v1/devices/ips-09/status")).await,
        422,
        "device_unreachable",
    )
    .await;
    assert_error(
        add(&app, "http://127.0.0.1:9/status").await,
        422,
        "device_unreachable",
    )
    .await;

    // The poll keeps the figures current: the counter rises.
    let first = devices(&app).await;
    assert_eq!(first.len(), 2);
    let packets = first[0]["packets_inspected"].as_u64().unwrap();
    tokio::time::sleep(Duration::from_millis(700)).await;
    let later = devices(&app).await;
    assert!(
        later[0]["packets_inspected"].as_u64().unwrap() > packets,
        "{later:?}"
    );
    assert!(later[0]["last_contact"].is_string());

    // Removing one stops managing it (audited); operators cannot add.
    let id = later[1]["id"].as_i64().unwrap();
    let response = app
        .client
        .delete(app.url(&format!("/api/v1/devices/{id}")))
        .header("X-SMS-Client", "api/test")
        .send()
        .await
        .unwrap();
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
        add(&app, &format!("{base}/v1/devices/ips-01/status"))
            .await
            .status(),
        201
    );
    let flags = Flags {
        reboot: true,
        ..Flags::default()
    };
    import(&app, &vendor.package(3, flags)).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let before = devices(&app).await[0].clone();

    let response = app
        .client
        .post(app.url("/api/v1/patches/6.4.0.3/install"))
        .header("X-SMS-Client", "api/test")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let job: Value = response.json().await.unwrap();
    let done = wait_for_job(&app.client, &app.url(""), job["id"].as_i64().unwrap()).await;
    assert_eq!(done["state"], "succeeded", "{done}");
    tokio::time::sleep(Duration::from_millis(600)).await;
    let after = devices(&app).await[0].clone();

    let uptime = |d: &Value| d["uptime_seconds"].as_u64().unwrap();
    let packets = |d: &Value| d["packets_inspected"].as_u64().unwrap();
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
