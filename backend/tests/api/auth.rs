//! Logging in and out, sessions, lockout, roles and the client header.

use std::time::{Duration, Instant};

use serde_json::Value;
use shared::Role;
use testkit::{
    ADMIN_PASSWORD, TestApp, assert_error, client_from, eventually, new_client, spawn_app,
    spawn_app_with,
};

#[tokio::test]
async fn admin_logs_in_and_the_session_says_who() {
    let app = spawn_app().await;

    let response = app.login("admin", ADMIN_PASSWORD).await;

    assert_eq!(response.status(), 200);
    let cookie = response
        .headers()
        .get("set-cookie")
        .expect("a session cookie")
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with("sms_session="), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Strict"), "{cookie}");
    assert!(
        !cookie.contains("Secure"),
        "plain HTTP must not get Secure: {cookie}"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["username"], "admin");
    assert_eq!(body["role"], "admin");

    let session: Value = app.session().await.json().await.unwrap();
    assert_eq!(session["username"], "admin");
}

#[tokio::test]
async fn the_cookie_is_secure_behind_a_trusted_tls_proxy_only() {
    async fn cookie_via_https_proxy(app: &testkit::TestApp) -> String {
        let response = new_client()
            .post(app.url("/api/v1/session"))
            .header("X-SMS-Client", "api/test")
            .header("X-Forwarded-Proto", "https")
            .json(&serde_json::json!({"username": "admin", "password": ADMIN_PASSWORD}))
            .send()
            .await
            .unwrap();
        response.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .to_owned()
    }
    let trusting = spawn_app_with(|config| {
        config.http.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await;
    let cookie = cookie_via_https_proxy(&trusting).await;
    assert!(cookie.contains("Secure"), "{cookie}");

    // From anyone else, X-Forwarded-Proto is ignored.
    let plain = spawn_app().await;
    let cookie = cookie_via_https_proxy(&plain).await;
    assert!(!cookie.contains("Secure"), "{cookie}");
}

#[tokio::test]
async fn a_wrong_password_gets_401_in_the_error_shape() {
    let app = spawn_app().await;
    let message = assert_error(
        app.login("admin", "not-the-password").await,
        401,
        "invalid_credentials",
    )
    .await;
    assert!(message.contains("Wrong username or password"), "{message}");
    assert_error(
        app.login("nobody", "whatever-password").await,
        401,
        "invalid_credentials",
    )
    .await;
    assert_error(app.session().await, 401, "not_logged_in").await;
}

#[tokio::test]
async fn logging_in_needs_the_client_header() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/api/v1/session"))
        .json(&serde_json::json!({"username": "admin", "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_error(response, 403, "client_header_missing").await;
}

#[tokio::test]
async fn logout_ends_the_session() {
    let app = spawn_app().await;
    app.login_admin().await;

    let response = app.logout().await;

    assert_eq!(response.status(), 204);
    assert_error(app.session().await, 401, "not_logged_in").await;
    assert_error(app.logout().await, 401, "not_logged_in").await;
}

#[tokio::test]
async fn sessions_survive_a_server_restart() {
    let app = spawn_app().await;
    app.login_admin().await;

    let app = app.restart().await;

    let response = app.session().await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["username"], "admin");
}

#[tokio::test]
async fn five_failed_logins_throttle_that_user_from_that_address_only() {
    let app = spawn_app().await;
    for attempt in 1..=5 {
        let response = app.login("admin", "wrong-password").await;
        assert_eq!(response.status(), 401, "attempt {attempt}");
    }

    // From this address, even the right password is refused now.
    let response = app.login("admin", ADMIN_PASSWORD).await;
    assert!(response.headers().contains_key("retry-after"));
    let message = assert_error(response, 429, "too_many_login_attempts").await;
    assert!(
        message.contains("minutes") || message.contains("seconds"),
        "{message}"
    );

    // From another address the admin logs in, and other users from this one too.
    admin_logs_in_from_another_address(&app).await;
    app.add_user("bob", Role::Operator, "bob-password").await;
    assert_eq!(app.login("bob", "bob-password").await.status(), 200);
}

/// The admin logs in with the right password from 127.0.0.2 (the throttle held back another).
async fn admin_logs_in_from_another_address(app: &TestApp) {
    let elsewhere = client_from([127, 0, 0, 2]);
    assert_eq!(
        app.login_with(&elsewhere, "admin", ADMIN_PASSWORD)
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn wrong_current_passwords_are_throttled_with_the_failed_logins() {
    let app = spawn_app().await;
    app.login_admin().await;
    let change = |current: &str| {
        app.request(reqwest::Method::PUT, "/api/v1/session/password")
            .json(&serde_json::json!({
                "current_password": current,
                "new_password": "a-new-password",
            }))
            .send()
    };
    for attempt in 1..=5 {
        let response = change("not-the-password").await.unwrap();
        assert_eq!(response.status(), 403, "attempt {attempt}");
    }

    // The right current password is refused from this address now, and so is a login.
    let response = change(ADMIN_PASSWORD).await.unwrap();
    assert!(response.headers().contains_key("retry-after"));
    let message = assert_error(response, 429, "too_many_login_attempts").await;
    assert!(message.contains("password changes"), "{message}");
    assert_eq!(app.login("admin", ADMIN_PASSWORD).await.status(), 429);

    // The password did not change: the admin logs in with it from elsewhere.
    admin_logs_in_from_another_address(&app).await;
}

#[tokio::test]
async fn the_lockout_ends_after_its_time() {
    let app = spawn_app_with(|config| config.auth.lockout = Duration::from_secs(1)).await;
    for _ in 0..4 {
        app.login("admin", "wrong-password").await;
    }
    let locking = Instant::now();
    app.login("admin", "wrong-password").await;
    assert_eq!(app.login("admin", ADMIN_PASSWORD).await.status(), 429);

    // Refused logins do not extend the lockout: keep trying until one is let in.
    eventually(
        "the admin to log in again",
        Duration::from_secs(30),
        || async {
            match app.login("admin", ADMIN_PASSWORD).await.status().as_u16() {
                200 => Ok(()),
                status => Err(format!("status {status}")),
            }
        },
    )
    .await
    .unwrap();
    assert!(
        locking.elapsed() >= Duration::from_secs(1),
        "the lockout lasted its second: {:?}",
        locking.elapsed()
    );
}

#[tokio::test]
async fn a_successful_login_resets_the_failure_count() {
    let app = spawn_app().await;
    for _ in 0..4 {
        app.login("admin", "wrong-password").await;
    }
    assert_eq!(app.login("admin", ADMIN_PASSWORD).await.status(), 200);
    for _ in 0..4 {
        app.login("admin", "wrong-password").await;
    }
    assert_eq!(app.login("admin", ADMIN_PASSWORD).await.status(), 200);
}

#[tokio::test]
async fn state_changes_need_a_session_then_the_admin_role_then_the_header() {
    let app = spawn_app().await;

    // Anonymous: 401.
    assert_error(app.set_notifications(false).await, 401, "not_logged_in").await;

    // Operator: 403.
    app.login_operator().await;
    let message = assert_error(app.set_notifications(false).await, 403, "admin_required").await;
    assert!(message.contains("admin"), "{message}");

    // Admin without the header: 403.
    let admin = new_client();
    assert_eq!(
        app.login_with(&admin, "admin", ADMIN_PASSWORD)
            .await
            .status(),
        200
    );
    let response = admin
        .put(app.url("/api/v1/settings/notifications"))
        .json(&serde_json::json!({"enabled": false}))
        .send()
        .await
        .unwrap();
    assert_error(response, 403, "client_header_missing").await;

    // Admin with the header: done.
    let response = admin
        .put(app.url("/api/v1/settings/notifications"))
        .header("X-SMS-Client", "api/test")
        .json(&serde_json::json!({"enabled": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["notifications_enabled"], false);
}

#[tokio::test]
async fn operators_can_read() {
    let app = spawn_app().await;
    app.login_operator().await;
    assert_eq!(app.server_info().await.status(), 200);
    assert_eq!(app.settings().await.status(), 200);
    assert_eq!(app.audit("").await.status(), 200);
    let session: Value = app.session().await.json().await.unwrap();
    assert_eq!(session["role"], "operator");
}

#[tokio::test]
async fn the_audit_log_records_logins_logouts_and_changes_newest_first() {
    let app = spawn_app().await;
    app.login("admin", "wrong-password").await;
    app.login_admin().await;
    app.set_notifications(false).await;
    app.logout().await;
    app.login_admin().await;

    let page: Value = app.audit("?per_page=3").await.json().await.unwrap();

    assert_eq!(page["per_page"], 3);
    assert_eq!(page["page"], 1);
    let total = page["total"].as_u64().unwrap();
    assert!(total >= 5, "{page}");
    let entries = page["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 3);
    let actions: Vec<&str> = entries
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["login", "logout", "setting_change"]);
    assert_eq!(entries[0]["source"], "127.0.0.1");
    assert_eq!(entries[0]["outcome"], "success");
    assert_eq!(entries[2]["target"], "notifications_enabled");
    assert_eq!(entries[2]["details"], "true -> false");

    let older: Value = app.audit("?per_page=3&page=2").await.json().await.unwrap();
    let older = older["entries"].as_array().unwrap();
    assert_eq!(older[0]["action"], "login");
    assert_eq!(older[0]["outcome"], "success");
    assert_eq!(older[1]["action"], "login");
    assert_eq!(older[1]["outcome"], "failure");
    assert_eq!(older[1]["actor"], "admin");
    assert_eq!(older[1]["details"], "wrong password");
}

#[tokio::test]
async fn notifications_are_enabled_until_an_admin_disables_them() {
    let app = spawn_app().await;
    app.login_admin().await;
    let settings: Value = app.settings().await.json().await.unwrap();
    assert_eq!(settings["notifications_enabled"], true);

    app.set_notifications(false).await;
    let app = app.restart().await;

    let settings: Value = app.settings().await.json().await.unwrap();
    assert_eq!(settings["notifications_enabled"], false);
}

/// The one-time password `sms serve` printed on its first start (the line after "First start").
fn one_time_password(lines: &[String]) -> String {
    let at = lines
        .iter()
        .position(|line| line.contains("First start: created the user `admin` with the password"))
        .unwrap_or_else(|| panic!("no first-start password in {lines:?}"));
    lines[at + 1..]
        .iter()
        .map(|line| line.trim())
        .find(|line| !line.is_empty())
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn the_first_admin_with_a_made_up_password_must_choose_a_new_one_first() {
    let dir = tempfile::tempdir().unwrap();
    let served = testkit::process::serve(
        std::path::Path::new(env!("CARGO_BIN_EXE_sms")),
        &dir.path().join("data"),
        &[],
        &[],
    );
    let printed = one_time_password(&served.lines);
    backend::net::install_tls_provider();
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let url = |path: &str| format!("{}{path}", served.url);
    let login = |password: String| {
        client
            .post(url("/api/v1/session"))
            .header("X-SMS-Client", "api/test")
            .json(&serde_json::json!({"username": "admin", "password": password}))
            .send()
    };
    let change = |current: &str, new: &str| {
        client
            .put(url("/api/v1/session/password"))
            .header("X-SMS-Client", "api/test")
            .json(&serde_json::json!({"current_password": current, "new_password": new}))
            .send()
    };

    let session: Value = login(printed.clone()).await.unwrap().json().await.unwrap();
    assert_eq!(session["must_change_password"], true, "{session}");

    assert_error(
        change("not-the-password", "a-new-password").await.unwrap(),
        403,
        "wrong_password",
    )
    .await;
    assert_error(
        change(&printed, &printed).await.unwrap(),
        400,
        "same_password",
    )
    .await;
    assert_error(
        change(&printed, "short").await.unwrap(),
        400,
        "invalid_input",
    )
    .await;
    let changed = change(&printed, "a-new-password").await.unwrap();
    assert_eq!(changed.status(), 200);
    let changed: Value = changed.json().await.unwrap();
    assert_eq!(changed["must_change_password"], false, "{changed}");

    // The session goes on, and says so; the new password is the one that logs in now.
    let session: Value = client
        .get(url("/api/v1/session"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(session["must_change_password"], false, "{session}");
    assert_eq!(login(printed).await.unwrap().status(), 401);
    let again: Value = login("a-new-password".into())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(again["must_change_password"], false, "{again}");
}

#[tokio::test]
async fn a_first_password_given_at_start_need_not_be_changed() {
    let app = spawn_app().await;
    let session: Value = app
        .login("admin", ADMIN_PASSWORD)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(session["must_change_password"], false, "{session}");
}
