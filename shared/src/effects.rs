//! What a patch does when installed: which parts it updates, what it restarts, and what its
//! payload changes (server executable, web client, database migrations).

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

/// What a patch's payload changes on the server: the facts of its package's file list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PatchChanges {
    /// The package carries the level's server executable (`payload/server/bin/sms`).
    pub server_executable: bool,
    /// The package carries the level's web client (`payload/client/index.html`).
    pub web_client: bool,
    /// How many database migrations it carries (`payload/database/NNNN-name.up.sql`).
    pub migrations: u32,
}

/// Whether installing a patch changes the database: its own migrations (the manifest's
/// `database_changes`), or the server schema migrations its executable brings (docs/schema.md).
pub fn changes_database(database_changes: bool, server_migrations: &[String]) -> bool {
    database_changes || !server_migrations.is_empty()
}

/// "Yes", "No", or "Yes (server schema: m2027..., ...)".
pub fn database_changes_in_words(database_changes: bool, server_migrations: &[String]) -> String {
    match (
        changes_database(database_changes, server_migrations),
        server_migrations,
    ) {
        (false, _) => "No".to_owned(),
        (true, []) => "Yes".to_owned(),
        (true, names) => format!("Yes (server schema: {})", names.join(", ")),
    }
}

/// What a payload changes, in words for a list or a sentence:
/// `server executable, web client, 2 database migrations`, `1 database migration`, or
/// `nothing that runs` when it carries none of the three.
pub fn changes_in_words(changes: &PatchChanges) -> String {
    let mut parts: Vec<String> = Vec::new();
    if changes.server_executable {
        parts.push("server executable".to_owned());
    }
    if changes.web_client {
        parts.push("web client".to_owned());
    }
    match changes.migrations {
        0 => {}
        1 => parts.push("1 database migration".to_owned()),
        n => parts.push(format!("{n} database migrations")),
    }
    if parts.is_empty() {
        "nothing that runs".to_owned()
    } else {
        parts.join(", ")
    }
}

/// The "Changes" fact of a patch as the panel and the Software Details page show it: what its
/// payload changes (`Server executable, web client, 2 database migrations`), or why that is not
/// known. `None` comes from the TMC catalog alone (the package is not in the patch repository:
/// known after download), or from a package stored before the server recorded it.
pub fn changes_fact(changes: Option<&PatchChanges>, in_repository: bool) -> String {
    match changes {
        Some(changes) => crate::text::capitalized(&changes_in_words(changes)),
        None if in_repository => "Not recorded when the package was stored".to_owned(),
        None => "Known after download".to_owned(),
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
    fn server_schema_migrations_make_a_database_change_whatever_the_manifest_says() {
        let brought = ["m20270101_000099_future_table".to_owned()];
        assert!(changes_database(false, &brought));
        assert!(!changes_database(false, &[]));
        assert_eq!(database_changes_in_words(false, &[]), "No");
        assert_eq!(database_changes_in_words(true, &[]), "Yes");
        assert_eq!(
            database_changes_in_words(false, &brought),
            "Yes (server schema: m20270101_000099_future_table)"
        );
    }

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

    fn changes(server_executable: bool, web_client: bool, migrations: u32) -> PatchChanges {
        PatchChanges {
            server_executable,
            web_client,
            migrations,
        }
    }

    #[test]
    fn changes_are_listed_server_client_then_migrations() {
        assert_eq!(
            changes_in_words(&changes(true, true, 2)),
            "server executable, web client, 2 database migrations"
        );
        assert_eq!(
            changes_in_words(&changes(true, false, 0)),
            "server executable"
        );
        assert_eq!(changes_in_words(&changes(false, true, 0)), "web client");
        assert_eq!(
            changes_in_words(&changes(true, false, 1)),
            "server executable, 1 database migration"
        );
    }

    #[test]
    fn one_migration_is_singular() {
        assert_eq!(
            changes_in_words(&changes(false, false, 1)),
            "1 database migration"
        );
        assert_eq!(
            changes_in_words(&changes(false, false, 12)),
            "12 database migrations"
        );
    }

    #[test]
    fn a_payload_without_any_of_the_three_changes_nothing_that_runs() {
        assert_eq!(
            changes_in_words(&PatchChanges::default()),
            "nothing that runs"
        );
        assert_eq!(
            changes_fact(Some(&PatchChanges::default()), true),
            "Nothing that runs"
        );
    }

    #[test]
    fn the_fact_starts_with_a_capital_or_says_why_it_is_unknown() {
        assert_eq!(
            changes_fact(Some(&changes(true, true, 2)), true),
            "Server executable, web client, 2 database migrations"
        );
        assert_eq!(
            changes_fact(Some(&changes(false, false, 1)), true),
            "1 database migration"
        );
        assert_eq!(changes_fact(None, false), "Known after download");
        assert_eq!(
            changes_fact(None, true),
            "Not recorded when the package was stored"
        );
    }

    #[test]
    fn changes_have_snake_case_fields_on_the_wire() {
        let json = serde_json::to_value(changes(true, false, 3)).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"server_executable": true, "web_client": false, "migrations": 3})
        );
    }
}
