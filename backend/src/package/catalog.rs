//! The TMC catalog (`v1/catalog.json` and its signature `v1/catalog.sig`), as
//! `docs/tmc-protocol.md` defines it.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use shared::{Build, PatchId, ProductVersion};

use crate::package::manifest::{Restart, Updates};
use crate::package::{Manifest, TrustedKeys};

/// The only catalog format this server reads.
pub const FORMAT: u32 = 1;
/// Where the catalog and its signature are, relative to the TMC's base URL.
pub const CATALOG_PATH: &str = "v1/catalog.json";
pub const SIGNATURE_PATH: &str = "v1/catalog.sig";
/// Where `sms tmc serve` serves packages, relative to the base URL.
pub const PACKAGES_PATH: &str = "v1/packages/";

/// The signed catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Catalog {
    pub format: u32,
    pub serial: u64,
    pub generated_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub key_id: String,
    pub patches: Vec<CatalogEntry>,
}

/// One package of the catalog: its manifest facts, size, hash and address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogEntry {
    pub product_version: ProductVersion,
    pub patch: u32,
    pub build: Build,
    pub released: NaiveDate,
    pub title: String,
    pub updates: Updates,
    #[serde(default)]
    pub client_version: Option<Build>,
    pub restart: Restart,
    pub database_changes: bool,
    pub rollback: bool,
    pub key_id: String,
    pub release_notes: String,
    pub size: u64,
    pub sha256: String,
    pub url: String,
}

impl CatalogEntry {
    /// The entry for a package with this manifest, file size and hash, served at `url`.
    pub fn from_manifest(manifest: &Manifest, size: u64, sha256: String, url: String) -> Self {
        Self {
            product_version: manifest.product_version,
            patch: manifest.patch,
            build: manifest.build,
            released: manifest.released,
            title: manifest.title.clone(),
            updates: manifest.updates,
            client_version: manifest.client_version,
            restart: manifest.restart,
            database_changes: manifest.database_changes,
            rollback: manifest.rollback,
            key_id: manifest.key_id.clone(),
            release_notes: manifest.release_notes.clone(),
            size,
            sha256,
            url,
        }
    }

    /// The patch's id; the catalog's validation guarantees it exists.
    pub fn id(&self) -> Result<PatchId, shared::PatchIdError> {
        PatchId::new(self.product_version, self.patch)
    }
}

/// Why a catalog is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogError {
    #[error("the catalog is not valid JSON of format {FORMAT}: {0}")]
    Malformed(String),
    #[error("the catalog is signed with the key `{0}`, which this server does not trust")]
    UnknownKey(String),
    #[error("the catalog's signature does not match its content")]
    BadSignature,
    #[error("the catalog expired at {0}; the TMC serves an out-of-date copy")]
    Expired(DateTime<Utc>),
    #[error(
        "the catalog's serial {got} is lower than the last accepted serial {last}: \
         an old catalog is being replayed"
    )]
    OlderSerial { got: u64, last: u64 },
}

impl Catalog {
    /// Parses and checks a catalog: signature (with `keys`), format, expiry (at `now`), serial
    /// (not below `last_serial`), and every entry's facts.
    pub fn verify(
        bytes: &[u8],
        signature: &[u8],
        keys: &TrustedKeys,
        last_serial: Option<u64>,
        now: DateTime<Utc>,
    ) -> Result<Catalog, CatalogError> {
        #[derive(Deserialize)]
        struct KeyIdOnly {
            key_id: String,
        }
        let key_id = serde_json::from_slice::<KeyIdOnly>(bytes)
            .map_err(|err| CatalogError::Malformed(err.to_string()))?
            .key_id;
        let signature: &[u8; 64] = signature
            .try_into()
            .map_err(|_| CatalogError::BadSignature)?;
        match keys.verify(&key_id, bytes, signature) {
            None => return Err(CatalogError::UnknownKey(key_id)),
            Some(false) => return Err(CatalogError::BadSignature),
            Some(true) => {}
        }
        let catalog: Catalog = serde_json::from_slice(bytes)
            .map_err(|err| CatalogError::Malformed(err.to_string()))?;
        catalog.check()?;
        if catalog.expires_at <= now {
            return Err(CatalogError::Expired(catalog.expires_at));
        }
        if let Some(last) = last_serial
            && catalog.serial < last
        {
            return Err(CatalogError::OlderSerial {
                got: catalog.serial,
                last,
            });
        }
        Ok(catalog)
    }

    /// The rules every entry must follow.
    fn check(&self) -> Result<(), CatalogError> {
        if self.format != FORMAT {
            return Err(CatalogError::Malformed(format!(
                "format {} is not supported",
                self.format
            )));
        }
        check_entries(&self.patches)
    }
}

/// The catalog document of format 2: one of the TUF feed's targets (`catalog.json`), so its
/// integrity, freshness and versions are the TUF metadata's; each entry's `url` is the name of
/// the package's target, and its `size` and `sha256` must be that target's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedCatalog {
    pub format: u32,
    pub generated_at: DateTime<Utc>,
    pub patches: Vec<CatalogEntry>,
}

/// The format of [`FeedCatalog`].
pub const FEED_FORMAT: u32 = 2;
/// The name of the catalog's target in the TUF feed.
pub const FEED_CATALOG_TARGET: &str = "catalog.json";

impl FeedCatalog {
    /// Parses the catalog target's bytes (already checked against the TUF targets metadata).
    pub fn parse(bytes: &[u8]) -> Result<Self, CatalogError> {
        let catalog: FeedCatalog = serde_json::from_slice(bytes)
            .map_err(|err| CatalogError::Malformed(err.to_string()))?;
        if catalog.format != FEED_FORMAT {
            return Err(CatalogError::Malformed(format!(
                "the feed's catalog.json has format {}, not {FEED_FORMAT}",
                catalog.format
            )));
        }
        check_entries(&catalog.patches)?;
        Ok(catalog)
    }
}

/// The rules every catalog entry follows, in either format.
fn check_entries(patches: &[CatalogEntry]) -> Result<(), CatalogError> {
    let malformed = |message: String| Err(CatalogError::Malformed(message));
    let mut seen = std::collections::HashSet::new();
    for entry in patches {
        let Ok(id) = entry.id() else {
            return malformed(format!(
                "an entry has patch number {} for {}",
                entry.patch, entry.product_version
            ));
        };
        if !seen.insert(id) {
            return malformed(format!("patch {id} is listed twice"));
        }
        if entry.build.version != entry.product_version {
            return malformed(format!(
                "patch {id}: build {} is not of version {}",
                entry.build, entry.product_version
            ));
        }
        let hex_ok = entry.sha256.len() == 64
            && entry
                .sha256
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !hex_ok {
            return malformed(format!("patch {id}: sha256 is not 64 lowercase hex digits"));
        }
        if entry.url.trim().is_empty() {
            return malformed(format!("patch {id} has no download url"));
        }
        if entry.title.trim().is_empty() {
            return malformed(format!("patch {id} has no title"));
        }
        if entry.updates.updates_client() != entry.client_version.is_some() {
            return malformed(format!(
                "patch {id}: `client_version` must be given exactly when the client is updated"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::package::PackageSigner;

    fn entry(patch: u32) -> CatalogEntry {
        CatalogEntry {
            product_version: "6.4.0".parse().unwrap(),
            patch,
            build: format!("6.4.0.{}", 9100 + patch).parse().unwrap(),
            released: NaiveDate::from_ymd_opt(2026, 11, 2).unwrap(),
            title: "Fixes".into(),
            updates: Updates::Server,
            client_version: None,
            restart: Restart::Application,
            database_changes: false,
            rollback: true,
            key_id: "tmc-test".into(),
            release_notes: "## Fixes".into(),
            size: 10,
            sha256: "a".repeat(64),
            url: format!("v1/packages/p{patch}.pkg"),
        }
    }

    fn signed(catalog: &Catalog, signer: &PackageSigner) -> (Vec<u8>, [u8; 64]) {
        let bytes = serde_json::to_vec(catalog).unwrap();
        let signature = signer.sign(&bytes);
        (bytes, signature)
    }

    fn setup() -> (PackageSigner, TrustedKeys, Catalog, DateTime<Utc>) {
        let signer = PackageSigner::generate("tmc-test");
        let mut keys = TrustedKeys::new();
        keys.add("tmc-test", signer.verifying_key()).unwrap();
        let now = Utc::now();
        let catalog = Catalog {
            format: FORMAT,
            serial: 10,
            generated_at: now,
            expires_at: now + chrono::Duration::days(7),
            key_id: "tmc-test".into(),
            patches: vec![entry(1), entry(2)],
        };
        (signer, keys, catalog, now)
    }

    #[test]
    fn a_signed_current_catalog_is_accepted() {
        let (signer, keys, catalog, now) = setup();
        let (bytes, sig) = signed(&catalog, &signer);
        assert_eq!(
            Catalog::verify(&bytes, &sig, &keys, Some(10), now),
            Ok(catalog)
        );
    }

    #[test]
    fn tampering_expiry_replay_and_bad_entries_are_refused() {
        let (signer, keys, catalog, now) = setup();
        let (mut bytes, sig) = signed(&catalog, &signer);
        assert_eq!(
            Catalog::verify(&bytes, &sig[..63], &keys, None, now),
            Err(CatalogError::BadSignature)
        );
        let at = bytes.len() / 2;
        bytes[at] ^= 1;
        assert!(Catalog::verify(&bytes, &sig, &keys, None, now).is_err());

        let (bytes, sig) = signed(&catalog, &signer);
        assert!(matches!(
            Catalog::verify(&bytes, &sig, &keys, None, now + chrono::Duration::days(8)),
            Err(CatalogError::Expired(_))
        ));
        assert_eq!(
            Catalog::verify(&bytes, &sig, &keys, Some(11), now),
            Err(CatalogError::OlderSerial { got: 10, last: 11 })
        );

        let stranger = PackageSigner::generate("tmc-other");
        let mut other = catalog.clone();
        other.key_id = "tmc-other".into();
        let (bytes, sig) = signed(&other, &stranger);
        assert_eq!(
            Catalog::verify(&bytes, &sig, &keys, None, now),
            Err(CatalogError::UnknownKey("tmc-other".into()))
        );

        for broken in [
            {
                let mut c = catalog.clone();
                c.patches.push(entry(2));
                c
            },
            {
                let mut c = catalog.clone();
                c.patches[0].sha256 = "XYZ".into();
                c
            },
            {
                let mut c = catalog.clone();
                c.patches[0].patch = 0;
                c
            },
            {
                let mut c = catalog.clone();
                c.format = 2;
                c
            },
        ] {
            let (bytes, sig) = signed(&broken, &signer);
            assert!(matches!(
                Catalog::verify(&bytes, &sig, &keys, None, now),
                Err(CatalogError::Malformed(_))
            ));
        }
    }
}
