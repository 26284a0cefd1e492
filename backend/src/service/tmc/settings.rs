//! `[tmc]`: the TMC link, as the configuration writes it.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use crate::values;

/// `[tmc]`: the TMC link.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TmcConfig {
    /// The TMC's base URL; none: no TMC (in demo mode the server starts its own).
    #[serde(default, deserialize_with = "values::base_url")]
    pub url: Option<reqwest::Url>,
    /// Time between two checks (demo: `DEMO_TMC_INTERVAL`).
    #[serde(deserialize_with = "values::long")]
    pub interval: Duration,
    /// How long one request to the TMC (or a pause in a download) may take.
    #[serde(deserialize_with = "values::long")]
    pub timeout: Duration,
    /// How an https:// TMC's certificate is checked: the system's roots, plus `ca_file`.
    #[serde(rename = "ca_file", default, deserialize_with = "values::ca_file")]
    pub trust: crate::net::Trust,
    /// The feed's first trusted TUF root metadata (`--trust-root`); the database's newest
    /// verified root wins over it once there is one.
    pub trust_root: Option<PathBuf>,
}

/// The time between two TMC checks in demo mode, unless `tmc.interval` says otherwise.
pub const DEMO_TMC_INTERVAL: Duration = Duration::from_secs(30);
