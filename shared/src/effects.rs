//! What a patch does when installed: which parts it updates, and what it restarts.

use serde::{Deserialize, Serialize};

/// What a patch updates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Updates {
    /// The server only.
    Server,
    /// The web client only.
    Client,
    /// Server and web client.
    Both,
}

impl Updates {
    /// Whether open clients must upgrade after the install.
    pub fn updates_client(self) -> bool {
        matches!(self, Updates::Client | Updates::Both)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Updates::Server => "server",
            Updates::Client => "client",
            Updates::Both => "both",
        }
    }
}

/// What installing a patch restarts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Restart {
    /// The SMS server application restarts.
    Application,
    /// The whole server reboots.
    Reboot,
}

impl Restart {
    pub fn as_str(self) -> &'static str {
        match self {
            Restart::Application => "application",
            Restart::Reboot => "reboot",
        }
    }
}

impl std::str::FromStr for Updates {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "server" => Ok(Updates::Server),
            "client" => Ok(Updates::Client),
            "both" => Ok(Updates::Both),
            other => Err(format!("`{other}` is not server, client or both")),
        }
    }
}

impl std::str::FromStr for Restart {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "application" => Ok(Restart::Application),
            "reboot" => Ok(Restart::Reboot),
            other => Err(format!("`{other}` is not application or reboot")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for u in [Updates::Server, Updates::Client, Updates::Both] {
            assert_eq!(u.as_str().parse::<Updates>(), Ok(u));
        }
        for r in [Restart::Application, Restart::Reboot] {
            assert_eq!(r.as_str().parse::<Restart>(), Ok(r));
        }
        assert!(Updates::Both.updates_client() && !Updates::Server.updates_client());
    }
}
