//! The client version handshake: web clients of another version get 426 with both versions,
//! scripts and the CLI do not, health, session and server info always answer, and the page
//! carries the version of the client it loads; across an install that updates the client and
//! a rollback.

use std::time::Duration;

use serde_json::Value;
use testkit::{TestApp, Vendor, assert_error};

use crate::install::app;

async fn get_as(app: &TestApp, path: &str, client: Option<&str>) -> reqwest::Response {
    let mut request = app.client.get(app.url(path));
    if let Some(client) = client {
        request = request.header("X-SMS-Client", client);
    }
    request.send().await.unwrap()
}

async fn refused(response: reqwest::Response, code: &str, required: &str, current: &str) {
    assert_eq!(response.status(), 426);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], code, "{body}");
    assert_eq!(body["required"], required, "{body}");
    assert_eq!(body["current"], current, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains(required) && message.contains(current),
        "the message names both versions: {message}"
    );
}

/// The version in the served page's `<meta name="sms-client-version">`.
async fn served_version(app: &TestApp) -> String {
    let page = app.get("/admin/general").await.text().await.unwrap();
    let marker = "<meta name=\"sms-client-version\" content=\"";
    let start = page
        .find(marker)
        .expect("the page carries the client version")
        + marker.len();
    page[start..].split('"').next().unwrap().to_owned()
}

/// Runs the job `started` answers for, asserting it succeeds.
async fn succeeds(app: &TestApp, started: reqwest::Response) {
    let done = app.follow_job(started).await;
    assert_eq!(done["state"], "succeeded", "{done}");
}

#[tokio::test]
async fn web_clients_are_held_to_the_servers_client_version() {
    let vendor = Vendor::new();
    let app = app(&vendor).await;
    std::fs::create_dir_all(&app.config.static_dir).unwrap();
    std::fs::write(
        app.config.static_dir.join("index.html"),
        "<html><head><title>SMS</title></head><body></body></html>",
    )
    .unwrap();
    assert_eq!(served_version(&app).await, "6.4.0.0");

    assert_eq!(
        get_as(&app, "/api/v1/patches", Some("web/6.4.0.0"))
            .await
            .status(),
        200
    );
    assert_eq!(
        get_as(&app, "/api/v1/patches", Some("api/test"))
            .await
            .status(),
        200
    );
    assert_eq!(get_as(&app, "/api/v1/patches", None).await.status(), 200);
    refused(
        get_as(&app, "/api/v1/patches", Some("web/6.4.0.3")).await,
        "client_switch_required",
        "6.4.0.0",
        "6.4.0.3",
    )
    .await;
    // A web client that does not say its version is an old one.
    refused(
        get_as(&app, "/api/v1/patches", Some("web")).await,
        "client_upgrade_required",
        "6.4.0.0",
        "unknown",
    )
    .await;

    // A patch that updates the client: from then on the server requires (and serves) it.
    app.import_file(&vendor.package(3).updates_client().write())
        .await;
    succeeds(&app, app.install("6.4.0.3").await).await;
    assert_eq!(served_version(&app).await, "6.4.0.3");
    refused(
        get_as(&app, "/api/v1/patches", Some("web/6.4.0.0")).await,
        "client_upgrade_required",
        "6.4.0.3",
        "6.4.0.0",
    )
    .await;
    // State changes too, and the event stream, which takes the version in its query.
    let response = app
        .client
        .post(app.url("/api/v1/rollback"))
        .header("X-SMS-Client", "web/6.4.0.0")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 426);
    let response = app
        .client
        .get(app.url("/api/v1/events?client=web%2F6.4.0.0"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 426);
    let events = tokio::time::timeout(
        Duration::from_secs(5),
        app.client
            .get(app.url("/api/v1/events?client=web%2F6.4.0.3"))
            .send(),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(events.status(), 200);
    drop(events);
    // Health, session and server info answer whatever the version.
    for path in ["/api/v1/health", "/api/v1/session", "/api/v1/server"] {
        assert_eq!(
            get_as(&app, path, Some("web/6.4.0.0")).await.status(),
            200,
            "{path}"
        );
    }
    assert_eq!(
        get_as(&app, "/api/v1/patches", Some("web/6.4.0.3"))
            .await
            .status(),
        200
    );
    assert_eq!(
        get_as(&app, "/api/v1/patches", Some("api/6.4.0"))
            .await
            .status(),
        200
    );

    // A patch that does not update the client keeps the client of Patch 3 (cumulative).
    app.import_file(&vendor.package(4).write()).await;
    succeeds(&app, app.install("6.4.0.4").await).await;
    assert_eq!(served_version(&app).await, "6.4.0.3");
    assert_eq!(
        get_as(&app, "/api/v1/patches", Some("web/6.4.0.3"))
            .await
            .status(),
        200
    );

    // After a rollback the open client is newer than the server: it must switch.
    succeeds(&app, app.rollback().await).await;
    assert_eq!(served_version(&app).await, "6.4.0.0");
    refused(
        get_as(&app, "/api/v1/patches", Some("web/6.4.0.3")).await,
        "client_switch_required",
        "6.4.0.0",
        "6.4.0.3",
    )
    .await;
    assert_error(
        get_as(&app, "/api/v1/audit", Some("web/6.4.0.5")).await,
        426,
        "client_switch_required",
    )
    .await;
}
