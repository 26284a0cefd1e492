//! Installing and rolling back in the browser: the confirmation step, the live stages, every
//! open window told that the server restarts (or reboots), reconnecting by itself and showing
//! the new level; the history and the audit log.

use std::time::Duration;

use e2e::tmc::Tmc;
use e2e::{ADMIN_PASSWORD, Browser, Vendor, action, check, find};
use fantoccini::Locator;

/// Downloads patch `id` from the panel and waits until it is in the repository.
async fn download(browser: &Browser, id: &str) -> anyhow::Result<()> {
    action::click(browser, Locator::Css(&find::patch_download(id)), "Download").await?;
    check::text_is(browser, Locator::Css(&find::patch_state(id)), "Downloaded").await
}

/// A device's uptime (seconds) and packet counter on the devices panel, once the uptime is at
/// least `at_least` seconds.
async fn device_figures(
    browser: &Browser,
    name: &str,
    at_least: u64,
) -> anyhow::Result<(u64, u64)> {
    let row = format!("#devices-table tr[data-device='{name}']");
    check::until(
        &format!("{name}'s uptime to reach {at_least} s"),
        || async {
            let read = |cell: &'static str, attribute: &'static str| {
                let row = row.clone();
                async move {
                    let element = browser
                        .client
                        .find(Locator::Css(&format!("{row} {cell}")))
                        .await
                        .map_err(|_| format!("no {cell} in {row}"))?;
                    let value = element
                        .attr(attribute)
                        .await
                        .map_err(|err| err.to_string())?
                        .unwrap_or_default();
                    value
                        .parse::<u64>()
                        .map_err(|_| format!("{cell} {attribute}={value:?}"))
                }
            };
            let uptime = read(".device-uptime", "data-seconds").await?;
            let packets = read(".device-packets", "data-count").await?;
            if uptime >= at_least {
                Ok((uptime, packets))
            } else {
                Err(format!("uptime {uptime} s"))
            }
        },
    )
    .await
}

#[tokio::test]
async fn two_open_windows_follow_an_install_and_a_rollback() -> anyhow::Result<()> {
    let vendor = Vendor::new();
    let tmc = Tmc::start(&vendor).await?;
    tmc.publish(vendor.package(2).title("Faster reports"))
        .await?;
    let browser = tmc.browser(&vendor).await?;
    let other = browser.second_window().await?;
    action::login(&browser, "admin", ADMIN_PASSWORD).await?;
    action::login(&other, "admin", ADMIN_PASSWORD).await?;
    check::text_contains(&other, find::INSTALLED_PATCH, "No patch installed").await?;

    download(&browser, "6.4.0.2").await?;
    action::click(
        &browser,
        Locator::Css(&find::patch_install("6.4.0.2")),
        "Install…",
    )
    .await?;
    check::at_path(&browser, "/admin/patches/install/6.4.0.2").await?;
    // The confirmation says what will happen.
    for words in [
        "The SMS server application restarts.",
        "All client connections are stopped.",
        "Managed devices keep running",
    ] {
        check::text_contains(&browser, find::INSTALL_EFFECTS, words).await?;
    }
    action::watch_server_link(&browser).await?;
    action::watch_server_link(&other).await?;
    action::click(&browser, find::INSTALL_CONFIRM, "Install").await?;

    // Both windows are told, lose the server, come back by themselves at the new level.
    check::server_link_seen(&browser, "restarting").await?;
    check::server_link_seen(&other, "restarting").await?;
    check::text_contains(&browser, find::JOB_STATUS, "Installed").await?;
    check::visible(
        &browser,
        Locator::Css(&find::stage_ok("restart")),
        "the restart stage done",
    )
    .await?;
    check::visible(
        &browser,
        Locator::Css(&find::stage_ok("done")),
        "the done stage",
    )
    .await?;
    check::gone(&other, find::SERVER_LINK, "the restarting bar").await?;
    check::text_is(&other, find::SERVER_PATCH_LEVEL, "Patch 2").await?;
    check::text_contains(&other, find::INSTALLED_PATCH, "Patch 2 installed").await?;
    check::visible(
        &other,
        Locator::Css(&find::history_row("install", "succeeded")),
        "the install in the history",
    )
    .await?;
    check::text_is(&browser, find::SERVER_PATCH_LEVEL, "Patch 2").await?;
    // The patch does not update the client: nobody is asked to upgrade.
    check::absent(
        &other,
        find::CLIENT_MISMATCH,
        find::INSTALLED_PATCH,
        "the client prompt",
    )
    .await?;
    check::absent(
        &browser,
        find::CLIENT_MISMATCH,
        find::JOB_STATUS,
        "the client prompt",
    )
    .await?;

    // Roll back from the panel: confirm, then the same again, to level 0.
    action::click(&browser, find::JOB_DONE_LINK, "Back to General").await?;
    action::click(&browser, find::ROLLBACK_LINK, "Roll back…").await?;
    check::text_contains(
        &browser,
        find::ROLLBACK_EFFECTS,
        "always returns to level 0",
    )
    .await?;
    action::watch_server_link(&other).await?;
    action::click(&browser, find::ROLLBACK_CONFIRM, "Roll back").await?;
    check::text_contains(&browser, find::JOB_STATUS, "Rolled back").await?;
    check::server_link_seen(&other, "restarting").await?;
    check::text_contains(&other, find::INSTALLED_PATCH, "No patch installed").await?;
    check::visible(
        &other,
        Locator::Css(&find::history_row("rollback", "succeeded")),
        "the rollback in the history",
    )
    .await?;
    check::text_is(&browser, find::SERVER_PATCH_LEVEL, "no patch").await?;

    other.close().await?;
    browser.close().await
}

#[tokio::test]
async fn demo_patch_5_reboots_the_server_and_every_window_comes_back_at_patch_5()
-> anyhow::Result<()> {
    let browser = Browser::start_with(|config| {
        config.demo = true;
        config.system.reboot_window = Duration::from_secs(2);
        config.devices.poll_interval = Duration::from_millis(500);
    })
    .await?;
    let other = browser.second_window().await?;
    action::login(&browser, "admin", ADMIN_PASSWORD).await?;
    action::login(&other, "admin", ADMIN_PASSWORD).await?;
    // The demo's managed devices, as the devices panel shows them before the reboot.
    action::click(&other, find::NAV_DEVICES, "Devices").await?;
    check::text_contains(&other, find::DEVICES_NOTICE, "keep inspecting traffic").await?;
    let (uptime_before, packets_before) = device_figures(&other, "ips-01", 1).await?;
    action::click(&other, find::NAV_GENERAL, "General").await?;
    check::text_contains(
        &browser,
        Locator::Css(&find::patch_name("6.4.0.5")),
        "Recommended",
    )
    .await?;

    download(&browser, "6.4.0.5").await?;
    action::click(
        &browser,
        Locator::Css(&find::patch_install("6.4.0.5")),
        "Install…",
    )
    .await?;
    for words in [
        "The SMS server reboots.",
        "All client connections are stopped.",
        "Every SMS client must upgrade to version 6.4.0.5.",
        "Managed devices keep running",
    ] {
        check::text_contains(&browser, find::INSTALL_EFFECTS, words).await?;
    }
    action::watch_server_link(&browser).await?;
    action::watch_server_link(&other).await?;
    action::click(&browser, find::INSTALL_CONFIRM, "Install").await?;

    check::server_link_seen(&other, "rebooting").await?;
    check::server_link_seen(&browser, "rebooting").await?;
    // Patch 5 updates the client: both windows load the server's new client first.
    check::visible(&browser, find::CLIENT_UPGRADE_PROMPT, "the upgrade prompt").await?;
    action::click(&browser, find::CLIENT_RELOAD, "Upgrade").await?;
    check::visible(&other, find::CLIENT_UPGRADE_PROMPT, "the upgrade prompt").await?;
    action::click(&other, find::CLIENT_RELOAD, "Upgrade").await?;
    check::text_contains(&browser, find::JOB_STATUS, "Installed").await?;
    check::visible(
        &browser,
        Locator::Css(&find::stage_ok("reboot")),
        "the reboot stage done",
    )
    .await?;
    check::text_is(&other, find::SERVER_PATCH_LEVEL, "Patch 5").await?;
    check::text_contains(&other, find::INSTALLED_PATCH, "Patch 5 installed").await?;
    check::text_contains(&other, find::SERVER_VERSION, "SMS 6.4.0").await?;

    // The devices ran on through the reboot: their uptime spans the SMS's downtime and their
    // counters never went back.
    action::click(&other, find::NAV_DEVICES, "Devices").await?;
    let (uptime_after, packets_after) = device_figures(&other, "ips-01", uptime_before + 3).await?;
    assert!(
        uptime_after >= uptime_before + 2,
        "the uptime spans the 2 s reboot: {uptime_before} s, then {uptime_after} s"
    );
    assert!(
        packets_after > packets_before,
        "the counter went on: {packets_before}, then {packets_after}"
    );
    check::visible(
        &other,
        Locator::Css("#devices-table tr[data-device='ips-01'][data-state='reachable']"),
        "ips-01 running",
    )
    .await?;
    action::click(&other, find::NAV_GENERAL, "General").await?;

    // Roll back to level 0.
    action::click(&browser, find::JOB_DONE_LINK, "Back to General").await?;
    action::click(&browser, find::ROLLBACK_LINK, "Roll back…").await?;
    action::click(&browser, find::ROLLBACK_CONFIRM, "Roll back").await?;
    // Back at level 0 the windows hold Patch 5's client: they switch back to the server's.
    check::visible(&browser, find::CLIENT_SWITCH_PROMPT, "the switch prompt").await?;
    action::click(&browser, find::CLIENT_RELOAD, "Switch").await?;
    check::text_contains(&browser, find::JOB_STATUS, "Rolled back").await?;
    check::visible(&other, find::CLIENT_SWITCH_PROMPT, "the switch prompt").await?;
    action::click(&other, find::CLIENT_RELOAD, "Switch").await?;
    check::text_contains(&other, find::INSTALLED_PATCH, "No patch installed").await?;
    check::visible(
        &other,
        Locator::Css(&find::history_row("install", "succeeded")),
        "the install in the history",
    )
    .await?;
    check::visible(
        &other,
        Locator::Css(&find::history_row("rollback", "succeeded")),
        "the rollback in the history",
    )
    .await?;

    // Both are in the audit log.
    action::click(&other, find::NAV_AUDIT, "Audit log").await?;
    check::text_contains(&other, Locator::Css("#audit-table"), "patch_install").await?;
    check::text_contains(&other, Locator::Css("#audit-table"), "patch_rollback").await?;

    other.close().await?;
    browser.close().await
}
