//! The SPA in headless Chromium against the real server.

use e2e::{ADMIN_PASSWORD, Browser, action, check, find};
use shared::Role;

#[tokio::test]
async fn a_wrong_password_shows_an_error() -> anyhow::Result<()> {
    let browser = Browser::start().await?;

    action::open(&browser, "/login").await?;
    action::submit_login(&browser, "admin", "not-the-password").await?;

    check::text_contains(&browser, find::LOGIN_ERROR, "Wrong username or password").await?;
    check::at_path(&browser, "/login").await?;
    browser.close().await
}

#[tokio::test]
async fn the_admin_logs_in_and_sees_the_version_and_patch_level() -> anyhow::Result<()> {
    let browser = Browser::start().await?;

    action::login(&browser, "admin", ADMIN_PASSWORD).await?;

    check::at_path(&browser, "/admin/general").await?;
    check::text_contains(&browser, find::SERVER_VERSION, "6.4.0").await?;
    check::text_is(&browser, find::SERVER_PATCH_LEVEL, "no patch").await?;
    check::text_contains(&browser, find::CURRENT_USER, "admin").await?;
    check::text_is(&browser, find::NOTIFICATIONS_STATUS, "Enabled").await?;
    check::visible(
        &browser,
        find::NOTIFICATIONS_TOGGLE,
        "the notifications toggle",
    )
    .await?;
    browser.close().await
}

#[tokio::test]
async fn an_operator_does_not_see_admin_actions() -> anyhow::Result<()> {
    let browser = Browser::start().await?;
    browser
        .add_user("olga", Role::Operator, "olga-password")
        .await?;

    action::login(&browser, "olga", "olga-password").await?;

    check::text_contains(&browser, find::CURRENT_USER, "operator").await?;
    check::text_is(&browser, find::NOTIFICATIONS_STATUS, "Enabled").await?;
    check::absent(
        &browser,
        find::NOTIFICATIONS_TOGGLE,
        find::NOTIFICATIONS_STATUS,
        "the notifications toggle",
    )
    .await?;
    browser.close().await
}

#[tokio::test]
async fn the_admin_toggles_patch_notifications_and_it_sticks() -> anyhow::Result<()> {
    let browser = Browser::start().await?;
    action::login(&browser, "admin", ADMIN_PASSWORD).await?;
    check::text_is(&browser, find::NOTIFICATIONS_STATUS, "Enabled").await?;

    action::click(
        &browser,
        find::NOTIFICATIONS_TOGGLE,
        "the notifications toggle",
    )
    .await?;
    check::text_is(&browser, find::NOTIFICATIONS_STATUS, "Disabled").await?;
    action::reload(&browser).await?;

    check::text_is(&browser, find::NOTIFICATIONS_STATUS, "Disabled").await?;
    let settings = browser.state.settings.get().await?;
    assert!(!settings.notifications_enabled);
    browser.close().await
}

#[tokio::test]
async fn logout_returns_to_the_login_page() -> anyhow::Result<()> {
    let browser = Browser::start().await?;
    action::login(&browser, "admin", ADMIN_PASSWORD).await?;

    action::logout(&browser).await?;

    check::visible(&browser, find::LOGIN_FORM, "the login form").await?;
    check::at_path(&browser, "/login").await?;
    // The session is really gone: the admin page sends us back to the login.
    action::open(&browser, "/admin/general").await?;
    check::visible(&browser, find::LOGIN_FORM, "the login form").await?;
    browser.close().await
}

#[tokio::test]
async fn a_deep_link_to_a_client_route_survives_a_reload() -> anyhow::Result<()> {
    let browser = Browser::start().await?;
    action::login(&browser, "admin", ADMIN_PASSWORD).await?;

    action::click(&browser, find::NAV_AUDIT, "the audit log link").await?;
    check::at_path(&browser, "/admin/audit").await?;
    check::count_at_least(&browser, find::AUDIT_ROWS, 1).await?;
    action::reload(&browser).await?;

    check::at_path(&browser, "/admin/audit").await?;
    check::visible(&browser, find::AUDIT_PAGE, "the audit page").await?;
    check::count_at_least(&browser, find::AUDIT_ROWS, 2).await?;
    browser.close().await
}

#[tokio::test]
async fn a_deep_link_while_logged_out_comes_back_after_login() -> anyhow::Result<()> {
    let browser = Browser::start().await?;

    action::open(&browser, "/admin/audit").await?;
    action::submit_login(&browser, "admin", ADMIN_PASSWORD).await?;

    check::at_path(&browser, "/admin/audit").await?;
    check::visible(&browser, find::AUDIT_PAGE, "the audit page").await?;
    browser.close().await
}

#[tokio::test]
async fn the_web_client_runs_under_its_content_security_policy() -> anyhow::Result<()> {
    let browser = Browser::start().await?;

    action::login(&browser, "admin", ADMIN_PASSWORD).await?;
    check::text_contains(&browser, find::SERVER_VERSION, "6.4.0").await?;
    check::text_is(&browser, find::NOTIFICATIONS_STATUS, "Enabled").await?;
    action::reload(&browser).await?;
    check::text_contains(&browser, find::SERVER_VERSION, "6.4.0").await?;
    check::no_csp_violation(&browser).await?;

    // The check sees a violation when there is one: an inline script the policy does not allow.
    browser
        .client
        .execute(
            "const s = document.createElement('script'); s.textContent = 'window.__csp = 1'; \
             document.head.appendChild(s); return window.__csp === undefined",
            vec![],
        )
        .await?;
    check::until("the console to report the blocked script", || async {
        match check::no_csp_violation(&browser).await {
            Err(err) if err.to_string().contains("Content Security Policy") => Ok(()),
            Err(err) => Err(err.to_string()),
            Ok(()) => Err("no violation reported yet".to_owned()),
        }
    })
    .await?;
    browser.close().await
}

#[tokio::test]
async fn the_admin_logs_in_over_https_and_the_session_cookie_is_secure() -> anyhow::Result<()> {
    let browser = Browser::start_with(|config| {
        config.listen = "0.0.0.0:0".parse().expect("an address");
        config.transport = backend::config::Transport::HttpsSelfSigned;
    })
    .await?;
    assert!(browser.url("/").starts_with("https://127.0.0.1:"));

    action::login(&browser, "admin", ADMIN_PASSWORD).await?;
    check::text_contains(&browser, find::SERVER_VERSION, "6.4.0").await?;
    let cookies = browser.client.get_all_cookies().await?;
    let session = cookies
        .iter()
        .find(|cookie| cookie.name() == "sms_session")
        .ok_or_else(|| anyhow::anyhow!("no session cookie in {cookies:?}"))?;
    anyhow::ensure!(session.secure() == Some(true), "{session:?}");
    anyhow::ensure!(session.http_only() == Some(true), "{session:?}");
    browser.close().await
}
