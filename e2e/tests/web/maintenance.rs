//! Operations in the browser: a maintenance window set on Admin > Maintenance, an install
//! scheduled for it from the install page, seen in the panel's history and on the Maintenance
//! page, and cancelled; a webhook added on Admin > Notifications whose "Send a test" arrives
//! signed at a receiver the test runs, and shows delivered in the log.

use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::Timelike;
use e2e::tmc::Tmc;
use e2e::webhook::{Received, WebhookReceiver};
use e2e::{ADMIN_PASSWORD, Vendor, action, check, find};
use fantoccini::Locator;
use ring::hmac;

/// Checks a webhook's `webhook-signature` the Standard Webhooks way: one of its `v1,<base64>`
/// signatures is the HMAC-SHA256, keyed with the secret's base64 after `whsec_`, of
/// `{webhook-id}.{webhook-timestamp}.{body}`.
fn verify_signature(request: &Received, secret: &str) -> anyhow::Result<()> {
    let id = request
        .header("webhook-id")
        .context("no webhook-id header")?;
    let timestamp = request
        .header("webhook-timestamp")
        .context("no webhook-timestamp header")?;
    let signatures = request
        .header("webhook-signature")
        .context("no webhook-signature header")?;
    timestamp
        .parse::<i64>()
        .with_context(|| format!("webhook-timestamp {timestamp:?} is not Unix seconds"))?;
    let key = secret
        .strip_prefix(shared::notify::SECRET_PREFIX)
        .with_context(|| format!("the secret {secret:?} does not start with whsec_"))?;
    let key = BASE64
        .decode(key)
        .context("the secret after whsec_ is not base64")?;
    let key = hmac::Key::new(hmac::HMAC_SHA256, &key);
    let mut signed = format!("{id}.{timestamp}.").into_bytes();
    signed.extend_from_slice(&request.body);
    for signature in signatures.split(' ') {
        let Some(encoded) = signature.strip_prefix("v1,") else {
            continue;
        };
        let Ok(tag) = BASE64.decode(encoded) else {
            continue;
        };
        if hmac::verify(&key, &signed, &tag).is_ok() {
            return Ok(());
        }
    }
    bail!(
        "no signature in {signatures:?} matches HMAC-SHA256 of `{id}.{timestamp}.<body>` with the secret"
    )
}

#[tokio::test]
async fn an_admin_schedules_an_install_for_the_next_window_and_cancels_it() -> anyhow::Result<()> {
    // Arrange: Patch 2 downloaded, no window yet. The window opens every day twelve hours
    // from now (at a whole hour, in UTC), so it is not open while the test runs.
    let vendor = Vendor::new();
    let tmc = Tmc::start(&vendor).await?;
    tmc.publish(vendor.package(2).title("Faster reports"))
        .await?;
    let browser = tmc.browser(&vendor).await?;
    action::login(&browser, "admin", ADMIN_PASSWORD).await?;
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
    let hour = (chrono::Utc::now().hour() + 12) % 24;
    let schedule = format!("0 {hour} * * *");

    // Act: the admin adds the window on Admin > Maintenance.
    action::click(&browser, find::NAV_MAINTENANCE, "Maintenance").await?;
    check::visible(&browser, find::NO_WINDOWS, "the note that no window is set").await?;
    action::add_maintenance_window(&browser, &schedule, 60, "UTC").await?;

    // Assert: the page shows the window and its next openings, each an hour long.
    check::text_contains(&browser, find::MAINTENANCE_WINDOWS, "1 hour").await?;
    check::text_contains(&browser, find::MAINTENANCE_WINDOWS, "UTC").await?;
    check::count_at_least(&browser, find::MAINTENANCE_OPENINGS, 2).await?;
    let opens = format!("T{hour:02}:00:00");
    check::attribute_contains(&browser, find::FIRST_OPENING, "data-start", &opens).await?;
    let closes = format!("T{:02}:00:00", (hour + 1) % 24);
    check::attribute_contains(&browser, find::FIRST_OPENING, "data-end", &closes).await?;
    check::visible(
        &browser,
        find::SCHEDULED_NONE,
        "the note that nothing is scheduled",
    )
    .await?;

    // Act: the admin opens the install page of Patch 2 and chooses the next window.
    action::click(&browser, find::NAV_GENERAL, "General").await?;
    action::click(
        &browser,
        Locator::Css(&find::patch_install("6.4.0.2")),
        "Install…",
    )
    .await?;
    check::at_path(&browser, "/admin/patches/install/6.4.0.2").await?;
    check::text_contains(
        &browser,
        find::INSTALL_NEXT_WINDOW,
        "In the next window (opens",
    )
    .await?;
    action::click(&browser, find::INSTALL_NEXT_WINDOW, "In the next window").await?;

    // Assert: the install waits for the window, in the panel's history and on the Maintenance
    // page; nothing was installed.
    check::text_contains(&browser, find::INSTALL_SCHEDULED, "Scheduled for").await?;
    check::visible(
        &browser,
        Locator::Css("#job-status[data-state='scheduled']"),
        "the job's state Scheduled",
    )
    .await?;
    action::click(&browser, find::JOB_DONE_LINK, "Back to General").await?;
    let scheduled_row = find::history_row("install", "scheduled");
    check::text_contains(&browser, Locator::Css(&scheduled_row), "Scheduled for").await?;
    check::visible(
        &browser,
        Locator::Css(&find::history_cancel("install")),
        "the history's Cancel button",
    )
    .await?;
    check::text_contains(&browser, find::INSTALLED_PATCH, "No patch installed").await?;
    action::click(&browser, find::NAV_MAINTENANCE, "Maintenance").await?;
    check::text_contains(&browser, find::MAINTENANCE_SCHEDULED, "Install of Patch 2").await?;
    check::visible(&browser, find::SCHEDULED_FOR, "when the install starts").await?;

    // Act: the admin cancels it.
    action::click(&browser, find::SCHEDULED_CANCEL, "Cancel it").await?;

    // Assert: nothing waits any more, and the history says the install was cancelled.
    check::visible(
        &browser,
        find::SCHEDULED_NONE,
        "the note that nothing is scheduled",
    )
    .await?;
    action::click(&browser, find::NAV_GENERAL, "General").await?;
    check::visible(
        &browser,
        Locator::Css(&find::history_row("install", "cancelled")),
        "the cancelled install in the history",
    )
    .await?;
    check::gone(
        &browser,
        Locator::Css(&scheduled_row),
        "the scheduled install in the history",
    )
    .await?;
    check::text_contains(&browser, find::INSTALLED_PATCH, "No patch installed").await?;
    browser.close().await
}

#[tokio::test]
async fn an_admin_adds_a_webhook_and_its_test_arrives_signed_and_delivered() -> anyhow::Result<()> {
    // Arrange: a receiver on loopback, and the console.
    let receiver = WebhookReceiver::start().await?;
    let browser = e2e::Browser::start().await?;
    action::login(&browser, "admin", ADMIN_PASSWORD).await?;
    action::click(&browser, find::NAV_NOTIFICATIONS, "Notifications").await?;
    check::visible(&browser, find::NOTIFICATIONS_PAGE, "the Notifications page").await?;

    // Act: the admin adds a webhook without a secret, and sends it a test.
    let secret = action::add_webhook(&browser, &receiver.url).await?;
    check::text_contains(
        &browser,
        find::TARGET_SECRET_ONCE,
        "will not be shown again",
    )
    .await?;
    action::click(
        &browser,
        Locator::Css(&find::target_test(&receiver.url)),
        "Send a test",
    )
    .await?;

    // Assert: the receiver gets a signed JSON POST of the test event...
    let request = receiver.first().await?;
    assert_eq!(request.method, "POST", "the webhook is a POST");
    assert_eq!(request.path, "/hooks/sms");
    assert!(
        request
            .header("content-type")
            .is_some_and(|kind| kind.starts_with("application/json")),
        "the body is JSON: {:?}",
        request.header("content-type")
    );
    verify_signature(&request, &secret)?;
    let body: serde_json::Value =
        serde_json::from_slice(&request.body).context("the body is not JSON")?;
    assert_eq!(body["type"], "test", "the event: {body}");
    assert!(
        body["data"]["summary"].is_string(),
        "the event has a summary: {body}"
    );

    // ...and the page's delivery log shows it delivered (the page looks again by itself).
    check::visible(
        &browser,
        Locator::Css(&find::delivery_row("test", "delivered")),
        "the delivered test in the delivery log",
    )
    .await?;
    check::text_contains(&browser, find::NOTIFICATION_DELIVERIES, &receiver.url).await?;
    assert_eq!(
        receiver.received().await.len(),
        1,
        "one test, delivered once"
    );
    browser.close().await
}
