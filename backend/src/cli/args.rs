//! The command-line flags of `sms serve` and the `sms user` / `sms patch import` commands, with
//! their `SMS_*` environment variables. Serialized, they take the configuration file's shape:
//! figment merges them over the file as the top layer (`config::Flags`).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::config::{Flags, LogFormat};

/// Where the database lives; shared by `sms serve` and the `sms user` commands.
#[derive(Debug, Clone, Default, clap::Args, Serialize)]
pub struct StorageArgs {
    /// TOML configuration file (see docs/configuration.md).
    #[arg(long, env = "SMS_CONFIG", value_name = "FILE")]
    #[serde(skip)]
    pub config: Option<PathBuf>,
    /// Folder for the server's own files: the SQLite database, the patch repository. [default: ./data]
    #[arg(long, env = "SMS_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Database URL: `sqlite://FILE` or `postgres://USER@HOST/DB`. [default: SQLite file in the data dir]
    #[arg(long, env = "SMS_DATABASE_URL", value_name = "URL")]
    pub database_url: Option<String>,
}

/// The flags of `sms serve`.
#[derive(Debug, Clone, Default, clap::Args, Serialize)]
pub struct ServeArgs {
    #[command(flatten)]
    #[serde(flatten)]
    pub storage: StorageArgs,
    /// Address to listen on. [default: 127.0.0.1:8080]
    #[arg(long, env = "SMS_LISTEN", value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// Log lines as human text or as JSON objects. [default: text]
    #[arg(long, env = "SMS_LOG_FORMAT", value_enum)]
    pub log_format: Option<LogFormat>,
    /// Demo mode: prints the admin login at every start (a generated password is kept in the data dir).
    #[arg(long, env = "SMS_DEMO")]
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub demo: bool,
    /// Folder with the built web client (`make spa` writes it). [default: ./dist]
    #[arg(long, env = "SMS_STATIC_DIR", value_name = "DIR")]
    pub static_dir: Option<PathBuf>,
    /// This node's name, shown in the UI and the API. [default: the host name]
    #[arg(long, env = "SMS_NODE_NAME", value_name = "NAME")]
    pub node_name: Option<String>,
    #[command(flatten)]
    #[serde(flatten)]
    pub packages: PackageArgs,
    #[command(flatten)]
    pub tmc: TmcArgs,
    #[command(flatten)]
    pub cluster: ClusterArgs,
    #[command(flatten)]
    pub tls: TlsArgs,
}

/// Serving HTTPS: the certificate, or plain HTTP on purpose.
#[derive(Debug, Clone, Default, clap::Args, Serialize)]
pub struct TlsArgs {
    /// PEM file with the server's certificate chain (leaf first). Without it, a server that
    /// listens on a non-loopback address makes a self-signed certificate on its first start.
    #[arg(long, env = "SMS_TLS_CERT", value_name = "FILE")]
    #[serde(rename = "cert")]
    pub tls_cert: Option<PathBuf>,
    /// PEM file with the certificate's private key.
    #[arg(long, env = "SMS_TLS_KEY", value_name = "FILE")]
    #[serde(rename = "key")]
    pub tls_key: Option<PathBuf>,
    /// Serve plain HTTP on a non-loopback address (passwords and sessions then cross the
    /// network readable: only behind a TLS-terminating proxy).
    #[arg(long, env = "SMS_INSECURE_HTTP")]
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub insecure_http: bool,
}

/// The HA cluster this node belongs to (both flags, or neither).
#[derive(Debug, Clone, Default, clap::Args, Serialize)]
pub struct ClusterArgs {
    /// The other node of the HA cluster, e.g. http://sms-b.example:8080/ (needs PostgreSQL).
    #[arg(long, env = "SMS_CLUSTER_PEER", value_name = "URL")]
    #[serde(rename = "peer")]
    pub cluster_peer: Option<String>,
    /// File holding the secret both nodes share for their calls to each other (16+ characters).
    #[arg(long, env = "SMS_CLUSTER_SECRET_FILE", value_name = "FILE")]
    #[serde(rename = "secret_file")]
    pub cluster_secret_file: Option<PathBuf>,
}

/// Where the TMC is and how often to check it.
#[derive(Debug, Clone, Default, clap::Args, Serialize)]
pub struct TmcArgs {
    /// Base URL of the TMC (e.g. http://tmc.example:8443/). [default: none; in demo mode a
    /// demo TMC runs inside the server]
    #[arg(long, env = "SMS_TMC_URL", value_name = "URL")]
    #[serde(rename = "url")]
    pub tmc_url: Option<String>,
    /// Time between two checks of the TMC: `90s`, `30m`, `1h`, or seconds. [default: 1h;
    /// demo: 30s]
    #[arg(long, env = "SMS_TMC_INTERVAL", value_name = "DURATION")]
    #[serde(rename = "interval")]
    pub tmc_interval: Option<String>,
    /// An https:// TMC: PEM file of a CA that also signs its certificate (besides the
    /// system's roots).
    #[arg(long, env = "SMS_TMC_CA_FILE", value_name = "FILE")]
    #[serde(rename = "ca_file")]
    pub tmc_ca_file: Option<PathBuf>,
    /// The TMC feed's first trusted TUF root metadata (`1.root.json`, from the vendor by a
    /// channel of its own): the feed's format 2 starts from it; the server then keeps the
    /// newest root it verified in its database (docs/tmc-protocol.md).
    #[arg(long, env = "SMS_TRUST_ROOT", value_name = "FILE")]
    pub trust_root: Option<PathBuf>,
}

/// Which package signatures to trust; shared by `sms serve` and `sms patch import`.
#[derive(Debug, Clone, Default, clap::Args, Serialize)]
pub struct PackageArgs {
    /// A trusted vendor public key (PREFIX.pub); repeat for several (env: comma-separated).
    #[arg(
        long = "trust-key",
        env = "SMS_TRUST_KEYS",
        value_delimiter = ',',
        value_name = "FILE"
    )]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub trust_keys: Vec<PathBuf>,
}

impl Flags for ServeArgs {
    fn config_file(&self) -> Option<&Path> {
        self.storage.config.as_deref()
    }
}

impl Flags for StorageArgs {
    fn config_file(&self) -> Option<&Path> {
        self.config.as_deref()
    }
}
