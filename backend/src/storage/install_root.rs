//! The install root in the data dir: the base release and one folder per staged patch level,
//! and a pointer file that selects the current level. Staging writes a level's payload into a
//! temporary folder and renames it into place; switching replaces the pointer atomically (write,
//! fsync, rename, fsync the folder), so after a crash the pointer names either the old level or
//! the new one, never a mix.
//!
//! ```text
//! DATA_DIR/install/
//!   current              "3\n": the level in use (0: the base release)
//!   levels/0/BUILD       the base release
//!   levels/3/...         the payload of Patch 3 (cumulative, so only the current level matters)
//!   .staging-3-<random>  a level being written (removed by `reconcile`)
//! ```
//!
//! Blocking file system code: async callers run it with `spawn_blocking`.

use std::fs::{self, File};
use std::io::{self, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};
use shared::{Build, PatchLevel};

use crate::package::manifest::check_relative_path;
use crate::package::payload::{SERVER_EXECUTABLE, is_executable};
use crate::package::ustar::{self, BLOCK, Header};
use crate::package::verify::{MANIFEST_ENTRY, PAYLOAD_PREFIX, SIGNATURE_ENTRY};
use crate::package::{Manifest, PackageError};
use crate::storage::files::{sync_dir, write_synced};

/// The install root's folder inside the data dir.
pub const INSTALL_DIR: &str = "install";
const LEVELS: &str = "levels";
const POINTER: &str = "current";
/// The last level whose server came up (the supervisor switches back to it).
const CONFIRMED: &str = "confirmed";
const STAGING_PREFIX: &str = ".staging-";

/// What `reconcile` found and did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reconciled {
    /// The level the pointer names.
    pub current: PatchLevel,
    /// Folders removed: unfinished stagings and levels that are neither current nor the base.
    pub removed: Vec<String>,
}

/// The install root of this server.
#[derive(Debug, Clone)]
pub struct InstallRoot {
    dir: PathBuf,
}

impl InstallRoot {
    /// The install root under `data_dir`, if a server made it there (nothing is made here).
    pub fn existing(data_dir: &Path) -> Option<Self> {
        let dir = data_dir.join(INSTALL_DIR);
        dir.join(POINTER).exists().then_some(Self { dir })
    }

    /// Opens the install root under `data_dir`; on the first start records the base release
    /// (`base_build`) as level 0 and points at it.
    pub fn open(data_dir: &Path, base_build: &Build) -> io::Result<Self> {
        let root = Self {
            dir: data_dir.join(INSTALL_DIR),
        };
        fs::create_dir_all(root.dir.join(LEVELS))?;
        let base = root.level_dir(PatchLevel::NONE);
        if !base.exists() {
            let staging = root.staging_dir(PatchLevel::NONE);
            fs::create_dir_all(&staging)?;
            write_synced(&staging.join("BUILD"), format!("{base_build}\n").as_bytes())?;
            fs::rename(&staging, &base)?;
            sync_dir(&root.dir.join(LEVELS))?;
        }
        if !root.dir.join(POINTER).exists() {
            root.switch(PatchLevel::NONE)?;
        }
        if !root.dir.join(CONFIRMED).exists() {
            // Whatever runs when the boot record begins has come up before.
            root.confirm(root.current()?)?;
        }
        Ok(root)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The folder of a level's files.
    pub fn level_dir(&self, level: PatchLevel) -> PathBuf {
        self.dir.join(LEVELS).join(level.0.to_string())
    }

    /// Whether a level is staged (or is the base).
    pub fn has_level(&self, level: PatchLevel) -> bool {
        self.level_dir(level).is_dir()
    }

    /// The level the pointer names.
    pub fn current(&self) -> io::Result<PatchLevel> {
        let text = fs::read_to_string(self.dir.join(POINTER))?;
        text.trim()
            .parse::<u32>()
            .map(PatchLevel)
            .map_err(|_| invalid(format!("the install pointer holds `{}`", text.trim())))
    }

    /// Makes `level` current: the pointer is replaced in one rename, made durable.
    pub fn switch(&self, level: PatchLevel) -> io::Result<()> {
        if !self.has_level(level) {
            return Err(invalid(format!("level {} is not staged", level.0)));
        }
        let temporary = self.dir.join(format!("{POINTER}.tmp"));
        write_synced(&temporary, format!("{}\n", level.0).as_bytes())?;
        fs::rename(&temporary, self.dir.join(POINTER))?;
        sync_dir(&self.dir)
    }

    /// The last level whose server came up; the current level when none was recorded yet.
    pub fn confirmed(&self) -> io::Result<PatchLevel> {
        match fs::read_to_string(self.dir.join(CONFIRMED)) {
            Ok(text) => text.trim().parse::<u32>().map(PatchLevel).map_err(|_| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("the confirmed level file holds `{}`", text.trim()),
                )
            }),
            Err(err) if err.kind() == io::ErrorKind::NotFound => self.current(),
            Err(err) => Err(err),
        }
    }

    /// Records `level` as the last level whose server came up (durably).
    pub fn confirm(&self, level: PatchLevel) -> io::Result<()> {
        let temporary = self.dir.join(format!("{CONFIRMED}.tmp"));
        write_synced(&temporary, format!("{}\n", level.0).as_bytes())?;
        fs::rename(&temporary, self.dir.join(CONFIRMED))?;
        sync_dir(&self.dir)
    }

    /// Removes the folders of levels that are neither the base, the current nor the confirmed
    /// one (stagings are left to the server, which may be writing one). Returns their names.
    pub fn remove_unused_levels(&self) -> io::Result<Vec<String>> {
        let keep = [PatchLevel::NONE, self.current()?, self.confirmed()?];
        let mut removed = Vec::new();
        for entry in fs::read_dir(self.dir.join(LEVELS))? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let unused = name
                .parse::<u32>()
                .is_ok_and(|level| !keep.contains(&PatchLevel(level)));
            if unused && remove_tree(&entry.path())? {
                removed.push(name);
            }
        }
        Ok(removed)
    }

    /// Writes the payload of a verified package as `level`'s folder, checking every file's
    /// SHA-256 against the manifest again. On any error nothing of the staging remains.
    /// Returns the payload's size in bytes.
    pub fn stage(
        &self,
        level: PatchLevel,
        package: &Path,
        verified_sha256: &str,
    ) -> io::Result<u64> {
        let staging = self.staging_dir(level);
        fs::create_dir_all(&staging)?;
        let written = extract_payload(package, &staging, verified_sha256, None).and_then(|size| {
            let target = self.level_dir(level);
            if target.exists() {
                fs::remove_dir_all(&target)?;
            }
            fs::rename(&staging, &target)?;
            sync_dir(&self.dir.join(LEVELS))?;
            Ok(size)
        });
        if written.is_err() {
            // Best effort: the write error below is what the caller hears, and the next
            // reconcile removes a staging left behind.
            let _ = fs::remove_dir_all(&staging);
        }
        written
    }

    /// Removes unfinished stagings, and levels that are neither current, confirmed nor the base.
    pub fn reconcile(&self) -> io::Result<Reconciled> {
        let current = self.current()?;
        let confirmed = self.confirmed()?;
        let mut removed = Vec::new();
        for entry in fs::read_dir(&self.dir)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with(STAGING_PREFIX) {
                fs::remove_dir_all(entry.path())?;
                removed.push(name);
            } else if name.ends_with(".tmp") && left_behind(&entry)? {
                fs::remove_file(entry.path())?;
                removed.push(name);
            }
        }
        for entry in fs::read_dir(self.dir.join(LEVELS))? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            // The confirmed level stays too: the supervisor switches back to it when the
            // current one does not come up.
            let keep =
                name == "0" || name == current.0.to_string() || name == confirmed.0.to_string();
            if !keep && remove_tree(&entry.path())? {
                removed.push(format!("{LEVELS}/{name}"));
            }
        }
        if !self.has_level(current) {
            return Err(invalid(format!(
                "the install pointer names level {}, whose folder is missing",
                current.0
            )));
        }
        Ok(Reconciled { current, removed })
    }

    fn staging_dir(&self, level: PatchLevel) -> PathBuf {
        let mut random = [0u8; 6];
        OsRng.fill_bytes(&mut random);
        self.dir.join(format!(
            "{STAGING_PREFIX}{}-{}",
            level.0,
            hex::encode(random)
        ))
    }
}

/// How old a temporary file must be to be a crash's leftover rather than a write under way.
const TEMPORARY_LEFTOVER_AGE: std::time::Duration = std::time::Duration::from_secs(60);

/// Whether a temporary file was left behind by a write that never finished. The supervisor
/// and the server both write the install root's small files (a temporary file, then a rename):
/// one's tidying must not take the other's file in the middle of its write.
fn left_behind(entry: &fs::DirEntry) -> io::Result<bool> {
    let modified = entry.metadata()?.modified()?;
    Ok(modified
        .elapsed()
        .is_ok_and(|age| age >= TEMPORARY_LEFTOVER_AGE))
}

/// Copies the payload entries of `package` under `into`; returns the bytes written.
/// Extracts the package's server executable alone (`server/bin/sms`) into the folder `into`,
/// checked like a staging; `None` when the package carries none (its level runs the base
/// executable).
pub fn extract_executable(
    package: &Path,
    into: &Path,
    verified_sha256: &str,
) -> io::Result<Option<PathBuf>> {
    fs::create_dir_all(into)?;
    extract_payload(package, into, verified_sha256, Some(SERVER_EXECUTABLE))?;
    let path = into.join(SERVER_EXECUTABLE);
    Ok(path.is_file().then_some(path))
}

/// Extracts the payload (or, with `only`, that one file of it) into `into`, checking every
/// file against the manifest and the whole package against the SHA-256 it was verified with.
fn extract_payload(
    package: &Path,
    into: &Path,
    verified_sha256: &str,
    only: Option<&str>,
) -> io::Result<u64> {
    let hashing = HashingReader {
        inner: File::open(package)?,
        hasher: Sha256::new(),
    };
    let mut reader = BufReader::with_capacity(1 << 20, hashing);
    let mut offset = 0u64;
    let mut manifest: Option<Manifest> = None;
    let mut total = 0u64;
    loop {
        let mut block = [0u8; BLOCK];
        reader.read_exact(&mut block)?;
        let header = ustar::parse_header(&block, offset).map_err(package_error)?;
        offset += BLOCK as u64;
        let (name, size) = match header {
            Header::Zero => break,
            Header::File { name, size } => (name, size),
            Header::Link { name } | Header::Other { name, .. } => {
                return Err(invalid(format!(
                    "unexpected entry `{name}` in a verified package"
                )));
            }
        };
        let padding = ustar::padding(size);
        if name == MANIFEST_ENTRY {
            let mut bytes = vec![0u8; usize::try_from(size).map_err(io::Error::other)?];
            reader.read_exact(&mut bytes)?;
            manifest = Some(Manifest::parse(&bytes).map_err(package_error)?);
        } else if name == SIGNATURE_ENTRY {
            io::copy(&mut (&mut reader).take(size), &mut io::sink())?;
        } else if let Some(path) = name.strip_prefix(PAYLOAD_PREFIX)
            && only.is_some_and(|wanted| wanted != path)
        {
            io::copy(&mut (&mut reader).take(size), &mut io::sink())?;
        } else if let Some(path) = name.strip_prefix(PAYLOAD_PREFIX) {
            check_relative_path(path).map_err(package_error)?;
            let expected = manifest
                .as_ref()
                .and_then(|m| m.files.iter().find(|f| f.path == path))
                .ok_or_else(|| invalid(format!("`{name}` is not in the manifest")))?;
            let target = into.join(path);
            if let Some(parent) = target.parent() {
                fs::create_dir_all(parent)?;
            }
            let mut out = HashingWriter {
                file: create_payload_file(&target, is_executable(path))?,
                hasher: Sha256::new(),
            };
            let copied = io::copy(&mut (&mut reader).take(size), &mut out)?;
            if copied != size {
                return Err(invalid(format!("`{name}` ends early")));
            }
            out.file.sync_all()?;
            if hex::encode(out.hasher.finalize()) != expected.sha256 {
                return Err(invalid(format!(
                    "`{name}` does not match its checksum: the stored package is damaged"
                )));
            }
            total += size;
        } else {
            return Err(invalid(format!("unexpected entry `{name}`")));
        }
        io::copy(&mut (&mut reader).take(padding), &mut io::sink())?;
        offset += size + padding;
    }
    // Every byte staged was hashed on its way in: unless they are the bytes the verify stage
    // checked, the package was replaced in between, and nothing staged may be used.
    io::copy(&mut reader, &mut io::sink())?;
    let staged_sha256 = hex::encode(reader.into_inner().hasher.finalize());
    if !staged_sha256.eq_ignore_ascii_case(verified_sha256) {
        return Err(invalid(format!(
            "the package changed after it was verified (SHA-256 {staged_sha256}, verified \
             {verified_sha256}): download or import it again"
        )));
    }
    sync_tree(into)?;
    Ok(total)
}

/// Hashes every byte read through it.
struct HashingReader {
    inner: File,
    hasher: Sha256,
}

impl Read for HashingReader {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buffer)?;
        self.hasher.update(&buffer[..n]);
        Ok(n)
    }
}

/// A new payload file: mode 0755 when it is executable (under `server/bin/`), else 0644 (the
/// package carries no modes).
fn create_payload_file(path: &Path, executable: bool) -> io::Result<File> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(if executable { 0o755 } else { 0o644 });
    }
    #[cfg(not(unix))]
    let _ = executable; // no execute bit to set
    options.open(path)
}

struct HashingWriter {
    file: File,
    hasher: Sha256,
}

impl Write for HashingWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let n = self.file.write(data)?;
        self.hasher.update(&data[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

/// Removes a folder; false when it was gone already (the supervisor and the server may both
/// tidy up after a switch).
fn remove_tree(path: &Path) -> io::Result<bool> {
    match fs::remove_dir_all(path) {
        Ok(()) => Ok(true),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(err) => Err(err),
    }
}

/// Syncs every folder under `dir` (files were synced as they were written).
fn sync_tree(dir: &Path) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            sync_tree(&entry.path())?;
        }
    }
    sync_dir(dir)
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

fn package_error(err: PackageError) -> io::Error {
    invalid(format!("{} ({})", err.message, err.code.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::package::PackageSigner;
    use crate::package::pack::pack;

    fn base() -> Build {
        "6.4.0.9001".parse().unwrap()
    }

    /// Stages `package` as the verify stage would have seen it.
    fn stage(root: &InstallRoot, level: PatchLevel, package: &Path) -> io::Result<u64> {
        let sha = hex::encode(Sha256::digest(fs::read(package)?));
        root.stage(level, package, &sha)
    }

    #[test]
    fn a_package_replaced_after_its_verification_is_not_staged() {
        let data = tempfile::tempdir().unwrap();
        let root = InstallRoot::open(data.path(), &base()).unwrap();
        let verified = package(data.path(), 2);
        let sha = hex::encode(Sha256::digest(fs::read(&verified).unwrap()));
        // Another validly signed package takes its place between verify and staging.
        let other = package(data.path(), 3);
        fs::rename(&other, &verified).unwrap();
        let err = root.stage(PatchLevel(2), &verified, &sha).unwrap_err();
        assert!(
            err.to_string().contains("changed after it was verified"),
            "{err}"
        );
        assert!(!root.has_level(PatchLevel(2)));
        let left: Vec<_> = fs::read_dir(data.path().join("install"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.starts_with(STAGING_PREFIX))
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }

    /// A package of Patch `n` with two payload files, in `dir`.
    fn package(dir: &Path, n: u32) -> PathBuf {
        let payload = dir.join(format!("payload-{n}"));
        fs::create_dir_all(payload.join("server/lib")).unwrap();
        fs::write(payload.join("server/sms-server"), format!("server {n}\n")).unwrap();
        fs::write(payload.join("server/lib/rules.db"), vec![n as u8; 70_000]).unwrap();
        let template = serde_json::json!({
            "product_version": "6.4.0",
            "patch": n,
            "build": format!("6.4.0.{}", 9100 + n),
            "released": "2026-11-02",
            "title": "Fixes",
            "updates": "server",
            "restart": "application",
            "database_changes": false,
            "rollback": true,
            "release_notes": "Fixes",
        });
        let out = dir.join(format!("p{n}.pkg"));
        pack(&PackageSigner::generate("k"), &template, &payload, &out).unwrap();
        out
    }

    #[test]
    fn the_first_open_records_the_base_release_as_current() {
        let data = tempfile::tempdir().unwrap();
        let root = InstallRoot::open(data.path(), &base()).unwrap();
        assert_eq!(root.current().unwrap(), PatchLevel(0));
        let build = fs::read_to_string(root.level_dir(PatchLevel(0)).join("BUILD")).unwrap();
        assert_eq!(build, "6.4.0.9001\n");
        // Opening again changes nothing.
        root.switch(PatchLevel(0)).unwrap();
        let again = InstallRoot::open(data.path(), &base()).unwrap();
        assert_eq!(again.current().unwrap(), PatchLevel(0));
    }

    #[test]
    fn a_staged_level_holds_the_payload_and_the_switch_selects_it() {
        let data = tempfile::tempdir().unwrap();
        let root = InstallRoot::open(data.path(), &base()).unwrap();
        let package = package(data.path(), 3);

        let size = stage(&root, PatchLevel(3), &package).unwrap();
        assert_eq!(size, "server 3\n".len() as u64 + 70_000);
        let level = root.level_dir(PatchLevel(3));
        assert_eq!(
            fs::read_to_string(level.join("server/sms-server")).unwrap(),
            "server 3\n"
        );
        assert_eq!(
            root.current().unwrap(),
            PatchLevel(0),
            "staging does not switch"
        );

        root.switch(PatchLevel(3)).unwrap();
        assert_eq!(root.current().unwrap(), PatchLevel(3));
        assert!(
            root.switch(PatchLevel(4)).is_err(),
            "an unstaged level cannot be selected"
        );
        assert_eq!(root.current().unwrap(), PatchLevel(3));
    }

    #[cfg(unix)]
    #[test]
    fn files_under_server_bin_are_staged_executable() {
        use std::os::unix::fs::PermissionsExt;
        let data = tempfile::tempdir().unwrap();
        let root = InstallRoot::open(data.path(), &base()).unwrap();
        let payload = data.path().join("payload");
        fs::create_dir_all(payload.join("server/bin")).unwrap();
        fs::write(payload.join("server/bin/sms"), "#!/bin/sh\n").unwrap();
        fs::write(payload.join("server/rules.db"), "rules").unwrap();
        let template = serde_json::json!({
            "product_version": "6.4.0", "patch": 2, "build": "6.4.0.9102",
            "released": "2026-11-02", "title": "Fixes", "updates": "server",
            "restart": "application", "database_changes": false, "rollback": true,
            "release_notes": "Fixes",
        });
        let package = data.path().join("p2.pkg");
        pack(&PackageSigner::generate("k"), &template, &payload, &package).unwrap();

        stage(&root, PatchLevel(2), &package).unwrap();

        let level = root.level_dir(PatchLevel(2));
        let mode = |path: &str| fs::metadata(level.join(path)).unwrap().permissions().mode();
        assert_ne!(mode("server/bin/sms") & 0o100, 0, "executable");
        assert_eq!(mode("server/rules.db") & 0o111, 0, "not executable");
    }

    #[test]
    fn a_damaged_package_leaves_no_staging_behind() {
        let data = tempfile::tempdir().unwrap();
        let root = InstallRoot::open(data.path(), &base()).unwrap();
        let package = package(data.path(), 2);
        let mut bytes = fs::read(&package).unwrap();
        let at = bytes.len() - 3000;
        bytes[at] ^= 0xff;
        fs::write(&package, bytes).unwrap();

        let err = stage(&root, PatchLevel(2), &package).unwrap_err();

        assert!(err.to_string().contains("checksum"), "{err}");
        assert!(!root.has_level(PatchLevel(2)));
        let left: Vec<_> = fs::read_dir(root.dir())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(
            left.iter().all(|n| !n.starts_with(STAGING_PREFIX)),
            "{left:?}"
        );
    }

    #[test]
    fn reconcile_removes_unfinished_stagings_and_old_levels() {
        let data = tempfile::tempdir().unwrap();
        let root = InstallRoot::open(data.path(), &base()).unwrap();
        stage(&root, PatchLevel(2), &package(data.path(), 2)).unwrap();
        stage(&root, PatchLevel(3), &package(data.path(), 3)).unwrap();
        root.switch(PatchLevel(3)).unwrap();
        fs::create_dir_all(root.dir().join(".staging-4-abc/server")).unwrap();
        // A pointer's write that a crash cut off, and one under way in the other process.
        let old = root.dir().join("current.tmp");
        fs::write(&old, "4\n").unwrap();
        let long_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(600);
        fs::File::options()
            .write(true)
            .open(&old)
            .unwrap()
            .set_modified(long_ago)
            .unwrap();
        fs::write(root.dir().join("confirmed.tmp"), "3\n").unwrap();

        let found = root.reconcile().unwrap();

        assert_eq!(found.current, PatchLevel(3));
        let mut removed = found.removed.clone();
        removed.sort();
        assert_eq!(removed, vec![".staging-4-abc", "current.tmp", "levels/2"]);
        assert!(root.has_level(PatchLevel(0)) && root.has_level(PatchLevel(3)));
        assert!(
            root.dir().join("confirmed.tmp").exists(),
            "a write under way is left alone"
        );
    }
}
