//! The HA cluster panel in headless Chromium, through the documented procedure for a patch with
//! database changes: the install page refuses it while clustering is enabled; the admin
//! disables clustering, patches each node, is refused to re-establish while the levels differ,
//! and re-establishes once they match. The passive node sends its clients to the active one.

use e2e::{ADMIN_PASSWORD, Browser, Vendor, action, check, cluster, find};
use fantoccini::Locator;

/// Imports `file` through the Update wizard's import step.
async fn import(browser: &Browser, file: &std::path::Path) -> anyhow::Result<()> {
    action::open(browser, "/admin/patches/import").await?;
    action::choose_file(browser, file).await?;
    action::upload_and_verify(browser).await?;
    check::visible(browser, find::IMPORT_RESULT, "the imported patch").await
}

/// Installs patch 6.4.0.3 from its confirmation page and waits until it is done.
async fn install(browser: &Browser) -> anyhow::Result<()> {
    action::open(browser, "/admin/patches/install/6.4.0.3").await?;
    check::enabled(browser, find::INSTALL_CONFIRM, "the Install button").await?;
    action::click(browser, find::INSTALL_CONFIRM, "Install").await?;
    check::visible(
        browser,
        Locator::Css(&find::stage_ok("done")),
        "the done stage",
    )
    .await
}

/// Asks for a cluster action and confirms it.
async fn cluster_action(browser: &Browser, button: Locator<'_>, name: &str) -> anyhow::Result<()> {
    action::click(browser, button, name).await?;
    check::visible(browser, find::CLUSTER_CONFIRM, "the confirmation").await?;
    action::click(browser, find::CLUSTER_CONFIRM_YES, "Yes").await
}

#[tokio::test]
async fn the_cluster_panel_walks_through_the_procedure_for_a_database_patch() -> anyhow::Result<()>
{
    let vendor = Vendor::new();
    let Some(pair) = cluster::start(&vendor).await? else {
        return Ok(());
    };
    let a = &pair.a;
    let package = vendor
        .package(3)
        .title("Schema update")
        .release_notes("## Schema\n\n- New tables.")
        .database_changes()
        .write_to(&vendor.path("sms-6.4.0.3-schema.pkg"));
    action::login(a, "admin", ADMIN_PASSWORD).await?;

    // The panel: this node active, the peer passive, clustering enabled.
    action::click(a, find::NAV_CLUSTER, "HA cluster").await?;
    check::visible(a, find::CLUSTER_ENABLED, "clustering enabled").await?;
    let active_a = find::cluster_card("#cluster-node", "active", 0);
    let passive_b = find::cluster_card("#cluster-peer", "passive", 0);
    check::visible(a, Locator::Css(&active_a), "this node, active").await?;
    check::visible(a, Locator::Css(&passive_b), "the peer, passive").await?;
    check::text_contains(a, find::CLUSTER_PEER, "sms-b").await?;
    check::text_contains(a, find::CLUSTER_PROCEDURE, "Disable clustering").await?;

    // The passive node sends its clients to the active one.
    let b_window = Browser::window_on(&pair.b).await?;
    action::login(&b_window, "admin", ADMIN_PASSWORD).await?;
    check::text_contains(&b_window, find::PASSIVE_NODE, "passive node").await?;
    check::text_contains(&b_window, find::ACTIVE_NODE_LINK, &a.url("/")).await?;

    // The install page refuses the database patch before anyone clicks Install.
    import(a, &package).await?;
    action::open(a, "/admin/patches/install/6.4.0.3").await?;
    check::text_contains(
        a,
        find::INSTALL_HA_BLOCKED,
        "cannot be installed while HA clustering is enabled",
    )
    .await?;
    check::text_contains(a, find::INSTALL_HA_BLOCKED, "re-establish the cluster").await?;
    check::disabled(a, find::INSTALL_CONFIRM, "the Install button").await?;

    // 1. Disable clustering: both nodes serve on their own.
    action::click(a, find::NAV_CLUSTER, "HA cluster").await?;
    cluster_action(a, find::CLUSTER_DISABLE, "Disable clustering…").await?;
    check::visible(a, find::CLUSTER_DISABLED, "clustering disabled").await?;
    check::gone(&b_window, find::PASSIVE_NODE, "the passive node banner").await?;

    // 2. Patch this node; re-establishing is refused while the levels differ.
    install(a).await?;
    action::click(a, find::NAV_CLUSTER, "HA cluster").await?;
    check::text_contains(a, find::CLUSTER_MISMATCH, "patch levels differ").await?;
    cluster_action(a, find::CLUSTER_ESTABLISH, "Re-establish the cluster…").await?;
    check::text_contains(a, find::CLUSTER_ERROR, "sms-b runs level 0").await?;
    check::visible(a, find::CLUSTER_DISABLED, "clustering still disabled").await?;

    // 3. Patch the other node in its own window, then re-establish.
    import(&b_window, &package).await?;
    install(&b_window).await?;
    action::reload(a).await?;
    check::visible(
        a,
        Locator::Css(&find::cluster_card("#cluster-peer", "standalone", 3)),
        "the peer at Patch 3",
    )
    .await?;
    check::absent(
        a,
        find::CLUSTER_MISMATCH,
        find::CLUSTER_PEER,
        "the mismatch",
    )
    .await?;
    cluster_action(a, find::CLUSTER_ESTABLISH, "Re-establish the cluster…").await?;
    check::visible(a, find::CLUSTER_ENABLED, "clustering enabled again").await?;
    check::visible(
        a,
        Locator::Css(&find::cluster_card("#cluster-node", "active", 3)),
        "this node active at Patch 3",
    )
    .await?;
    check::visible(
        a,
        Locator::Css(&find::cluster_card("#cluster-peer", "passive", 3)),
        "the peer passive at Patch 3",
    )
    .await?;
    check::text_contains(&b_window, find::PASSIVE_NODE, "passive node").await?;

    // Every step is in the audit log.
    action::click(a, find::NAV_AUDIT, "Audit log").await?;
    check::text_contains(a, find::AUDIT_PAGE, "cluster_establish").await?;
    check::text_contains(a, find::AUDIT_PAGE, "cluster_disable").await?;
    b_window.close().await?;
    Ok(())
}
