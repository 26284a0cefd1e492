//! Importing packages over HTTP: valid ones land in the repository with what they change, every
//! malformed one is rejected with its code and leaves nothing behind.

use backend::package::Limits;
use backend::package::verify::InstalledLevel;
use backend::storage::entity::{installed_state, patch};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait, PaginatorTrait};
use serde_json::{Value, json};
use testkit::{Api, TestApp, Vendor, assert_error, spawn_app_with};

use crate::packages::{Kit, corpus, good_package, kit, tar};

async fn app_trusting(kit: &Kit, limits: Limits, installed: Option<InstalledLevel>) -> TestApp {
    let app = spawn_app_with(|config| {
        kit.vendor.trust(config);
        config.package_limits = limits;
        if let Some(level) = installed {
            config.initial.product_version = level.product_version;
            config.initial.build = format!("{}.1", level.product_version).parse().unwrap();
        }
    })
    .await;
    if let Some(level) = installed {
        let mut row: installed_state::ActiveModel = installed_state::Entity::find_by_id(1)
            .one(&app.state.db)
            .await
            .unwrap()
            .unwrap()
            .into();
        row.patch_level = Set(i32::try_from(level.patch_level.0).unwrap());
        row.update(&app.state.db).await.unwrap();
    }
    app.login_admin().await;
    app
}

async fn upload(app: &TestApp, bytes: Vec<u8>) -> reqwest::Response {
    app.import_as("patch.pkg", bytes).await
}

async fn repository_is_empty(app: &TestApp) -> bool {
    let files = std::fs::read_dir(app.state.repository.dir())
        .unwrap()
        .count();
    let rows = patch::Entity::find().count(&app.state.db).await.unwrap();
    files == 0 && rows == 0
}

#[tokio::test]
async fn a_valid_package_is_imported_with_its_facts_and_audited() {
    let kit = kit();
    let app = app_trusting(&kit, Limits::default(), None).await;

    let response = upload(&app, tar(&good_package(&kit), 2)).await;

    assert_eq!(response.status(), 200);
    let info: Value = response.json().await.unwrap();
    assert_eq!(info["id"], "6.4.0.3");
    assert_eq!(info["display_name"], "SMS 6.4.0 Patch 3 (build 6.4.0.9203)");
    assert_eq!(info["updates"], "server");
    assert_eq!(info["restart"], "application");
    assert_eq!(info["source"], "import");
    assert_eq!(info["imported_by"], "admin");
    assert_eq!(info["demo_key"], false);
    assert!(
        info["release_notes"]
            .as_str()
            .unwrap()
            .contains("CVE-2026-0001")
    );
    assert!(
        info["release_notes_html"]
            .as_str()
            .unwrap()
            .contains("<h2>Fixes</h2>")
    );
    let files: Vec<_> = std::fs::read_dir(app.state.repository.dir())
        .unwrap()
        .collect();
    assert_eq!(files.len(), 1);
    assert_eq!(patch::Entity::find().count(&app.state.db).await.unwrap(), 1);

    let page: Value = app.audit("").await.json().await.unwrap();
    assert_eq!(page["entries"][0]["action"], "patch_import");
    assert_eq!(page["entries"][0]["outcome"], "success");
    assert!(
        page["entries"][0]["details"]
            .as_str()
            .unwrap()
            .contains("patch.pkg")
    );

    // The same patch again: refused, and nothing changes.
    let again = upload(&app, tar(&good_package(&kit), 2)).await;
    assert_error(again, 409, "already_in_repository").await;
    assert_eq!(
        std::fs::read_dir(app.state.repository.dir())
            .unwrap()
            .count(),
        1
    );
}

/// The `changes` of patch `id` in its panel row and in its details.
async fn changes_shown(app: &TestApp, id: &str) -> (Value, Value) {
    let view = app.get_json("/api/v1/patches").await;
    let row = view["available"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["patch"]["id"] == id)
        .unwrap_or_else(|| panic!("{id} is not in the panel: {view}"))
        .clone();
    let details = app.get_json(&format!("/api/v1/patches/{id}")).await;
    (
        row["patch"]["changes"].clone(),
        details["patch"]["changes"].clone(),
    )
}

#[tokio::test]
async fn the_panel_and_the_details_say_what_an_imported_patch_changes() {
    let vendor = Vendor::new();
    let app = spawn_app_with(|config| vendor.trust(config)).await;
    app.login_admin().await;
    let full = vendor
        .package(4)
        .server_script("exec sleep 60\n")
        .updates_client()
        .migration(
            "0001-rule-tags.up.sql",
            "CREATE TABLE rule_tags (id INTEGER PRIMARY KEY);",
        )
        .migration("0001-rule-tags.down.sql", "DROP TABLE rule_tags;")
        .migration(
            "0002-rule-notes.up.sql",
            "CREATE TABLE rule_notes (id INTEGER PRIMARY KEY);",
        )
        .migration("0002-rule-notes.down.sql", "DROP TABLE rule_notes;")
        .write();
    let server_only = vendor.package(3).write();

    let imported = app.import_file(&full).await;
    app.import_file(&server_only).await;

    let expected = json!({"server_executable": true, "web_client": true, "migrations": 2});
    assert_eq!(imported["changes"], expected);
    assert_eq!(
        changes_shown(&app, "6.4.0.4").await,
        (expected.clone(), expected)
    );
    // A payload without an executable, a client or a migration changes nothing that runs.
    let nothing = json!({"server_executable": false, "web_client": false, "migrations": 0});
    assert_eq!(
        changes_shown(&app, "6.4.0.3").await,
        (nothing.clone(), nothing)
    );
    // A package recorded before the server recorded changes: not known.
    let row = patch::Entity::find()
        .all(&app.state.db)
        .await
        .unwrap()
        .into_iter()
        .find(|row| row.patch == 3)
        .unwrap();
    let mut row: patch::ActiveModel = row.into();
    row.changes = Set(None);
    row.update(&app.state.db).await.unwrap();
    // Written behind the server's back: the panel it keeps is built again at once only when
    // told (else within a second).
    app.state.events.mark_changed();
    assert_eq!(
        changes_shown(&app, "6.4.0.3").await,
        (Value::Null, Value::Null)
    );
    let doc: Value = app.openapi().await.json().await.unwrap();
    assert!(
        doc["components"]["schemas"]["PatchChanges"]["properties"]["migrations"].is_object(),
        "PatchChanges is missing from the OpenAPI document"
    );
}

#[tokio::test]
async fn a_package_signed_with_the_demo_vendor_key_is_marked_as_demo() {
    let app = spawn_app_with(|config| config.demo = true).await;
    app.login_admin().await;
    let demo = Vendor::demo(&app.state.config.storage.data_dir);
    let package = demo.package(1).title("Demo fixes").bytes();

    let response = upload(&app, package).await;

    assert_eq!(response.status(), 200);
    let info: Value = response.json().await.unwrap();
    assert_eq!(info["key_id"], "demo-vendor");
    assert_eq!(info["demo_key"], true);
}

#[tokio::test]
async fn every_malformed_package_is_rejected_over_http_and_leaves_nothing_behind() {
    let kit = kit();
    for (name, bytes, code, limits, installed) in corpus(&kit) {
        let app = app_trusting(&kit, limits, installed).await;

        let response = upload(&app, bytes).await;

        let status = response.status().as_u16();
        let message = assert_error(response, status, code.as_str()).await;
        assert!(
            [409, 412, 413, 422].contains(&status),
            "{name}: status {status}"
        );
        assert!(!message.is_empty());
        assert!(
            repository_is_empty(&app).await,
            "{name} left something behind"
        );
        let page: Value = app.audit("?per_page=1").await.json().await.unwrap();
        assert_eq!(page["entries"][0]["action"], "patch_import", "{name}");
        assert_eq!(page["entries"][0]["outcome"], "failure", "{name}");
    }
}

#[tokio::test]
async fn an_upload_over_the_limit_is_refused_before_reading_it() {
    let kit = kit();
    let limits = Limits {
        max_package_bytes: 10_000,
        ..Limits::default()
    };
    let app = app_trusting(&kit, limits, None).await;

    let response = upload(&app, vec![0u8; 20_000]).await;

    assert_error(response, 413, "too_large").await;
    assert!(repository_is_empty(&app).await);
}

#[tokio::test]
async fn importing_needs_an_admin_and_the_right_content_type() {
    let kit = kit();
    let app = app_trusting(&kit, Limits::default(), None).await;
    let bytes = tar(&good_package(&kit), 2);

    let wrong_type = app
        .client
        .post(app.url("/api/v1/patches/import"))
        .header("X-SMS-Client", "api/test")
        .header("Content-Type", "application/json")
        .body(bytes.clone())
        .send()
        .await
        .unwrap();
    assert_error(wrong_type, 415, "unsupported_media_type").await;

    let anonymous = Api::new(&app.base_url).import(bytes.clone()).await;
    assert_error(anonymous, 401, "not_logged_in").await;

    app.logout().await;
    app.login_operator().await;
    assert_error(upload(&app, bytes).await, 403, "admin_required").await;
    assert!(repository_is_empty(&app).await);
}

#[tokio::test]
async fn of_eight_simultaneous_imports_of_one_package_one_is_kept_and_the_file_stays_installable() {
    let vendor = Vendor::new();
    let app = spawn_app_with(|config| vendor.trust(config)).await;
    app.login_admin().await;
    let bytes = vendor.package(3).payload_kib(512).bytes();
    let uploads = (0..8).map(|_| app.import(bytes.clone()));
    let answers = futures_util::future::join_all(uploads).await;
    let mut statuses: Vec<u16> = answers.iter().map(|r| r.status().as_u16()).collect();
    statuses.sort_unstable();
    assert_eq!(
        statuses.iter().filter(|s| **s < 300).count(),
        1,
        "{statuses:?}"
    );
    for answer in answers {
        if answer.status().as_u16() >= 300 {
            assert_error(answer, 409, "already_in_repository").await;
        }
    }
    // The kept file is whole: the patch installs.
    let job = app.follow_job(app.install("6.4.0.3").await).await;
    assert_eq!(job["state"], "succeeded", "{job}");
}
