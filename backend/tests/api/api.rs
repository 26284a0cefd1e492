//! The API's shape: health, server info, OpenAPI, errors for unknown paths, methods and bodies.

use serde_json::Value;

use testkit::{assert_error, spawn_app, spawn_app_on_postgres, spawn_app_with};

#[tokio::test]
async fn health_answers_200_json_without_login() {
    let app = spawn_app().await;

    let response = app.health().await;

    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["product_version"], "6.4.0");
    assert_eq!(body["patch_level"], 0);
}

#[tokio::test]
async fn server_info_reports_version_build_level_and_node() {
    let app = spawn_app().await;
    app.login_admin().await;

    let response = app.server_info().await;

    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["product_version"], "6.4.0");
    assert_eq!(body["build"], "6.4.0.9001");
    assert_eq!(body["patch_level"], 0);
    assert_eq!(body["node_name"], "sms-test");
    assert_eq!(body["state"], "running");
    assert_eq!(body["installed_by"], "system");
}

#[tokio::test]
async fn server_info_needs_a_login() {
    let app = spawn_app().await;
    assert_error(app.server_info().await, 401, "not_logged_in").await;
}

#[tokio::test]
async fn the_first_start_records_the_configured_version() {
    let app = spawn_app_with(|config| {
        config.initial.product_version = "6.5.1".parse().unwrap();
        config.initial.build = "6.5.1.120".parse().unwrap();
    })
    .await;

    let body: Value = app.health().await.json().await.unwrap();

    assert_eq!(body["product_version"], "6.5.1");
}

#[tokio::test]
async fn unknown_api_paths_get_404_in_the_error_shape() {
    let app = spawn_app().await;
    for path in [
        "/api/v1/nothing-here",
        "/api/v2/health",
        "/api",
        "/api/v1/health/extra",
    ] {
        let response = app.get(path).await;
        let message = assert_error(response, 404, "not_found").await;
        assert!(message.contains("openapi.json"), "{message}");
    }
}

#[tokio::test]
async fn wrong_methods_get_405_in_the_error_shape() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/api/v1/health"))
        .header("X-SMS-Client", "api/test")
        .send()
        .await
        .unwrap();
    assert_error(response, 405, "method_not_allowed").await;
}

#[tokio::test]
async fn rejected_json_bodies_get_the_error_shape() {
    let app = spawn_app().await;
    let url = app.url("/api/v1/session");

    let syntax = app
        .client
        .post(&url)
        .header("X-SMS-Client", "api/test")
        .header("Content-Type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_error(syntax, 400, "invalid_json").await;

    let fields = app
        .client
        .post(&url)
        .header("X-SMS-Client", "api/test")
        .header("Content-Type", "application/json")
        .body(r#"{"username": "admin"}"#)
        .send()
        .await
        .unwrap();
    assert_error(fields, 400, "invalid_body").await;

    let media = app
        .client
        .post(&url)
        .header("X-SMS-Client", "api/test")
        .body(r#"{"username": "admin", "password": "x"}"#)
        .send()
        .await
        .unwrap();
    assert_error(media, 415, "unsupported_media_type").await;
}

#[tokio::test]
async fn bad_query_strings_get_400_in_the_error_shape() {
    let app = spawn_app().await;
    app.login_admin().await;
    assert_error(app.audit("?page=abc").await, 400, "invalid_query").await;
    assert_error(app.audit("?page=0").await, 400, "invalid_query").await;
}

#[tokio::test]
async fn the_openapi_document_lists_every_route() {
    let app = spawn_app().await;

    let doc: Value = app.openapi().await.json().await.unwrap();

    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let expected = [
        ("/api/v1/health", "get"),
        ("/api/v1/session", "get"),
        ("/api/v1/session", "post"),
        ("/api/v1/session", "delete"),
        ("/api/v1/session/password", "put"),
        ("/api/v1/server", "get"),
        ("/api/v1/audit", "get"),
        ("/api/v1/settings", "get"),
        ("/api/v1/settings/notifications", "put"),
        ("/api/v1/tls", "get"),
        ("/api/v1/tls", "put"),
        ("/api/v1/patches/import", "post"),
        ("/api/v1/patches", "get"),
        ("/api/v1/patches/history", "get"),
        ("/api/v1/patches/{id}/download", "post"),
        ("/api/v1/patches/{id}/install", "post"),
        ("/api/v1/rollback", "post"),
        ("/api/v1/patches/{id}", "get"),
        ("/api/v1/tmc", "get"),
        ("/api/v1/tmc/check", "post"),
        ("/api/v1/jobs/{id}", "get"),
        ("/api/v1/jobs/{id}/cancel", "post"),
        ("/api/v1/events", "get"),
        ("/api/v1/devices", "get"),
        ("/api/v1/devices", "post"),
        ("/api/v1/devices/{id}", "delete"),
        ("/api/v1/cluster", "get"),
        ("/api/v1/cluster/{action}", "post"),
        ("/api/v1/maintenance", "get"),
        ("/api/v1/maintenance", "put"),
        ("/api/v1/notifications/targets", "get"),
        ("/api/v1/notifications/targets", "post"),
        ("/api/v1/notifications/targets/{id}", "delete"),
        ("/api/v1/notifications/targets/{id}/test", "post"),
        ("/api/v1/backups", "get"),
        ("/api/v1/backups", "post"),
        ("/api/v1/backups/{backup}", "get"),
        ("/api/v1/backups/{backup}", "delete"),
        ("/api/v1/backups/{backup}/download", "get"),
        ("/api/v1/backups/{backup}/restore", "post"),
        ("/api/v1/notifications/deliveries", "get"),
    ];
    for (path, method) in expected {
        assert!(
            doc["paths"][path][method].is_object(),
            "{method} {path} is missing from the OpenAPI document"
        );
    }
    let documented: usize = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|item| item.as_object().unwrap().len())
        .sum();
    assert_eq!(
        documented,
        expected.len(),
        "a route is documented but not tested here"
    );
    assert!(doc["components"]["schemas"]["ErrorResponse"].is_object());
}

#[tokio::test]
async fn the_whole_api_runs_on_postgres() {
    let Some(app) = spawn_app_on_postgres().await else {
        return;
    };
    app.login_admin().await;

    let info: Value = app.server_info().await.json().await.unwrap();
    assert_eq!(info["product_version"], "6.4.0");
    assert_eq!(app.set_notifications(false).await.status(), 200);
    let page: Value = app.audit("").await.json().await.unwrap();
    assert_eq!(page["entries"][0]["action"], "setting_change");
}

#[tokio::test]
async fn every_answer_carries_the_hardening_headers_and_api_answers_are_not_stored() {
    let app = spawn_app().await;
    for path in ["/api/v1/health", "/api/v1/no-such-thing", "/api/v1/server"] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        let headers = response.headers();
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["referrer-policy"], "no-referrer", "{path}");
        assert_eq!(headers["cache-control"], "no-store", "{path}");
    }
    // The web client's files keep their own caching, with the same hardening.
    let page = app
        .client
        .get(app.url("/admin/general"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.headers()["x-content-type-options"], "nosniff");
    assert_eq!(page.headers()["referrer-policy"], "no-referrer");
    assert!(
        page.headers()
            .get("cache-control")
            .is_none_or(|value| value != "no-store"),
        "the web client's answers are not the API's"
    );
}
