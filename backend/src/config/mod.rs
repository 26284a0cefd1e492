//! Server configuration: command-line flags, their `SMS_*` environment variables, and an optional
//! TOML file, merged by figment (`layers.rs`): a flag (or its variable) wins over the file, the
//! file over the built-in default. `Config::resolve` then checks the merged settings and turns
//! them into what the server uses.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Deserialize;
use shared::{Build, ProductVersion};

mod args;
mod cluster;
mod http;
mod layers;
pub mod operations;

pub use args::{ClusterArgs, LogFormat, PackageArgs, ServeArgs, StorageArgs, TlsArgs, TmcArgs};
pub use cluster::{ClusterConfig, ClusterFileConfig, LEASE_RENEW, LEASE_TTL, MIN_SECRET_LEN};
pub use http::{HttpConfig, HttpFileConfig, TlsFileConfig, Transport};

/// The TOML configuration file. Every key is optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub listen: Option<SocketAddr>,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub log_format: Option<LogFormat>,
    pub demo: Option<bool>,
    pub static_dir: Option<PathBuf>,
    pub node_name: Option<String>,
    #[serde(default)]
    pub trust_keys: Vec<PathBuf>,
    #[serde(default)]
    pub packages: PackagesFileConfig,
    #[serde(default)]
    pub tmc: TmcFileConfig,
    #[serde(default)]
    pub installed: InstalledFileConfig,
    #[serde(default)]
    pub system: SystemFileConfig,
    #[serde(default)]
    pub install: InstallFileConfig,
    #[serde(default)]
    pub devices: DevicesFileConfig,
    #[serde(default)]
    pub auth: AuthFileConfig,
    #[serde(default)]
    pub cluster: ClusterFileConfig,
    #[serde(default)]
    pub http: HttpFileConfig,
    #[serde(default)]
    pub audit: AuditFileConfig,
    #[serde(default)]
    pub tls: TlsFileConfig,
    #[serde(default)]
    pub smtp: operations::SmtpFileConfig,
    #[serde(default)]
    pub notify: operations::NotifyFileConfig,
    #[serde(default)]
    pub metrics: operations::MetricsFileConfig,
    #[serde(default)]
    pub storage: StorageFileConfig,
    #[serde(default)]
    pub backups: operations::BackupsFileConfig,
}

/// `[audit]`: how much of the audit log is kept.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditFileConfig {
    /// Entries older than this many days are removed.
    pub keep_days: Option<u32>,
    /// At most this many entries are kept (the oldest go first).
    pub max_entries: Option<u64>,
}

/// `[audit]`, resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditConfig {
    pub keep_days: u32,
    pub max_entries: u64,
}

impl Default for AuditConfig {
    fn default() -> Self {
        Self {
            keep_days: 365,
            max_entries: 100_000,
        }
    }
}

/// `[installed]`: the state recorded on the very first start.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstalledFileConfig {
    pub product_version: Option<String>,
    pub build: Option<String>,
}

/// `[devices]`: the managed devices.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DevicesFileConfig {
    /// How often the devices' status is polled, e.g. `5s`.
    pub poll_interval: Option<String>,
    /// The most devices the server manages; adding one more is refused.
    pub max_devices: Option<usize>,
}

/// The default time between two polls of the managed devices.
pub const DEVICE_POLL_INTERVAL: std::time::Duration = std::time::Duration::from_secs(5);

/// The default of the most devices the server manages.
pub const MAX_DEVICES: usize = 256;

/// `[system]`: how the server reboots when a patch needs it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SystemFileConfig {
    /// The command that reboots the machine, e.g. `["systemctl", "reboot"]`; none: simulated.
    pub reboot_command: Option<Vec<String>>,
    /// How long a simulated reboot leaves the server unreachable, e.g. `5s`.
    pub reboot_window: Option<String>,
}

/// How a reboot happens, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemConfig {
    /// Run this (program and arguments) to reboot; none: simulate a reboot in the process.
    pub reboot_command: Option<Vec<String>>,
    /// A simulated reboot's unreachable window.
    pub reboot_window: std::time::Duration,
}

/// A simulated reboot's default unreachable window.
pub const REBOOT_WINDOW: std::time::Duration = std::time::Duration::from_secs(5);

/// `[tmc]`: the TMC link.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TmcFileConfig {
    pub url: Option<String>,
    pub interval: Option<String>,
    pub timeout: Option<String>,
    /// An https:// TMC: PEM file of a CA that also signs its certificate.
    pub ca_file: Option<PathBuf>,
    /// The feed's first trusted TUF root metadata file.
    pub trust_root: Option<PathBuf>,
}

/// The TMC link, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TmcConfig {
    /// The TMC's base URL; none: no TMC (in demo mode the server starts its own).
    pub url: Option<reqwest::Url>,
    /// Time between two checks.
    pub interval: std::time::Duration,
    /// How long one request to the TMC (or a pause in a download) may take.
    pub timeout: std::time::Duration,
    /// How an https:// TMC's certificate is checked: the system's roots, plus this.
    pub trust: crate::net::Trust,
    /// The feed's first trusted TUF root metadata (`--trust-root`); the database's newest
    /// verified root wins over it once there is one.
    pub trust_root: Option<PathBuf>,
}

/// The default time between two TMC checks, and in demo mode.
pub const TMC_INTERVAL: std::time::Duration = std::time::Duration::from_secs(3600);
pub const DEMO_TMC_INTERVAL: std::time::Duration = std::time::Duration::from_secs(30);
/// The default time one TMC request may take.
pub const TMC_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// The shortest and longest durations most settings take.
pub const SHORT: std::ops::RangeInclusive<std::time::Duration> =
    std::time::Duration::ZERO..=std::time::Duration::from_secs(3600);
pub const LONG: std::ops::RangeInclusive<std::time::Duration> =
    std::time::Duration::from_secs(5)..=std::time::Duration::from_secs(10 * 365 * 86_400);

/// A duration as the configuration and the flags write it, one way everywhere: `500ms`, `90s`,
/// `30m`, `1h`, `2d`, `1h 30m` (humantime's words) or a number of seconds, within `range`;
/// an error names the `setting`.
pub fn duration(
    setting: &str,
    text: &str,
    range: std::ops::RangeInclusive<std::time::Duration>,
) -> anyhow::Result<std::time::Duration> {
    let text = text.trim();
    let parsed = if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        text.parse().map(std::time::Duration::from_secs).ok()
    } else {
        humantime::parse_duration(text).ok()
    };
    let duration = parsed.with_context(|| {
        format!("{setting}: `{text}` is not a duration like 500ms, 90s, 30m, 1h or 2d")
    })?;
    anyhow::ensure!(
        range.contains(&duration),
        "{setting}: `{text}` must be from {} to {}",
        humantime::format_duration(*range.start()),
        humantime::format_duration(*range.end())
    );
    Ok(duration)
}

/// `[packages]`: limits on patch packages.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackagesFileConfig {
    pub max_package_bytes: Option<u64>,
    pub max_manifest_bytes: Option<u64>,
    pub max_entries: Option<u64>,
}

/// `[auth]`: sessions, login throttling and password hashing.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthFileConfig {
    /// A session ends after this long without a request.
    pub session_ttl_minutes: Option<u32>,
    /// A session ends this long after its login, however busy it is.
    pub session_max_hours: Option<u32>,
    /// Failed logins for one user name from one address before that pair is throttled.
    pub lockout_threshold: Option<u32>,
    /// Failed logins from one address, whatever the names, before the address is throttled.
    pub address_lockout_threshold: Option<u32>,
    /// How long a throttle lasts.
    pub lockout_seconds: Option<u32>,
    /// Failures older than this no longer count.
    pub failure_window_seconds: Option<u32>,
    /// Password hashes computed at once; further logins wait briefly, then get 503 `busy`.
    pub parallel_hashes: Option<u32>,
}

/// The login throttle's limits, resolved from `[auth]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleLimits {
    /// Failed logins for one name from one address before that pair is throttled.
    pub per_user_and_address: u32,
    /// Failed logins from one address (any names) before the address is throttled.
    pub per_address: u32,
    /// How long a throttle lasts.
    pub block: std::time::Duration,
    /// Failures older than this no longer count.
    pub window: std::time::Duration,
}

impl Default for ThrottleLimits {
    fn default() -> Self {
        Self {
            per_user_and_address: 5,
            per_address: 20,
            block: std::time::Duration::from_secs(300),
            window: std::time::Duration::from_secs(900),
        }
    }
}

/// Where the data lives, resolved.
#[derive(Debug, Clone)]
pub struct StorageConfig {
    pub data_dir: PathBuf,
    pub database_url: String,
    /// `[storage] warn_free_mb` in bytes: warn below this much free space in the data dir
    /// (`None`: 2 GiB or 10 % of its file system, whichever is less; `storage::space`).
    pub warn_free_bytes: Option<u64>,
}

/// `[storage]`: the data dir's free space.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageFileConfig {
    /// Warn below this many MiB free in the data dir.
    pub warn_free_mb: Option<u64>,
}

/// The installed state written on the first start.
#[derive(Debug, Clone)]
pub struct InitialInstall {
    pub product_version: ProductVersion,
    pub build: Build,
}

/// Sessions, login throttling and password hashing, resolved.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// A session ends after this long without a request.
    pub session_ttl: chrono::Duration,
    /// A session ends this long after its login, however busy it is.
    pub session_max_age: chrono::Duration,
    pub throttle: ThrottleLimits,
    /// Password hashes computed at once.
    pub parallel_hashes: usize,
    /// How long a login waits for a hashing slot before it is answered `busy`.
    pub hash_wait: std::time::Duration,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            session_ttl: chrono::Duration::minutes(12 * 60),
            session_max_age: chrono::Duration::hours(24),
            throttle: ThrottleLimits::default(),
            parallel_hashes: 2,
            hash_wait: std::time::Duration::from_secs(2),
        }
    }
}

/// `[install]`: how a new level is started.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstallFileConfig {
    /// How long a new level's server has to come up before the previous level runs again.
    pub start_timeout: Option<String>,
}

/// How long a new level's server has to come up unless `[install] start_timeout` says otherwise.
pub const START_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Everything `sms serve` needs, resolved.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub storage: StorageConfig,
    pub log_format: LogFormat,
    pub demo: bool,
    pub static_dir: PathBuf,
    pub node_name: String,
    pub initial: InitialInstall,
    pub auth: AuthConfig,
    /// Public key files of the vendors whose packages this server accepts.
    pub trust_keys: Vec<PathBuf>,
    pub package_limits: crate::package::Limits,
    pub tmc: TmcConfig,
    pub system: SystemConfig,
    /// How long a new level's server has to come up (healthy at its level) before the
    /// supervisor starts the previous level's server again.
    pub start_timeout: std::time::Duration,
    /// Time between two polls of the managed devices.
    pub device_poll_interval: std::time::Duration,
    /// The most devices the server manages.
    pub max_devices: usize,
    /// The HA cluster this node belongs to; `None` on a single server.
    pub cluster: Option<ClusterConfig>,
    /// Trusted proxies and the limits of one request.
    pub http: HttpConfig,
    /// The audit log's retention.
    pub audit: AuditConfig,
    /// Plain HTTP or HTTPS, and with which certificate.
    pub transport: Transport,
    /// `--insecure-http`: plain HTTP on a non-loopback address was asked for.
    pub insecure_http: bool,
    /// The mail server of email notifications; `None`: email targets cannot be added.
    pub smtp: Option<operations::SmtpConfig>,
    /// When notifications are sent.
    pub notify: operations::NotifyConfig,
    /// `[backups]`.
    pub backups: operations::BackupsConfig,
    /// Who may read `/metrics`.
    pub metrics: operations::MetricsConfig,
    /// The time maintenance windows and scheduled jobs run on.
    pub clock: crate::clock::Clock,
    /// This node's post-check fails on purpose (fault-injection builds only), as
    /// `SMS_FAIL_POSTCHECK` naming it would, for one of several servers in one test process.
    pub fail_postcheck: bool,
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
}

pub const DEFAULT_PRODUCT_VERSION: &str = "6.4.0";
pub const DEFAULT_BUILD: &str = "6.4.0.9001";

impl Config {
    /// A configuration with every default, data under `data_dir`; what tests start from.
    pub fn for_data_dir(data_dir: &Path) -> Self {
        let args = ServeArgs {
            storage: StorageArgs {
                data_dir: Some(data_dir.to_owned()),
                ..StorageArgs::default()
            },
            ..ServeArgs::default()
        };
        Self::from_layers(&args, None)
            .unwrap_or_else(|_| unreachable!("the built-in defaults are valid"))
    }

    /// Reads the file named by `--config` (if any) and merges the flags over it.
    pub fn load(args: &ServeArgs) -> anyhow::Result<Self> {
        let file = layers::read(args.storage.config.as_deref())?;
        Self::from_layers(
            args,
            file.as_ref()
                .map(|(name, text)| (name.clone(), text.as_str())),
        )
    }

    /// The configuration of `file` (its name and TOML text) with the flags of `args` over it.
    pub fn from_layers(args: &ServeArgs, file: Option<(String, &str)>) -> anyhow::Result<Self> {
        let (settings, figment) = layers::merged(args, file)?;
        Self::resolve(&settings, &figment)
    }

    fn resolve(file: &FileConfig, figment: &figment::Figment) -> anyhow::Result<Self> {
        let storage = StorageConfig::resolve(file);
        let product_version: ProductVersion = file
            .installed
            .product_version
            .as_deref()
            .unwrap_or(DEFAULT_PRODUCT_VERSION)
            .parse()
            .context("invalid `installed.product_version` in the configuration file")?;
        let build: Build = match file.installed.build.as_deref() {
            Some(text) => text
                .parse()
                .context("invalid `installed.build` in the configuration file")?,
            None if product_version.to_string() == DEFAULT_PRODUCT_VERSION => {
                DEFAULT_BUILD.parse().context("invalid built-in build")?
            }
            None => Build {
                version: product_version,
                number: 1,
            },
        };
        anyhow::ensure!(
            build.version == product_version,
            "the configured build {build} does not belong to product version {product_version}"
        );
        let defaults = AuthConfig::default();
        let throttle = defaults.throttle;
        let seconds = |value: Option<u32>, default: std::time::Duration| {
            value.map_or(default, |s| std::time::Duration::from_secs(s.into()))
        };
        let auth = AuthConfig {
            session_ttl: file
                .auth
                .session_ttl_minutes
                .map(|m| chrono::Duration::minutes(m.max(1).into()))
                .unwrap_or(defaults.session_ttl),
            session_max_age: file
                .auth
                .session_max_hours
                .map(|h| chrono::Duration::hours(h.max(1).into()))
                .unwrap_or(defaults.session_max_age),
            throttle: ThrottleLimits {
                per_user_and_address: file
                    .auth
                    .lockout_threshold
                    .unwrap_or(throttle.per_user_and_address)
                    .max(1),
                per_address: file
                    .auth
                    .address_lockout_threshold
                    .unwrap_or(throttle.per_address)
                    .max(1),
                block: seconds(file.auth.lockout_seconds, throttle.block),
                window: seconds(file.auth.failure_window_seconds, throttle.window),
            },
            parallel_hashes: file
                .auth
                .parallel_hashes
                .map_or(defaults.parallel_hashes, |n| n.clamp(1, 64) as usize),
            hash_wait: defaults.hash_wait,
        };
        let limits = crate::package::Limits::default();
        let package_limits = crate::package::Limits {
            max_package_bytes: file
                .packages
                .max_package_bytes
                .unwrap_or(limits.max_package_bytes),
            max_manifest_bytes: file
                .packages
                .max_manifest_bytes
                .unwrap_or(limits.max_manifest_bytes),
            max_entries: file.packages.max_entries.unwrap_or(limits.max_entries),
        };
        let trust_keys = file.trust_keys.clone();
        let demo = file.demo.unwrap_or(false);
        let tmc_url = match file.tmc.url.clone() {
            Some(text) => {
                let mut url = reqwest::Url::parse(&text).with_context(|| {
                    format!(
                        "`tmc.url`{}: `{text}` is not a valid TMC URL",
                        layers::origin(figment, "tmc.url")
                    )
                })?;
                anyhow::ensure!(
                    matches!(url.scheme(), "http" | "https"),
                    "`tmc.url`{}: the TMC URL must start with https:// (or http://: the feed and \
                     the packages are signed, so their integrity does not depend on the transport)",
                    layers::origin(figment, "tmc.url")
                );
                // The base is a folder: `v1/catalog.json` is resolved below it.
                if !url.path().ends_with('/') {
                    let path = format!("{}/", url.path());
                    url.set_path(&path);
                }
                Some(url)
            }
            None => None,
        };
        let tmc_interval = match file.tmc.interval.clone() {
            Some(text) => duration("--tmc-interval (`tmc.interval`)", &text, LONG)?,
            None if demo => DEMO_TMC_INTERVAL,
            None => TMC_INTERVAL,
        };
        let tmc_timeout = match &file.tmc.timeout {
            Some(text) => duration("`tmc.timeout`", text, LONG)?,
            None => TMC_TIMEOUT,
        };
        let reboot_window = match &file.system.reboot_window {
            Some(text) => duration("`system.reboot_window`", text, SHORT)?,
            None => REBOOT_WINDOW,
        };
        let reboot_command = match file.system.reboot_command.clone() {
            Some(command) if command.is_empty() || command[0].trim().is_empty() => {
                anyhow::bail!(
                    "`system.reboot_command` is empty: give the program and its arguments, e.g. [\"systemctl\", \"reboot\"], or leave it out to simulate reboots"
                )
            }
            other => other,
        };
        let device_poll_interval = match &file.devices.poll_interval {
            Some(text) => {
                let interval = duration("`devices.poll_interval`", text, SHORT)?;
                anyhow::ensure!(
                    interval >= std::time::Duration::from_millis(200),
                    "`devices.poll_interval` must be at least 200ms"
                );
                interval
            }
            None => DEVICE_POLL_INTERVAL,
        };
        let start_timeout = match &file.install.start_timeout {
            Some(text) => duration("`install.start_timeout`", text, SHORT)?,
            None => START_TIMEOUT,
        };
        let cluster = ClusterConfig::resolve(&file.cluster, &storage)?;
        let http = HttpConfig::resolve(&file.http)?;
        let listen = file
            .listen
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080)));
        let (transport, insecure_http) = Transport::resolve(&file.tls, listen)?;
        let audit_defaults = AuditConfig::default();
        let audit = AuditConfig {
            keep_days: file
                .audit
                .keep_days
                .unwrap_or(audit_defaults.keep_days)
                .max(1),
            max_entries: file
                .audit
                .max_entries
                .unwrap_or(audit_defaults.max_entries)
                .max(100),
        };
        let smtp = operations::SmtpConfig::resolve(&file.smtp)?;
        let notify = operations::NotifyConfig::resolve(&file.notify)?;
        let backups = operations::BackupsConfig::resolve(&file.backups, &storage.data_dir)?;
        let metrics = operations::MetricsConfig::resolve(&file.metrics)?;
        #[cfg(feature = "fault-injection")]
        let clock = crate::clock::Clock::from_env()?;
        #[cfg(not(feature = "fault-injection"))]
        let clock = crate::clock::Clock::system();
        Ok(Self {
            smtp,
            notify,
            backups,
            metrics,
            clock,
            fail_postcheck: false,
            transport,
            insecure_http,
            http,
            audit,
            cluster,
            start_timeout,
            device_poll_interval,
            max_devices: file.devices.max_devices.unwrap_or(MAX_DEVICES),
            system: SystemConfig {
                reboot_command,
                reboot_window,
            },
            tmc: TmcConfig {
                url: tmc_url,
                interval: tmc_interval,
                timeout: tmc_timeout,
                trust: crate::net::Trust {
                    ca_file: file.tmc.ca_file.clone(),
                    fingerprint: None,
                },
                trust_root: file.tmc.trust_root.clone(),
            },
            trust_keys,
            package_limits,
            listen,
            storage,
            log_format: file.log_format.unwrap_or_default(),
            demo,
            static_dir: file
                .static_dir
                .clone()
                .unwrap_or_else(|| PathBuf::from("dist")),
            node_name: file.node_name.clone().unwrap_or_else(host_name),
            initial: InitialInstall {
                product_version,
                build,
            },
            auth,
        })
    }
}

impl StorageConfig {
    /// Resolves storage for the `sms user` commands, which read the same file as `sms serve`.
    pub fn load(args: &StorageArgs) -> anyhow::Result<Self> {
        let args = ServeArgs {
            storage: args.clone(),
            ..ServeArgs::default()
        };
        let file = layers::read(args.storage.config.as_deref())?;
        let (settings, _) = layers::merged(
            &args,
            file.as_ref()
                .map(|(name, text)| (name.clone(), text.as_str())),
        )?;
        Ok(Self::resolve(&settings))
    }

    fn resolve(file: &FileConfig) -> Self {
        let data_dir = file
            .data_dir
            .clone()
            .unwrap_or_else(|| PathBuf::from("data"));
        let database_url = file
            .database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}?mode=rwc", data_dir.join("sms.db").display()));
        Self {
            data_dir,
            database_url,
            warn_free_bytes: file
                .storage
                .warn_free_mb
                .map(|mib| mib.saturating_mul(1 << 20)),
        }
    }

    /// Whether the database is the embedded SQLite file.
    pub fn is_sqlite(&self) -> bool {
        self.database_url.starts_with("sqlite:")
    }
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "sms".to_owned())
}

#[cfg(test)]
mod tests;
