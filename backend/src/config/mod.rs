//! Server configuration, put together. figment merges its layers (`layers.rs`): the built-in
//! defaults (`defaults.toml`), the file (`--config`), then the flags with their `SMS_*`
//! variables. The merged settings are read into `Config`, one struct per section (each key is
//! documented in docs/configuration.md). A section one service reads is that service's own type
//! (`service::auth::AuthConfig`, `service::cluster::ClusterSettings`, ...), the way
//! `[packages]` is `package::Limits`; the sections the server itself reads are in
//! `sections.rs`. `Config::resolve` then checks what one value alone cannot say and has each
//! section that names files (secrets, passwords) read them.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

mod layers;
mod sections;

pub use layers::Flags;
pub use sections::{
    DevicesConfig, HttpConfig, InstallConfig, MetricsConfig, MetricsSettings, SystemConfig,
    TlsSettings, Transport,
};

use crate::service::audit::AuditConfig;
use crate::service::auth::AuthConfig;
use crate::service::backups::BackupsConfig;
use crate::service::cluster::{ClusterConfig, ClusterSettings};
use crate::service::installed::InitialInstall;
use crate::service::notify::{NotifyConfig, SmtpConfig, SmtpSettings};
use crate::service::tmc::{DEMO_TMC_INTERVAL, TmcConfig};
use crate::storage::db::StorageConfig;

/// Everything `sms serve` needs: the settings as the file writes them, then (`serde(skip)`)
/// what `resolve` makes of those that need other values or files.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    /// none: the SQLite file in the data dir.
    pub database_url: Option<String>,
    pub log_format: LogFormat,
    pub demo: bool,
    /// The built web client.
    pub static_dir: PathBuf,
    /// This node's name, shown in the UI and the API (the host name unless set).
    #[serde(default = "host_name")]
    pub node_name: String,
    /// Public key files of the vendors whose packages this server accepts.
    pub trust_keys: Vec<PathBuf>,
    #[serde(rename = "packages", default)]
    pub package_limits: crate::package::Limits,
    /// `[installed]`: the state the very first start records.
    #[serde(rename = "installed")]
    pub initial: InitialInstall,
    pub tmc: TmcConfig,
    pub system: SystemConfig,
    pub install: InstallConfig,
    pub devices: DevicesConfig,
    pub auth: AuthConfig,
    pub http: HttpConfig,
    pub audit: AuditConfig,
    #[serde(default)]
    pub tls: TlsSettings,
    pub notify: NotifyConfig,
    pub backups: BackupsConfig,
    /// `[storage] warn_free_mb`, as written (`storage` holds it in bytes).
    #[serde(rename = "storage", default)]
    pub disk: DiskSettings,
    /// `[cluster]` as written (`cluster` holds it resolved).
    #[serde(rename = "cluster")]
    pub cluster_settings: ClusterSettings,
    /// `[smtp]` as written (`smtp` holds it resolved).
    #[serde(rename = "smtp", default)]
    pub smtp_settings: SmtpSettings,
    /// `[metrics]` as written (`metrics` holds it resolved).
    #[serde(rename = "metrics", default)]
    pub metrics_settings: MetricsSettings,
    /// Where the data lives.
    #[serde(skip)]
    pub storage: StorageConfig,
    /// The HA cluster this node belongs to; `None` on a single server.
    #[serde(skip)]
    pub cluster: Option<ClusterConfig>,
    /// Plain HTTP or HTTPS, and with which certificate.
    #[serde(skip)]
    pub transport: Transport,
    /// The mail server of email notifications; `None`: email targets cannot be added.
    #[serde(skip)]
    pub smtp: Option<SmtpConfig>,
    /// Who may read `/metrics`.
    #[serde(skip)]
    pub metrics: MetricsConfig,
    /// The time maintenance windows and scheduled jobs run on.
    #[serde(skip, default = "crate::clock::Clock::system")]
    pub clock: crate::clock::Clock,
    /// This node's post-check fails on purpose (fault-injection builds only), as
    /// `SMS_FAIL_POSTCHECK` naming it would, for one of several servers in one test process.
    #[serde(skip)]
    pub fail_postcheck: bool,
}

/// How log lines are written.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// `[storage]`: the data dir's free space.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DiskSettings {
    /// Warn below this many MiB free in the data dir.
    pub warn_free_mb: Option<u64>,
}

impl Config {
    /// The key of this node's own rows (installed state, patch repository, jobs) in the
    /// database: its name in a cluster, empty on a single server (so renaming it loses nothing).
    pub fn node_key(&self) -> &str {
        match self.cluster {
            Some(_) => &self.node_name,
            None => "",
        }
    }

    /// Every built-in default: no file, no flags.
    pub fn defaults() -> Self {
        Self::from_layers(&serde_json::json!({}), None)
            .unwrap_or_else(|_| unreachable!("the built-in defaults are valid"))
    }

    /// A configuration with every default, data under `data_dir`; what tests start from.
    pub fn for_data_dir(data_dir: &Path) -> Self {
        let flags = serde_json::json!({ "data_dir": data_dir });
        Self::from_layers(&flags, None)
            .unwrap_or_else(|_| unreachable!("the built-in defaults are valid"))
    }

    /// Reads the file the flags name (if any) and merges the flags over it.
    pub fn load(flags: &impl Flags) -> anyhow::Result<Self> {
        let file = layers::read(flags.config_file())?;
        Self::from_layers(
            flags,
            file.as_ref().map(|(name, text)| (name.clone(), &**text)),
        )
    }

    /// The configuration of `file` (its name and TOML text) with `flags` over it.
    pub fn from_layers(
        flags: &impl serde::Serialize,
        file: Option<(String, &str)>,
    ) -> anyhow::Result<Self> {
        let (config, figment) = layers::merged(flags, file)?;
        config.resolve(&figment)
    }

    fn resolve(mut self, figment: &figment::Figment) -> anyhow::Result<Self> {
        let from = |key: &str| layers::origin(figment, key);
        self.storage = storage_of(&self);
        if self.demo && !layers::given(figment, "tmc.interval") {
            self.tmc.interval = DEMO_TMC_INTERVAL;
        }
        if !layers::given(figment, "backups.dir") {
            self.backups.dir = self.data_dir.join("backups");
        }
        self.auth.settle();
        self.audit.settle();
        sections::check(&self, &from)?;
        self.backups.check(&from)?;
        self.cluster = self.cluster_settings.resolve(&self.storage, &from)?;
        self.transport = self.tls.transport(self.listen, &from)?;
        self.smtp = self.smtp_settings.resolve()?;
        self.metrics = self.metrics_settings.resolve()?;
        #[cfg(feature = "fault-injection")]
        {
            self.clock = crate::clock::Clock::from_env()?;
        }
        Ok(self)
    }
}

/// Every setting of the configuration file (`name`, TOML `text`), read but not resolved: its
/// keys and their types are checked, not what needs several values or other files.
pub fn settings(name: &str, text: &str) -> anyhow::Result<Config> {
    let none = serde_json::json!({});
    Ok(layers::merged(&none, Some((name.to_owned(), text)))?.0)
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| name.trim().to_owned())
        .ok()
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "sms".to_owned())
}

/// Where the data lives, for the `sms user` commands, which read the same file as `sms serve`.
pub fn storage(flags: &impl Flags) -> anyhow::Result<StorageConfig> {
    let file = layers::read(flags.config_file())?;
    let file = file.as_ref().map(|(name, text)| (name.clone(), &**text));
    Ok(storage_of(&layers::merged(flags, file)?.0))
}

fn storage_of(config: &Config) -> StorageConfig {
    let data_dir = config.data_dir.clone();
    let database_url = config
        .database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}?mode=rwc", data_dir.join("sms.db").display()));
    StorageConfig {
        data_dir,
        database_url,
        warn_free_bytes: config
            .disk
            .warn_free_mb
            .map(|mib| mib.saturating_mul(1 << 20)),
    }
}
