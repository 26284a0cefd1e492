//! The operations settings: `[smtp]` (email notifications), `[notify]` (when events are sent),
//! `[metrics]` (who may read `/metrics`) and `[backups]`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde::Deserialize;

/// `[smtp]`: the mail server email notifications go through.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpFileConfig {
    pub host: Option<String>,
    pub port: Option<u16>,
    /// `none`, `starttls` (the default) or `tls`.
    pub tls: Option<SmtpTls>,
    pub username: Option<String>,
    /// A file holding the password (its first line).
    pub password_file: Option<PathBuf>,
    /// The sender, e.g. `SMS <sms@example.com>`.
    pub from: Option<String>,
    /// More CA certificates (PEM) to trust for the mail server.
    pub ca_file: Option<PathBuf>,
}

/// How the connection to the mail server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmtpTls {
    /// Plain SMTP: only for a relay on the same host or network.
    None,
    /// SMTP, then STARTTLS (required, never skipped).
    #[default]
    Starttls,
    /// TLS from the first byte (SMTPS).
    Tls,
}

/// `[smtp]`, resolved.
#[derive(Debug, Clone)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    /// User name and password.
    pub login: Option<(String, String)>,
    pub from: String,
    pub ca_file: Option<PathBuf>,
}

impl SmtpConfig {
    /// `None` when no host is set: email targets cannot be added then.
    pub fn resolve(file: &SmtpFileConfig) -> anyhow::Result<Option<Self>> {
        let Some(host) = file.host.clone().filter(|h| !h.trim().is_empty()) else {
            return Ok(None);
        };
        let tls = file.tls.unwrap_or_default();
        let port = file.port.unwrap_or(match tls {
            SmtpTls::None => 25,
            SmtpTls::Starttls => 587,
            SmtpTls::Tls => 465,
        });
        let login = match (&file.username, &file.password_file) {
            (Some(user), Some(path)) => {
                let text = std::fs::read_to_string(path).with_context(|| {
                    format!(
                        "cannot read `smtp.password_file` {}: give a file holding the mail \
                         server's password",
                        path.display()
                    )
                })?;
                let password = text.lines().next().unwrap_or_default().to_owned();
                anyhow::ensure!(
                    !password.is_empty(),
                    "`smtp.password_file` {} is empty",
                    path.display()
                );
                Some((user.clone(), password))
            }
            (None, None) => None,
            _ => anyhow::bail!(
                "`smtp.username` and `smtp.password_file` go together: give both, or neither"
            ),
        };
        let from = file
            .from
            .clone()
            .context("`smtp.from` is missing: give the sender, e.g. \"SMS <sms@example.com>\"")?;
        Ok(Some(Self {
            host,
            port,
            tls,
            login,
            from,
            ca_file: file.ca_file.clone(),
        }))
    }
}

/// `[notify]`: when events are sent.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifyFileConfig {
    /// `tmc.stale` after this long without reaching the TMC (default `24h`).
    pub tmc_stale_after: Option<String>,
    /// `job.upcoming` this long before a scheduled job starts (default `1h`).
    pub upcoming_before: Option<String>,
    /// The console's address, linked from emails.
    pub console_url: Option<String>,
}

/// `[notify]`, resolved.
#[derive(Debug, Clone)]
pub struct NotifyConfig {
    pub tmc_stale_after: Duration,
    pub upcoming_before: Duration,
    pub console_url: Option<String>,
    /// The first wait between two tries of a delivery (doubling up to an hour).
    pub retry_first: Duration,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        Self {
            tmc_stale_after: Duration::from_secs(24 * 3600),
            upcoming_before: Duration::from_secs(3600),
            console_url: None,
            retry_first: Duration::from_secs(10),
        }
    }
}

impl NotifyConfig {
    pub fn resolve(file: &NotifyFileConfig) -> anyhow::Result<Self> {
        let defaults = Self::default();
        let duration = |text: &Option<String>, key: &str, default: Duration| match text {
            Some(text) => super::duration(&format!("`{key}`"), text, super::LONG),
            None => Ok(default),
        };
        Ok(Self {
            tmc_stale_after: duration(
                &file.tmc_stale_after,
                "notify.tmc_stale_after",
                defaults.tmc_stale_after,
            )?,
            upcoming_before: duration(
                &file.upcoming_before,
                "notify.upcoming_before",
                defaults.upcoming_before,
            )?,
            console_url: file.console_url.clone(),
            retry_first: defaults.retry_first,
        })
    }
}

/// `[backups]`: where database backups go and how long they are kept (docs/backups.md).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupsFileConfig {
    /// The backups folder (default `DATA_DIR/backups`).
    pub dir: Option<PathBuf>,
    /// The `pg_dump` program for a PostgreSQL database (default: `pg_dump` on the PATH);
    /// `pg_restore` is looked for beside it.
    pub pg_dump: Option<PathBuf>,
    /// Keep at least this many of the newest backups (default 10).
    pub keep_last: Option<usize>,
    /// Remove backups older than this many days beyond those (default 30).
    pub keep_days: Option<u32>,
    /// When to take a backup by itself: five cron fields, e.g. `0 3 * * *` (none: never).
    pub schedule: Option<String>,
    /// The IANA time zone `schedule` is read in (default `UTC`).
    pub time_zone: Option<String>,
}

/// `[backups]`, resolved.
#[derive(Debug, Clone)]
pub struct BackupsConfig {
    pub dir: PathBuf,
    pub pg_dump: PathBuf,
    pub keep_last: usize,
    pub keep_days: u32,
    /// When backups are taken by themselves.
    pub schedule: Option<BackupSchedule>,
}

/// `[backups] schedule` and `time_zone`, checked.
#[derive(Debug, Clone)]
pub struct BackupSchedule {
    pub schedule: String,
    pub time_zone: chrono_tz::Tz,
}

impl BackupSchedule {
    /// When the next scheduled backup is due after `now`.
    pub fn next_after(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        shared::window::Window::new(&self.schedule, 1, self.time_zone, now)
            .ok()?
            .next_after(now)
            .map(|opening| opening.start)
    }
}

impl BackupsConfig {
    pub fn resolve(file: &BackupsFileConfig, data_dir: &Path) -> anyhow::Result<Self> {
        let schedule = match &file.schedule {
            None => None,
            Some(schedule) => {
                let zone = file.time_zone.as_deref().unwrap_or("UTC");
                let time_zone = zone.parse::<chrono_tz::Tz>().map_err(|_| {
                    anyhow::anyhow!(
                        "`backups.time_zone` is `{zone}`, not an IANA time zone (e.g. \
                         Europe/Berlin, UTC)"
                    )
                })?;
                shared::window::Window::new(schedule, 1, time_zone, Utc::now())
                    .map_err(|err| anyhow::anyhow!("`backups.schedule`: {err}"))?;
                Some(BackupSchedule {
                    schedule: schedule.clone(),
                    time_zone,
                })
            }
        };
        Ok(Self {
            dir: file.dir.clone().unwrap_or_else(|| data_dir.join("backups")),
            pg_dump: file.pg_dump.clone().unwrap_or_else(|| "pg_dump".into()),
            keep_last: file.keep_last.unwrap_or(10),
            keep_days: file.keep_days.unwrap_or(30),
            schedule,
        })
    }
}

/// `[metrics]`: who may read `GET /metrics`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsFileConfig {
    /// A bearer token; without one only loopback clients may read the metrics.
    pub token_file: Option<PathBuf>,
    /// The token itself (prefer `token_file`).
    pub token: Option<String>,
}

/// `[metrics]`, resolved: `None` means loopback clients only.
#[derive(Debug, Clone, Default)]
pub struct MetricsConfig {
    pub token: Option<String>,
}

impl MetricsConfig {
    pub fn resolve(file: &MetricsFileConfig) -> anyhow::Result<Self> {
        let token = match (&file.token, &file.token_file) {
            (Some(token), None) => Some(token.clone()),
            (None, Some(path)) => Some(
                std::fs::read_to_string(path)
                    .with_context(|| {
                        format!("cannot read `metrics.token_file` {}", path.display())
                    })?
                    .trim()
                    .to_owned(),
            ),
            (None, None) => None,
            (Some(_), Some(_)) => {
                anyhow::bail!("give `metrics.token` or `metrics.token_file`, not both")
            }
        };
        if let Some(token) = &token {
            anyhow::ensure!(
                token.len() >= 16,
                "the metrics token is shorter than 16 characters: make a longer one"
            );
        }
        Ok(Self { token })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_needs_a_sender_and_a_whole_login() {
        let file: SmtpFileConfig = toml::from_str("host = \"mail\"").unwrap();
        assert!(SmtpConfig::resolve(&file).is_err());
        let file: SmtpFileConfig =
            toml::from_str("host = \"mail\"\nfrom = \"a@b\"\nusername = \"u\"").unwrap();
        assert!(SmtpConfig::resolve(&file).is_err());
        let file: SmtpFileConfig =
            toml::from_str("host = \"mail\"\nfrom = \"a@b\"\ntls = \"tls\"").unwrap();
        let smtp = SmtpConfig::resolve(&file).unwrap().unwrap();
        assert_eq!((smtp.port, smtp.tls), (465, SmtpTls::Tls));
        assert!(
            SmtpConfig::resolve(&SmtpFileConfig::default())
                .unwrap()
                .is_none()
        );
    }
}
