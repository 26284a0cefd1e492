//! The server's HTTPS certificate as the API shows it, and the rule of when its expiry is
//! worth a warning.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// A certificate that expires within this many days shows a warning.
pub const EXPIRY_WARNING_DAYS: i64 = 30;

/// Whole days from `now` until `not_after` (negative once it has expired).
pub fn days_left(not_after: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
    (not_after - now).num_days()
}

/// Whether a certificate valid until `not_after` is expired or expires within
/// [`EXPIRY_WARNING_DAYS`] of `now`.
pub fn expires_soon(not_after: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    not_after - now < chrono::Duration::days(EXPIRY_WARNING_DAYS)
}

/// `GET /api/v1/tls`: whether the server serves HTTPS, and with which certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TlsStatus {
    /// Whether this server serves HTTPS itself (plain HTTP on loopback, or behind a proxy,
    /// otherwise).
    pub https: bool,
    /// The certificate served, when `https`.
    pub certificate: Option<CertificateInfo>,
}

/// What an admin checks of the served certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CertificateInfo {
    /// The leaf certificate's subject, e.g. `CN=sms.example.com, O=Example`.
    pub subject: String,
    /// Its issuer (the same as the subject for a self-signed certificate).
    pub issuer: String,
    /// The DNS names and IP addresses it is valid for.
    pub names: Vec<String>,
    #[serde(deserialize_with = "crate::time::utc")]
    pub not_before: DateTime<Utc>,
    #[serde(deserialize_with = "crate::time::utc")]
    pub not_after: DateTime<Utc>,
    /// Whole days until `not_after` (negative once expired).
    pub days_left: i64,
    /// Expired, or expires within 30 days: replace it.
    pub expires_soon: bool,
    /// SHA-256 of the leaf certificate, `AB:CD:...`, as browsers show it.
    pub fingerprint_sha256: String,
    /// Whether it signs itself (browsers warn about it until told to trust it).
    pub self_signed: bool,
    /// Certificates in the chain served, the leaf included.
    pub chain_length: usize,
}

/// `PUT /api/v1/tls`: a new certificate chain and its private key, both PEM.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CertificateUpload {
    /// The certificate chain, PEM, the server's own certificate first, then the
    /// intermediates.
    pub certificate: String,
    /// The certificate's private key, PEM (PKCS#8, PKCS#1 or SEC1).
    pub key: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2027, 1, day, 12, 0, 0)
            .single()
            .unwrap_or_default()
    }

    #[test]
    fn expiry_within_thirty_days_warns_and_beyond_does_not() {
        let now = at(1);
        let in_days = |days| now + chrono::Duration::days(days);
        assert!(!expires_soon(in_days(31), now));
        assert!(!expires_soon(in_days(30), now));
        assert!(expires_soon(
            in_days(30) - chrono::Duration::seconds(1),
            now
        ));
        assert!(expires_soon(in_days(1), now));
        assert!(
            expires_soon(in_days(-5), now),
            "an expired certificate warns too"
        );
    }

    #[test]
    fn days_left_counts_whole_days_and_goes_negative() {
        let now = at(10);
        assert_eq!(days_left(at(20), now), 10);
        assert_eq!(days_left(at(20) - chrono::Duration::hours(1), now), 9);
        assert_eq!(days_left(at(3), now), -7);
    }
}
