//! What a user does: open pages, log in and out, press buttons.

use std::path::Path;

use anyhow::Context;

use crate::harness::Browser;
use crate::{check, find};

/// Opens `path` of the SMS web client.
pub async fn open(browser: &Browser, path: &str) -> anyhow::Result<()> {
    browser
        .client
        .goto(&browser.url(path))
        .await
        .with_context(|| format!("cannot open {path}"))
}

/// Reloads the current page, as the browser's reload button does.
pub async fn reload(browser: &Browser) -> anyhow::Result<()> {
    browser.client.refresh().await.context("cannot reload")
}

/// Fills in the login form and submits it with the Enter key.
pub async fn submit_login(browser: &Browser, username: &str, password: &str) -> anyhow::Result<()> {
    check::visible(browser, find::LOGIN_FORM, "the login form").await?;
    let user = browser.client.find(find::LOGIN_USERNAME).await?;
    user.clear().await?;
    user.send_keys(username).await?;
    let pass = browser.client.find(find::LOGIN_PASSWORD).await?;
    pass.clear().await?;
    pass.send_keys(&format!("{password}\u{E007}")).await?;
    Ok(())
}

/// Opens the app, logs in, and waits for the header to show the user.
pub async fn login(browser: &Browser, username: &str, password: &str) -> anyhow::Result<()> {
    open(browser, "/login").await?;
    submit_login(browser, username, password).await?;
    check::text_contains(browser, find::CURRENT_USER, username).await
}

/// Clicks `what` (named `name` in failures) once it is visible.
pub async fn click(
    browser: &Browser,
    what: fantoccini::Locator<'_>,
    name: &str,
) -> anyhow::Result<()> {
    check::visible(browser, what, name).await?;
    // A live page may draw the element again between finding and clicking it: find it anew.
    check::until(&format!("a click on {name}"), || async {
        let element = browser
            .client
            .find(what)
            .await
            .map_err(|err| format!("{name} is gone: {err}"))?;
        match element.click().await {
            Ok(_) => Ok(()),
            Err(err) => Err(format!("cannot click {name}: {err}")),
        }
    })
    .await
}

/// Presses the header's "Log out" button.
pub async fn logout(browser: &Browser) -> anyhow::Result<()> {
    click(browser, find::LOGOUT, "the logout button").await
}

/// Chooses `file` in the import page's file picker, as picking it in the file dialog does.
pub async fn choose_file(browser: &Browser, file: &Path) -> anyhow::Result<()> {
    choose_file_in(browser, find::IMPORT_FILE, file).await
}

/// Chooses `file` in the file picker `input`, as picking it in the file dialog does.
pub async fn choose_file_in(
    browser: &Browser,
    input: fantoccini::Locator<'_>,
    file: &Path,
) -> anyhow::Result<()> {
    check::visible(browser, input, "the file picker").await?;
    let absolute = std::path::absolute(file)?;
    let absolute = absolute
        .to_str()
        .with_context(|| format!("{} is not UTF-8", absolute.display()))?;
    browser
        .client
        .find(input)
        .await?
        .send_keys(absolute)
        .await
        .with_context(|| format!("cannot choose {absolute} in the file picker"))
}

/// Chooses a certificate chain and key file in Admin > General > Server certificate and
/// presses "Replace certificate".
pub async fn replace_certificate(
    browser: &Browser,
    chain_file: &Path,
    key_file: &Path,
) -> anyhow::Result<()> {
    choose_file_in(browser, find::CERTIFICATE_CHAIN_FILE, chain_file).await?;
    choose_file_in(browser, find::CERTIFICATE_KEY_FILE, key_file).await?;
    check::enabled(browser, find::CERTIFICATE_SUBMIT, "Replace certificate").await?;
    click(browser, find::CERTIFICATE_SUBMIT, "Replace certificate").await
}

/// Presses "Upload and verify" once it can be pressed.
pub async fn upload_and_verify(browser: &Browser) -> anyhow::Result<()> {
    check::enabled(browser, find::IMPORT_SUBMIT, "the Upload and verify button").await?;
    click(browser, find::IMPORT_SUBMIT, "the Upload and verify button").await
}

/// Imports the patch file `file` through the Update wizard's import step and waits until the
/// server verified and kept it.
pub async fn import_patch(browser: &Browser, file: &Path) -> anyhow::Result<()> {
    open(browser, "/admin/patches/import").await?;
    choose_file(browser, file).await?;
    upload_and_verify(browser).await?;
    check::visible(browser, find::IMPORT_RESULT, "the imported patch").await
}

/// Installs patch `id` (e.g. `6.4.0.3`, in the repository) now from its confirmation page and
/// waits until the install is done, the server's restart included.
pub async fn install_patch(browser: &Browser, id: &str) -> anyhow::Result<()> {
    open(browser, &format!("/admin/patches/install/{id}")).await?;
    check::enabled(browser, find::INSTALL_CONFIRM, "the Install button").await?;
    click(browser, find::INSTALL_CONFIRM, "Install").await?;
    check::visible(
        browser,
        fantoccini::Locator::Css(&find::stage_ok("done")),
        "the done stage",
    )
    .await
}

/// Starts recording, in the page, every state the "server restarting / rebooting" bar shows
/// (it can come and go faster than a check polls). Read with [`crate::check::server_link_seen`].
pub async fn watch_server_link(browser: &Browser) -> anyhow::Result<()> {
    browser
        .client
        .execute(
            "window.__serverLinkSeen = [];
             const record = () => {
               const bar = document.getElementById('server-link');
               const seen = window.__serverLinkSeen;
               if (bar && seen[seen.length - 1] !== bar.dataset.state) seen.push(bar.dataset.state);
             };
             new MutationObserver(record).observe(document.documentElement,
               { subtree: true, childList: true, attributes: true });",
            vec![],
        )
        .await
        .context("cannot watch the server bar")?;
    Ok(())
}

/// Types `text` into the field `what` (named `name` in failures), replacing what it held.
pub async fn fill(
    browser: &Browser,
    what: fantoccini::Locator<'_>,
    text: &str,
    name: &str,
) -> anyhow::Result<()> {
    check::visible(browser, what, name).await?;
    let field = browser.client.find(what).await?;
    field
        .clear()
        .await
        .with_context(|| format!("cannot clear {name}"))?;
    field
        .send_keys(text)
        .await
        .with_context(|| format!("cannot type into {name}"))
}

/// Chooses the option whose value is `value` in the drop-down `what`.
pub async fn choose(
    browser: &Browser,
    what: fantoccini::Locator<'_>,
    value: &str,
    name: &str,
) -> anyhow::Result<()> {
    check::visible(browser, what, name).await?;
    browser
        .client
        .find(what)
        .await?
        .select_by_value(value)
        .await
        .with_context(|| format!("cannot choose {value:?} in {name}"))
}

/// On Admin > Maintenance: types a window into "Add a window", adds it, and saves the
/// settings; waits until the page says they are saved.
pub async fn add_maintenance_window(
    browser: &Browser,
    schedule: &str,
    minutes: u32,
    time_zone: &str,
) -> anyhow::Result<()> {
    fill(
        browser,
        find::WINDOW_SCHEDULE,
        schedule,
        "the window's schedule",
    )
    .await?;
    fill(
        browser,
        find::WINDOW_DURATION,
        &minutes.to_string(),
        "the window's duration",
    )
    .await?;
    fill(
        browser,
        find::WINDOW_TIME_ZONE,
        time_zone,
        "the window's time zone",
    )
    .await?;
    click(browser, find::WINDOW_ADD, "Add window").await?;
    check::text_contains(browser, find::MAINTENANCE_WINDOWS, schedule).await?;
    click(browser, find::MAINTENANCE_SAVE, "Save").await?;
    check::visible(browser, find::MAINTENANCE_SAVED, "Saved").await
}

/// On Admin > Notifications: adds a webhook to `url` without a secret and returns the secret
/// the server made (shown this once).
pub async fn add_webhook(browser: &Browser, url: &str) -> anyhow::Result<String> {
    choose(browser, find::TARGET_KIND, "webhook", "the target kind").await?;
    fill(browser, find::TARGET_URL, url, "the webhook URL").await?;
    click(browser, find::TARGET_ADD, "Add target").await?;
    check::text_contains(browser, find::NOTIFICATION_TARGETS, url).await?;
    check::visible(browser, find::TARGET_SECRET_VALUE, "the webhook's secret").await?;
    let secret = browser
        .client
        .find(find::TARGET_SECRET_VALUE)
        .await?
        .text()
        .await?;
    Ok(secret.trim().to_owned())
}
