//! Server configuration. figment merges its layers (`layers.rs`): the built-in defaults
//! (`defaults.toml`), the file (`--config`), then the flags with their `SMS_*` variables. The
//! merged settings are read into `Config`, one struct per section (each key is documented in
//! docs/configuration.md); `Config::resolve` then checks what one value alone cannot say and
//! reads the files some settings name (secrets, passwords).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use shared::{Build, ProductVersion};

mod cluster;
mod layers;
pub mod operations;
mod sections;
mod values;

pub use cluster::{ClusterConfig, ClusterSettings, MIN_SECRET_LEN};
pub use layers::Flags;
pub use operations::{BackupsConfig, MetricsConfig, NotifyConfig, SmtpConfig};
pub use sections::{
    AuditConfig, AuthConfig, DevicesConfig, HttpConfig, InstallConfig, SystemConfig, TlsSettings,
    TmcConfig, Transport,
};
pub use values::{LONG, SHORT, duration};

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
    pub disk: operations::DiskSettings,
    /// `[cluster]` as written (`cluster` holds it resolved).
    #[serde(rename = "cluster")]
    pub cluster_settings: ClusterSettings,
    /// `[smtp]` as written (`smtp` holds it resolved).
    #[serde(rename = "smtp", default)]
    pub smtp_settings: operations::SmtpSettings,
    /// `[metrics]` as written (`metrics` holds it resolved).
    #[serde(rename = "metrics", default)]
    pub metrics_settings: operations::MetricsSettings,
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

/// Where the data lives, resolved.
#[derive(Debug, Clone, Default)]
pub struct StorageConfig {
    pub data_dir: PathBuf,
    pub database_url: String,
    /// `[storage] warn_free_mb` in bytes: warn below this much free space in the data dir
    /// (`None`: 2 GiB or 10 % of its file system, whichever is less; `storage::space`).
    pub warn_free_bytes: Option<u64>,
}

/// The installed state written on the first start: `[installed] product_version` (6.4.0) and
/// `build` (6.4.0.9001 for 6.4.0, `PRODUCT_VERSION.1` for others).
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "Installed")]
pub struct InitialInstall {
    pub product_version: ProductVersion,
    pub build: Build,
}

/// `[installed]` as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Installed {
    pub product_version: Option<String>,
    pub build: Option<String>,
}

impl TryFrom<Installed> for InitialInstall {
    type Error = String;

    fn try_from(installed: Installed) -> Result<Self, String> {
        let version = installed.product_version.as_deref().unwrap_or("6.4.0");
        let product_version: ProductVersion = version
            .parse()
            .map_err(|err| format!("product_version `{version}`: {err}"))?;
        let build: Build = match installed.build.as_deref() {
            Some(text) => text
                .parse()
                .map_err(|err| format!("build `{text}`: {err}"))?,
            None => Build {
                version: product_version,
                number: if product_version == ProductVersion::new(6, 4, 0) {
                    9001
                } else {
                    1
                },
            },
        };
        if build.version != product_version {
            return Err(format!(
                "the build {build} does not belong to product version {product_version}"
            ));
        }
        Ok(Self {
            product_version,
            build,
        })
    }
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
        self.storage = StorageConfig::resolve(&self);
        if self.demo && !layers::given(figment, "tmc.interval") {
            self.tmc.interval = sections::DEMO_TMC_INTERVAL;
        }
        if !layers::given(figment, "backups.dir") {
            self.backups.dir = self.data_dir.join("backups");
        }
        self.auth.settle();
        self.audit.keep_days = self.audit.keep_days.max(1);
        self.audit.max_entries = self.audit.max_entries.max(100);
        sections::check(&self, &from)?;
        self.backups.check(&from)?;
        self.cluster = self.cluster_settings.resolve(&self.storage, &from)?;
        self.transport = self.tls.transport(self.listen)?;
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

impl StorageConfig {
    /// Resolves storage for the `sms user` commands, which read the same file as `sms serve`.
    pub fn load(flags: &impl Flags) -> anyhow::Result<Self> {
        let file = layers::read(flags.config_file())?;
        let file = file.as_ref().map(|(name, text)| (name.clone(), &**text));
        Ok(Self::resolve(&layers::merged(flags, file)?.0))
    }

    fn resolve(config: &Config) -> Self {
        let data_dir = config.data_dir.clone();
        let database_url = config
            .database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}?mode=rwc", data_dir.join("sms.db").display()));
        Self {
            data_dir,
            database_url,
            warn_free_bytes: config
                .disk
                .warn_free_mb
                .map(|mib| mib.saturating_mul(1 << 20)),
        }
    }

    /// Whether the database is the embedded SQLite file.
    pub fn is_sqlite(&self) -> bool {
        self.database_url.starts_with("sqlite:")
    }
}
