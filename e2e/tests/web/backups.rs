//! Admin > Backups in the browser: an admin takes a backup on demand, sees it listed with its
//! Download link, and deletes it after confirming; an operator sees the list but none of the
//! controls.

use anyhow::{Context, ensure};
use backend::storage::backup::Request;
use e2e::{ADMIN_PASSWORD, Browser, a11y, action, check, find, keys};
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
        "Only admins can take, download or delete backups.",
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
        "a Download link or Delete button",
    )
    .await?;
    browser.close().await
}
