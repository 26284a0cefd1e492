//! Test files for the import page: signed patch packages from a test vendor whose key the
//! server trusts, damaged copies of them, and files that are not packages at all.

use std::path::{Path, PathBuf};

use anyhow::Context;
use backend::config::Config;
use backend::package::keys::PackageSigner;
use backend::package::pack::pack;
use serde_json::json;
use tempfile::TempDir;

/// The key id of the test vendor.
pub const VENDOR_KEY_ID: &str = "e2e-vendor";

/// Written into every payload so a test can find the payload's bytes inside the package.
const PAYLOAD_MARKER: &[u8] = b"SMS e2e payload line\n";

/// A vendor with its own signing key; its files live in a temporary folder as long as it does.
pub struct Vendor {
    signer: PackageSigner,
    public_key: PathBuf,
    dir: TempDir,
}

impl Vendor {
    /// A new vendor key, written to a temporary folder.
    pub fn new() -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let signer = PackageSigner::generate(VENDOR_KEY_ID);
        let (_, public_key) = signer
            .write(&dir.path().join(VENDOR_KEY_ID))
            .context("cannot write the test vendor's key")?;
        Ok(Self {
            signer,
            public_key,
            dir,
        })
    }

    /// The demo vendor of a server in demo mode: its key is the one the server generated in
    /// `data_dir` on its first start.
    pub fn demo(data_dir: &Path) -> anyhow::Result<Self> {
        let prefix = data_dir.join(backend::app::demo::DEMO_VENDOR_KEY);
        let signer = PackageSigner::load(&prefix.with_extension("key"))
            .context("cannot read the demo vendor key (is the server in demo mode?)")?;
        Ok(Self {
            signer,
            public_key: prefix.with_extension("pub"),
            dir: tempfile::tempdir()?,
        })
    }

    /// The vendor's private key file (PREFIX.key).
    pub fn secret_key(&self) -> PathBuf {
        self.public_key.with_extension("key")
    }

    /// Makes the server trust this vendor's packages (for [`crate::Browser::start_with`]).
    pub fn trust(&self, config: &mut Config) {
        config.trust_keys.push(self.public_key.clone());
    }

    /// A valid signed package `file_name`: SMS 6.4.0 Patch 3 (build 6.4.0.9203), updating the
    /// server, with `release_notes` (Markdown) and a payload of about 256 KiB.
    pub fn package(&self, file_name: &str, release_notes: &str) -> anyhow::Result<PathBuf> {
        let out = self.path(file_name);
        self.patch(3, "Security fixes", release_notes, &out)?;
        Ok(out)
    }

    /// SMS 6.4.0 Patch `n` (build 6.4.0.92nn), updating the server, written to `out`.
    pub fn patch(
        &self,
        n: u32,
        title: &str,
        release_notes: &str,
        out: &Path,
    ) -> anyhow::Result<()> {
        self.patch_with(n, title, release_notes, out, false)
    }

    /// Like [`Vendor::patch`]; with `updates_client` the patch updates the web client too (to
    /// client version 6.4.0.`n`).
    pub fn patch_with(
        &self,
        n: u32,
        title: &str,
        release_notes: &str,
        out: &Path,
        updates_client: bool,
    ) -> anyhow::Result<()> {
        self.pack_patch(n, title, release_notes, out, updates_client, false)
    }

    /// SMS 6.4.0 Patch `n` that changes the database schema, written to `file_name` in the
    /// vendor's folder.
    pub fn patch_changing_database(
        &self,
        n: u32,
        title: &str,
        file_name: &str,
    ) -> anyhow::Result<PathBuf> {
        let out = self.path(file_name);
        self.pack_patch(n, title, "## Schema\n\n- New tables.", &out, false, true)?;
        Ok(out)
    }

    fn pack_patch(
        &self,
        n: u32,
        title: &str,
        release_notes: &str,
        out: &Path,
        updates_client: bool,
        database_changes: bool,
    ) -> anyhow::Result<()> {
        let file_name = out
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        let payload = self.dir.path().join(format!("{file_name}.payload"));
        std::fs::create_dir_all(payload.join("bin"))?;
        std::fs::write(
            payload.join("bin/sms-server"),
            PAYLOAD_MARKER.repeat(12_500),
        )?;
        let mut template = json!({
            "product_version": "6.4.0",
            "patch": n,
            "build": format!("6.4.0.{}", 9200 + n),
            "released": "2026-11-02",
            "title": title,
            "updates": if updates_client { "both" } else { "server" },
            "restart": "application",
            "database_changes": database_changes,
            "rollback": true,
            "release_notes": release_notes,
        });
        if updates_client {
            template["client_version"] = json!(format!("6.4.0.{n}"));
        }
        // Packed beside the target and renamed, so a TMC watching `out`'s folder never lists a
        // half-written file.
        let staged = self.path(&format!("{file_name}.staged"));
        pack(&self.signer, &template, &payload, &staged)
            .with_context(|| format!("cannot pack {file_name}"))?;
        std::fs::rename(&staged, out)?;
        Ok(())
    }

    /// A package like [`Vendor::package`] with one byte of its payload flipped near the end of
    /// the file: the signature still holds, the payload's checksum does not.
    pub fn damaged_package(&self, file_name: &str, release_notes: &str) -> anyhow::Result<PathBuf> {
        let path = self.package(file_name, release_notes)?;
        let mut bytes = std::fs::read(&path)?;
        let last_line = bytes
            .windows(PAYLOAD_MARKER.len())
            .rposition(|window| window == PAYLOAD_MARKER)
            .context("the payload is not in the package")?;
        bytes[last_line] ^= 0x20;
        std::fs::write(&path, bytes)?;
        Ok(path)
    }

    /// A plain text file, nothing like a package.
    pub fn text_file(&self, file_name: &str, text: &str) -> anyhow::Result<PathBuf> {
        let path = self.path(file_name);
        std::fs::write(&path, text)?;
        Ok(path)
    }

    fn path(&self, file_name: &str) -> PathBuf {
        self.dir.path().join(Path::new(file_name))
    }
}
