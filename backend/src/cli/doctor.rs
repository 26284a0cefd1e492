//! `sms doctor`: checks an installation the way `sms serve` would use it (the same flags,
//! environment and configuration file) and prints every check with what to do when it fails.
//! Exit status 1 when one failed. docs/cli.md lists the checks.

use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use chrono::{DateTime, Utc};
use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, Database};

use super::args::ServeArgs;
use crate::app::health::Probe;
use crate::config::{Config, Transport};
use crate::service::certificate::ServerCertificate;
use crate::service::error::causes;
use crate::service::tmc;
use crate::storage::install_root::InstallRoot;
use crate::storage::space::{self, Space};

/// How long one network check may take.
const NETWORK_TIMEOUT: Duration = Duration::from_secs(10);
/// How far the clock may be from the TMC's before it is worth a warning.
const CLOCK_SKEW: chrono::TimeDelta = chrono::TimeDelta::minutes(5);
/// No clock that is right reads a time before this (the year this version was made).
const EARLIEST_SANE_YEAR: i32 = 2026;

/// How one check came out.
enum Outcome {
    Ok(String),
    Warn { found: String, fix: String },
    Fail { found: String, fix: String },
}

struct Check {
    name: &'static str,
    outcome: Outcome,
}

impl Check {
    fn ok(name: &'static str, found: impl Into<String>) -> Self {
        Self {
            name,
            outcome: Outcome::Ok(found.into()),
        }
    }

    fn warn(name: &'static str, found: impl Into<String>, fix: impl Into<String>) -> Self {
        Self {
            name,
            outcome: Outcome::Warn {
                found: found.into(),
                fix: fix.into(),
            },
        }
    }

    fn fail(name: &'static str, found: impl Into<String>, fix: impl Into<String>) -> Self {
        Self {
            name,
            outcome: Outcome::Fail {
                found: found.into(),
                fix: fix.into(),
            },
        }
    }

    fn failed(&self) -> bool {
        matches!(self.outcome, Outcome::Fail { .. })
    }

    fn print(&self) {
        let mut line = String::new();
        let (word, found, fix) = match &self.outcome {
            Outcome::Ok(found) => ("ok", found, None),
            Outcome::Warn { found, fix } => ("WARN", found, Some(fix)),
            Outcome::Fail { found, fix } => ("FAIL", found, Some(fix)),
        };
        let _ = write!(line, "{word:<5} {:<12} {found}", self.name);
        if let Some(fix) = fix {
            let _ = write!(line, "\n      {:<12} fix: {fix}", "");
        }
        println!("{line}");
    }
}

/// Runs every check, prints them, and fails when one failed.
pub(super) async fn doctor(args: ServeArgs) -> ExitCode {
    let mut checks = Vec::new();
    let config = match Config::load(&args) {
        Ok(config) => {
            let from = args.storage.config.as_ref().map_or(
                "flags and defaults (no configuration file)".to_owned(),
                |p| p.display().to_string(),
            );
            checks.push(Check::ok("config", format!("parses: {from}")));
            Some(config)
        }
        Err(err) => {
            checks.push(Check::fail(
                "config",
                format!("does not load: {err:#}"),
                "correct the configuration file (every key: docs/configuration.md, or the \
                 commented /etc/sms/sms.toml of the package)",
            ));
            None
        }
    };
    if let Some(config) = &config {
        checks.push(data_dir(
            &config.storage.data_dir,
            config.storage.warn_free_bytes,
        ));
        checks.push(database(config).await);
        checks.push(install_root(config));
        checks.push(certificate(config));
        let (tmc, tmc_time) = tmc(config).await;
        checks.push(tmc);
        checks.push(clock(Utc::now(), tmc_time));
        checks.push(server(config).await);
    }
    for check in &checks {
        check.print();
    }
    if checks.iter().any(Check::failed) {
        println!("\nSome checks failed: fix them, then run `sms doctor` again.");
        ExitCode::FAILURE
    } else {
        println!("\nEverything checked is in order.");
        ExitCode::SUCCESS
    }
}

fn data_dir(dir: &Path, warn_free: Option<u64>) -> Check {
    const NAME: &str = "data dir";
    let shown = dir.display();
    match std::fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => {
            return Check::fail(
                NAME,
                format!("{shown} is not a folder"),
                "point data_dir (or --data-dir) at a folder the server's user owns",
            );
        }
        Err(err) => {
            return Check::fail(
                NAME,
                format!("{shown} cannot be read: {err}"),
                "create it and give it to the server's user (the package's is `sms`: \
                 install -d -o sms -g sms -m 0750 /var/lib/sms)",
            );
        }
    }
    let probe = dir.join(format!(".sms-doctor-{}", std::process::id()));
    if let Err(err) = std::fs::write(&probe, b"probe").and_then(|()| std::fs::remove_file(&probe)) {
        return Check::fail(
            NAME,
            format!("{shown} is not writable: {err}"),
            "give the folder to the user the server runs as (the package's is `sms`): \
             chown -R sms:sms on it",
        );
    }
    match Space::of(dir) {
        Ok(space) => {
            let found = format!(
                "{shown}: writable, {} free of {} (the server warns below {})",
                size(space.free),
                size(space.total),
                size(space.warn_below(warn_free))
            );
            if space.free < space::MARGIN {
                Check::fail(
                    NAME,
                    found,
                    "free space on its file system: below 64 MiB the server refuses every \
                     download, import and install, and its database may refuse writes",
                )
            } else if space.is_low(warn_free) {
                Check::warn(
                    NAME,
                    found,
                    "free space on its file system: a download or import needs its size plus \
                     64 MiB free, an install twice its payload plus 64 MiB (or set \
                     `[storage] warn_free_mb` to warn at another level)",
                )
            } else {
                Check::ok(NAME, found)
            }
        }
        Err(err) => Check::warn(
            NAME,
            format!("{shown}: writable; its free space is unknown ({err})"),
            "check the file system with df",
        ),
    }
}

/// MiB under a GiB, tenths of a GiB from there.
fn size(bytes: u64) -> String {
    if bytes < 1 << 30 {
        return format!("{} MiB", bytes >> 20);
    }
    // Tenths of a GiB, in integers.
    let tenths = bytes.saturating_mul(10) / (1 << 30);
    format!("{}.{} GiB", tenths / 10, tenths % 10)
}

async fn database(config: &Config) -> Check {
    const NAME: &str = "database";
    let storage = &config.storage;
    // Opened as it is: the doctor creates nothing (a fresh SQLite URL would make the file).
    let url = storage.database_url.replace("mode=rwc", "mode=rw");
    let shown = crate::storage::db::redact(&storage.database_url);
    let mut options = ConnectOptions::new(url);
    options
        .sqlx_logging(false)
        .connect_timeout(NETWORK_TIMEOUT)
        .acquire_timeout(NETWORK_TIMEOUT)
        .max_connections(1);
    let db = match Database::connect(options).await {
        Ok(db) => db,
        Err(err) => {
            let fix = if storage.is_sqlite() {
                "start the server once (it creates the database), and check that its user can \
                 write the data dir"
            } else {
                "check that PostgreSQL runs, that the URL's host, user and password are right, \
                 and that the database exists"
            };
            return Check::fail(NAME, format!("{shown} cannot be opened: {err}"), fix);
        }
    };
    let applied = crate::storage::executable::applied_builtin(&db).await;
    let later = applied
        .as_deref()
        .map(crate::storage::executable::unknown_to_this_release)
        .unwrap_or_default();
    if !later.is_empty() {
        let _ = db.close().await;
        return Check::fail(
            NAME,
            format!(
                "{shown}: has the server schema migrations {} that this release does not know \
                 (a later release applied them)",
                later.join(", ")
            ),
            "run that release again (install its patch), or restore the backup taken before \
             its install: sms backup list, then sms backup restore NAME with the server stopped",
        );
    }
    let pending = Migrator::get_pending_migrations(&db).await;
    let _ = db.close().await;
    match pending {
        Ok(pending) if pending.is_empty() => {
            Check::ok(NAME, format!("{shown}: reachable, schema up to date"))
        }
        Ok(pending) => Check::fail(
            NAME,
            format!("{shown}: {} migration(s) not applied yet", pending.len()),
            "start the server (sms serve): it brings the schema up to date when it starts",
        ),
        Err(err) => Check::fail(
            NAME,
            format!("{shown}: its schema cannot be read: {err}"),
            "start the server once (it creates the schema); if it is there, restore the \
             database from a backup",
        ),
    }
}

fn install_root(config: &Config) -> Check {
    const NAME: &str = "install root";
    let Some(root) = InstallRoot::existing(&config.storage.data_dir) else {
        return Check::fail(
            NAME,
            format!("none in {} yet", config.storage.data_dir.display()),
            "start the server once (sms serve): it makes the install root on its first start",
        );
    };
    let levels = root
        .current()
        .and_then(|current| Ok((current, root.confirmed()?)));
    match levels {
        Ok((current, _)) if !root.has_level(current) => Check::fail(
            NAME,
            format!(
                "the current level ({}) has no folder",
                shared::level_in_words(current)
            ),
            "start the server: it switches back to the last level that came up; if it does \
             not, reinstall the package",
        ),
        Ok((current, confirmed)) if current != confirmed => Check::warn(
            NAME,
            format!(
                "{} is on trial (the last confirmed level is {})",
                shared::level_in_words(current),
                shared::level_in_words(confirmed)
            ),
            "start the server: it confirms the level once its server answers, or switches back",
        ),
        Ok((current, _)) => Check::ok(
            NAME,
            format!(
                "{}: runs {}",
                root.dir().display(),
                shared::level_in_words(current)
            ),
        ),
        Err(err) => Check::fail(
            NAME,
            format!("{} cannot be read: {err}", root.dir().display()),
            "give the data dir back to the server's user (chown -R sms:sms), or restore it \
             from a backup",
        ),
    }
}

fn certificate(config: &Config) -> Check {
    const NAME: &str = "certificate";
    let (cert, key) = match &config.transport {
        Transport::Http => {
            return Check::ok(
                NAME,
                "none: plain HTTP (a loopback address, or --insecure-http behind a proxy)",
            );
        }
        Transport::Https { cert, key } => (cert.clone(), key.clone()),
        Transport::HttpsSelfSigned => {
            let (cert, key) = crate::app::tls::self_signed_files(&config.storage.data_dir);
            if !cert.exists() {
                return Check::ok(
                    NAME,
                    "self-signed, made on the server's first start (not made yet)",
                );
            }
            (cert, key)
        }
    };
    match ServerCertificate::load(&cert, &key) {
        Ok(served) => {
            let info = served.info(Utc::now());
            let found = format!(
                "{}: {}, valid until {} ({} days)",
                cert.display(),
                info.subject,
                info.not_after.format("%Y-%m-%d"),
                info.days_left
            );
            if info.days_left < 0 {
                Check::fail(
                    NAME,
                    found,
                    "replace it: Admin > General > Server certificate, or new files at the \
                     configured paths",
                )
            } else if info.expires_soon {
                Check::warn(
                    NAME,
                    found,
                    "replace it before it expires: Admin > General > Server certificate",
                )
            } else {
                Check::ok(NAME, found)
            }
        }
        Err(err) => Check::fail(
            NAME,
            err.to_string(),
            "give the server a readable certificate chain and its key (docs/configuration.md, \
             \"Serving HTTPS\")",
        ),
    }
}

/// The TMC's check, and the time its answer carried (for the clock's check).
async fn tmc(config: &Config) -> (Check, Option<DateTime<Utc>>) {
    const NAME: &str = "tmc";
    let Some(base) = &config.tmc.url else {
        let found = if config.demo {
            "demo mode: the server runs its own"
        } else {
            "not configured: patches come only from imported files"
        };
        return (Check::ok(NAME, found), None);
    };
    crate::net::install_tls_provider();
    // The client the server's TMC sync uses: the same trust, the same redirect rule.
    let client = match tmc::http_client(&config.tmc.trust) {
        Ok(client) => client,
        Err(err) => {
            return (
                Check::fail(
                    NAME,
                    format!("cannot check {base}: {err:#}"),
                    "check [tmc] ca_file (a readable PEM file)",
                ),
                None,
            );
        }
    };
    // With a trusted TUF root the server reads the feed (format 2): ask for its timestamp.
    let feed = config.tmc.trust_root.is_some();
    let path = if feed {
        "v2/metadata/timestamp.json"
    } else {
        "v1/catalog.json"
    };
    let catalog = match base.join(path) {
        Ok(url) => url,
        Err(err) => {
            return (
                Check::fail(
                    NAME,
                    format!("{base} is not a base URL: {err}"),
                    "set [tmc] url to the TMC's base URL, e.g. https://tmc.example/",
                ),
                None,
            );
        }
    };
    match client
        .get(catalog.clone())
        .timeout(NETWORK_TIMEOUT)
        .send()
        .await
    {
        Ok(response) => {
            let date = response
                .headers()
                .get(reqwest::header::DATE)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| DateTime::parse_from_rfc2822(v).ok())
                .map(|t| t.with_timezone(&Utc));
            let status = response.status();
            let expired = if feed && status.is_success() {
                timestamp_expired(response, date).await
            } else {
                None
            };
            let check = if let Some(expired) = expired {
                Check::fail(
                    NAME,
                    expired,
                    "check the server's clock (timedatectl), then the TMC",
                )
            } else if !status.is_success() {
                Check::fail(
                    NAME,
                    format!("{catalog} answered {status}"),
                    "check [tmc] url: it must be the TMC's base URL",
                )
            } else if base.scheme() == "http" {
                Check::warn(
                    NAME,
                    format!("{catalog} answers, over plain HTTP"),
                    "use an https:// TMC address where the TMC offers one",
                )
            } else {
                Check::ok(
                    NAME,
                    format!("{catalog} answers; its certificate is trusted"),
                )
            };
            (check, date)
        }
        Err(err) => {
            let (reason, fix) = match tmc::certificate_problem(&err) {
                Some(problem) => (
                    format!("its certificate is not trusted: {problem}"),
                    "set [tmc] ca_file to the CA that signs the TMC's certificate",
                ),
                None => (
                    causes(&err),
                    "check that this server reaches the TMC (DNS, routes, proxies, firewall)",
                ),
            };
            (
                Check::fail(NAME, format!("{catalog} cannot be reached: {reason}"), fix),
                None,
            )
        }
    }
}

/// What is wrong with the feed's timestamp metadata when it has expired by this server's clock:
/// both clocks and its expiry.
async fn timestamp_expired(
    response: reqwest::Response,
    tmc_time: Option<DateTime<Utc>>,
) -> Option<String> {
    let bytes = response.bytes().await.ok()?;
    if bytes.len() > 1 << 20 {
        return Some("the TMC's timestamp metadata is larger than 1 MiB".into());
    }
    let value: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let expires = value["signed"]["expires"]
        .as_str()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())?
        .with_timezone(&Utc);
    let now = Utc::now();
    (expires <= now).then(|| {
        let tmc = tmc_time.map_or_else(
            || "the TMC sent no time".to_owned(),
            |t| format!("the TMC's clock says {}", t.format("%Y-%m-%d %H:%M:%S UTC")),
        );
        format!(
            "the feed's timestamp metadata expired at {} by this server's clock ({}; {tmc})",
            expires.format("%Y-%m-%d %H:%M:%S UTC"),
            now.format("%Y-%m-%d %H:%M:%S UTC")
        )
    })
}

fn clock(now: DateTime<Utc>, tmc_time: Option<DateTime<Utc>>) -> Check {
    const NAME: &str = "clock";
    use chrono::Datelike;
    let shown = now.format("%Y-%m-%d %H:%M:%S UTC");
    if now.year() < EARLIEST_SANE_YEAR {
        return Check::fail(
            NAME,
            format!("{shown} is before this version was made"),
            "set the system clock (timedatectl set-ntp true): certificates and schedules \
             depend on it",
        );
    }
    match tmc_time {
        Some(tmc) if (now - tmc).abs() > CLOCK_SKEW => Check::warn(
            NAME,
            format!(
                "{shown}, {} s from the TMC's clock",
                (now - tmc).num_seconds()
            ),
            "synchronise the system clock (timedatectl set-ntp true)",
        ),
        Some(_) => Check::ok(NAME, format!("{shown}, agrees with the TMC's clock")),
        None => Check::ok(NAME, shown.to_string()),
    }
}

/// Whether the server answers at its configured address, and at which level.
async fn server(config: &Config) -> Check {
    const NAME: &str = "server";
    let probe = match Probe::new(config.listen, config.transport.is_tls(), NETWORK_TIMEOUT) {
        Ok(probe) => probe,
        Err(why) => return Check::fail(NAME, why, "report this bug"),
    };
    match probe.level().await {
        Ok(level) => Check::ok(
            NAME,
            format!("{} answers: {}", probe.url(), shared::level_in_words(level)),
        ),
        Err(why) => Check::fail(
            NAME,
            format!("{} {why}", probe.url()),
            "start it (systemctl start sms), or wait a minute if a patch is restarting it, and \
             read the journal (journalctl -u sms)",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_shown_in_mib_under_a_gib_and_in_tenths_of_a_gib_above() {
        assert_eq!(size(0), "0 MiB");
        assert_eq!(size(96 << 20), "96 MiB");
        assert_eq!(size(3 << 29), "1.5 GiB");
        assert_eq!(size(41 << 30), "41.0 GiB");
    }

    #[test]
    fn a_clock_before_this_version_fails_and_one_far_from_the_tmc_warns() {
        let now = Utc::now();
        assert!(clock(now, None).outcome_is_ok());
        let old = DateTime::parse_from_rfc3339("2001-01-01T00:00:00Z")
            .map(|t| t.with_timezone(&Utc))
            .unwrap();
        assert!(clock(old, None).failed());
        let far = now + chrono::TimeDelta::hours(1);
        assert!(matches!(
            clock(far, Some(now)).outcome,
            Outcome::Warn { .. }
        ));
        assert!(clock(now, Some(now)).outcome_is_ok());
    }

    #[test]
    fn a_writable_data_dir_passes_and_a_missing_one_fails_with_its_fix() {
        let dir = tempfile::tempdir().unwrap();
        assert!(
            !data_dir(dir.path(), None).failed(),
            "a writable folder passes"
        );
        let check = data_dir(&dir.path().join("missing"), None);
        assert!(
            matches!(&check.outcome, Outcome::Fail { fix, .. } if fix.contains("install -d")),
            "a missing folder fails, saying how to make it"
        );
    }

    impl Check {
        fn outcome_is_ok(&self) -> bool {
            matches!(self.outcome, Outcome::Ok(_))
        }
    }
}
