//! Restoring a backup into the database the server runs on (docs/backups.md, "Restoring one
//! from the console").
//!
//! In one transaction every table of the database becomes the backup's, the server's own
//! schema (`seaql_migrations`) included, except the rows of the server's own records
//! ([`KEPT_TABLES`]: accounts and sessions, the audit log, the jobs and their journal,
//! notification targets and deliveries, the patch repository, the TMC catalog, the cluster
//! settings), which stay, in the backup's structure of their tables. The same transaction journals the end of the
//! job's stage that did it, so after a crash the journal says which database is there: the old
//! one until the commit, the backup's from it on.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use chrono::Utc;
// The dynamic SQL here is built from the schema names of the two databases (quoted), the
// constant kept tables and the backup's own CREATE statements: no user input reaches it.
use sea_orm::sqlx::{self, AssertSqlSafe, Connection as _};
use tokio::io::AsyncWriteExt;

use crate::storage::backup::{BackupDir, BackupError};
use crate::storage::db::Db;

/// The tables whose rows a restore keeps, a table after those it references. Their structure
/// is the backup's (the server schema, `seaql_migrations`, comes with the backup: that of the
/// level it belongs to), their rows are carried over column by column.
pub const KEPT_TABLES: [&str; 11] = [
    "users",
    "sessions",
    "audit_log",
    "jobs",
    "job_stages",
    "notification_targets",
    "notification_outbox",
    "patches",
    "tmc_patches",
    "tmc_state",
    "cluster",
];

/// Whether a restore keeps `table` as it is.
pub fn is_kept(table: &str) -> bool {
    KEPT_TABLES.contains(&table)
}

/// The stage of the job the swap's own transaction marks as ended well.
#[derive(Debug, Clone, Copy)]
pub struct Mark {
    pub job: i64,
    pub stage: &'static str,
}

/// Puts the SQLite backup `file` in place of the database `db` holds, keeping
/// [`KEPT_TABLES`], and marks `mark` in the same transaction. `before_commit` runs just before
/// the commit (fault injection). A copy of the backup is attached (`<file>.restoring.part`,
/// removed afterwards, and at the next start when a crash leaves it).
pub async fn swap_sqlite(
    db: &Db,
    file: &Path,
    mark: Mark,
    before_commit: impl FnOnce(),
) -> Result<(), BackupError> {
    let copy = restoring_copy(file);
    tokio::fs::copy(file, &copy).await?;
    let swapped = swap_sqlite_from(db, &copy, mark, before_commit).await;
    if let Err(err) = tokio::fs::remove_file(&copy).await {
        tracing::warn!(file = %copy.display(), "cannot remove the restore's copy: {err}");
    }
    swapped
}

fn restoring_copy(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".restoring.part");
    PathBuf::from(name)
}

async fn swap_sqlite_from(
    db: &Db,
    copy: &Path,
    mark: Mark,
    before_commit: impl FnOnce(),
) -> Result<(), BackupError> {
    let failed = |what: &str, err: sqlx::Error| {
        BackupError::Copy(format!("{what}: {err}; the database is as it was"))
    };
    let Some(path) = copy.to_str() else {
        return Err(BackupError::Copy(format!(
            "the backups folder's path is not UTF-8: {}",
            copy.display()
        )));
    };
    // A connection of its own, closed afterwards: it leaves the pool with foreign keys off
    // and the backup attached.
    let mut connection = db
        .get_sqlite_connection_pool()
        .acquire()
        .await
        .map_err(|err| failed("no connection to the database", err))?
        .detach();
    let prepared = async {
        sqlx::query("PRAGMA foreign_keys = OFF")
            .execute(&mut connection)
            .await?;
        sqlx::query("ATTACH DATABASE ?1 AS backup")
            .bind(path)
            .execute(&mut connection)
            .await?;
        sqlx::query("BEGIN IMMEDIATE")
            .execute(&mut connection)
            .await?;
        Ok::<(), sqlx::Error>(())
    }
    .await;
    if let Err(err) = prepared {
        let _ = connection.close().await;
        return Err(failed("the backup cannot be attached", err));
    }
    let outcome = match swap_in(&mut connection, mark).await {
        Ok(()) => {
            before_commit();
            sqlx::query("COMMIT")
                .execute(&mut connection)
                .await
                .map(|_| ())
                .map_err(|err| failed("the restore could not be committed", err))
        }
        Err(err) => Err(err),
    };
    // Closing the connection rolls back whatever did not commit.
    let _ = connection.close().await;
    outcome
}

/// Inside the transaction: the tables that are not kept are dropped, the backup's are created
/// and filled, with their indexes, triggers and views; the AUTOINCREMENT counters follow.
async fn swap_in(connection: &mut sqlx::SqliteConnection, mark: Mark) -> Result<(), BackupError> {
    let failed = |what: String, err: sqlx::Error| {
        BackupError::Copy(format!("{what}: {err}; the database is as it was"))
    };
    let has_schema: Option<(String,)> = sqlx::query_as(
        "SELECT name FROM backup.sqlite_master WHERE type = 'table' AND name = 'seaql_migrations'",
    )
    .fetch_optional(&mut *connection)
    .await
    .map_err(|err| BackupError::Corrupt(format!("its tables cannot be read: {err}")))?;
    if has_schema.is_none() {
        return Err(BackupError::Corrupt(
            "it holds no server schema (`seaql_migrations`)".into(),
        ));
    }
    for table in KEPT_TABLES {
        reshape_kept(connection, table).await?;
    }
    let ours: Vec<(String, String)> = sqlx::query_as(
        "SELECT type, name FROM main.sqlite_master \
         WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%'",
    )
    .fetch_all(&mut *connection)
    .await
    .map_err(|err| failed("the database's tables".into(), err))?;
    for (kind, name) in ours.iter().filter(|(_, name)| !is_kept(name)) {
        let drop = match kind.as_str() {
            "view" => "VIEW",
            _ => "TABLE",
        };
        sqlx::query(AssertSqlSafe(format!("DROP {drop} main.{}", quoted(name))))
            .execute(&mut *connection)
            .await
            .map_err(|err| failed(format!("dropping {name}"), err))?;
    }
    let theirs: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT type, name, tbl_name, sql FROM backup.sqlite_master \
         WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' \
         ORDER BY CASE type WHEN 'table' THEN 0 WHEN 'index' THEN 1 WHEN 'view' THEN 2 ELSE 3 END",
    )
    .fetch_all(&mut *connection)
    .await
    .map_err(|err| BackupError::Corrupt(format!("its tables cannot be read: {err}")))?;
    let mut restored = Vec::new();
    for (kind, name, table, sql) in &theirs {
        if is_kept(table) {
            continue;
        }
        // Unqualified, a CREATE goes to `main`, an index or trigger to its table's schema.
        sqlx::query(AssertSqlSafe(sql.as_str()))
            .execute(&mut *connection)
            .await
            .map_err(|err| failed(format!("creating {kind} {name}"), err))?;
        if kind == "table" {
            sqlx::query(AssertSqlSafe(format!(
                "INSERT INTO main.{0} SELECT * FROM backup.{0}",
                quoted(name)
            )))
            .execute(&mut *connection)
            .await
            .map_err(|err| failed(format!("copying the rows of {name}"), err))?;
            restored.push(name.clone());
        }
    }
    if has_table(connection, "main", "sqlite_sequence").await? {
        sqlx::query(AssertSqlSafe(format!(
            "DELETE FROM main.sqlite_sequence WHERE name NOT IN ({})",
            kept_list()
        )))
        .execute(&mut *connection)
        .await
        .map_err(|err| failed("the AUTOINCREMENT counters".into(), err))?;
        if has_table(connection, "backup", "sqlite_sequence").await? {
            sqlx::query(AssertSqlSafe(format!(
                "INSERT INTO main.sqlite_sequence (name, seq) \
                 SELECT name, seq FROM backup.sqlite_sequence WHERE name NOT IN ({})",
                kept_list()
            )))
            .execute(&mut *connection)
            .await
            .map_err(|err| failed("the AUTOINCREMENT counters".into(), err))?;
        }
    }
    let marked = sqlx::query(
        "UPDATE main.job_stages SET ended_at = ?1, outcome = 'ok' WHERE job_id = ?2 AND name = ?3",
    )
    .bind(Utc::now())
    .bind(mark.job)
    .bind(mark.stage)
    .execute(&mut *connection)
    .await
    .map_err(|err| failed("journaling the restore".into(), err))?;
    if marked.rows_affected() != 1 {
        return Err(BackupError::Copy(format!(
            "job {} has no stage {} to journal; the database is as it was",
            mark.job, mark.stage
        )));
    }
    tracing::info!(tables = %restored.join(", "), "restored from the backup");
    Ok(())
}

async fn has_table(
    connection: &mut sqlx::SqliteConnection,
    schema: &'static str,
    table: &str,
) -> Result<bool, BackupError> {
    let found: Option<(String,)> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT name FROM {schema}.sqlite_master WHERE type = 'table' AND name = ?1"
    )))
    .bind(table)
    .fetch_optional(&mut *connection)
    .await
    .map_err(|err| BackupError::Copy(format!("reading the schema: {err}")))?;
    Ok(found.is_some())
}

/// The kept tables as an SQL list of strings.
fn kept_list() -> String {
    KEPT_TABLES
        .iter()
        .map(|table| format!("'{table}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// An identifier in double quotes.
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A kept table whose structure differs from the backup's (a later or earlier release of the
/// server made them): it is made again as the backup has it, its rows carried over in the
/// columns both have.
async fn reshape_kept(
    connection: &mut sqlx::SqliteConnection,
    table: &'static str,
) -> Result<(), BackupError> {
    let failed = |what: &str, err: sqlx::Error| {
        BackupError::Copy(format!("{what} {table}: {err}; the database is as it was"))
    };
    let sql_of = |schema: &'static str| {
        format!("SELECT sql FROM {schema}.sqlite_master WHERE type = 'table' AND name = ?1")
    };
    let ours: Option<(String,)> = sqlx::query_as(AssertSqlSafe(sql_of("main")))
        .bind(table)
        .fetch_optional(&mut *connection)
        .await
        .map_err(|err| failed("reading", err))?;
    let theirs: Option<(String,)> = sqlx::query_as(AssertSqlSafe(sql_of("backup")))
        .bind(table)
        .fetch_optional(&mut *connection)
        .await
        .map_err(|err| failed("reading the backup's", err))?;
    let (Some((ours,)), Some((theirs,))) = (ours, theirs) else {
        return Err(BackupError::Mismatch(format!(
            "the backup or the database lacks the table {table}: it is not a database of this \
             server"
        )));
    };
    if ours == theirs {
        return Ok(());
    }
    let columns =
        |schema: &'static str| format!("SELECT name FROM pragma_table_info('{table}', '{schema}')");
    let ours: Vec<(String,)> = sqlx::query_as(AssertSqlSafe(columns("main")))
        .fetch_all(&mut *connection)
        .await
        .map_err(|err| failed("reading the columns of", err))?;
    let theirs: Vec<(String,)> = sqlx::query_as(AssertSqlSafe(columns("backup")))
        .fetch_all(&mut *connection)
        .await
        .map_err(|err| failed("reading the backup's columns of", err))?;
    let common: Vec<String> = theirs
        .iter()
        .filter(|column| ours.contains(column))
        .map(|(name,)| quoted(name))
        .collect();
    let common = common.join(", ");
    let kept = quoted(&format!("sms_kept_{table}"));
    let statements = [
        format!(
            "CREATE TEMP TABLE {kept} AS SELECT * FROM main.{}",
            quoted(table)
        ),
        format!("DROP TABLE main.{}", quoted(table)),
        theirs_sql(connection, table).await?,
        format!(
            "INSERT INTO main.{} ({common}) SELECT {common} FROM temp.{kept}",
            quoted(table)
        ),
        format!("DROP TABLE temp.{kept}"),
    ];
    for statement in statements {
        sqlx::query(AssertSqlSafe(statement))
            .execute(&mut *connection)
            .await
            .map_err(|err| failed("carrying over", err))?;
    }
    // Its indexes and triggers as the backup has them.
    let extras: Vec<(String,)> = sqlx::query_as(
        "SELECT sql FROM backup.sqlite_master WHERE tbl_name = ?1 AND type IN ('index', \
         'trigger') AND sql IS NOT NULL",
    )
    .bind(table)
    .fetch_all(&mut *connection)
    .await
    .map_err(|err| failed("reading the backup's indexes of", err))?;
    for (sql,) in extras {
        sqlx::query(AssertSqlSafe(sql))
            .execute(&mut *connection)
            .await
            .map_err(|err| failed("indexing", err))?;
    }
    tracing::info!(table, "a kept table took the backup's structure");
    Ok(())
}

/// The backup's CREATE statement of `table`.
async fn theirs_sql(
    connection: &mut sqlx::SqliteConnection,
    table: &'static str,
) -> Result<String, BackupError> {
    let (sql,): (String,) =
        sqlx::query_as("SELECT sql FROM backup.sqlite_master WHERE type = 'table' AND name = ?1")
            .bind(table)
            .fetch_one(&mut *connection)
            .await
            .map_err(|err| BackupError::Copy(format!("reading the backup's {table}: {err}")))?;
    Ok(sql)
}

impl BackupDir {
    /// Puts the PostgreSQL archive `file` in place of the contents of the database at
    /// `database_url`, keeping [`KEPT_TABLES`], and marks `mark`: one `psql` session runs, in
    /// one transaction, the kept tables locked against writes and copied aside, the drop of the tables the backup lacks,
    /// `pg_restore`'s script of the archive, the kept rows put back with their sequences, and
    /// the mark. A failure anywhere rolls it all back.
    pub async fn swap_postgres(
        &self,
        database_url: &str,
        file: &Path,
        mark: Mark,
        before_commit: impl FnOnce(),
    ) -> Result<(), BackupError> {
        let tables = self.archive_tables(file).await?;
        let mut restore = tokio::process::Command::new(self.pg_restore());
        restore
            .args([
                "--clean",
                "--if-exists",
                "--no-owner",
                "--no-privileges",
                "--file",
                "-",
            ])
            .arg(file)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut script = self.spawn(restore, self.pg_restore())?;
        let psql_path = self.psql();
        let mut psql = tokio::process::Command::new(&psql_path);
        psql.args([
            "--no-psqlrc",
            "--quiet",
            "--single-transaction",
            "--set",
            "ON_ERROR_STOP=1",
            "--dbname",
        ])
        .arg(database_url)
        .args(["--file", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
        let mut session = self.spawn(psql, &psql_path)?;
        let (Some(mut input), Some(mut output)) = (session.stdin.take(), script.stdout.take())
        else {
            return Err(BackupError::Copy("the pipes to psql are missing".into()));
        };
        let fed = async {
            input.write_all(prelude(&tables).as_bytes()).await?;
            tokio::io::copy(&mut output, &mut input).await?;
            input.write_all(epilogue(mark).as_bytes()).await?;
            input.flush().await?;
            // psql commits at the end of its input.
            before_commit();
            input.shutdown().await
        }
        .await;
        drop(input);
        let restored = script
            .wait_with_output()
            .await
            .map_err(|err| BackupError::Copy(format!("pg_restore: {err}")))?;
        let applied = session
            .wait_with_output()
            .await
            .map_err(|err| BackupError::Copy(format!("psql: {err}")))?;
        let errors = String::from_utf8_lossy(&applied.stderr);
        if !restored.status.success() {
            return Err(BackupError::Copy(format!(
                "pg_restore failed ({}); the database is as it was: {}",
                restored.status,
                String::from_utf8_lossy(&restored.stderr).trim()
            )));
        }
        if let Err(err) = fed {
            return Err(BackupError::Copy(format!(
                "the restore could not be handed to psql ({err}); the database is as it was: {}",
                errors.trim()
            )));
        }
        if !applied.status.success() {
            return Err(BackupError::Copy(format!(
                "psql failed ({}); the database is as it was: {}",
                applied.status,
                errors.trim()
            )));
        }
        Ok(())
    }

    /// The tables of the archive (`pg_restore --list`).
    async fn archive_tables(&self, file: &Path) -> Result<Vec<String>, BackupError> {
        let mut command = tokio::process::Command::new(self.pg_restore());
        command.arg("--list").arg(file);
        let output = self.run(command, self.pg_restore()).await?;
        if !output.status.success() {
            return Err(BackupError::Corrupt(format!(
                "pg_restore cannot read it: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            )));
        }
        // "215; 1259 16390 TABLE public settings postgres"
        Ok(String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter(|line| !line.starts_with(';'))
            .filter_map(|line| {
                let (_, entry) = line.split_once(';')?;
                let mut words = entry.split_whitespace().skip(2);
                (words.next()? == "TABLE" && words.next()? == "public")
                    .then(|| words.next().map(str::to_owned))?
            })
            .collect())
    }

    fn spawn(
        &self,
        mut command: tokio::process::Command,
        program: &Path,
    ) -> Result<tokio::process::Child, BackupError> {
        command.spawn().map_err(|err| match err.kind() {
            std::io::ErrorKind::NotFound => BackupError::ToolMissing(program.display().to_string()),
            _ => BackupError::Copy(format!("{} cannot run: {err}", program.display())),
        })
    }
}

/// Before the archive's script: the kept tables copied aside, and every table that is neither
/// kept nor in the backup dropped.
fn prelude(archive_tables: &[String]) -> String {
    let mut sql = String::from("SET client_min_messages = warning;\n");
    // Writers of the kept tables wait for the commit (then fail and retry): nothing written
    // to them between their copy and the commit is lost.
    let all: Vec<String> = KEPT_TABLES
        .iter()
        .map(|t| format!("public.{}", quoted(t)))
        .collect();
    sql.push_str(&format!(
        "LOCK TABLE {} IN EXCLUSIVE MODE;\n",
        all.join(", ")
    ));
    for table in KEPT_TABLES {
        sql.push_str(&format!(
            "CREATE TEMP TABLE sms_kept_{table} AS SELECT * FROM public.{0};\n",
            quoted(table)
        ));
    }
    let keep: Vec<String> = KEPT_TABLES
        .iter()
        .map(|t| (*t).to_owned())
        .chain(archive_tables.iter().cloned())
        .map(|t| format!("'{}'", t.replace('\'', "''")))
        .collect();
    sql.push_str(&format!(
        "DO $sms$ DECLARE t text; BEGIN \
         FOR t IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' \
         AND tablename NOT IN ({}) LOOP \
         EXECUTE format('DROP TABLE public.%I CASCADE', t); END LOOP; END $sms$;\n",
        keep.join(", ")
    ));
    sql
}

/// After the archive's script (which made the kept tables again as the backup has them): the
/// kept rows back with their sequences, and the mark.
fn epilogue(mark: Mark) -> String {
    let mut sql = String::from("\n");
    let all: Vec<String> = KEPT_TABLES
        .iter()
        .map(|t| format!("public.{}", quoted(t)))
        .collect();
    sql.push_str(&format!("TRUNCATE {};\n", all.join(", ")));
    // The rows, in the columns the backup's structure and the kept copy have in common.
    for table in KEPT_TABLES {
        sql.push_str(&format!(
            "DO $sms$ DECLARE c text; BEGIN \
             SELECT string_agg(quote_ident(column_name), ', ' ORDER BY ordinal_position) INTO c \
             FROM information_schema.columns WHERE table_schema = 'public' AND table_name = \
             '{table}' AND column_name IN (SELECT attname FROM pg_attribute WHERE attrelid = \
             'pg_temp.sms_kept_{table}'::regclass AND attnum > 0 AND NOT attisdropped); \
             EXECUTE format('INSERT INTO public.%I (%s) SELECT %s FROM pg_temp.sms_kept_{table}', \
             '{table}', c, c); END $sms$;\n"
        ));
    }
    let names: Vec<String> = KEPT_TABLES.iter().map(|t| format!("'{t}'")).collect();
    sql.push_str(&format!(
        "DO $sms$ DECLARE t text; s text; BEGIN \
         FOR t IN SELECT table_name FROM information_schema.columns WHERE table_schema = \
         'public' AND column_name = 'id' AND table_name IN ({}) LOOP \
         s := pg_get_serial_sequence(format('public.%I', t), 'id'); \
         IF s IS NOT NULL THEN EXECUTE format('SELECT setval(%L, COALESCE((SELECT max(id) \
         FROM public.%I), 0) + 1, false)', s, t); END IF; END LOOP; END $sms$;\n",
        names.join(", ")
    ));
    sql.push_str(&format!(
        "DO $sms$ BEGIN UPDATE public.job_stages SET ended_at = now(), outcome = 'ok' WHERE \
         job_id = {} AND name = '{}'; IF NOT FOUND THEN RAISE EXCEPTION 'sms: job {} has no \
         stage {}'; END IF; END $sms$;\n",
        mark.job, mark.stage, mark.job, mark.stage
    ));
    sql
}
