//! Patches that really patch: under `sms serve` (the supervisor) the level's server executable
//! runs after an install, its web client is served, its migrations ran; a rollback returns all
//! three to the base; a level whose server does not come up is switched back by itself. In the
//! test process (no supervisor) the migrations and the web client still follow the level.

use std::path::{Path, PathBuf};

use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};
use serde_json::Value;
use testkit::process::{Served, terminate};
use testkit::{Vendor, spawn_app_with};

use crate::cli::SMS;
use crate::install::{
    current_level, import_offline, install_root_entries, logged_in, start_server_with,
};

const RULE_TAGS_UP: &str = "CREATE TABLE rule_tags (id INTEGER PRIMARY KEY, tag TEXT NOT NULL);\n\
     INSERT INTO rule_tags (id, tag) VALUES (1, 'patched');\n";
const RULE_TAGS_DOWN: &str = "DROP TABLE rule_tags;\n";

/// Whether the server's SQLite database in `dir` has the table `name`.
pub(crate) async fn has_table(dir: &Path, name: &str) -> bool {
    let url = format!("sqlite://{}?mode=ro", dir.join("sms.db").display());
    let db = Database::connect(&url).await.unwrap();
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Sqlite,
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?",
            [name.into()],
        ))
        .await
        .unwrap();
    db.close().await.unwrap();
    !rows.is_empty()
}

/// The executable of process `pid`, as the kernel says.
fn exe_of(pid: u64) -> PathBuf {
    std::fs::read_link(format!("/proc/{pid}/exe")).unwrap()
}

/// The running executable `GET /api/v1/server` reports: (level, pid, supervised).
async fn running(api: &testkit::Api) -> (u64, u64, bool) {
    let info: Value = api.server_info().await.json().await.unwrap();
    let executable = &info["executable"];
    (
        executable["level"].as_u64().unwrap(),
        executable["pid"].as_u64().unwrap(),
        executable["supervised"].as_bool().unwrap(),
    )
}

fn stop(mut server: Served) {
    terminate(&mut server.child);
}

#[tokio::test]
async fn an_install_runs_the_levels_executable_client_and_migrations_and_a_rollback_undoes_them() {
    let dir = tempfile::tempdir().unwrap();
    let vendor = Vendor::new();
    let package = vendor
        .package(3)
        .server_executable(Path::new(SMS))
        .updates_client()
        .migration("0001-rule-tags.up.sql", RULE_TAGS_UP)
        .migration("0001-rule-tags.down.sql", RULE_TAGS_DOWN)
        .write();
    import_offline(dir.path(), &vendor, &package);
    let mut server = start_server_with(dir.path(), &vendor, "", &[]);
    let api = logged_in(&server.url).await;

    let (level, pid, supervised) = running(&api).await;
    assert_eq!((level, supervised), (0, true));
    assert_ne!(
        pid,
        u64::from(server.child.id()),
        "the supervisor does not serve"
    );
    assert_eq!(exe_of(pid), std::fs::canonicalize(SMS).unwrap());
    assert!(!has_table(dir.path(), "rule_tags").await);

    let job = api.follow_job(api.install("6.4.0.3").await).await;
    assert_eq!(job["state"], "succeeded", "{job}");

    // The level's executable serves, under the same supervisor, on the same socket.
    let (level, pid, supervised) = running(&api).await;
    assert_eq!((level, supervised), (3, true));
    let staged = dir.path().join("install/levels/3/server/bin/sms");
    assert_eq!(exe_of(pid), staged);
    assert!(
        server.child.try_wait().unwrap().is_none(),
        "the supervisor stays"
    );
    // The package's web client is served.
    backend::net::install_tls_provider();
    let page = reqwest::get(format!("{}/", server.url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("SMS web client 6.4.0.3"), "{page}");
    assert!(
        page.contains("content=\"6.4.0.3\""),
        "the version stamp names the level's client: {page}"
    );
    // Its migration ran.
    assert!(has_table(dir.path(), "rule_tags").await);

    let job = api.follow_job(api.rollback().await).await;
    assert_eq!(job["state"], "succeeded", "{job}");
    let (level, pid, _) = running(&api).await;
    assert_eq!(level, 0);
    assert_eq!(exe_of(pid), std::fs::canonicalize(SMS).unwrap());
    backend::net::install_tls_provider();
    let page = reqwest::get(format!("{}/", server.url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!page.contains("SMS web client 6.4.0.3"), "{page}");
    assert!(!has_table(dir.path(), "rule_tags").await);
    assert_eq!(install_root_entries(dir.path()).1, ["0"]);
    stop(server);
}

/// Installs Patch 3 whose server executable is `script` under a supervisor with `config`;
/// returns the failed job and the server.
async fn install_broken(script: &str, config: &str) -> (tempfile::TempDir, Value, Served) {
    let dir = tempfile::tempdir().unwrap();
    let vendor = Vendor::new();
    let package = vendor.package(3).server_script(script).write();
    import_offline(dir.path(), &vendor, &package);
    let server = start_server_with(dir.path(), &vendor, config, &[]);
    let api = logged_in(&server.url).await;
    let job = api.follow_job(api.install("6.4.0.3").await).await;
    assert_eq!(job["state"], "failed", "{job}");
    assert_eq!(job["error"]["code"], "server_start_failed", "{job}");
    // Back at level 0, on the base executable.
    assert_eq!(api.level().await, 0);
    let (level, pid, _) = running(&api).await;
    assert_eq!(level, 0);
    assert_eq!(exe_of(pid), std::fs::canonicalize(SMS).unwrap());
    assert_eq!(current_level(dir.path()), 0);
    // History and audit say so.
    let view: Value = api.patches().await.json().await.unwrap();
    assert_eq!(view["history"][0]["state"], "failed", "{view}");
    // The job's outcome is recorded first, its audit entry a moment later.
    let entry = testkit::eventually(
        "the install's audit entry",
        std::time::Duration::from_secs(10),
        || async {
            let audit: Value = api
                .audit("")
                .await
                .json()
                .await
                .map_err(|e| e.to_string())?;
            audit["entries"]
                .as_array()
                .and_then(|entries| entries.iter().find(|e| e["action"] == "patch_install"))
                .cloned()
                .ok_or_else(|| format!("not in the audit log yet: {audit}"))
        },
    )
    .await
    .unwrap();
    assert_eq!(entry["outcome"], "failure");
    assert!(
        entry["details"]
            .as_str()
            .unwrap()
            .contains("did not come up"),
        "{entry}"
    );
    assert!(
        !dir.path().join("install/start-failure.json").exists(),
        "the record is removed once the job has it"
    );
    (dir, job, server)
}

#[tokio::test]
async fn a_level_whose_server_exits_is_switched_back_with_its_last_words() {
    let script = "echo 'rules engine: cannot open the rule store' >&2\nexit 1\n";
    let (_dir, job, server) = install_broken(script, "").await;
    let message = job["error"]["message"].as_str().unwrap();
    assert!(message.contains("exited"), "{message}");
    assert!(message.contains("cannot open the rule store"), "{message}");
    assert!(message.contains("switched back to level 0"), "{message}");
    stop(server);
}

#[tokio::test]
async fn a_level_that_never_gets_healthy_is_switched_back_after_the_start_timeout() {
    let script = "echo 'waiting for a license server that never answers'\nexec sleep 600\n";
    let config = "[install]\nstart_timeout = \"2s\"\n";
    let started = std::time::Instant::now();
    let (_dir, job, server) = install_broken(script, config).await;
    let message = job["error"]["message"].as_str().unwrap();
    assert!(message.contains("not healthy within 2 s"), "{message}");
    assert!(message.contains("license server"), "{message}");
    assert!(started.elapsed() < std::time::Duration::from_secs(60));
    stop(server);
}

/// The test process's application (no supervisor): a spawn_app trusting `vendor`.
async fn in_process(vendor: &Vendor) -> testkit::TestApp {
    let app = spawn_app_with(|config| vendor.trust(config)).await;
    app.login_admin().await;
    app
}

/// The tables of the test app's database whose names start with `prefix`.
async fn tables(app: &testkit::TestApp, prefix: &str) -> Vec<String> {
    let backend = app.state.db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => {
            "SELECT table_name AS name FROM information_schema.tables \
             WHERE table_schema = 'public' ORDER BY 1"
        }
        _ => "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY 1",
    };
    app.state
        .db
        .query_all_raw(Statement::from_string(backend, sql))
        .await
        .unwrap()
        .into_iter()
        .map(|row| row.try_get::<String>("", "name").unwrap())
        .filter(|name| name.starts_with(prefix))
        .collect()
}

#[tokio::test]
async fn a_failing_migration_fails_the_install_and_leaves_the_database_untouched() {
    let vendor = Vendor::new();
    let app = in_process(&vendor).await;
    let package = vendor
        .package(3)
        .migration(
            "0001-good.up.sql",
            "CREATE TABLE mig_good (id INTEGER PRIMARY KEY);\n",
        )
        .migration("0001-good.down.sql", "DROP TABLE mig_good;\n")
        .migration(
            "0002-broken.up.sql",
            "CREATE TABLE mig_broken (id INTEGER PRIMARY KEY);\nINSERT INTO no_such_table VALUES (1);\n",
        )
        .migration("0002-broken.down.sql", "DROP TABLE mig_broken;\n")
        .write();
    app.import_file(&package).await;
    let job = app.follow_job(app.install("6.4.0.3").await).await;
    assert_eq!(job["state"], "failed", "{job}");
    assert_eq!(job["error"]["code"], "migration_failed", "{job}");
    let message = job["error"]["message"].as_str().unwrap();
    assert!(message.contains("0002-broken.up.sql"), "{message}");
    assert!(
        message.contains("no_such_table"),
        "the SQL error: {message}"
    );
    assert!(message.contains("unchanged"), "{message}");
    assert_eq!(app.level().await, 0);
    assert_eq!(current_level(app.data_dir.path()), 0);
    assert!(
        tables(&app, "mig_").await.is_empty(),
        "neither migration stayed"
    );
}

#[tokio::test]
async fn migrations_are_recorded_cumulative_and_undone_newest_first_and_a_changed_one_is_refused() {
    let vendor = Vendor::new();
    let app = in_process(&vendor).await;
    let first = vendor
        .package(2)
        .migration(
            "0001-hosts.up.sql",
            "CREATE TABLE mig_hosts (id INTEGER PRIMARY KEY);\n",
        )
        .migration("0001-hosts.down.sql", "DROP TABLE mig_hosts;\n")
        .write();
    // Patch 3 carries 0001 again (cumulative) and 0002, which depends on it: undoing them in
    // the wrong order fails.
    let second = vendor
        .package(3)
        .migration(
            "0001-hosts.up.sql",
            "CREATE TABLE mig_hosts (id INTEGER PRIMARY KEY);\n",
        )
        .migration("0001-hosts.down.sql", "DROP TABLE mig_hosts;\n")
        .migration(
            "0002-host-tags.up.sql",
            "CREATE TABLE mig_host_tags (host INTEGER NOT NULL REFERENCES mig_hosts (id));\n\
             CREATE VIEW mig_tagged AS SELECT host FROM mig_host_tags;\n",
        )
        .migration(
            "0002-host-tags.down.sql",
            "DROP VIEW mig_tagged;\nDROP TABLE mig_host_tags;\n",
        )
        .write();
    app.import_file(&first).await;
    app.import_file(&second).await;
    let job = app.follow_job(app.install("6.4.0.2").await).await;
    assert_eq!(job["state"], "succeeded", "{job}");
    assert_eq!(tables(&app, "mig_").await, ["mig_hosts"]);
    let job = app.follow_job(app.install("6.4.0.3").await).await;
    assert_eq!(job["state"], "succeeded", "{job}");
    assert_eq!(tables(&app, "mig_").await, ["mig_host_tags", "mig_hosts"]);
    let backend = app.state.db.get_database_backend();
    let recorded = app
        .state
        .db
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT number, name, level FROM patch_migrations ORDER BY number",
        ))
        .await
        .unwrap();
    let recorded: Vec<(i32, String, i32)> = recorded
        .iter()
        .map(|row| {
            (
                row.try_get("", "number").unwrap(),
                row.try_get("", "name").unwrap(),
                row.try_get("", "level").unwrap(),
            )
        })
        .collect();
    assert_eq!(
        recorded,
        [(1, "hosts".to_owned(), 2), (2, "host-tags".to_owned(), 3)]
    );

    let job = app.follow_job(app.rollback().await).await;
    assert_eq!(job["state"], "succeeded", "{job}");
    assert!(tables(&app, "mig_").await.is_empty());

    // Patch 4 ships 0001 with other SQL than the one that ran: refused, nothing changed.
    let changed = vendor
        .package(4)
        .migration(
            "0001-hosts.up.sql",
            "CREATE TABLE mig_hosts (id INTEGER PRIMARY KEY, name TEXT);\n",
        )
        .migration("0001-hosts.down.sql", "DROP TABLE mig_hosts;\n")
        .write();
    let job = app.follow_job(app.install("6.4.0.2").await).await;
    assert_eq!(job["state"], "succeeded", "{job}");
    app.import_file(&changed).await;
    let job = app.follow_job(app.install("6.4.0.4").await).await;
    assert_eq!(job["state"], "failed", "{job}");
    assert_eq!(job["error"]["code"], "migration_changed", "{job}");
    assert_eq!(app.level().await, 2);
    assert_eq!(tables(&app, "mig_").await, ["mig_hosts"]);
}

#[tokio::test]
async fn in_the_test_process_the_levels_web_client_is_served_after_the_restart() {
    let vendor = Vendor::new();
    let app = in_process(&vendor).await;
    app.import_file(&vendor.package(2).updates_client().write())
        .await;
    let before = app.client.get(app.url("/")).send().await.unwrap();
    assert!(
        !before
            .text()
            .await
            .unwrap()
            .contains("SMS web client 6.4.0.2")
    );
    let job = app.follow_job(app.install("6.4.0.2").await).await;
    assert_eq!(job["state"], "succeeded", "{job}");
    let page = app
        .client
        .get(app.url("/admin/general"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("SMS web client 6.4.0.2"), "{page}");
    let asset = app.client.get(app.url("/app-2.js")).send().await.unwrap();
    assert_eq!(
        asset.status(),
        200,
        "the client's assets come from the level too"
    );
    let (level, _, supervised) = running(&app).await;
    assert_eq!(
        (level, supervised),
        (0, false),
        "the same executable keeps running"
    );
}

#[tokio::test]
async fn under_the_supervisor_a_simulated_reboot_closes_the_socket_and_the_new_level_comes_up() {
    let dir = tempfile::tempdir().unwrap();
    let vendor = Vendor::new();
    import_offline(dir.path(), &vendor, &vendor.package(3).reboot().write());
    let server = start_server_with(dir.path(), &vendor, "", &[]);
    let api = logged_in(&server.url).await;
    let started = testkit::api::started_job(api.install("6.4.0.3").await).await;
    let id = started["id"].as_i64().unwrap();
    // Nothing listens for a while: the supervisor closed the socket.
    testkit::eventually(
        "a window in which connections are refused (the reboot)",
        std::time::Duration::from_secs(30),
        || async {
            backend::net::install_tls_provider();
            match reqwest::get(format!("{}/api/v1/health", server.url)).await {
                Err(err) if err.is_connect() => Ok(()),
                Err(err) => Err(err.to_string()),
                Ok(response) => Err(format!("health answered {}", response.status())),
            }
        },
    )
    .await
    .unwrap();
    let job = api.wait_for_job(id).await;
    assert_eq!(job["state"], "succeeded", "{job}");
    assert_eq!(api.level().await, 3);
    // The level carries no executable: the base one serves it.
    let (level, pid, supervised) = running(&api).await;
    assert_eq!((level, supervised), (0, true));
    assert_eq!(exe_of(pid), std::fs::canonicalize(SMS).unwrap());
    stop(server);
}

#[tokio::test]
async fn a_switch_back_keeps_the_migrations_a_patch_cannot_undo_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let vendor = Vendor::new();
    let package = vendor
        .package(3)
        .without_rollback()
        .migration("0001-rule-tags.up.sql", RULE_TAGS_UP)
        .server_script("echo 'cannot start' >&2\nexit 1\n")
        .write();
    import_offline(dir.path(), &vendor, &package);
    let server = start_server_with(dir.path(), &vendor, "", &[]);
    let api = logged_in(&server.url).await;
    let job = api.follow_job(api.install("6.4.0.3").await).await;
    assert_eq!(job["error"]["code"], "server_start_failed", "{job}");
    let message = job["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("keeps its migrations 0001-rule-tags"),
        "{message}"
    );
    // The level record follows the install root; the schema keeps what cannot be undone.
    assert_eq!(api.level().await, 0);
    assert_eq!(current_level(dir.path()), 0);
    assert!(has_table(dir.path(), "rule_tags").await);
    stop(server);
}

#[tokio::test]
async fn a_level_whose_executable_cannot_even_start_is_switched_back() {
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("not-a-program");
    std::fs::write(&garbage, [0x7f, b'E', b'L', b'F', 0, 0, 0, 0]).unwrap();
    let vendor = Vendor::new();
    import_offline(
        dir.path(),
        &vendor,
        &vendor.package(3).server_executable(&garbage).write(),
    );
    let server = start_server_with(dir.path(), &vendor, "", &[]);
    let api = logged_in(&server.url).await;
    let job = api.follow_job(api.install("6.4.0.3").await).await;
    assert_eq!(job["error"]["code"], "server_start_failed", "{job}");
    assert!(
        job["error"]["message"]
            .as_str()
            .unwrap()
            .contains("cannot start the server executable"),
        "{job}"
    );
    assert_eq!(api.level().await, 0);
    stop(server);
}
