//! Backup and restore time: a database of about 1 GiB backed up as the server does it
//! (`storage::backup`: the copy, its verification, its checksum and manifest) and restored
//! into the live database as a restore job does it (`storage::restore`: the swap in one
//! transaction that keeps the server's own tables), against the tools by hand on the same
//! data: `sqlite3 .backup` / `.restore` for SQLite, `pg_dump --format=custom` / `pg_restore
//! --clean --single-transaction` for PostgreSQL (with `SMS_TEST_POSTGRES_URL` set; skipped
//! otherwise).
//!
//! ```text
//! cargo bench -p backend --bench backup              # 1 GiB
//! cargo bench -p backend --bench backup -- 256       # another size, in MiB
//! ```
//!
//! It prints figures and asserts nothing.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use backend::storage::backup::{BackupDir, Facts, Request};
use backend::storage::db::StorageConfig;
use backend::storage::db::{self, Db};
use backend::storage::restore::{Mark, swap_sqlite};
use sea_orm::ConnectionTrait;
use shared::backup::BackupReason;

const MIB: u64 = 1 << 20;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let size_mib: u64 = std::env::args()
        .skip(1)
        .find(|arg| !arg.starts_with('-'))
        .map(|arg| arg.parse().context("the size is a number of MiB"))
        .transpose()?
        .unwrap_or(1024);
    let work = match std::env::var_os("SMS_BENCH_DIR") {
        Some(dir) => tempfile::tempdir_in(dir),
        None => tempfile::tempdir(),
    }
    .context("cannot create the bench's working folder")?;
    println!("backup benchmark: a database of about {size_mib} MiB");

    let storage = StorageConfig {
        data_dir: work.path().to_owned(),
        database_url: format!("sqlite://{}?mode=rwc", work.path().join("sms.db").display()),
        warn_free_bytes: None,
    };
    let sqlite = db::connect(&storage).await?;
    fill(&sqlite, size_mib).await?;
    let (ours, file) = backup(&sqlite, &storage.database_url, work.path()).await?;
    let by_hand_file = work.path().join("by-hand.sqlite");
    let by_hand = timed(|| {
        run(Command::new("sqlite3")
            .arg(work.path().join("sms.db"))
            .arg(format!(".backup '{}'", by_hand_file.display())))
    })?;
    report("SQLite", ours, "sqlite3 .backup", by_hand);
    let restored = restore(&sqlite, &storage.database_url, work.path(), &file).await?;
    sqlite.close().await?;
    let by_hand = timed(|| {
        run(Command::new("sqlite3")
            .arg(work.path().join("sms.db"))
            .arg(format!(".restore '{}'", by_hand_file.display())))
    })?;
    report_restore("SQLite", restored, "sqlite3 .restore", by_hand);

    match std::env::var("SMS_TEST_POSTGRES_URL") {
        Ok(admin_url) => {
            let pg = testkit::PgTestDb::on(&admin_url).await?;
            let storage = pg.storage(work.path());
            let postgres = db::connect(&storage).await?;
            fill(&postgres, size_mib).await?;
            let (ours, file) = backup(&postgres, &pg.url, work.path()).await?;
            let out = work.path().join("by-hand.pgdump");
            let by_hand = timed(|| {
                run(Command::new("pg_dump")
                    .arg("--format=custom")
                    .arg("--no-owner")
                    .arg("--file")
                    .arg(&out)
                    .arg("--dbname")
                    .arg(&pg.url))
            })?;
            report("PostgreSQL", ours, "pg_dump --format=custom", by_hand);
            let restored = restore(&postgres, &pg.url, work.path(), &file).await?;
            postgres.close().await?;
            let by_hand = timed(|| {
                run(Command::new("pg_restore")
                    .args([
                        "--clean",
                        "--if-exists",
                        "--single-transaction",
                        "--no-owner",
                    ])
                    .arg("--dbname")
                    .arg(&pg.url)
                    .arg(&out))
            })?;
            report_restore(
                "PostgreSQL",
                restored,
                "pg_restore --clean --single-transaction",
                by_hand,
            );
        }
        Err(_) => println!("PostgreSQL: skipped (set SMS_TEST_POSTGRES_URL)"),
    }
    Ok(())
}

/// About `size_mib` MiB of rows that do not compress away, in a table of its own.
async fn fill(db: &Db, size_mib: u64) -> anyhow::Result<()> {
    let started = Instant::now();
    let backend = db.get_database_backend();
    db.execute_unprepared("CREATE TABLE bench_rows (id BIGINT PRIMARY KEY, body TEXT NOT NULL)")
        .await?;
    // 4 KiB of hex per row, 256 rows per statement: 1 MiB a statement.
    let random_text = match backend {
        sea_orm::DbBackend::Postgres => {
            "(SELECT string_agg(md5(random()::text || g::text || s::text), '') FROM generate_series(1, 128) AS s)"
        }
        _ => "hex(randomblob(2048))",
    };
    for chunk in 0..size_mib {
        let first = chunk * 256;
        let sql = match backend {
            sea_orm::DbBackend::Postgres => format!(
                "INSERT INTO bench_rows SELECT g, {random_text} FROM generate_series({first}, {}) AS g",
                first + 255
            ),
            _ => format!(
                "WITH RECURSIVE g(n) AS (SELECT {first} UNION ALL SELECT n + 1 FROM g WHERE n < {}) \
                 INSERT INTO bench_rows SELECT n, {random_text} FROM g",
                first + 255
            ),
        };
        db.execute_unprepared(&sql).await?;
    }
    println!(
        "  {backend:?}: {size_mib} MiB of rows written in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

async fn backup(
    db: &Db,
    url: &str,
    work: &Path,
) -> anyhow::Result<((Duration, u64), std::path::PathBuf)> {
    let dir = BackupDir::new(work.join("backups"), "pg_dump".into());
    let facts = Facts {
        product_version: "6.4.0".into(),
        build: "6.4.0.9001".into(),
        patch_level: 0,
        migrations: Vec::new(),
    };
    let request = Request {
        reason: BackupReason::Manual,
        taken_by: "bench".into(),
        patch: None,
    };
    let started = Instant::now();
    let info = dir.take(db, url, facts, request).await?;
    Ok(((started.elapsed(), info.size), dir.file_path(&info)))
}

/// Restores `file` into the live database `db` as a restore job does, with a job and its
/// `restore_database` stage to journal.
async fn restore(db: &Db, url: &str, work: &Path, file: &Path) -> anyhow::Result<Duration> {
    db.execute_unprepared(
        "INSERT INTO jobs (kind, state, done_bytes, total_bytes, started_by, started_at, node, \
         upcoming_sent) VALUES ('restore', 'running', 0, 0, 'bench', CURRENT_TIMESTAMP, '', false)",
    )
    .await?;
    db.execute_unprepared(
        "INSERT INTO job_stages (job_id, position, name) \
         SELECT max(id), 0, 'restore_database' FROM jobs",
    )
    .await?;
    let mark = Mark {
        job: 1,
        stage: "restore_database",
    };
    let started = Instant::now();
    match db.get_database_backend() {
        sea_orm::DbBackend::Postgres => {
            let dir = BackupDir::new(work.join("backups"), "pg_dump".into());
            dir.swap_postgres(url, file, mark, || {}).await?;
        }
        _ => swap_sqlite(db, file, mark, || {}).await?,
    }
    Ok(started.elapsed())
}

fn timed(work: impl FnOnce() -> anyhow::Result<()>) -> anyhow::Result<Duration> {
    let started = Instant::now();
    work()?;
    Ok(started.elapsed())
}

fn run(command: &mut Command) -> anyhow::Result<()> {
    let output = command.output().context("cannot run the tool")?;
    if !output.status.success() {
        bail!("{}", String::from_utf8_lossy(&output.stderr));
    }
    Ok(())
}

fn report(what: &str, (ours, size): (Duration, u64), tool: &str, by_hand: Duration) {
    println!(
        "{what}: the server's backup {:.2} s ({} MiB, verified and checksummed), {tool} by hand {:.2} s ({:.2}x)",
        ours.as_secs_f64(),
        size / MIB,
        by_hand.as_secs_f64(),
        ours.as_secs_f64() / by_hand.as_secs_f64().max(0.001)
    );
}

fn report_restore(what: &str, ours: Duration, tool: &str, by_hand: Duration) {
    println!(
        "{what}: the server's restore into the live database {:.2} s (one transaction, its own tables kept), {tool} by hand {:.2} s ({:.2}x)",
        ours.as_secs_f64(),
        by_hand.as_secs_f64(),
        ours.as_secs_f64() / by_hand.as_secs_f64().max(0.001)
    );
}
