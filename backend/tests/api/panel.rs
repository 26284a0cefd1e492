//! The SMS Patches panel's answer: its history paged (`GET /api/v1/patches/history`), and the
//! kept answer built again as soon as something it shows changes.

use std::time::Duration;

use serde_json::Value;
use testkit::{Api, assert_error, eventually, spawn_app};

#[tokio::test]
async fn the_panel_holds_the_newest_page_of_the_history_and_the_rest_comes_a_page_at_a_time() {
    let app = spawn_app().await;
    app.login_admin().await;
    testkit::seed::history(&app.state.db, 45).await.unwrap();

    let view: Value = app.patches().await.json().await.unwrap();
    let first = view["history"].as_array().unwrap();
    assert_eq!(first.len(), 20, "{view}");
    assert_eq!(view["history_total"], 45);
    // Newest first: the seeded history ends with an install (the 45th row).
    assert_eq!(first[0]["kind"], "install");
    assert_eq!(first[1]["kind"], "rollback");
    assert!(first[0]["job"].as_i64() > first[1]["job"].as_i64());

    let second: Value = app.get_json("/api/v1/patches/history?page=2").await;
    assert_eq!(second["page"], 2);
    assert_eq!(second["per_page"], 20);
    assert_eq!(second["total"], 45);
    let entries = second["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 20);
    assert_eq!(
        entries[0]["job"].as_i64().unwrap(),
        first[19]["job"].as_i64().unwrap() - 1,
        "page 2 starts where the panel's page ends"
    );
    let last: Value = app
        .get_json("/api/v1/patches/history?page=5&per_page=10")
        .await;
    assert_eq!(last["entries"].as_array().unwrap().len(), 5, "{last}");
    let past: Value = app.get_json("/api/v1/patches/history?page=9").await;
    assert_eq!(past["entries"], serde_json::json!([]));

    for bad in ["page=0", "per_page=0", "per_page=201", "page=two"] {
        let response = app.get(&format!("/api/v1/patches/history?{bad}")).await;
        assert_error(response, 400, "invalid_query").await;
    }
    let anonymous = Api::new(&app.base_url);
    assert_eq!(anonymous.get("/api/v1/patches/history").await.status(), 401);
}

#[tokio::test]
async fn a_change_shows_in_the_next_answer_and_one_made_behind_the_servers_back_within_a_second() {
    let app = spawn_app().await;
    app.login_admin().await;
    let view: Value = app.patches().await.json().await.unwrap();
    assert_eq!(view["notifications_enabled"], true);

    // Through the API: the very next answer has it.
    assert_eq!(app.set_notifications(false).await.status(), 200);
    let view: Value = app.patches().await.json().await.unwrap();
    assert_eq!(view["notifications_enabled"], false, "{view}");

    // Straight into the database (as another process would): within a second.
    let view: Value = app.patches().await.json().await.unwrap();
    assert_eq!(view["history_total"], 0);
    testkit::seed::history(&app.state.db, 3).await.unwrap();
    eventually(
        "the panel shows the new history",
        Duration::from_secs(5),
        || async {
            let view: Value = app.patches().await.json().await.unwrap();
            if view["history_total"] == 3 {
                Ok(())
            } else {
                Err(format!("history_total {}", view["history_total"]))
            }
        },
    )
    .await
    .unwrap();
}
