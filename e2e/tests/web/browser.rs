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
async fn a_client_that_stops_on_an_internal_fault_says_so_on_the_page() -> anyhow::Result<()> {
    let browser = Browser::start().await?;
    action::login(&browser, "admin", ADMIN_PASSWORD).await?;
    check::absent(
        &browser,
        find::CLIENT_FAULT,
        find::GENERAL_PAGE,
        "the fault notice",
    )
    .await?;

    // A panic of the web client traps its WebAssembly (`unreachable`), out of whatever event
    // the browser was running: here a module of one trapping function, run by a timer.
    browser
        .client
        .execute(
            "const trap = new WebAssembly.Instance(new WebAssembly.Module(new Uint8Array([\
               0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, \
               0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x02, 0x01, 0x00, \
               0x07, 0x05, 0x01, 0x01, 0x66, 0x00, 0x00, \
               0x0a, 0x05, 0x01, 0x03, 0x00, 0x00, 0x0b]))).exports.f; \
             setTimeout(trap, 0);",
            vec![],
        )
        .await?;

    check::text_contains(
        &browser,
        find::CLIENT_FAULT,
        "The web client stopped because of an internal error. Reload the page",
    )
    .await?;
    check::attribute_contains(&browser, find::CLIENT_FAULT, "role", "alert").await?;
    check::no_csp_violation(&browser).await?;
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

/// A certificate for `names` valid from yesterday for `days` days, signed by a throwaway CA:
/// (chain PEM, key PEM, CA's subject).
fn ca_signed(names: &[&str], days: i64) -> anyhow::Result<(String, String)> {
    let ca_key = rcgen::KeyPair::generate()?;
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new())?;
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, "E2E test CA");
    let ca_pem = ca.self_signed(&ca_key)?.pem();
    let key = rcgen::KeyPair::generate()?;
    let mut leaf =
        rcgen::CertificateParams::new(names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>())?;
    let yesterday = chrono::Utc::now() - chrono::Duration::days(1);
    let at = |when: chrono::DateTime<chrono::Utc>| {
        rcgen::date_time_ymd(1970, 1, 1) + std::time::Duration::from_secs(when.timestamp() as u64)
    };
    leaf.not_before = at(yesterday);
    leaf.not_after = at(yesterday + chrono::Duration::days(days));
    let issuer = rcgen::Issuer::from_params(&ca, &ca_key);
    let cert = leaf.signed_by(&key, &issuer)?;
    Ok((format!("{}{ca_pem}", cert.pem()), key.serialize_pem()))
}

#[tokio::test]
async fn an_admin_replaces_the_server_certificate_in_the_browser() -> anyhow::Result<()> {
    let browser = Browser::start_with(|config| {
        config.listen = "0.0.0.0:0".parse().expect("an address");
        config.transport = backend::config::Transport::HttpsSelfSigned;
    })
    .await?;
    let served = browser
        .state
        .certificate
        .clone()
        .ok_or_else(|| anyhow::anyhow!("the server serves no certificate"))?;
    action::login(&browser, "admin", ADMIN_PASSWORD).await?;
    check::text_is(
        &browser,
        find::CERTIFICATE_FINGERPRINT,
        &served.fingerprint(),
    )
    .await?;
    check::text_contains(&browser, find::CERTIFICATE_ISSUER, "self-signed").await?;
    check::absent(
        &browser,
        find::CERTIFICATE_EXPIRY_WARNING,
        find::CERTIFICATE_FINGERPRINT,
        "the expiry warning",
    )
    .await?;

    let files = tempfile::tempdir()?;
    let upload = |name: &str, (chain, key): (String, String)| {
        let chain_file = files.path().join(format!("{name}.pem"));
        let key_file = files.path().join(format!("{name}.key"));
        let written =
            std::fs::write(&chain_file, chain).and_then(|()| std::fs::write(&key_file, key));
        let browser = &browser;
        async move {
            written?;
            action::replace_certificate(browser, &chain_file, &key_file).await
        }
    };
    let first = served.fingerprint();
    // A certificate for other names is refused, and says why.
    upload("other", ca_signed(&["sms.elsewhere.example"], 90)?).await?;
    check::text_contains(
        &browser,
        find::CERTIFICATE_FORM_ERROR,
        "sms.elsewhere.example",
    )
    .await?;
    check::text_is(&browser, find::CERTIFICATE_FINGERPRINT, &first).await?;

    // One for this address, expiring in 20 days: served at once, with the warning.
    upload("good", ca_signed(&["127.0.0.1", "localhost"], 20)?).await?;
    check::visible(&browser, find::CERTIFICATE_REPLACED, "the replaced notice").await?;
    let now_served = served.fingerprint();
    anyhow::ensure!(
        now_served != first,
        "the server still serves the first certificate"
    );
    check::text_is(&browser, find::CERTIFICATE_FINGERPRINT, &now_served).await?;
    check::text_contains(&browser, find::CERTIFICATE_ISSUER, "E2E test CA").await?;
    check::text_contains(
        &browser,
        find::CERTIFICATE_EXPIRY_WARNING,
        "expires in 18 days",
    )
    .await?;

    // A new page load is served the new certificate and shows the same.
    action::reload(&browser).await?;
    check::text_is(&browser, find::CERTIFICATE_FINGERPRINT, &now_served).await?;
    browser.close().await
}

#[tokio::test]
async fn the_first_login_with_the_one_time_password_asks_for_a_new_one() -> anyhow::Result<()> {
    // A first start that made up the admin's password and printed it.
    let (browser, login) = Browser::start_first(|_| {}).await?;
    let one_time = login.password.as_str();

    action::open(&browser, "/login").await?;
    action::submit_login(&browser, &login.username, one_time).await?;
    check::visible(&browser, find::PASSWORD_FORM, "the new-password form").await?;
    check::absent(&browser, find::HEADER, find::PASSWORD_FORM, "the header").await?;

    action::fill(
        &browser,
        find::PASSWORD_CURRENT,
        one_time,
        "the one-time password",
    )
    .await?;
    action::fill(
        &browser,
        find::PASSWORD_NEW,
        "my-own-password",
        "the new password",
    )
    .await?;
    action::fill(
        &browser,
        find::PASSWORD_REPEAT,
        "my-own-passwort",
        "the repeat",
    )
    .await?;
    action::click(&browser, find::PASSWORD_SUBMIT, "Save and go on").await?;
    check::text_contains(&browser, find::PASSWORD_DIFFER, "differ").await?;

    action::fill(
        &browser,
        find::PASSWORD_REPEAT,
        "my-own-password",
        "the repeat",
    )
    .await?;
    action::click(&browser, find::PASSWORD_SUBMIT, "Save and go on").await?;
    check::text_contains(&browser, find::CURRENT_USER, "admin").await?;
    check::visible(&browser, find::GENERAL_PAGE, "the General page").await?;

    // The new password is the admin's now.
    assert!(
        browser
            .state
            .auth
            .password_matches("admin", "my-own-password")
            .await?
    );
    browser.close().await
}

/// `make run` on a fresh data dir: demo mode makes the admin's password up and prints it at
/// every start, and the first screen after logging in with it is the panel, not a request for a
/// new password.
#[tokio::test]
async fn the_demo_admin_logs_in_straight_to_the_panel() -> anyhow::Result<()> {
    let (browser, login) = Browser::start_first(|config| config.demo = true).await?;

    action::open(&browser, "/login").await?;
    action::submit_login(&browser, &login.username, &login.password).await?;
    check::text_contains(&browser, find::CURRENT_USER, "admin").await?;
    check::visible(&browser, find::GENERAL_PAGE, "the General page").await?;
    check::absent(
        &browser,
        find::PASSWORD_FORM,
        find::GENERAL_PAGE,
        "the new-password form",
    )
    .await?;
    browser.close().await
}

/// The app follows its own links without loading the page again, and the browser's Back and
/// Forward buttons walk the pages it showed; a redirect leaves no step to bounce back to.
#[tokio::test]
async fn links_back_and_forward_stay_in_the_app() -> anyhow::Result<()> {
    let browser = Browser::start().await?;
    let run = |script: &'static str| {
        let client = browser.client.clone();
        async move { client.execute(script, vec![]).await }
    };
    action::login(&browser, "admin", ADMIN_PASSWORD).await?;
    check::visible(&browser, find::GENERAL_PAGE, "the General page").await?;
    // Gone if the page is loaded again.
    run("window.__sameApp = true").await?;
    let steps = run("return history.length").await?;

    action::click(&browser, find::NAV_AUDIT, "the audit log link").await?;
    check::at_path(&browser, "/admin/audit").await?;
    check::visible(&browser, find::AUDIT_PAGE, "the audit page").await?;
    check::attribute_contains(&browser, find::NAV_AUDIT, "aria-current", "page").await?;
    run("history.back()").await?;
    check::at_path(&browser, "/admin/general").await?;
    check::visible(&browser, find::GENERAL_PAGE, "the General page").await?;
    run("history.forward()").await?;
    check::at_path(&browser, "/admin/audit").await?;
    check::visible(&browser, find::AUDIT_PAGE, "the audit page").await?;
    anyhow::ensure!(
        run("return window.__sameApp === true").await? == serde_json::json!(true),
        "the page was loaded again"
    );
    anyhow::ensure!(
        run("return history.length").await? == serde_json::json!(steps.as_u64().unwrap_or(0) + 1),
        "one step per link followed"
    );

    // `/admin` is sent on to the home page in place of its own step.
    run("history.pushState(null, '', '/admin'); dispatchEvent(new PopStateEvent('popstate'))")
        .await?;
    check::at_path(&browser, "/admin/general").await?;
    run("history.back()").await?;
    check::at_path(&browser, "/admin/audit").await?;
    // The path changes before the page under it is drawn again: wait for the link clicked below.
    check::visible(&browser, find::AUDIT_PAGE, "the audit page").await?;
    check::visible(&browser, find::NAV_GENERAL, "the General link").await?;

    // A click with Ctrl (open in a new tab) is left to the browser; a plain one is the app's.
    let taken = run(
        "const taken = []; \
         addEventListener('click', e => { taken.push(e.defaultPrevented); e.preventDefault(); }); \
         const link = document.querySelector('#nav-general'); \
         link.dispatchEvent(new MouseEvent('click', {bubbles: true, cancelable: true, ctrlKey: true})); \
         link.dispatchEvent(new MouseEvent('click', {bubbles: true, cancelable: true})); \
         return taken",
    )
    .await?;
    anyhow::ensure!(
        taken == serde_json::json!([false, true]),
        "the app took these clicks: {taken}"
    );
    check::at_path(&browser, "/admin/general").await?;
    browser.close().await
}
