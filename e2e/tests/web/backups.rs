//! Admin > Backups in the browser: an admin takes a backup on demand, sees it listed with its
//! Download link, and deletes it after confirming; restores one after confirming, following the
//! job through the server's restart; an operator sees the list but none of the controls. The
//! rollback confirmation offers to restore the backup taken before the installed patch's
//! install, when one is kept.

use anyhow::{Context, ensure};
use backend::storage::backup::Request;
use chrono::Timelike;
use e2e::{ADMIN_PASSWORD, Browser, Vendor, a11y, action, check, find, keys};
use fantoccini::Locator;
use fantoccini::key::Key;
use shared::Role;
use shared::backup::BackupReason;

#[tokio::test]
async fn an_admin_backs_up_on_demand_and_deletes_the_backup_after_confirming() -> anyhow::Result<()>
{
    // Arrange: a fresh server, without backups; the admin is logged in.
    let browser = Browser::start().await?;
    action::login(&browser, "admin", ADMIN_PASSWORD).await?;

    // Act: the admin opens Admin > Backups.
    action::click(&browser, find::NAV_BACKUPS, "Backups").await?;

    // Assert: the list is empty and says what the button does; the folder is named.
    check::at_path(&browser, "/admin/backups").await?;
    check::text_contains(&browser, find::NO_BACKUPS, "No backups yet.").await?;
    check::text_contains(&browser, find::NO_BACKUPS, "\"Back up now\" copies").await?;
    check::text_contains(
        &browser,
        find::BACKUPS_RESTORE_HOW,
        "stop the SMS server and run sms backup restore NAME on it",
    )
    .await?;
    let dir = browser.state.backups.dir();
    check::text_is(
        &browser,
        find::BACKUPS_DIR,
        &format!("Kept on the server in {dir}."),
    )
    .await?;

    // Act: the admin presses "Back up now".
    check::enabled(&browser, find::BACKUP_NOW, "Back up now").await?;
    action::click(&browser, find::BACKUP_NOW, "Back up now").await?;

    // Assert: the job ends well and the backup shows without a reload, on demand, with a
    // Download link to its file; the button can be pressed again.
    check::text_is(&browser, find::BACKUP_STATUS, "Backup taken and verified.").await?;
    check::text_is(
        &browser,
        Locator::Css(&find::backup_reason("manual")),
        "On demand",
    )
    .await?;
    check::enabled(&browser, find::BACKUP_NOW, "Back up now").await?;
    let download = find::backup_download("manual");
    check::visible(&browser, Locator::Css(&download), "the Download link").await?;
    let href = browser
        .client
        .find(Locator::Css(&download))
        .await?
        .attr("href")
        .await?
        .context("the Download link has no href")?;
    let taken = browser.state.backups.list().await?;
    ensure!(
        taken.len() == 1,
        "the server has {} backups, not 1",
        taken.len()
    );
    ensure!(
        href.ends_with(&format!("/api/v1/backups/{}/download", taken[0].id)),
        "the Download link goes to {href}"
    );

    // Act: the admin presses Delete…, thinks better of it (Escape), then deletes it.
    let delete = find::backup_delete("manual");
    action::click(&browser, Locator::Css(&delete), "Delete…").await?;
    check::text_contains(
        &browser,
        find::BACKUP_CONFIRM,
        "is removed from the server for good",
    )
    .await?;
    keys::focus_is_on(&browser, find::BACKUP_CONFIRM_YES, "Delete for good").await?;
    a11y::audit(&browser, "backups, asking before a deletion").await?;
    keys::press(&browser, Key::Escape).await?;
    check::gone(&browser, find::BACKUP_CONFIRM, "the question").await?;
    keys::focus_is_on(&browser, Locator::Css(&delete), "Delete…").await?;
    ensure!(
        browser.state.backups.list().await?.len() == 1,
        "Escape deleted the backup"
    );
    action::click(&browser, Locator::Css(&delete), "Delete…").await?;
    action::click(&browser, find::BACKUP_CONFIRM_YES, "Delete for good").await?;

    // Assert: the list is empty again, here and on the server.
    check::text_contains(&browser, find::NO_BACKUPS, "No backups yet.").await?;
    check::text_is(
        &browser,
        find::BACKUP_DELETED,
        &format!("The backup {} was deleted.", taken[0].id),
    )
    .await?;
    check::gone(&browser, find::BACKUP_CONFIRM, "the question").await?;
    keys::focus_is_on(&browser, find::BACKUPS_HEADING, "the list's heading").await?;
    let left = browser.state.backups.list().await?;
    ensure!(
        left.is_empty(),
        "the server still has {} backups",
        left.len()
    );
    browser.close().await
}

#[tokio::test]
async fn an_operator_sees_the_backups_but_cannot_take_download_or_delete_them() -> anyhow::Result<()>
{
    // Arrange: one backup taken on demand; an operator logged in.
    let browser = Browser::start().await?;
    let request = Request {
        reason: BackupReason::Manual,
        taken_by: "admin".into(),
        patch: None,
    };
    // Boxed: the backup's future is large, and the test's thread has a small stack.
    Box::pin(browser.state.backups.take(request, None)).await?;
    browser
        .add_user("olga", Role::Operator, "olga-password")
        .await?;
    action::login(&browser, "olga", "olga-password").await?;

    // Act: the operator opens Admin > Backups.
    action::click(&browser, find::NAV_BACKUPS, "Backups").await?;

    // Assert: the backup is listed, with neither button nor link; the page says why.
    check::text_is(
        &browser,
        Locator::Css(&find::backup_reason("manual")),
        "On demand",
    )
    .await?;
    check::text_contains(
        &browser,
        find::BACKUPS_ADMINS_ONLY,
        "Only admins can take, download, restore or delete backups.",
    )
    .await?;
    check::absent(
        &browser,
        find::BACKUP_NOW,
        find::BACKUPS_TABLE,
        "Back up now",
    )
    .await?;
    check::absent(
        &browser,
        find::BACKUP_CONTROLS,
        find::BACKUPS_TABLE,
        "a Download link, Restore or Delete button",
    )
    .await?;
    browser.close().await
}

#[tokio::test]
async fn an_admin_restores_a_backup_and_the_setting_changed_since_comes_back() -> anyhow::Result<()>
{
    // Arrange: patch notifications are on when the admin takes a backup on demand, and turned
    // off afterwards (the setting is in the database the backup holds).
    let browser = Browser::start().await?;
    action::login(&browser, "admin", ADMIN_PASSWORD).await?;
    check::text_is(&browser, find::NOTIFICATIONS_STATUS, "Enabled").await?;
    action::click(&browser, find::NAV_BACKUPS, "Backups").await?;
    action::click(&browser, find::BACKUP_NOW, "Back up now").await?;
    check::text_is(&browser, find::BACKUP_STATUS, "Backup taken and verified.").await?;
    let taken = browser.state.backups.list().await?;
    ensure!(
        taken.len() == 1,
        "the server has {} backups, not 1",
        taken.len()
    );
    let id = taken[0].id.clone();
    action::click(&browser, find::NAV_GENERAL, "General").await?;
    action::click(&browser, find::NOTIFICATIONS_TOGGLE, "Disable").await?;
    check::text_is(&browser, find::NOTIFICATIONS_STATUS, "Disabled").await?;

    // Act: the admin asks to restore the backup, thinks better of it (Escape), asks again.
    action::click(&browser, find::NAV_BACKUPS, "Backups").await?;
    let restore = find::backup_restore(&id);
    action::click(&browser, Locator::Css(&restore), "Restore…").await?;
    keys::focus_is_on(&browser, find::RESTORE_CANCEL, "Cancel").await?;
    keys::press(&browser, Key::Escape).await?;
    check::gone(&browser, find::RESTORE_DIALOG, "the question").await?;
    keys::focus_is_on(&browser, Locator::Css(&restore), "Restore…").await?;
    action::click(&browser, Locator::Css(&restore), "Restore…").await?;

    // Assert: the question says what returns, what is lost and kept, and the restart; the
    // backup is of the installed level, so the server does not switch.
    for words in [
        "The database returns to the moment the backup was taken",
        "Everything written to the database since is lost",
        "Kept as they are: accounts and sessions, the audit log",
        "The SMS server application restarts.",
        "All client connections are stopped.",
        "Managed devices keep running",
    ] {
        check::text_contains(&browser, find::RESTORE_EFFECTS, words).await?;
    }
    check::absent(
        &browser,
        find::RESTORE_SWITCH,
        find::RESTORE_EFFECTS,
        "a switch of level",
    )
    .await?;
    a11y::audit(&browser, "backups, asking before a restore").await?;

    // Act: the admin restores it.
    action::watch_server_link(&browser).await?;
    action::click(&browser, find::RESTORE_CONFIRM, "Restore now").await?;

    // Assert: the page follows the job through the restart to its end.
    check::server_link_seen(&browser, "restarting").await?;
    check::text_is(
        &browser,
        find::JOB_STATUS,
        &format!("The backup {id} was restored."),
    )
    .await?;
    for stage in ["restore_database", "restart", "done"] {
        check::visible(&browser, Locator::Css(&find::stage_ok(stage)), stage).await?;
    }
    check::gone(&browser, find::RESTORE_DIALOG, "the question").await?;

    // Assert: the setting written since the backup is back to what it was; the admin is
    // still logged in (sessions are kept).
    action::click(&browser, find::NAV_GENERAL, "General").await?;
    check::text_is(&browser, find::NOTIFICATIONS_STATUS, "Enabled").await?;
    action::reload(&browser).await?;
    check::text_is(&browser, find::NOTIFICATIONS_STATUS, "Enabled").await?;
    check::text_contains(&browser, find::CURRENT_USER, "admin").await?;
    browser.close().await
}

#[tokio::test]
async fn the_rollback_offers_to_restore_only_the_backup_taken_before_the_installed_patch()
-> anyhow::Result<()> {
    // Arrange: a server that trusts the test vendor, with a maintenance window later today;
    // patch 3 changes the database (its install takes a backup first), patch 2 does not.
    let vendor = Vendor::new();
    let browser = Browser::start_with(|config| vendor.trust(config)).await?;
    action::login(&browser, "admin", ADMIN_PASSWORD).await?;
    action::click(&browser, find::NAV_MAINTENANCE, "Maintenance").await?;
    let hour = (chrono::Utc::now().hour() + 12) % 24;
    action::add_maintenance_window(&browser, &format!("0 {hour} * * *"), 60, "UTC").await?;
    action::import_patch(&browser, &vendor.package(3).database_changes().write()).await?;
    action::import_patch(&browser, &vendor.package(2).write()).await?;

    // Act: the admin installs patch 3, then opens the rollback confirmation.
    action::install_patch(&browser, "6.4.0.3").await?;
    action::open(&browser, "/admin/patches/rollback").await?;

    // Assert: it offers to restore the backup its install took, saying what that loses and
    // keeps, and what a rollback without it does.
    for words in [
        "Restore the database backup taken before Patch 3 was installed (",
        "everything written to it since is lost",
        "Kept as they are: accounts and sessions",
        "the patch's database migrations are undone and the data stays",
    ] {
        check::text_contains(&browser, find::ROLLBACK_RESTORE, words).await?;
    }
    check::enabled(&browser, find::ROLLBACK_NEXT_WINDOW, "In the next window").await?;

    // Act: the admin ticks it, which a scheduled rollback cannot do, and rolls back now.
    action::click(
        &browser,
        find::ROLLBACK_RESTORE_BACKUP,
        "the restore checkbox",
    )
    .await?;
    check::disabled(&browser, find::ROLLBACK_NEXT_WINDOW, "In the next window").await?;
    action::click(&browser, find::ROLLBACK_CONFIRM, "Roll back now").await?;

    // Assert: the rollback restored the backup, through the restart.
    check::text_contains(&browser, find::JOB_STATUS, "Rolled back").await?;
    check::visible(
        &browser,
        Locator::Css(&find::stage_ok("restore_database")),
        "the restore_database stage done",
    )
    .await?;
    check::text_is(&browser, find::SERVER_PATCH_LEVEL, "no patch").await?;

    // Act: the admin installs patch 2, whose install takes no backup, and opens the rollback
    // confirmation again.
    action::install_patch(&browser, "6.4.0.2").await?;
    action::open(&browser, "/admin/patches/rollback").await?;

    // Assert: nothing is offered: the backup kept is of patch 3's install.
    check::text_contains(
        &browser,
        find::ROLLBACK_RESTORE_NONE,
        "No database backup taken before Patch 2 was installed is kept",
    )
    .await?;
    check::absent(
        &browser,
        find::ROLLBACK_RESTORE_BACKUP,
        find::ROLLBACK_RESTORE_NONE,
        "the restore checkbox",
    )
    .await?;
    let kept = browser.state.backups.list().await?;
    ensure!(
        kept.iter()
            .any(|backup| backup.reason == BackupReason::BeforeInstall
                && backup.patch.as_deref() == Some("6.4.0.3")),
        "the backup taken before patch 3's install is gone: {kept:?}"
    );
    browser.close().await
}
