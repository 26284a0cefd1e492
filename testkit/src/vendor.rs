//! A test vendor: a package signing key made at run time (or the demo vendor's key of a server
//! in demo mode), and a builder of signed SMS 6.4.0 patch packages with the manifest flags the
//! tests use (reboot, no rollback, client update, database changes), a payload of any size, and
//! the payload the flags call for (`client/index.html`, `database/NNNN-name.up.sql`, see
//! `backend::package::payload`). A server executable, client files (one by one or a whole built
//! client's folder), migrations and manifest overrides can be added, also to build packages that
//! break the payload rules on purpose.
//!
//! ```no_run
//! # fn demo(config: &mut backend::config::Config) {
//! let vendor = testkit::Vendor::new();
//! vendor.trust(config);
//! let file = vendor.package(3).reboot().title("Security fixes").write();
//! let with_migration = vendor
//!     .package(4)
//!     .server_script("#!/bin/sh\nexec sleep 60\n")
//!     .migration("0001-rules.up.sql", "CREATE TABLE rules (id INTEGER PRIMARY KEY);")
//!     .migration("0001-rules.down.sql", "DROP TABLE rules;")
//!     .write();
//! # }
//! ```

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use anyhow::Context;
use backend::config::Config;
use backend::package::TrustedKeys;
use backend::package::keys::PackageSigner;
use backend::package::pack::{PayloadRules, pack_with};
use backend::package::payload::{CLIENT_DIR, DATABASE_DIR, SERVER_EXECUTABLE};
use serde_json::{Value, json};
use tempfile::TempDir;

mod payload;

pub use payload::{PAYLOAD_LINE, damage_payload};
use payload::{Payload, files_under, write_payload};

/// The key id of [`Vendor::new`].
pub const KEY_ID: &str = "test-vendor";

/// The payload size of a package unless its builder says otherwise: 256 KiB.
pub const DEFAULT_PAYLOAD_BYTES: u64 = 256 * 1024;

/// The migration a package with [`Package::database_changes`] carries (unless
/// [`Package::migration`] gives others), and its down migration when it can be rolled back.
pub const DEFAULT_MIGRATION: (&str, &str) = (
    "0001-patch-table.up.sql",
    "CREATE TABLE patch_demo_1 (id INTEGER PRIMARY KEY, note TEXT NOT NULL);\n",
);
/// The down migration of [`DEFAULT_MIGRATION`].
pub const DEFAULT_DOWN_MIGRATION: (&str, &str) =
    ("0001-patch-table.down.sql", "DROP TABLE patch_demo_1;\n");

/// The `client/index.html` of a package that updates the client to 6.4.0.`n`.
pub fn client_page(n: u32) -> String {
    format!(
        "<html><head><title>SMS client 6.4.0.{n}</title></head>\
         <body>SMS web client 6.4.0.{n}</body></html>\n"
    )
}

/// A vendor with its own signing key; its key files and packages live in a temporary folder as
/// long as it does.
pub struct Vendor {
    signer: PackageSigner,
    public_key: PathBuf,
    dir: TempDir,
    packed: AtomicU32,
}

impl Vendor {
    /// A new vendor key with the id [`KEY_ID`].
    pub fn new() -> Self {
        Self::named(KEY_ID)
    }

    /// A new vendor key with the id `key_id`.
    pub fn named(key_id: &str) -> Self {
        Self::create(key_id, tempfile::tempdir())
    }

    /// A new vendor key whose folder (key files, payloads being packed, packages) is inside
    /// `parent`, e.g. on a disk with room for a large package.
    pub fn in_dir(parent: &Path) -> Self {
        Self::create(KEY_ID, tempfile::tempdir_in(parent))
    }

    fn create(key_id: &str, dir: std::io::Result<TempDir>) -> Self {
        let dir = dir.expect("a folder for the test vendor");
        let signer = PackageSigner::generate(key_id);
        let (_, public_key) = signer
            .write(&dir.path().join("vendor"))
            .expect("the test vendor's key files are written");
        Self {
            signer,
            public_key,
            dir,
            packed: AtomicU32::new(0),
        }
    }

    /// The demo vendor of a server in demo mode: the key the server generated in `data_dir` on
    /// its first start.
    ///
    /// # Panics
    ///
    /// When there is no demo key in `data_dir` (the server is not in demo mode).
    pub fn demo(data_dir: &Path) -> Self {
        let prefix = data_dir.join(backend::app::demo::DEMO_VENDOR_KEY);
        let signer = PackageSigner::load(&prefix.with_extension("key")).unwrap_or_else(|err| {
            panic!("cannot read the demo vendor key (is the server in demo mode?): {err}")
        });
        Self {
            signer,
            public_key: prefix.with_extension("pub"),
            dir: tempfile::tempdir().expect("a folder for the demo vendor's packages"),
            packed: AtomicU32::new(0),
        }
    }

    /// A vendor whose TMC feed is TUF (format 2): `sms tuf init` made its keys folder
    /// ([`Vendor::tuf_keys`]), and its packages are signed with the targets key `targets-1`.
    pub async fn with_tuf() -> Self {
        let dir = tempfile::tempdir().expect("a folder for the test vendor");
        let keys = dir.path().join("keys");
        backend::package::tuf::init(&keys, chrono::Utc::now())
            .await
            .expect("the test vendor's TUF keys are made");
        let public_key = keys.join("targets-1.pub");
        let signer = PackageSigner::load(&keys.join("targets-1.key"))
            .expect("the targets key signs packages");
        Self {
            signer,
            public_key,
            dir,
            packed: AtomicU32::new(0),
        }
    }

    /// The keys folder of a [`Vendor::with_tuf`] vendor.
    pub fn tuf_keys(&self) -> PathBuf {
        self.dir.path().join("keys")
    }

    /// The feed's first root, which a server trusts (`--trust-root`).
    pub fn trust_root(&self) -> PathBuf {
        self.tuf_keys().join("1.root.json")
    }

    /// Makes a server configured with `config` start its trust of the feed from the first root.
    pub fn trust_feed(&self, config: &mut Config) {
        config.tmc.trust_root = Some(self.trust_root());
    }

    /// Signs the packages packed from now on with the key file `KEYS/<name>.key` (after a
    /// rotation of the targets key, say).
    pub fn sign_with(&mut self, name: &str) {
        let keys = self.tuf_keys();
        self.signer = PackageSigner::load(&keys.join(format!("{name}.key")))
            .expect("the key file of the vendor's keys folder");
        self.public_key = keys.join(format!("{name}.pub"));
    }

    /// The id of the vendor's key (the manifests' `key_id`).
    pub fn key_id(&self) -> &str {
        &self.signer.key_id
    }

    /// The vendor's signing key, for signing by hand (catalogs, broken manifests).
    pub fn signer(&self) -> &PackageSigner {
        &self.signer
    }

    /// The vendor's public key file (what a server must trust: `--trust-key`).
    pub fn public_key(&self) -> &Path {
        &self.public_key
    }

    /// The vendor's private key file (`--key` of `sms pack` and `sms tmc serve`).
    pub fn secret_key(&self) -> PathBuf {
        self.public_key.with_extension("key")
    }

    /// A set of trusted keys holding only this vendor's.
    pub fn trusted_keys(&self) -> TrustedKeys {
        let mut keys = TrustedKeys::new();
        keys.add(self.key_id(), self.signer.verifying_key())
            .expect("a key id the verifier accepts");
        keys
    }

    /// Makes a server configured with `config` trust this vendor's packages.
    pub fn trust(&self, config: &mut Config) {
        config.trust_keys.push(self.public_key.clone());
    }

    /// The vendor's folder, where [`Package::write`] puts packages.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The path of `file_name` in the vendor's folder.
    pub fn path(&self, file_name: &str) -> PathBuf {
        self.dir.path().join(file_name)
    }

    /// A builder of SMS 6.4.0 Patch `n` (build 6.4.0.92nn, released 2026-11-02): by default
    /// it updates the server only, restarts the application, changes no database, can be
    /// rolled back, and carries [`DEFAULT_PAYLOAD_BYTES`] of text as `server/app.bin` (and no
    /// server executable).
    pub fn package(&self, n: u32) -> Package<'_> {
        Package {
            vendor: self,
            patch: n,
            title: None,
            release_notes: None,
            reboot: false,
            rollback: true,
            updates_client: false,
            database_changes: false,
            payload: Payload::Text(DEFAULT_PAYLOAD_BYTES),
            server: None,
            client_dir: None,
            client_files: Vec::new(),
            migrations: Vec::new(),
            overrides: Vec::new(),
        }
    }
}

impl Default for Vendor {
    fn default() -> Self {
        Self::new()
    }
}

/// What `server/bin/sms` of a package is.
#[derive(Debug, Clone)]
enum ServerExecutable {
    /// A copy of this file.
    Copy(PathBuf),
    /// This script.
    Script(String),
}

/// A package being described; `write*` packs and signs it. See [`Vendor::package`].
#[must_use = "a package is only made by one of the write methods"]
pub struct Package<'v> {
    vendor: &'v Vendor,
    patch: u32,
    title: Option<String>,
    release_notes: Option<String>,
    reboot: bool,
    rollback: bool,
    updates_client: bool,
    database_changes: bool,
    payload: Payload,
    server: Option<ServerExecutable>,
    /// A folder whose files the package carries under `client/`, instead of the placeholder
    /// client of [`Package::updates_client`].
    client_dir: Option<PathBuf>,
    /// Extra files under `client/` (after those of `client_dir`): path inside it, bytes.
    client_files: Vec<(String, Vec<u8>)>,
    /// Files under `database/`: file name, SQL.
    migrations: Vec<(String, String)>,
    /// Manifest fields set last, in order.
    overrides: Vec<(String, Value)>,
}

impl Package<'_> {
    /// The patch's title (by default `Fixes N`).
    pub fn title(mut self, title: &str) -> Self {
        self.title = Some(title.to_owned());
        self
    }

    /// The release notes, in Markdown (by default `## Patch N` and the title as a bullet).
    pub fn release_notes(mut self, markdown: &str) -> Self {
        self.release_notes = Some(markdown.to_owned());
        self
    }

    /// Installing it reboots the server (instead of restarting the application).
    pub fn reboot(mut self) -> Self {
        self.reboot = true;
        self
    }

    /// It cannot be rolled back.
    pub fn without_rollback(mut self) -> Self {
        self.rollback = false;
        self
    }

    /// It updates the web client too, to client version 6.4.0.N: it carries
    /// `client/index.html` ([`client_page`]) and `client/app-N.js`.
    pub fn updates_client(mut self) -> Self {
        self.updates_client = true;
        self
    }

    /// It changes the database schema: it carries [`DEFAULT_MIGRATION`] (and
    /// [`DEFAULT_DOWN_MIGRATION`] when it can be rolled back), unless [`Package::migration`]
    /// gives its migrations.
    pub fn database_changes(mut self) -> Self {
        self.database_changes = true;
        self
    }

    /// It carries a copy of the file `path` as its server executable, `server/bin/sms`.
    pub fn server_executable(mut self, path: &Path) -> Self {
        self.server = Some(ServerExecutable::Copy(path.to_owned()));
        self
    }

    /// It carries the shell script `text` as its server executable, `server/bin/sms`
    /// (`#!/bin/sh` is put first when `text` has no `#!` line).
    pub fn server_script(mut self, text: &str) -> Self {
        let script = if text.starts_with("#!") {
            text.to_owned()
        } else {
            format!("#!/bin/sh\n{text}")
        };
        self.server = Some(ServerExecutable::Script(script));
        self
    }

    /// It carries every regular file under `dir` (e.g. a built web client), at its path
    /// relative to `dir`, as `client/<rel>`, instead of the page and script of
    /// [`Package::updates_client`]; [`Package::client_file`] can still replace one of them. The
    /// folder is read when the package is written. It does not make the package update the
    /// client.
    pub fn client_from_dir(mut self, dir: &Path) -> Self {
        self.client_dir = Some(dir.to_owned());
        self
    }

    /// It carries `bytes` as `client/<rel>` (a `rel` of `index.html` replaces the page of
    /// [`Package::updates_client`] or of [`Package::client_from_dir`]). It does not make the
    /// package update the client.
    pub fn client_file(mut self, rel: &str, bytes: impl AsRef<[u8]>) -> Self {
        self.client_files
            .push((rel.to_owned(), bytes.as_ref().to_vec()));
        self
    }

    /// It carries `sql` as `database/<file_name>` (e.g. `0002-rules.up.sql`), and changes the
    /// database (`database_changes` is true). The first call replaces [`DEFAULT_MIGRATION`];
    /// nothing checks the name here, so a test can build a package the verifier refuses.
    pub fn migration(mut self, file_name: &str, sql: &str) -> Self {
        self.database_changes = true;
        self.migrations.push((file_name.to_owned(), sql.to_owned()));
        self
    }

    /// Sets the manifest field `key` to `value` after the builder's own (`null` removes it),
    /// e.g. `("database_changes", false.into())` on a package with migrations, to see a server
    /// refuse it. The manifest must still follow the manifest's own rules (`sms pack` checks
    /// those); the payload rules are not checked here.
    pub fn manifest_override(mut self, key: &str, value: Value) -> Self {
        self.overrides.push((key.to_owned(), value));
        self
    }

    /// A text payload of `bytes` bytes.
    pub fn payload_bytes(mut self, bytes: u64) -> Self {
        self.payload = Payload::Text(bytes);
        self
    }

    /// A text payload of `kib` KiB.
    pub fn payload_kib(self, kib: u64) -> Self {
        self.payload_bytes(kib * 1024)
    }

    /// A pseudo-random payload of `bytes` bytes, written piece by piece (it may be large).
    pub fn random_payload_bytes(mut self, bytes: u64) -> Self {
        self.payload = Payload::Random(bytes);
        self
    }

    /// The patch id, `6.4.0.N`.
    pub fn id(&self) -> String {
        format!("6.4.0.{}", self.patch)
    }

    /// The manifest template [`pack`] completes (key id and file list) and signs.
    pub fn manifest(&self) -> Value {
        let n = self.patch;
        let title = self.title.clone().unwrap_or_else(|| format!("Fixes {n}"));
        let notes = self
            .release_notes
            .clone()
            .unwrap_or_else(|| format!("## Patch {n}\n\n- {title}."));
        let mut template = json!({
            "product_version": "6.4.0",
            "patch": n,
            "build": format!("6.4.0.{}", 9200 + n),
            "released": "2026-11-02",
            "title": title,
            "updates": if self.updates_client { "both" } else { "server" },
            "restart": if self.reboot { "reboot" } else { "application" },
            "database_changes": self.database_changes,
            "rollback": self.rollback,
            "release_notes": notes,
        });
        if self.updates_client {
            template["client_version"] = json!(format!("6.4.0.{n}"));
        }
        if let Some(fields) = template.as_object_mut() {
            for (key, value) in &self.overrides {
                if value.is_null() {
                    fields.remove(key);
                } else {
                    fields.insert(key.clone(), value.clone());
                }
            }
        }
        template
    }

    fn write_payload_dir(&self, payload: &Path) -> anyhow::Result<()> {
        std::fs::create_dir_all(payload.join("server"))?;
        write_payload(&payload.join("server/app.bin"), self.payload)?;
        for (path, bytes) in self.payload_files()? {
            let target = payload.join(&path);
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(&target, bytes)
                .with_context(|| format!("cannot write payload/{path}"))?;
        }
        Ok(())
    }

    /// The files the payload carries besides `server/app.bin`: path under `payload/`, bytes.
    fn payload_files(&self) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
        let n = self.patch;
        let mut files = Vec::new();
        match &self.server {
            Some(ServerExecutable::Copy(path)) => {
                let bytes = std::fs::read(path)
                    .with_context(|| format!("cannot read the executable {}", path.display()))?;
                files.push((SERVER_EXECUTABLE.to_owned(), bytes));
            }
            Some(ServerExecutable::Script(text)) => {
                files.push((SERVER_EXECUTABLE.to_owned(), text.clone().into_bytes()));
            }
            None => {}
        }
        if let Some(dir) = &self.client_dir {
            for (rel, bytes) in files_under(dir)? {
                files.push((format!("{CLIENT_DIR}/{rel}"), bytes));
            }
        } else if self.updates_client {
            files.push((
                format!("{CLIENT_DIR}/index.html"),
                client_page(n).into_bytes(),
            ));
            files.push((
                format!("{CLIENT_DIR}/app-{n}.js"),
                format!("console.log(\"SMS web client 6.4.0.{n}\");\n").into_bytes(),
            ));
        }
        for (rel, bytes) in &self.client_files {
            let path = format!("{CLIENT_DIR}/{rel}");
            // Written last, it would replace the earlier file anyway; one entry is clearer.
            files.retain(|(earlier, _)| *earlier != path);
            files.push((path, bytes.clone()));
        }
        if !self.migrations.is_empty() {
            for (file_name, sql) in &self.migrations {
                files.push((
                    format!("{DATABASE_DIR}/{file_name}"),
                    sql.clone().into_bytes(),
                ));
            }
        } else if self.database_changes {
            let mut defaults = vec![DEFAULT_MIGRATION];
            if self.rollback {
                defaults.push(DEFAULT_DOWN_MIGRATION);
            }
            for (file_name, sql) in defaults {
                files.push((
                    format!("{DATABASE_DIR}/{file_name}"),
                    sql.as_bytes().to_vec(),
                ));
            }
        }
        Ok(files)
    }

    /// Packs it into the vendor's folder as `sms-6.4.0.N.pkg` and returns the file.
    pub fn write(self) -> PathBuf {
        let out = self.vendor.path(&format!("sms-{}.pkg", self.id()));
        self.write_to(&out)
    }

    /// Packs it into `dir` (e.g. a TMC's folder) as `sms-6.4.0.N.pkg` and returns the file.
    pub fn write_in(self, dir: &Path) -> PathBuf {
        let out = dir.join(format!("sms-{}.pkg", self.id()));
        self.write_to(&out)
    }

    /// Packs it as `out` and returns it. The file appears whole or not at all (a TMC watching
    /// its folder never lists a half-written package).
    ///
    /// # Panics
    ///
    /// When the package cannot be written.
    pub fn write_to(self, out: &Path) -> PathBuf {
        self.try_write_to(out)
            .unwrap_or_else(|err| panic!("cannot pack {}: {err:#}", out.display()));
        out.to_owned()
    }

    /// The package's bytes (packed in the vendor's folder first).
    pub fn bytes(self) -> Vec<u8> {
        let file = self.write();
        std::fs::read(&file).expect("the package just written")
    }

    fn try_write_to(&self, out: &Path) -> anyhow::Result<()> {
        // A dot-folder: a TMC serving the vendor's folder lists `*.pkg` files only, never these.
        let count = self.vendor.packed.fetch_add(1, Ordering::Relaxed);
        let staging = self.vendor.path(&format!(".payload-{count}"));
        let payload = staging.join("payload");
        let written = self.write_payload_dir(&payload);
        let packed = written.and_then(|()| {
            // The server is the judge of the payload rules: tests break them on purpose.
            pack_with(
                &self.vendor.signer,
                &self.manifest(),
                &payload,
                out,
                PayloadRules::Skip,
            )
        });
        std::fs::remove_dir_all(&staging)?;
        packed.with_context(|| format!("cannot pack Patch {}", self.patch))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
