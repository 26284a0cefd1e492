//! The TMC's TUF feed in the panel: the trusted root's version and the timestamp's age once a
//! check accepted it, and, when the feed is refused, the code beside the reason and the two
//! clocks to compare.

use e2e::tmc::Tmc;
use e2e::{ADMIN_PASSWORD, Vendor, action, check, find};

#[tokio::test]
async fn the_panel_shows_the_feeds_root_and_age_and_a_frozen_feed_with_its_code_and_clocks()
-> anyhow::Result<()> {
    let vendor = Vendor::with_tuf().await;
    backend::package::tuf::rotate_root(&vendor.tuf_keys(), chrono::Utc::now()).await?;
    let tmc = Tmc::start_feed(&vendor).await?;
    tmc.publish(vendor.package(2).title("Faster reports"))
        .await?;
    let browser = tmc.browser(&vendor).await?;
    action::login(&browser, "admin", ADMIN_PASSWORD).await?;

    // The server trusted version 1 and followed the vendor's rotation.
    check::visible(&browser, find::TMC_CONNECTED, "the TMC status Connected").await?;
    check::text_contains(&browser, find::TMC_FEED, "root version 2").await?;
    check::text_contains(&browser, find::TMC_FEED, "expires in").await?;
    check::absent(
        &browser,
        find::TMC_CODE,
        find::TMC_FEED,
        "an error code while connected",
    )
    .await?;

    // The TMC now serves a newer state signed two days ago: its timestamp has expired.
    tmc.sign_feed_at(chrono::Utc::now() - chrono::Duration::days(2))
        .await?;
    action::click(&browser, find::TMC_CHECK, "Check now").await?;
    check::text_is(&browser, find::TMC_CODE, "metadata_expired").await?;
    check::text_contains(&browser, find::TMC_STATUS, "has expired").await?;
    check::text_contains(&browser, find::TMC_CLOCK, "Check the server's clock").await?;
    browser.close().await
}
