//! Storage on both databases: the same checks on a SQLite file and on a fresh PostgreSQL database.

use backend::service::installed::InitialInstall;
use backend::service::{Audit, Auth, Installed, SettingsService};
use backend::storage::db::StorageConfig;
use backend::storage::db::{self, Db};
use sea_orm::{ConnectionTrait, Statement};
use shared::Role;
use tempfile::TempDir;
use testkit::PgTestDb;

/// A fresh database of one kind, and how to reopen it.
struct TestDb {
    storage: StorageConfig,
    _dir: TempDir,
    _pg: Option<PgTestDb>,
}

impl TestDb {
    async fn sqlite() -> Option<TestDb> {
        let dir = tempfile::tempdir().unwrap();
        let storage = StorageConfig {
            database_url: format!("sqlite://{}?mode=rwc", dir.path().join("sms.db").display()),
            data_dir: dir.path().to_owned(),
            warn_free_bytes: None,
        };
        Some(TestDb {
            storage,
            _dir: dir,
            _pg: None,
        })
    }

    async fn postgres() -> Option<TestDb> {
        let pg = PgTestDb::create().await?;
        let dir = tempfile::tempdir().unwrap();
        Some(TestDb {
            storage: pg.storage(dir.path()),
            _dir: dir,
            _pg: Some(pg),
        })
    }

    async fn open(&self) -> Db {
        db::connect(&self.storage)
            .await
            .expect("database opens and migrates")
    }
}

fn initial() -> InitialInstall {
    InitialInstall {
        product_version: "6.4.0".parse().unwrap(),
        build: "6.4.0.9001".parse().unwrap(),
    }
}

/// Runs each check once on SQLite and once on PostgreSQL.
macro_rules! on_both_databases {
    ($($check:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $check() {
                    let db = super::TestDb::sqlite().await.unwrap();
                    super::$check(db).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $check() {
                    let Some(db) = super::TestDb::postgres().await else { return };
                    super::$check(db).await;
                }
            )*
        }
    };
}

on_both_databases!(
    migrations_create_every_table_and_run_again_harmlessly,
    users_and_sessions_survive_reopening_the_database,
    changing_a_password_ends_the_users_sessions,
    the_installed_state_is_recorded_once,
    settings_changes_are_stored_with_their_audit_entry,
    the_audit_log_pages_newest_first,
    failed_logins_throttle_one_address_and_a_new_password_works_elsewhere,
    writes_that_read_first_wait_for_another_writer_instead_of_failing,
);

async fn migrations_create_every_table_and_run_again_harmlessly(db: TestDb) {
    let conn = db.open().await;
    drop(conn);
    let conn = db.open().await;
    for table in [
        "users",
        "sessions",
        "settings",
        "audit_log",
        "installed_state",
        "seaql_migrations",
    ] {
        let backend = conn.get_database_backend();
        let count = conn
            .query_one_raw(Statement::from_string(
                backend,
                format!("SELECT COUNT(*) AS n FROM {table}"),
            ))
            .await;
        assert!(count.is_ok(), "table {table} is missing: {count:?}");
    }
}

async fn users_and_sessions_survive_reopening_the_database(db: TestDb) {
    let auth = Auth::new(db.open().await, backend::config::Config::defaults().auth);
    auth.add_user("alice", Role::Admin, "alice-password", "test", None)
        .await
        .unwrap();
    let (token, user) = auth
        .login("alice", "alice-password", Some("10.0.0.1".into()))
        .await
        .unwrap();
    assert_eq!(user.role, Role::Admin);

    let reopened = Auth::new(db.open().await, backend::config::Config::defaults().auth);
    let found = reopened
        .authenticate(&token)
        .await
        .unwrap()
        .expect("session survives");
    assert_eq!(found.username, "alice");
    assert!(
        reopened
            .authenticate("not-a-token")
            .await
            .unwrap()
            .is_none()
    );
    let users = reopened.list_users().await.unwrap();
    assert_eq!(users.len(), 1);
    assert_eq!(users[0].role, Role::Admin);
}

async fn changing_a_password_ends_the_users_sessions(db: TestDb) {
    let auth = Auth::new(db.open().await, backend::config::Config::defaults().auth);
    auth.add_user("alice", Role::Operator, "alice-password", "test", None)
        .await
        .unwrap();
    let (token, _) = auth.login("alice", "alice-password", None).await.unwrap();

    auth.set_password("alice", "alice-new-password", "test", None)
        .await
        .unwrap();

    assert!(auth.authenticate(&token).await.unwrap().is_none());
    assert!(auth.login("alice", "alice-password", None).await.is_err());
    assert!(
        auth.login("alice", "alice-new-password", None)
            .await
            .is_ok()
    );
}

async fn the_installed_state_is_recorded_once(db: TestDb) {
    let installed = Installed::new(db.open().await, "");
    let first = installed.ensure_initialized(&initial()).await.unwrap();
    assert_eq!(first.patch_level.0, 0);
    assert_eq!(first.build.to_string(), "6.4.0.9001");

    let other = InitialInstall {
        product_version: "7.0.0".parse().unwrap(),
        build: "7.0.0.1".parse().unwrap(),
    };
    let again = Installed::new(db.open().await, "")
        .ensure_initialized(&other)
        .await
        .unwrap();
    assert_eq!(
        again, first,
        "a later start never overwrites the installed state"
    );
}

async fn settings_changes_are_stored_with_their_audit_entry(db: TestDb) {
    let conn = db.open().await;
    let settings = SettingsService::new(conn.clone());
    assert!(settings.get().await.unwrap().notifications_enabled);

    settings
        .set_notifications(false, "alice", Some("10.0.0.2".into()))
        .await
        .unwrap();
    settings
        .set_notifications(false, "alice", None)
        .await
        .unwrap();

    let reopened = SettingsService::new(db.open().await);
    assert!(!reopened.get().await.unwrap().notifications_enabled);
    let page = Audit::new(conn).list(1, 10).await.unwrap();
    assert_eq!(page.total, 2);
    assert_eq!(page.entries[1].source.as_deref(), Some("10.0.0.2"));
    assert_eq!(page.entries[1].details.as_deref(), Some("true -> false"));
}

async fn the_audit_log_pages_newest_first(db: TestDb) {
    let audit = Audit::new(db.open().await);
    for n in 0..7 {
        audit
            .record(backend::service::AuditEvent::success(
                "login",
                format!("user{n}"),
            ))
            .await
            .unwrap();
    }

    let first = audit.list(1, 3).await.unwrap();
    let last = audit.list(3, 3).await.unwrap();
    let beyond = audit.list(4, 3).await.unwrap();

    assert_eq!(first.total, 7);
    let actors: Vec<_> = first
        .entries
        .iter()
        .map(|e| e.actor.clone().unwrap())
        .collect();
    assert_eq!(actors, ["user6", "user5", "user4"]);
    assert_eq!(last.entries.len(), 1);
    assert_eq!(last.entries[0].actor.as_deref(), Some("user0"));
    assert!(beyond.entries.is_empty());
    assert_eq!(audit.list(1, 100_000).await.unwrap().per_page, 200);
}

async fn failed_logins_throttle_one_address_and_a_new_password_works_elsewhere(db: TestDb) {
    let auth = Auth::new(db.open().await, backend::config::Config::defaults().auth);
    auth.add_user("alice", Role::Admin, "alice-password", "test", None)
        .await
        .unwrap();
    let attacker = || Some("192.0.2.66".to_owned());
    for _ in 0..5 {
        assert!(matches!(
            auth.login("alice", "wrong", attacker()).await,
            Err(backend::service::ServiceError::InvalidCredentials)
        ));
    }
    assert!(matches!(
        auth.login("alice", "alice-password", attacker()).await,
        Err(backend::service::ServiceError::LoginLocked { .. })
    ));
    assert!(
        auth.login("alice", "alice-password", Some("192.0.2.1".into()))
            .await
            .is_ok()
    );

    auth.set_password("alice", "alice-password-2", "cli", None)
        .await
        .unwrap();
    assert!(
        auth.login("alice", "alice-password-2", Some("192.0.2.1".into()))
            .await
            .is_ok()
    );
}

/// A transaction that reads before it writes (a job's outcome with its audit entry, a level
/// switch) while another connection holds the write lock and commits a change: on SQLite it
/// must wait for the lock, not fail because its snapshot went stale.
async fn writes_that_read_first_wait_for_another_writer_instead_of_failing(db: TestDb) {
    use backend::service::events::Events;
    use backend::service::jobs::Jobs;
    use std::time::Duration;

    let conn = db.open().await;
    let installed = Installed::new(conn.clone(), "");
    installed.ensure_initialized(&initial()).await.unwrap();
    let jobs = Jobs::new(conn.clone(), Events::new(), "");
    let (info, handle) = jobs
        .start(shared::job::JobKind::Download, None, 0, "admin")
        .await
        .unwrap();

    // Another writer (its own pool, as another process would be) holds the lock...
    let other = db.open().await;
    let writing = backend::storage::db::begin_write(&other).await.unwrap();
    backend::service::audit::record_with(
        &writing,
        backend::service::AuditEvent::success("settings.update", "bob"),
    )
    .await
    .unwrap();
    let finishing = tokio::spawn(async move {
        handle
            .finish_audited(
                Ok(()),
                backend::service::AuditEvent::success("patch.download", "admin"),
            )
            .await
    });
    let build = "6.4.0.9002".parse().unwrap();
    let switching = tokio::spawn({
        let installed = installed.clone();
        async move {
            installed
                .switch_level(shared::PatchLevel(1), &build, "admin", &[], || {})
                .await
        }
    });
    // ...until both have read what they change, then commits its change.
    tokio::time::sleep(Duration::from_millis(300)).await;
    writing.commit().await.unwrap();

    let finished = finishing
        .await
        .unwrap()
        .expect("the outcome waits for the lock");
    assert_eq!(finished.state, shared::job::JobState::Succeeded);
    assert_eq!(
        jobs.get(info.id).await.unwrap().unwrap().state,
        shared::job::JobState::Succeeded
    );
    switching
        .await
        .unwrap()
        .expect("the switch waits for the lock");
    assert_eq!(installed.get().await.unwrap().patch_level.0, 1);
    let page = Audit::new(conn.clone()).list(1, 10).await.unwrap();
    assert_eq!(page.total, 2, "both audit entries were written");
    conn.close().await.unwrap();
    other.close().await.unwrap();
}
