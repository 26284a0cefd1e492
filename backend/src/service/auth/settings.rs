//! `[auth]`: sessions, login throttling and password hashing, as the configuration writes them.

use std::time::Duration;

use serde::Deserialize;

use crate::values;

/// `[auth]`: sessions, login throttling and password hashing.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    /// A session ends after this long without a request.
    #[serde(rename = "session_ttl_minutes", deserialize_with = "values::minutes")]
    pub session_ttl: chrono::Duration,
    /// A session ends this long after its login, however busy it is.
    #[serde(rename = "session_max_hours", deserialize_with = "values::hours")]
    pub session_max_age: chrono::Duration,
    /// Failed logins for one user name from one address before that pair is throttled.
    pub lockout_threshold: u32,
    /// Failed logins from one address, whatever the names, before the address is throttled.
    pub address_lockout_threshold: u32,
    /// How long a throttle lasts.
    #[serde(rename = "lockout_seconds", deserialize_with = "values::seconds")]
    pub lockout: Duration,
    /// Failures older than this no longer count.
    #[serde(
        rename = "failure_window_seconds",
        deserialize_with = "values::seconds"
    )]
    pub failure_window: Duration,
    /// Password hashes computed at once (1 to 64); further logins wait briefly, then get 503
    /// `busy`.
    pub parallel_hashes: usize,
}

impl AuthConfig {
    /// Brings the counts into their ranges.
    pub fn settle(&mut self) {
        self.lockout_threshold = self.lockout_threshold.max(1);
        self.address_lockout_threshold = self.address_lockout_threshold.max(1);
        self.parallel_hashes = self.parallel_hashes.clamp(1, 64);
    }
}
