//! The SMS Patches panel against a real TMC on loopback: the catalog's patches and their states,
//! Check now, a download, what a patch changes (panel and Software Details), the live patch
//! notice, and the data dir's free space with the server's low-space warning.

use e2e::tmc::Tmc;
use e2e::tour::{self, NARROW, WIDE};
use e2e::{ADMIN_PASSWORD, Browser, Vendor, a11y, action, check, find};
use fantoccini::Locator;

async fn start(vendor: &Vendor, tmc: &Tmc) -> anyhow::Result<Browser> {
    tmc.browser(vendor).await
}

#[tokio::test]
async fn the_panel_lists_the_tmc_patches_and_check_now_finds_a_new_one() -> anyhow::Result<()> {
    let vendor = Vendor::new();
    let tmc = Tmc::start(&vendor).await?;
    tmc.publish(vendor.package(1).title("Stability fixes"))
        .await?;
    tmc.publish(vendor.package(2).title("Faster reports"))
        .await?;
    let browser = start(&vendor, &tmc).await?;
    action::login(&browser, "admin", ADMIN_PASSWORD).await?;

    check::visible(&browser, find::TMC_CONNECTED, "the TMC status Connected").await?;
    check::text_contains(&browser, find::TMC_STATUS, "Connected").await?;
    // This TMC is reached over plain HTTP, and the panel says so.
    check::text_contains(&browser, find::TMC_UNENCRYPTED, "Not encrypted").await?;
    check::text_contains(&browser, find::INSTALLED_PATCH, "No patch installed").await?;
    check::text_contains(
        &browser,
        find::PATCH_HISTORY,
        "No installs or rollbacks yet",
    )
    .await?;
    let p2 = find::patch_state("6.4.0.2");
    check::text_is(&browser, Locator::Css(&p2), "Available").await?;
    check::text_contains(
        &browser,
        Locator::Css(&find::patch_name("6.4.0.2")),
        "Recommended",
    )
    .await?;
    let p1 = find::patch_state("6.4.0.1");
    check::text_is(&browser, Locator::Css(&p1), "Superseded by Patch 2").await?;

    // The vendor publishes Patch 3; Check now shows it without a reload.
    // (Errors the page logs are kept, to be shown if the check below fails.)
    browser
        .client
        .execute(
            "window.__errors = []; const log = console.error;
             console.error = function (...args) { window.__errors.push(args.join(' ')); log.apply(console, args); };
             window.addEventListener('error', (e) => window.__errors.push(String(e.message)));",
            vec![],
        )
        .await?;
    tmc.publish(vendor.package(3).title("Security fixes"))
        .await?;
    action::click(&browser, find::TMC_CHECK, "Check now").await?;
    let p3 = find::patch_state("6.4.0.3");
    if let Err(err) = check::text_is(&browser, Locator::Css(&p3), "Available").await {
        // Say where it got stuck: the TMC, the server's record of the catalog, or the page.
        let status = browser.state.tmc.status().await;
        let serial = tmc.server.published_serial().await;
        let recorded: Vec<String> = browser
            .state
            .tmc
            .catalog()
            .await?
            .iter()
            .map(|row| format!("{}.{}", row.product_version, row.patch))
            .collect();
        let page = match browser.client.find(find::GENERAL_PAGE).await {
            Ok(element) => element.text().await.unwrap_or_default(),
            Err(_) => "(no General page)".to_owned(),
        };
        let errors = browser
            .client
            .execute("return window.__errors || [];", vec![])
            .await
            .unwrap_or_default();
        anyhow::bail!(
            "{err:#}\nTMC status: {status:?}\nTMC serial {serial:?}\nrecorded catalog: \
             {recorded:?}\npage errors: {errors}\npage:\n{page}"
        );
    }
    check::text_is(&browser, Locator::Css(&p2), "Superseded by Patch 3").await?;
    check::text_contains(
        &browser,
        Locator::Css(&find::patch_name("6.4.0.3")),
        "Security fixes",
    )
    .await?;
    browser.close().await
}

#[tokio::test]
async fn the_admin_downloads_a_patch_and_sees_it_downloaded() -> anyhow::Result<()> {
    let vendor = Vendor::new();
    let tmc = Tmc::start(&vendor).await?;
    tmc.publish(vendor.package(2).title("Faster reports"))
        .await?;
    let browser = start(&vendor, &tmc).await?;
    action::login(&browser, "admin", ADMIN_PASSWORD).await?;

    let download = find::patch_download("6.4.0.2");
    action::click(&browser, Locator::Css(&download), "Download").await?;

    check::text_is(
        &browser,
        Locator::Css(&find::patch_state("6.4.0.2")),
        "Downloaded",
    )
    .await?;
    check::gone(&browser, Locator::Css(&download), "the Download button").await?;
    let kept = browser.state.repository.list().await?;
    assert_eq!(kept.len(), 1, "the repository should hold the download");
    browser.close().await
}

#[tokio::test]
async fn the_details_page_and_the_panel_say_what_a_patch_changes_once_downloaded()
-> anyhow::Result<()> {
    let vendor = Vendor::new();
    let tmc = Tmc::start(&vendor).await?;
    tmc.publish(
        vendor
            .package(2)
            .title("Rule tags")
            .server_script("exec sleep 60\n")
            .updates_client()
            .database_changes(),
    )
    .await?;
    let browser = start(&vendor, &tmc).await?;
    action::login(&browser, "admin", ADMIN_PASSWORD).await?;

    // Only the TMC catalog knows the patch: it does not list the package's files.
    let changes = find::patch_changes("6.4.0.2");
    check::text_is(
        &browser,
        Locator::Css(&changes),
        "Changes: Known after download",
    )
    .await?;
    action::open(&browser, "/patches/6.4.0.2").await?;
    check::text_is(&browser, find::DETAILS_CHANGES, "Known after download").await?;

    action::open(&browser, "/admin/general").await?;
    let download = find::patch_download("6.4.0.2");
    action::click(&browser, Locator::Css(&download), "Download").await?;
    check::text_is(
        &browser,
        Locator::Css(&find::patch_state("6.4.0.2")),
        "Downloaded",
    )
    .await?;
    let expected = "Server executable, web client, 1 database migration";
    check::text_is(
        &browser,
        Locator::Css(&changes),
        &format!("Changes: {expected}"),
    )
    .await?;
    action::open(&browser, "/patches/6.4.0.2").await?;
    check::text_is(&browser, find::DETAILS_CHANGES, expected).await?;
    browser.close().await
}

#[tokio::test]
async fn the_update_wizard_downloads_the_chosen_patch_with_a_progress_bar() -> anyhow::Result<()> {
    let vendor = Vendor::new();
    // Slow enough to watch: the package (about 260 KB) takes a few seconds.
    let tmc = Tmc::start_with_rate(&vendor, Some(64 * 1024)).await?;
    tmc.publish(vendor.package(1).title("Stability fixes"))
        .await?;
    tmc.publish(vendor.package(2).title("Faster reports"))
        .await?;
    let browser = start(&vendor, &tmc).await?;
    action::login(&browser, "admin", ADMIN_PASSWORD).await?;

    action::click(&browser, find::UPDATE_LINK, "Update…").await?;
    check::at_path(&browser, "/admin/patches/update").await?;
    check::text_contains(
        &browser,
        find::UPDATE_PATCH_FILE,
        "SMS 6.4.0 Patch 2 (build 6.4.0.9202) (recommended)",
    )
    .await?;
    check::text_contains(&browser, find::RELEASE_NOTES, "Faster reports").await?;

    action::click(&browser, find::UPDATE_DOWNLOAD, "Download").await?;
    check::visible(
        &browser,
        find::UPDATE_DOWNLOAD_PROGRESS,
        "the download progress bar",
    )
    .await?;
    check::text_contains(&browser, find::UPDATE_DOWNLOAD_STATUS, "Downloading").await?;
    check::text_contains(&browser, find::UPDATE_DOWNLOAD_STATUS, "ready to install").await?;
    check::gone(&browser, find::UPDATE_DOWNLOAD_PROGRESS, "the progress bar").await?;

    // The panel says the same, and the details page shows the notes.
    action::open(&browser, "/admin/general").await?;
    check::text_is(
        &browser,
        Locator::Css(&find::patch_state("6.4.0.2")),
        "Downloaded",
    )
    .await?;
    action::open(&browser, "/patches/6.4.0.2").await?;
    check::text_is(
        &browser,
        find::DETAILS_NAME,
        "SMS 6.4.0 Patch 2 (build 6.4.0.9202)",
    )
    .await?;
    check::text_contains(&browser, find::DETAILS_STATE, "Downloaded").await?;
    check::text_contains(&browser, find::RELEASE_NOTES, "Faster reports").await?;
    browser.close().await
}

#[tokio::test]
async fn the_patch_notice_appears_live_while_notifications_are_enabled() -> anyhow::Result<()> {
    let vendor = Vendor::new();
    let tmc = Tmc::start(&vendor).await?;
    let browser = start(&vendor, &tmc).await?;
    action::login(&browser, "admin", ADMIN_PASSWORD).await?;
    check::visible(&browser, find::TMC_CONNECTED, "the TMC status Connected").await?;
    check::absent(
        &browser,
        find::PATCH_NOTICE,
        find::NOTIFICATIONS_STATUS,
        "the patch notice (no patch is known)",
    )
    .await?;
    // A second window of the same client, on the audit log.
    let first = browser.client.window().await?;
    let second = browser.client.new_window(true).await?;
    browser
        .client
        .switch_to_window(second.handle.clone())
        .await?;
    action::open(&browser, "/admin/audit").await?;
    check::visible(&browser, find::HEADER, "the header").await?;

    // The TMC gets a patch and the server's own sync records it: both windows are told.
    tmc.publish(vendor.package(4).title("Index rebuild"))
        .await?;
    browser.state.tmc.wake();
    check::text_contains(&browser, find::PATCH_NOTICE, "SMS 6.4.0 Patch 4").await?;
    browser.client.close_window().await?;
    browser.client.switch_to_window(first).await?;
    check::text_contains(&browser, find::PATCH_NOTICE, "SMS 6.4.0 Patch 4").await?;

    // Disabled: the notice goes away in every open client; enabled again: it is back.
    action::click(&browser, find::NOTIFICATIONS_TOGGLE, "Disable").await?;
    check::gone(&browser, find::PATCH_NOTICE, "the patch notice").await?;
    action::click(&browser, find::NOTIFICATIONS_TOGGLE, "Enable").await?;
    check::visible(&browser, find::PATCH_NOTICE, "the patch notice").await?;

    // A reload keeps showing the known patch.
    action::reload(&browser).await?;
    check::text_contains(&browser, find::PATCH_NOTICE, "Patch 4").await?;
    browser.close().await
}

#[tokio::test]
async fn the_history_shows_its_newest_page_and_older_ones_a_page_at_a_time() -> anyhow::Result<()> {
    let browser = Browser::start().await?;
    testkit::seed::history(&browser.state.db, 30).await?;
    action::login(&browser, "admin", ADMIN_PASSWORD).await?;

    let rows = Locator::Css(find::HISTORY_ROWS);
    check::count_at_least(&browser, rows, 20).await?;
    check::text_is(&browser, find::HISTORY_COUNT, "20 of 30 shown").await?;
    check::text_is(&browser, find::HISTORY_OLDER, "Show older (10 more)").await?;
    action::click(&browser, find::HISTORY_OLDER, "Show older").await?;
    check::text_is(&browser, find::HISTORY_COUNT, "30 of 30 shown").await?;
    check::gone(&browser, find::HISTORY_OLDER, "Show older").await?;
    let shown = browser.client.find_all(rows).await?.len();
    anyhow::ensure!(shown == 30, "{shown} history rows shown, 30 expected");
    browser.close().await
}

/// Starts a server that warns below `warn_free_bytes` free in its data dir; returns the browser
/// and the data dir as the panel names it.
async fn start_warning_below(warn_free_bytes: u64) -> anyhow::Result<(Browser, String)> {
    let mut data_dir = String::new();
    let browser = Browser::start_with(|config| {
        config.storage.warn_free_bytes = Some(warn_free_bytes);
        data_dir = config.storage.data_dir.display().to_string();
    })
    .await?;
    Ok((browser, data_dir))
}

#[tokio::test]
async fn the_panel_warns_when_the_data_dir_has_less_free_than_the_server_wants()
-> anyhow::Result<()> {
    // More than any disk has free: the server finds the space low on any machine (and says it
    // warns below the disk's size).
    let (browser, data_dir) = start_warning_below(u64::MAX).await?;
    action::login(&browser, "admin", ADMIN_PASSWORD).await?;

    check::text_contains(
        &browser,
        find::STORAGE_FREE,
        &format!("Data dir {data_dir}: "),
    )
    .await?;
    check::text_contains(&browser, find::STORAGE_FREE, " free of ").await?;
    check::text_contains(&browser, find::STORAGE_LOW, "Low disk space. Only ").await?;
    check::text_contains(
        &browser,
        find::STORAGE_LOW,
        &format!("free in the data dir {data_dir} (the server warns below "),
    )
    .await?;
    check::text_contains(
        &browser,
        find::STORAGE_LOW,
        "Downloads, imports and installs are refused once they do not fit: free space on the \
         server.",
    )
    .await?;
    check::attribute_contains(&browser, find::STORAGE_LOW, "role", "status").await?;

    // The warning fits a laptop's window and a phone's, and passes axe-core.
    for size in [WIDE, NARROW] {
        tour::resize(&browser, size).await?;
        check::visible(&browser, find::STORAGE_LOW, "the low-space warning").await?;
        let page = format!(
            "the panel with the low-space warning at {} x {}",
            size.0, size.1
        );
        a11y::audit(&browser, &page).await?;
        tour::no_sideways_scroll(&browser, &page).await?;
        tour::nothing_spills_out_of_a_card(&browser, &page).await?;
    }
    browser.close().await
}

#[tokio::test]
async fn the_panel_shows_the_free_space_without_a_warning_while_there_is_enough()
-> anyhow::Result<()> {
    // One byte: every disk has more free.
    let (browser, data_dir) = start_warning_below(1).await?;
    action::login(&browser, "admin", ADMIN_PASSWORD).await?;

    check::text_contains(
        &browser,
        find::STORAGE_FREE,
        &format!("Data dir {data_dir}: "),
    )
    .await?;
    check::text_contains(&browser, find::STORAGE_FREE, " free of ").await?;
    check::absent(
        &browser,
        find::STORAGE_LOW,
        find::STORAGE_FREE,
        "the low-space warning (there is space enough)",
    )
    .await?;
    browser.close().await
}
