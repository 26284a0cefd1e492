//! `manifest.json`: what a package is, what it does, and which payload files it carries.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use shared::{Build, ProductVersion};

use super::error::{PackageError, RejectCode};

/// The only manifest format this server reads.
pub const FORMAT: u32 = 1;
/// The product a package must be for.
pub const PRODUCT: &str = "SMS";

pub use shared::effects::{Restart, Updates};

/// One payload file: `payload/<path>` in the archive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestFile {
    pub path: String,
    pub size: u64,
    /// Lowercase hex SHA-256 of the file's bytes.
    pub sha256: String,
}

/// The manifest, as signed by the vendor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub format: u32,
    pub product: String,
    pub product_version: ProductVersion,
    pub patch: u32,
    pub build: Build,
    pub released: NaiveDate,
    pub title: String,
    pub updates: Updates,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_version: Option<Build>,
    #[serde(default = "default_restart")]
    pub restart: Restart,
    pub database_changes: bool,
    pub rollback: bool,
    pub key_id: String,
    pub release_notes: String,
    pub files: Vec<ManifestFile>,
}

fn default_restart() -> Restart {
    Restart::Application
}

/// Just enough of the manifest to find the key that signed it.
#[derive(Debug, Deserialize)]
struct KeyIdOnly {
    key_id: String,
}

impl Manifest {
    /// The key id named by raw manifest bytes, before the signature is checked.
    pub fn key_id_of(bytes: &[u8]) -> Result<String, PackageError> {
        serde_json::from_slice::<KeyIdOnly>(bytes)
            .map(|k| k.key_id)
            .map_err(|err| invalid(format!("manifest.json has no readable `key_id`: {err}")))
    }

    /// Parses and checks a (signature-verified) manifest.
    pub fn parse(bytes: &[u8]) -> Result<Manifest, PackageError> {
        let manifest: Manifest = serde_json::from_slice(bytes)
            .map_err(|err| invalid(format!("manifest.json is not a valid manifest: {err}")))?;
        manifest.validate()?;
        Ok(manifest)
    }

    /// The rules beyond the JSON shape.
    pub fn validate(&self) -> Result<(), PackageError> {
        if self.format != FORMAT {
            return Err(invalid(format!(
                "manifest format {} is not supported; this server reads format {FORMAT}",
                self.format
            )));
        }
        if self.product != PRODUCT {
            return Err(invalid(format!(
                "the package is for the product `{}`, not {PRODUCT}",
                self.product
            )));
        }
        if self.patch == 0 {
            return Err(invalid("the patch number must be 1 or more"));
        }
        if self.build.version != self.product_version {
            return Err(invalid(format!(
                "build {} does not belong to product version {}",
                self.build, self.product_version
            )));
        }
        let title = self.title.trim();
        if title.is_empty() || title.len() > 200 {
            return Err(invalid("the title must have 1 to 200 characters"));
        }
        if self.key_id.trim().is_empty() {
            return Err(invalid("`key_id` is empty"));
        }
        match (self.updates.updates_client(), self.client_version) {
            (true, None) => {
                return Err(invalid(
                    "the patch updates the client, so `client_version` is required",
                ));
            }
            (false, Some(_)) => {
                return Err(invalid(
                    "`client_version` is given but the patch does not update the client",
                ));
            }
            (true, Some(client)) if client.version != self.product_version => {
                return Err(invalid(format!(
                    "client version {client} does not belong to product version {}",
                    self.product_version
                )));
            }
            _ => {}
        }
        if self.files.is_empty() {
            return Err(invalid("the manifest lists no payload files"));
        }
        let mut seen = std::collections::HashSet::new();
        for file in &self.files {
            check_relative_path(&file.path)?;
            if !seen.insert(file.path.as_str()) {
                return Err(PackageError::new(
                    RejectCode::DuplicateEntry,
                    format!("the manifest lists payload/{} twice", file.path),
                ));
            }
            let hex_ok = file.sha256.len() == 64
                && file
                    .sha256
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
            if !hex_ok {
                return Err(invalid(format!(
                    "the sha256 of payload/{} is not 64 lowercase hex digits",
                    file.path
                )));
            }
        }
        Ok(())
    }

    /// Sum of the payload sizes.
    pub fn payload_size(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }
}

fn invalid(message: impl Into<String>) -> PackageError {
    PackageError::new(RejectCode::ManifestInvalid, message)
}

/// A payload path must stay inside its folder: relative, no `..`, `.`, empty parts or backslashes.
pub fn check_relative_path(path: &str) -> Result<(), PackageError> {
    let escapes = path.is_empty()
        || path.starts_with('/')
        || path.contains('\\')
        || path.contains('\0')
        || path
            .split('/')
            .any(|part| part.is_empty() || part == "." || part == "..");
    if escapes {
        return Err(PackageError::new(
            RejectCode::PathTraversal,
            format!(
                "the path `{path}` would escape its folder: payload paths must be relative, without `..`"
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    pub fn sample() -> Manifest {
        Manifest {
            format: 1,
            product: "SMS".into(),
            product_version: "6.4.0".parse().unwrap(),
            patch: 3,
            build: "6.4.0.9203".parse().unwrap(),
            released: NaiveDate::from_ymd_opt(2026, 11, 2).unwrap(),
            title: "Security fixes".into(),
            updates: Updates::Both,
            client_version: Some("6.4.0.3".parse().unwrap()),
            restart: Restart::Application,
            database_changes: false,
            rollback: true,
            key_id: "vendor-2026".into(),
            release_notes: "# Notes".into(),
            files: vec![ManifestFile {
                path: "server/app.bin".into(),
                size: 3,
                sha256: "0".repeat(64),
            }],
        }
    }

    #[test]
    fn a_good_manifest_round_trips() {
        let m = sample();
        let bytes = serde_json::to_vec(&m).unwrap();
        assert_eq!(Manifest::parse(&bytes).unwrap(), m);
        assert_eq!(Manifest::key_id_of(&bytes).unwrap(), "vendor-2026");
    }

    #[test]
    fn rule_breaking_manifests_are_refused() {
        type Case = (fn(&mut Manifest), RejectCode);
        let cases: Vec<Case> = vec![
            (|m| m.format = 2, RejectCode::ManifestInvalid),
            (|m| m.product = "TOS".into(), RejectCode::ManifestInvalid),
            (|m| m.patch = 0, RejectCode::ManifestInvalid),
            (
                |m| m.build = "6.5.0.1".parse().unwrap(),
                RejectCode::ManifestInvalid,
            ),
            (|m| m.client_version = None, RejectCode::ManifestInvalid),
            (|m| m.files.clear(), RejectCode::ManifestInvalid),
            (
                |m| m.files[0].sha256 = "ABC".into(),
                RejectCode::ManifestInvalid,
            ),
            (
                |m| m.files[0].path = "../etc/passwd".into(),
                RejectCode::PathTraversal,
            ),
            (
                |m| m.files[0].path = "/etc/passwd".into(),
                RejectCode::PathTraversal,
            ),
            (
                |m| m.files.push(m.files[0].clone()),
                RejectCode::DuplicateEntry,
            ),
        ];
        for (break_it, code) in cases {
            let mut m = sample();
            break_it(&mut m);
            assert_eq!(m.validate().unwrap_err().code, code, "{m:?}");
        }
    }

    #[test]
    fn unknown_fields_and_bad_json_are_refused() {
        let mut value = serde_json::to_value(sample()).unwrap();
        value["surprise"] = serde_json::json!(1);
        let err = Manifest::parse(value.to_string().as_bytes()).unwrap_err();
        assert_eq!(err.code, RejectCode::ManifestInvalid);
        assert_eq!(
            Manifest::parse(b"{").unwrap_err().code,
            RejectCode::ManifestInvalid
        );
    }

    #[test]
    fn safe_paths_pass() {
        assert!(check_relative_path("server/lib/app.so").is_ok());
        for bad in ["", "a//b", "./a", "a/..", "a\\b", "/a"] {
            assert!(check_relative_path(bad).is_err(), "{bad}");
        }
    }
}
