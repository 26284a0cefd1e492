//! The whole patch cycle with the keyboard alone: log in, open the update wizard, pick the
//! recommended patch, download it, confirm and install it, roll it back. Tab, Shift+Tab,
//! Enter, Space and the arrows; never a click. Every control reached shows its focus.

use e2e::tmc::Tmc;
use e2e::{ADMIN_PASSWORD, Browser, Vendor, action, check, find, keys};
use fantoccini::key::Key;

/// The option the update wizard's patch list shows as chosen.
async fn chosen_patch(browser: &Browser) -> anyhow::Result<String> {
    let chosen = browser
        .client
        .execute(
            "const s = document.querySelector('#patch-file');
             return s ? s.options[s.selectedIndex].text : '';",
            vec![],
        )
        .await?;
    Ok(chosen.as_str().unwrap_or_default().to_owned())
}

#[tokio::test]
async fn an_admin_installs_and_rolls_back_the_recommended_patch_with_keys_alone()
-> anyhow::Result<()> {
    let vendor = Vendor::new();
    let tmc = Tmc::start(&vendor).await?;
    tmc.publish(vendor.package(2).title("Faster reports"))
        .await?;
    tmc.publish(vendor.package(3).title("New dashboards"))
        .await?;
    let browser = tmc.browser(&vendor).await?;

    // Log in: the fields and the button by Tab, the form sent with Enter.
    action::open(&browser, "/login").await?;
    check::visible(&browser, find::LOGIN_FORM, "the login form").await?;
    keys::tab_to(&browser, find::LOGIN_USERNAME, "the user name").await?;
    keys::type_text(&browser, "admin").await?;
    keys::tab_to(&browser, find::LOGIN_PASSWORD, "the password").await?;
    keys::type_text(&browser, ADMIN_PASSWORD).await?;
    keys::press(&browser, Key::Enter).await?;
    check::visible(&browser, find::PATCHES_TABLE, "the patches panel").await?;

    // The update wizard, opened with Enter on its link.
    keys::tab_to(&browser, find::UPDATE_LINK, "Update…").await?;
    keys::press(&browser, Key::Enter).await?;
    check::at_path(&browser, "/admin/patches/update").await?;
    check::visible(&browser, find::UPDATE_PATCH_FILE, "the patch list").await?;

    // Pick the recommended patch with the arrows: down through the list, then up if need be.
    keys::tab_to(&browser, find::UPDATE_PATCH_FILE, "the patch list").await?;
    keys::press(&browser, Key::Down).await?;
    for arrow in [
        Key::Down,
        Key::Down,
        Key::Down,
        Key::Up,
        Key::Up,
        Key::Up,
        Key::Up,
    ] {
        if chosen_patch(&browser).await?.contains("(recommended)") {
            break;
        }
        keys::press(&browser, arrow).await?;
    }
    let chosen = chosen_patch(&browser).await?;
    anyhow::ensure!(
        chosen.contains("Patch 3") && chosen.contains("(recommended)"),
        "the arrows did not reach the recommended patch: {chosen:?} is chosen"
    );
    check::text_contains(&browser, find::UPDATE_PATCH_FACTS, "New dashboards").await?;

    // Download it with Space, then on to the install page with Enter.
    keys::tab_to(&browser, find::UPDATE_DOWNLOAD, "Download").await?;
    keys::press(&browser, ' ').await?;
    check::visible(&browser, find::UPDATE_INSTALL, "Install…").await?;
    // Back up to the list and down again: Shift+Tab and Tab both walk the wizard.
    keys::shift_tab_to(&browser, find::UPDATE_PATCH_FILE, "the patch list").await?;
    keys::tab_to(&browser, find::UPDATE_INSTALL, "Install…").await?;
    keys::press(&browser, Key::Enter).await?;
    check::at_path(&browser, "/admin/patches/install/6.4.0.3").await?;

    // Confirm with Enter; the server restarts and the page follows it to the new level.
    check::text_contains(
        &browser,
        find::INSTALL_EFFECTS,
        "The SMS server application restarts.",
    )
    .await?;
    keys::tab_to(&browser, find::INSTALL_CONFIRM, "Install now").await?;
    keys::press(&browser, Key::Enter).await?;
    check::text_contains(&browser, find::JOB_STATUS, "Installed").await?;
    check::text_is(&browser, find::SERVER_PATCH_LEVEL, "Patch 3").await?;

    // Back to the panel, then Roll back… and its confirmation, with Enter and Space.
    keys::tab_to(&browser, find::JOB_DONE_LINK, "Back to General").await?;
    keys::press(&browser, Key::Enter).await?;
    check::text_contains(&browser, find::INSTALLED_PATCH, "Patch 3 installed").await?;
    keys::tab_to(&browser, find::ROLLBACK_LINK, "Roll back…").await?;
    keys::press(&browser, Key::Enter).await?;
    check::text_contains(
        &browser,
        find::ROLLBACK_EFFECTS,
        "always returns to level 0",
    )
    .await?;
    keys::tab_to(&browser, find::ROLLBACK_CONFIRM, "Roll back now").await?;
    keys::press(&browser, ' ').await?;
    check::text_contains(&browser, find::JOB_STATUS, "Rolled back").await?;
    check::text_is(&browser, find::SERVER_PATCH_LEVEL, "no patch").await?;

    browser.close().await
}
