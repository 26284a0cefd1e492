//! The client version handshake: which web client a server requires, and whether a client's
//! version matches it.
//!
//! A client version is written like a build, `6.4.0.3`: the product version plus the client
//! level, the number of the highest installed patch that updates the client (0 when none did).
//! Web clients send it on every API request as `X-SMS-Client: web/6.4.0.3`; scripts and the CLI
//! send `api/<version>` and are not held to it.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{Build, PatchLevel, ProductVersion};

/// A version of the SMS web client, e.g. `6.4.0.3`.
pub type ClientVersion = Build;

/// The name of the `<meta>` tag in `index.html` that carries the served client's version.
pub const CLIENT_VERSION_META: &str = "sms-client-version";

/// One patch of the installed product version, as far as the client is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientPatch {
    pub patch: u32,
    /// Whether the patch updates the web client.
    pub updates_client: bool,
}

/// The client version a server at `level` of `product_version` requires: the product version
/// plus the number of the highest installed (patches are cumulative: at or below `level`) patch
/// that updates the client, or 0.
pub fn required_client(
    product_version: ProductVersion,
    level: PatchLevel,
    patches: &[ClientPatch],
) -> ClientVersion {
    let number = patches
        .iter()
        .filter(|p| p.updates_client && p.patch <= level.0)
        .map(|p| p.patch)
        .max()
        .unwrap_or(0);
    Build {
        version: product_version,
        number,
    }
}

/// Whether a client may talk to the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Compatibility {
    Compatible,
    /// The client is older than the server requires: it must load the server's client.
    UpgradeRequired {
        required: ClientVersion,
    },
    /// The client is newer than the server (e.g. after a rollback): it must switch to the
    /// server's client.
    SwitchRequired {
        required: ClientVersion,
    },
}

/// Compares a client's version with the one the server requires.
pub fn compatibility(required: ClientVersion, client: ClientVersion) -> Compatibility {
    match client.cmp(&required) {
        std::cmp::Ordering::Equal => Compatibility::Compatible,
        std::cmp::Ordering::Less => Compatibility::UpgradeRequired { required },
        std::cmp::Ordering::Greater => Compatibility::SwitchRequired { required },
    }
}

/// Who sent a request, from its `X-SMS-Client` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientKind {
    /// The web client, with the version it says it is (none: it did not say, or said it badly).
    Web(Option<ClientVersion>),
    /// A script or the CLI (`api/...`), or anything else: not held to the web client's version.
    Other,
}

/// Reads an `X-SMS-Client` value: `web/6.4.0.3`, `web` (an old client), `api/...`.
pub fn client_kind(header: &str) -> ClientKind {
    let header = header.trim();
    match header.split_once('/') {
        Some(("web", version)) => ClientKind::Web(version.trim().parse().ok()),
        None if header == "web" => ClientKind::Web(None),
        _ => ClientKind::Other,
    }
}

/// The header value a web client of `version` sends.
pub fn web_client_header(version: ClientVersion) -> String {
    format!("web/{version}")
}

/// The 426 answer's body: the error, and both versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClientMismatch {
    pub error: crate::api::ErrorBody,
    /// The client version the server requires, e.g. `6.4.0.5`.
    pub required: String,
    /// The version the client said it is (`unknown` when it did not say).
    pub current: String,
}

impl fmt::Display for Compatibility {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Compatibility::Compatible => f.write_str("compatible"),
            Compatibility::UpgradeRequired { required } => write!(f, "upgrade to {required}"),
            Compatibility::SwitchRequired { required } => write!(f, "switch to {required}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> ClientVersion {
        s.parse().unwrap()
    }

    fn pv() -> ProductVersion {
        "6.4.0".parse().unwrap()
    }

    const PATCHES: [ClientPatch; 5] = [
        ClientPatch {
            patch: 1,
            updates_client: false,
        },
        ClientPatch {
            patch: 2,
            updates_client: true,
        },
        ClientPatch {
            patch: 3,
            updates_client: false,
        },
        ClientPatch {
            patch: 4,
            updates_client: false,
        },
        ClientPatch {
            patch: 5,
            updates_client: true,
        },
    ];

    #[test]
    fn the_base_release_requires_client_level_0() {
        assert_eq!(required_client(pv(), PatchLevel(0), &PATCHES), v("6.4.0.0"));
        assert_eq!(required_client(pv(), PatchLevel(1), &PATCHES), v("6.4.0.0"));
        assert_eq!(required_client(pv(), PatchLevel(3), &[]), v("6.4.0.0"));
    }

    #[test]
    fn the_highest_installed_patch_that_updates_the_client_decides() {
        assert_eq!(required_client(pv(), PatchLevel(2), &PATCHES), v("6.4.0.2"));
        // Patch 4 does not update the client, but it contains Patch 2, which did.
        assert_eq!(required_client(pv(), PatchLevel(4), &PATCHES), v("6.4.0.2"));
        assert_eq!(required_client(pv(), PatchLevel(5), &PATCHES), v("6.4.0.5"));
    }

    #[test]
    fn a_client_matches_upgrades_or_switches() {
        assert_eq!(
            compatibility(v("6.4.0.3"), v("6.4.0.3")),
            Compatibility::Compatible
        );
        assert_eq!(
            compatibility(v("6.4.0.3"), v("6.4.0.0")),
            Compatibility::UpgradeRequired {
                required: v("6.4.0.3")
            }
        );
        // After a rollback the client is newer than the server.
        assert_eq!(
            compatibility(v("6.4.0.0"), v("6.4.0.5")),
            Compatibility::SwitchRequired {
                required: v("6.4.0.0")
            }
        );
        // Another product version altogether.
        assert_eq!(
            compatibility(v("6.4.0.0"), v("6.3.9.7")),
            Compatibility::UpgradeRequired {
                required: v("6.4.0.0")
            }
        );
    }

    #[test]
    fn the_client_header_names_web_clients_and_their_version() {
        assert_eq!(
            client_kind("web/6.4.0.3"),
            ClientKind::Web(Some(v("6.4.0.3")))
        );
        assert_eq!(client_kind("web"), ClientKind::Web(None));
        assert_eq!(client_kind("web/banana"), ClientKind::Web(None));
        assert_eq!(client_kind("api/6.4.0"), ClientKind::Other);
        assert_eq!(client_kind("api/test"), ClientKind::Other);
        assert_eq!(client_kind("curl/8.0"), ClientKind::Other);
        assert_eq!(web_client_header(v("6.4.0.3")), "web/6.4.0.3");
    }
}
