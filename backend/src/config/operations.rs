//! The operations settings: `[smtp]` (email notifications), `[notify]` (when events are sent),
//! `[metrics]` (who may read `/metrics`) and `[backups]`.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::values;

/// `[smtp]`: the mail server email notifications go through.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SmtpSettings {
    pub host: Option<String>,
    pub port: Option<u16>,
    pub tls: SmtpTls,
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

/// `[smtp]`, resolved: the password read.
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

impl SmtpSettings {
    /// `None` when no host is set: email targets cannot be added then.
    pub fn resolve(&self) -> anyhow::Result<Option<SmtpConfig>> {
        let Some(host) = self.host.clone().filter(|h| !h.trim().is_empty()) else {
            return Ok(None);
        };
        let port = self.port.unwrap_or(match self.tls {
            SmtpTls::None => 25,
            SmtpTls::Starttls => 587,
            SmtpTls::Tls => 465,
        });
        let login = match (self.username.clone(), &self.password_file) {
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
                Some((user, password))
            }
            (None, None) => None,
            _ => anyhow::bail!(
                "`smtp.username` and `smtp.password_file` go together: give both, or neither"
            ),
        };
        let from = self
            .from
            .clone()
            .context("`smtp.from` is missing: give the sender, e.g. \"SMS <sms@example.com>\"")?;
        Ok(Some(SmtpConfig {
            host,
            port,
            tls: self.tls,
            login,
            from,
            ca_file: self.ca_file.clone(),
        }))
    }
}

/// `[notify]`: when events are sent.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifyConfig {
    /// `tmc.stale` after this long without reaching the TMC.
    #[serde(deserialize_with = "values::long")]
    pub tmc_stale_after: Duration,
    /// `job.upcoming` this long before a scheduled job starts.
    #[serde(deserialize_with = "values::long")]
    pub upcoming_before: Duration,
    /// The console's address, linked from emails.
    pub console_url: Option<String>,
    /// The first wait between two tries of a delivery (doubling up to an hour).
    #[serde(skip, default = "retry_first")]
    pub retry_first: Duration,
}

fn retry_first() -> Duration {
    Duration::from_secs(10)
}

/// `[backups]`: where database backups go and how long they are kept (docs/backups.md).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupsConfig {
    /// The backups folder (`DATA_DIR/backups` unless set).
    #[serde(default)]
    pub dir: PathBuf,
    /// The `pg_dump` program for a PostgreSQL database; `pg_restore` is looked for beside it.
    pub pg_dump: PathBuf,
    /// Keep at least this many of the newest backups.
    pub keep_last: usize,
    /// Remove backups older than this many days beyond those.
    pub keep_days: u32,
    /// When to take a backup by itself: five cron fields, e.g. `0 3 * * *` (none: never).
    pub schedule: Option<String>,
    /// The IANA time zone `schedule` is read in.
    #[serde(deserialize_with = "values::time_zone")]
    pub time_zone: chrono_tz::Tz,
}

impl BackupsConfig {
    /// When the next scheduled backup is due after `now`; `None`: never.
    pub fn next_after(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let schedule = self.schedule.as_deref()?;
        shared::window::Window::new(schedule, 1, self.time_zone, now)
            .ok()?
            .next_after(now)
            .map(|opening| opening.start)
    }

    /// Refuses a schedule that is not five cron fields.
    pub(super) fn check(&self, from: &dyn Fn(&str) -> String) -> anyhow::Result<()> {
        if let Some(schedule) = &self.schedule {
            shared::window::Window::new(schedule, 1, self.time_zone, Utc::now()).map_err(
                |err| anyhow::anyhow!("`backups.schedule`{}: {err}", from("backups.schedule")),
            )?;
        }
        Ok(())
    }
}

/// `[storage]`: the data dir's free space.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DiskSettings {
    /// Warn below this many MiB free in the data dir.
    pub warn_free_mb: Option<u64>,
}

/// `[metrics]`: who may read `GET /metrics`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsSettings {
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

impl MetricsSettings {
    pub fn resolve(&self) -> anyhow::Result<MetricsConfig> {
        let token = match (self.token.clone(), &self.token_file) {
            (Some(token), None) => Some(token),
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
        anyhow::ensure!(
            token.as_ref().is_none_or(|token| token.len() >= 16),
            "the metrics token is shorter than 16 characters: make a longer one"
        );
        Ok(MetricsConfig { token })
    }
}
