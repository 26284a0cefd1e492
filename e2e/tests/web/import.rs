//! The Update wizard's import step in headless Chromium: an admin uploads patch files from
//! "storage media" (files on this machine) and sees what the server verified or why it refused.

use e2e::{ADMIN_PASSWORD, Browser, Vendor, action, check, find};
use shared::Role;
use testkit::vendor::damage_payload;

/// Release notes with a normal heading and two attempts to run code in the admin's browser.
const HOSTILE_NOTES: &str = "## Fixes\n\n\
    - CVE-2026-0001: a crafted request could crash the event collector.\n\n\
    <script>window.__pwned = 1</script>\n\n\
    <img src=x onerror=\"window.__pwned = 2\">\n";

const PATCH_NAME: &str = "SMS 6.4.0 Patch 3 (build 6.4.0.9203)";

/// The file of SMS 6.4.0 Patch 3 from `vendor`, with `release_notes`.
fn patch_3(vendor: &Vendor, release_notes: &str) -> std::path::PathBuf {
    vendor
        .package(3)
        .title("Security fixes")
        .release_notes(release_notes)
        .write()
}

#[tokio::test]
async fn the_admin_imports_a_patch_file_and_reads_its_release_notes_safely() -> anyhow::Result<()> {
    let vendor = Vendor::new();
    let package = patch_3(&vendor, HOSTILE_NOTES);
    let browser = Browser::start_with(|config| vendor.trust(config)).await?;
    action::login(&browser, "admin", ADMIN_PASSWORD).await?;

    action::click(&browser, find::IMPORT_LINK, "the Import a patch file link").await?;
    check::at_path(&browser, "/admin/patches/import").await?;
    check::disabled(
        &browser,
        find::IMPORT_SUBMIT,
        "Upload and verify before a file is chosen",
    )
    .await?;
    action::choose_file(&browser, &package).await?;
    action::upload_and_verify(&browser).await?;

    check::text_is(&browser, find::IMPORT_PATCH_NAME, PATCH_NAME).await?;
    check::text_contains(&browser, find::IMPORT_FACTS, "6.4.0.9203").await?;
    check::text_contains(&browser, find::IMPORT_FACTS, vendor.key_id()).await?;
    check::absent(
        &browser,
        find::PATCH_DEMO_KEY,
        find::IMPORT_FACTS,
        "the Demo key badge (the package is signed with a real vendor key)",
    )
    .await?;
    check::text_is(&browser, find::RELEASE_NOTES_HEADINGS, "Fixes").await?;
    check::text_contains(&browser, find::RELEASE_NOTES, "CVE-2026-0001").await?;
    check::images_settled(&browser).await?;
    check::no_injected_script_ran(&browser).await?;
    check::absent(
        &browser,
        find::RELEASE_NOTES_ACTIVE_CONTENT,
        find::RELEASE_NOTES,
        "a script or event handler in the release notes",
    )
    .await?;
    check::absent(
        &browser,
        find::IMPORT_PROGRESS,
        find::IMPORT_RESULT,
        "the upload progress bar",
    )
    .await?;
    let kept = browser.state.repository.dir().read_dir()?.count();
    assert_eq!(
        kept, 1,
        "the patch repository should hold the imported package"
    );
    browser.close().await
}

#[tokio::test]
async fn a_damaged_patch_file_is_rejected_with_the_servers_reason() -> anyhow::Result<()> {
    let vendor = Vendor::new();
    let damaged = patch_3(&vendor, "## Fixes\n");
    damage_payload(&damaged);
    let browser = Browser::start_with(|config| vendor.trust(config)).await?;
    action::login(&browser, "admin", ADMIN_PASSWORD).await?;
    action::open(&browser, "/admin/patches/import").await?;

    action::choose_file(&browser, &damaged).await?;
    action::upload_and_verify(&browser).await?;

    check::text_contains(&browser, find::IMPORT_ERROR, "does not match its checksum").await?;
    check::text_contains(
        &browser,
        find::IMPORT_ERROR,
        "fresh copy of the file from the vendor",
    )
    .await?;
    check::text_is(&browser, find::IMPORT_ERROR_CODE, "checksum_mismatch").await?;
    check::absent(
        &browser,
        find::IMPORT_RESULT,
        find::IMPORT_ERROR,
        "an import result",
    )
    .await?;
    browser.close().await
}

#[tokio::test]
async fn a_patch_signed_with_the_demo_vendor_key_is_marked_as_demo() -> anyhow::Result<()> {
    let browser = Browser::start_with(|config| config.demo = true).await?;
    let vendor = Vendor::demo(&browser.state.config.storage.data_dir);
    let package = patch_3(&vendor, "## Fixes\n");
    action::login(&browser, "admin", ADMIN_PASSWORD).await?;
    action::open(&browser, "/admin/patches/import").await?;

    action::choose_file(&browser, &package).await?;
    action::upload_and_verify(&browser).await?;

    check::text_is(&browser, find::IMPORT_PATCH_NAME, PATCH_NAME).await?;
    check::text_is(&browser, find::PATCH_DEMO_KEY, "Demo key").await?;
    check::text_contains(&browser, find::IMPORT_FACTS, "demo-vendor").await?;
    browser.close().await
}

#[tokio::test]
async fn a_file_that_is_not_a_package_is_rejected_and_choosing_another_file_starts_over()
-> anyhow::Result<()> {
    let vendor = Vendor::new();
    let text = vendor.path("readme.txt");
    std::fs::write(&text, "Copy the patch file to the USB drive.\n")?;
    let package = patch_3(&vendor, "## Fixes\n");
    let browser = Browser::start_with(|config| vendor.trust(config)).await?;
    action::login(&browser, "admin", ADMIN_PASSWORD).await?;
    action::open(&browser, "/admin/patches/import").await?;

    action::choose_file(&browser, &text).await?;
    action::upload_and_verify(&browser).await?;
    check::text_is(&browser, find::IMPORT_ERROR_CODE, "not_a_package").await?;
    check::text_contains(&browser, find::IMPORT_ERROR, "patch file (.pkg)").await?;

    action::choose_file(&browser, &package).await?;
    check::gone(&browser, find::IMPORT_ERROR, "the last file's error").await?;
    action::upload_and_verify(&browser).await?;
    check::text_is(&browser, find::IMPORT_PATCH_NAME, PATCH_NAME).await?;
    browser.close().await
}

#[tokio::test]
async fn an_operator_sees_no_import_link_and_cannot_use_the_import_page() -> anyhow::Result<()> {
    let browser = Browser::start().await?;
    browser
        .add_user("olga", Role::Operator, "olga-password")
        .await?;
    action::login(&browser, "olga", "olga-password").await?;

    check::absent(
        &browser,
        find::IMPORT_LINK,
        find::NOTIFICATIONS_STATUS,
        "the import link",
    )
    .await?;
    action::open(&browser, "/admin/patches/import").await?;

    check::text_contains(&browser, find::IMPORT_ADMINS_ONLY, "Only admins can import").await?;
    check::absent(
        &browser,
        find::IMPORT_FILE,
        find::IMPORT_ADMINS_ONLY,
        "the file picker",
    )
    .await?;
    browser.close().await
}
