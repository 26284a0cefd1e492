//! The client version prompt in the browser: a patch that updates the client makes every open
//! window upgrade before it goes on, to the client the patch carries; a rollback makes it switch
//! back to the built-in one.

use anyhow::Context;
use e2e::harness::dist_dir;
use e2e::tmc::Tmc;
use e2e::{ADMIN_PASSWORD, Vendor, a11y, action, check, find, keys};
use fantoccini::Locator;
use fantoccini::key::Key;

/// The `<meta>` tag the patch's copy of the web client carries in its `<head>`, and what it says:
/// a window that has it runs the patch's client, not the built-in one.
const ORIGIN_META: &str = "sms-client-origin";
const PATCH_ORIGIN: &str = "patch-2";

/// The built web client's `index.html` with the [`ORIGIN_META`] tag put into its `<head>`.
fn marked_index() -> anyhow::Result<String> {
    let path = dist_dir().join("index.html");
    let page = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read the built web client {}", path.display()))?;
    let head_end = page
        .find("</head>")
        .with_context(|| format!("{} has no </head>", path.display()))?;
    let meta = format!("<meta name=\"{ORIGIN_META}\" content=\"{PATCH_ORIGIN}\" />\n");
    Ok(format!("{}{meta}{}", &page[..head_end], &page[head_end..]))
}

#[tokio::test]
async fn an_open_window_upgrades_after_a_client_patch_and_switches_back_after_a_rollback()
-> anyhow::Result<()> {
    let vendor = Vendor::new();
    let tmc = Tmc::start(&vendor).await?;
    // The patch carries the built web client, marked so a window can tell it is the patch's.
    let client_patch = vendor
        .package(2)
        .title("New dashboards")
        .updates_client()
        .client_from_dir(&dist_dir())
        .client_file("index.html", marked_index()?);
    tmc.publish(client_patch).await?;
    let browser = tmc.browser(&vendor).await?;
    let other = browser.second_window().await?;
    action::login(&browser, "admin", ADMIN_PASSWORD).await?;
    action::login(&other, "admin", ADMIN_PASSWORD).await?;
    check::text_contains(&other, find::INSTALLED_PATCH, "No patch installed").await?;
    check::meta_content(&other, ORIGIN_META, None).await?;

    action::click(
        &browser,
        Locator::Css(&find::patch_download("6.4.0.2")),
        "Download",
    )
    .await?;
    check::text_is(
        &browser,
        Locator::Css(&find::patch_state("6.4.0.2")),
        "Downloaded",
    )
    .await?;
    action::click(
        &browser,
        Locator::Css(&find::patch_install("6.4.0.2")),
        "Install…",
    )
    .await?;
    check::text_contains(
        &browser,
        find::INSTALL_EFFECTS,
        "Every SMS client must upgrade to version 6.4.0.2.",
    )
    .await?;
    action::click(&browser, find::INSTALL_CONFIRM, "Install").await?;

    // After the restart the open window is prompted, with both versions.
    check::visible(&other, find::CLIENT_UPGRADE_PROMPT, "the upgrade prompt").await?;
    check::text_contains(&other, find::CLIENT_REQUIRED, "6.4.0.2").await?;
    check::text_contains(&other, find::CLIENT_CURRENT, "6.4.0.0").await?;
    check::text_is(&other, find::CLIENT_RELOAD, "Upgrade").await?;
    // A real modal dialog: the focus is on its button and stays there, whichever way one
    // tabs, nothing behind it can be reached, and axe finds nothing serious.
    keys::focus_is_on(&other, find::CLIENT_RELOAD, "the Upgrade button").await?;
    for _ in 0..3 {
        keys::press(&other, Key::Tab).await?;
        keys::focus_is_on(&other, find::CLIENT_RELOAD, "the Upgrade button").await?;
        keys::shift_tab(&other).await?;
        keys::focus_is_on(&other, find::CLIENT_RELOAD, "the Upgrade button").await?;
    }
    check::has_attribute(&other, find::APP_FRAME, "inert").await?;
    a11y::audit(&other, "the upgrade prompt").await?;
    action::click(&other, find::CLIENT_RELOAD, "Upgrade").await?;
    // The patch's client is loaded: no prompt, and it works at the new level.
    check::text_contains(&other, find::INSTALLED_PATCH, "Patch 2 installed").await?;
    check::absent(
        &other,
        find::CLIENT_MISMATCH,
        find::INSTALLED_PATCH,
        "the prompt",
    )
    .await?;
    check::text_is(&other, find::SERVER_PATCH_LEVEL, "Patch 2").await?;
    check::meta_content(&other, ORIGIN_META, Some(PATCH_ORIGIN)).await?;

    // The installing window is prompted too; it upgrades and rolls back.
    check::visible(&browser, find::CLIENT_UPGRADE_PROMPT, "the upgrade prompt").await?;
    action::click(&browser, find::CLIENT_RELOAD, "Upgrade").await?;
    check::absent(
        &browser,
        find::CLIENT_MISMATCH,
        find::JOB_STATUS,
        "the prompt",
    )
    .await?;
    action::open(&browser, "/admin/patches/rollback").await?;
    check::text_contains(
        &browser,
        find::ROLLBACK_EFFECTS,
        "every client is asked to switch back",
    )
    .await?;
    action::click(&browser, find::ROLLBACK_CONFIRM, "Roll back").await?;

    // Now the open window is newer than the server: it must switch.
    check::visible(&other, find::CLIENT_SWITCH_PROMPT, "the switch prompt").await?;
    check::text_contains(&other, find::CLIENT_REQUIRED, "6.4.0.0").await?;
    check::text_contains(&other, find::CLIENT_CURRENT, "6.4.0.2").await?;
    check::text_is(&other, find::CLIENT_RELOAD, "Switch").await?;
    action::click(&other, find::CLIENT_RELOAD, "Switch").await?;
    check::text_contains(&other, find::INSTALLED_PATCH, "No patch installed").await?;
    check::absent(
        &other,
        find::CLIENT_MISMATCH,
        find::INSTALLED_PATCH,
        "the prompt",
    )
    .await?;
    // The built-in client again.
    check::meta_content(&other, ORIGIN_META, None).await?;

    other.close().await?;
    browser.close().await
}
