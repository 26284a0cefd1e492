//! `[smtp]` (the mail server email notifications go through) and `[notify]` (when events are
//! sent), as the configuration writes them; `[smtp]` resolved with its password read.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use serde::Deserialize;

use crate::values;

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
