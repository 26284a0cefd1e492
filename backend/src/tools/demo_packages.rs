//! The demo TMC's packages: SMS 6.4.0 Patches 1 to 5 with varied effects, and one patch for
//! another product version, signed with the demo vendor key. The 6.4.0 patches carry real
//! payloads (`package::payload`): the supervisor's executable as `server/bin/sms`, the built web
//! client as `client/` in the client patches, and from Patch 4 on a real migration; patches are
//! cumulative, so each carries every migration of the patches before it.
//!
//! The executable is large, so the packages are written once and again only when the executable
//! or the web client changed: a stamp file next to them records what they were built from.

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::package::PackageSigner;
use crate::package::pack::{pack, payload_files};
use crate::package::payload::{CLIENT_DIR, CLIENT_INDEX, DATABASE_DIR, SERVER_EXECUTABLE};

/// A migration of a demo patch: `database/<name>.up.sql`, and `.down.sql` in patches that can
/// be rolled back. Portable SQL: it runs on SQLite and PostgreSQL alike.
struct DemoMigration {
    name: &'static str,
    up: &'static str,
    down: &'static str,
}

struct DemoPatch {
    version: &'static str,
    patch: u32,
    build: u32,
    released: &'static str,
    title: &'static str,
    client: bool,
    reboot: bool,
    rollback: bool,
    notes: &'static str,
    /// The migration this patch adds (later patches of the version carry it too).
    migration: Option<DemoMigration>,
}

/// The product version whose patches carry the running executable (the demo server runs it).
const DEMO_VERSION: &str = "6.4.0";

/// The payload of patches for another version: filler bytes, this many.
const OTHER_VERSION_PAYLOAD: usize = 256 << 10;

/// What the packages in the folder were built from (see [`stamp`]).
pub const STAMP_FILE: &str = ".demo-packages.stamp";

/// Bump when the patches below change, so that a warm start rebuilds the packages.
const PATCHES_REVISION: u32 = 2;

const PATCHES: &[DemoPatch] = &[
    DemoPatch {
        version: "6.4.0",
        patch: 1,
        build: 9101,
        released: "2026-08-04",
        title: "Stability fixes for the event collector",
        client: false,
        reboot: false,
        rollback: true,
        notes: "## Highlights\n\n\
            - The event collector no longer stalls when a device sends bursts of more than 50,000 \
              events per second.\n\
            - Scheduled reports finish on time when several run at midnight.\n\n\
            ## Fixed issues\n\n\
            | Issue | Description |\n| --- | --- |\n\
            | SMS-10422 | The event collector stopped accepting events after a burst. |\n\
            | SMS-10431 | A report scheduled at 00:00 started twice. |\n\n\
            ## Installation\n\n\
            The SMS server application restarts. Managed devices keep inspecting traffic.\n",
        migration: None,
    },
    DemoPatch {
        version: "6.4.0",
        patch: 2,
        build: 9145,
        released: "2026-09-01",
        title: "New client: faster device list and filter search",
        client: true,
        reboot: false,
        rollback: true,
        notes: "## Highlights\n\n\
            - **Client update**: the device list opens three times faster with 5,000 devices.\n\
            - Filter search matches on CVE numbers.\n\n\
            ## Fixed issues\n\n\
            - SMS-10502: the profile editor lost unsaved changes when the session expired.\n\
            - Everything in Patch 1.\n\n\
            ## Installation\n\n\
            Every SMS client is prompted to upgrade to client 6.4.0.2 when it next connects.\n",
        migration: None,
    },
    DemoPatch {
        version: "6.4.0",
        patch: 3,
        build: 9203,
        released: "2026-10-06",
        title: "Security fixes (cannot be rolled back)",
        client: false,
        reboot: false,
        rollback: false,
        notes: "## Security fixes\n\n\
            - **CVE-2026-21877** (high): an authenticated user could read another domain's \
              reports through a crafted export request.\n\
            - **CVE-2026-21893** (medium): session tokens were logged at debug level.\n\n\
            ## Important\n\n\
            This patch replaces the key store format and **cannot be rolled back**. Take a \
            backup first.\n\n\
            Includes Patches 1 and 2.\n",
        migration: None,
    },
    DemoPatch {
        version: "6.4.0",
        patch: 4,
        build: 9260,
        released: "2026-11-03",
        title: "Rule tags and an index rebuild for large event archives",
        client: false,
        reboot: false,
        rollback: true,
        notes: "## Highlights\n\n\
            - Event queries over 90 days answer up to 10 times faster.\n\
            - Filter rules can carry tags.\n\n\
            ## Database changes\n\n\
            A new table, `rule_tags`, holds the tags of filter rules; the event archive's \
            indexes are rebuilt while the server restarts. In an HA cluster, disable clustering \
            first and patch each node separately.\n\n\
            Includes Patches 1 to 3.\n",
        migration: Some(DemoMigration {
            name: "0001-rule-tags",
            up: "CREATE TABLE rule_tags (\n    \
                 id INTEGER PRIMARY KEY,\n    \
                 rule_name VARCHAR(200) NOT NULL,\n    \
                 tag VARCHAR(64) NOT NULL\n\
                 );\n",
            down: "DROP TABLE rule_tags;\n",
        }),
    },
    DemoPatch {
        version: "6.4.0",
        patch: 5,
        build: 9312,
        released: "2026-11-17",
        title: "Kernel update and new client (reboot required)",
        client: true,
        reboot: true,
        rollback: true,
        notes: "## Highlights\n\n\
            - Operating system kernel update with the latest security fixes: **the SMS server \
              reboots**.\n\
            - **Client update** to 6.4.0.5: dark mode for the dashboards.\n\n\
            ## Fixed issues\n\n\
            - CVE-2026-30011: a local privilege escalation in the kernel's network stack.\n\
            - SMS-10790: the audit log export missed entries at the page boundary.\n\n\
            ## Database changes\n\n\
            Those of Patch 4 (the `rule_tags` table), for servers that skip it.\n\n\
            Includes Patches 1 to 4.\n",
        migration: None,
    },
    DemoPatch {
        version: "6.5.0",
        patch: 1,
        build: 1105,
        released: "2026-11-20",
        title: "First patch for SMS 6.5.0",
        client: false,
        reboot: false,
        rollback: true,
        notes: "## For SMS 6.5.0 only\n\n\
            This patch applies to SMS 6.5.0 servers. Upgrade this server to 6.5.0 first.\n",
        migration: None,
    },
];

/// What the demo packages were written from, and the largest of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoPackages {
    /// How many packages were written now (0 on a warm start).
    pub written: usize,
    /// The size of the largest package in the folder, in bytes.
    pub largest: u64,
}

/// Writes the demo packages into `dir` (those not there yet, or all when `executable` or the web
/// client in `static_dir` changed since they were written), signed by `signer`. The 6.4.0
/// patches carry `executable` as `server/bin/sms`; without one they carry no executable.
pub fn write_demo_packages(
    dir: &Path,
    signer: &PackageSigner,
    static_dir: &Path,
    executable: Option<&Path>,
) -> anyhow::Result<DemoPackages> {
    std::fs::create_dir_all(dir)?;
    let client = WebClient::find(static_dir)?;
    let stamp = stamp(executable, &client)?;
    let stamp_file = dir.join(STAMP_FILE);
    let fresh = std::fs::read_to_string(&stamp_file).is_ok_and(|old| old == stamp);
    if !fresh {
        // Built from another executable or client (or by an older server): all are rebuilt.
        for demo in PATCHES {
            remove_if_present(&dir.join(demo.file_name()))?;
        }
        remove_if_present(&stamp_file)?;
    }
    let mut written = 0;
    for demo in PATCHES {
        let name = demo.file_name();
        let out = dir.join(&name);
        if out.exists() {
            continue;
        }
        let work = tempfile::tempdir_in(dir)?;
        let payload = work.path().join("payload");
        demo.write_payload(&payload, executable, &client)?;
        // Packed next to the folder and renamed, so the TMC never lists a half-written file.
        let staged = work.path().join(&name);
        pack(signer, &demo.template(), &payload, &staged)
            .with_context(|| format!("cannot build the demo package {name}"))?;
        std::fs::rename(&staged, &out)?;
        written += 1;
    }
    if !fresh {
        let temporary = dir.join(format!("{STAMP_FILE}.tmp"));
        std::fs::write(&temporary, &stamp)?;
        std::fs::rename(&temporary, &stamp_file)?;
    }
    let mut largest = 0;
    for demo in PATCHES {
        largest = largest.max(std::fs::metadata(dir.join(demo.file_name()))?.len());
    }
    Ok(DemoPackages { written, largest })
}

fn remove_if_present(path: &Path) -> std::io::Result<()> {
    match std::fs::remove_file(path) {
        Err(err) if err.kind() != std::io::ErrorKind::NotFound => Err(err),
        _ => Ok(()),
    }
}

/// The web client the client patches carry.
enum WebClient {
    /// Every file of the built client: (path inside it, file).
    Built(Vec<(String, PathBuf)>),
    /// There is no `index.html` in the static folder: a page saying how to build the client.
    NotBuilt,
}

impl WebClient {
    fn find(static_dir: &Path) -> anyhow::Result<Self> {
        if !static_dir.join("index.html").is_file() {
            return Ok(WebClient::NotBuilt);
        }
        let files = payload_files(static_dir)
            .with_context(|| format!("cannot read the web client in {}", static_dir.display()))?;
        Ok(WebClient::Built(files))
    }
}

/// The page of a client patch when the server has no built web client.
const NOT_BUILT_PAGE: &str = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">\
    <title>SMS web client not built</title></head>\n<body><h1>The SMS web client is not built</h1>\n\
    <p>This demo patch was made by a server that found no built web client in its static folder, \
    so it carries this page instead. Build the client with <code>make spa</code>, then start the \
    demo again: its patches are rebuilt with the client.</p></body></html>\n";

/// What the packages are built from: the patches' revision, the executable's path, size and
/// modification time, and the web client's files (their paths, sizes and times, hashed).
fn stamp(executable: Option<&Path>, client: &WebClient) -> anyhow::Result<String> {
    let modified = |path: &Path| -> anyhow::Result<(u64, u128)> {
        let meta =
            std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
        let time = meta
            .modified()?
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        Ok((meta.len(), time))
    };
    let executable = match executable {
        Some(path) => {
            let (size, time) = modified(path)?;
            format!("{} {size} {time}", path.display())
        }
        None => "none".to_owned(),
    };
    let client = match client {
        WebClient::NotBuilt => "not built".to_owned(),
        WebClient::Built(files) => {
            let mut listing = Sha256::new();
            for (relative, file) in files {
                let (size, time) = modified(file)?;
                listing.update(format!("{relative}\0{size}\0{time}\n"));
            }
            format!("{} files, {}", files.len(), hex::encode(listing.finalize()))
        }
    };
    Ok(format!(
        "revision {PATCHES_REVISION}\nexecutable {executable}\nclient {client}\n"
    ))
}

impl DemoPatch {
    fn file_name(&self) -> String {
        format!("sms-{}.{}.pkg", self.version, self.patch)
    }

    /// The migrations it carries: its own and those of the earlier patches of its version.
    fn migrations(&self) -> impl Iterator<Item = &'static DemoMigration> {
        PATCHES
            .iter()
            .filter(|p| p.version == self.version && p.patch <= self.patch)
            .filter_map(|p| p.migration.as_ref())
    }

    fn template(&self) -> serde_json::Value {
        let mut template = json!({
            "product_version": self.version,
            "patch": self.patch,
            "build": format!("{}.{}", self.version, self.build),
            "released": self.released,
            "title": self.title,
            "updates": if self.client { "both" } else { "server" },
            "restart": if self.reboot { "reboot" } else { "application" },
            "database_changes": self.migrations().next().is_some(),
            "rollback": self.rollback,
            "release_notes": self.notes,
        });
        if self.client {
            template["client_version"] = json!(format!("{}.{}", self.version, self.patch));
        }
        template
    }

    /// Writes the payload folder: server executable, web client, migrations.
    fn write_payload(
        &self,
        payload: &Path,
        executable: Option<&Path>,
        client: &WebClient,
    ) -> anyhow::Result<()> {
        if let Some(executable) = executable.filter(|_| self.version == DEMO_VERSION) {
            let target = payload.join(SERVER_EXECUTABLE);
            create_parent(&target)?;
            // A hard link when the data dir is on the executable's file system; else a copy.
            if std::fs::hard_link(executable, &target).is_err() {
                std::fs::copy(executable, &target).with_context(|| {
                    format!("cannot copy {} into a demo package", executable.display())
                })?;
            }
        } else {
            let target = payload.join("server/sms-server.bin");
            create_parent(&target)?;
            std::fs::write(&target, filler(&self.file_name(), OTHER_VERSION_PAYLOAD))?;
        }
        if self.client {
            match client {
                WebClient::Built(files) => {
                    for (relative, file) in files {
                        let target = payload.join(CLIENT_DIR).join(relative);
                        create_parent(&target)?;
                        std::fs::copy(file, &target)
                            .with_context(|| format!("cannot copy {}", file.display()))?;
                    }
                }
                WebClient::NotBuilt => {
                    let target = payload.join(CLIENT_INDEX);
                    create_parent(&target)?;
                    std::fs::write(&target, NOT_BUILT_PAGE)?;
                }
            }
        }
        for migration in self.migrations() {
            let folder = payload.join(DATABASE_DIR);
            std::fs::create_dir_all(&folder)?;
            std::fs::write(
                folder.join(format!("{}.up.sql", migration.name)),
                migration.up,
            )?;
            if self.rollback {
                std::fs::write(
                    folder.join(format!("{}.down.sql", migration.name)),
                    migration.down,
                )?;
            }
        }
        Ok(())
    }
}

fn create_parent(path: &Path) -> std::io::Result<()> {
    match path.parent() {
        Some(parent) => std::fs::create_dir_all(parent),
        None => Ok(()),
    }
}

/// Deterministic bytes that look like a binary.
fn filler(seed: &str, len: usize) -> Vec<u8> {
    let mut state = seed.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.extend_from_slice(&state.to_le_bytes());
    }
    out.truncate(len);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::package::{Limits, TrustedKeys, Verifier, check_payload};

    fn verified(dir: &Path, signer: &PackageSigner, name: &str) -> crate::package::Manifest {
        let mut keys = TrustedKeys::new();
        keys.add(&signer.key_id, signer.verifying_key()).unwrap();
        let mut verifier = Verifier::new(&keys, Limits::default(), None);
        let mut file = std::fs::File::open(dir.join(name)).unwrap();
        let mut buffer = vec![0u8; 1 << 20];
        loop {
            let n = std::io::Read::read(&mut file, &mut buffer).unwrap();
            if n == 0 {
                break;
            }
            verifier.update(&buffer[..n]).unwrap();
        }
        verifier.finish().unwrap().manifest
    }

    #[test]
    fn the_demo_patches_carry_the_executable_the_client_and_cumulative_migrations() {
        let data = tempfile::tempdir().unwrap();
        let web = data.path().join("dist");
        std::fs::create_dir_all(web.join("assets")).unwrap();
        std::fs::write(web.join("index.html"), "<html>SMS</html>").unwrap();
        std::fs::write(web.join("assets/app.wasm"), [0u8, 97, 115, 109]).unwrap();
        let dir = data.path().join("tmc");
        let signer = PackageSigner::generate("demo");

        let exe = std::env::current_exe().unwrap();
        let first = write_demo_packages(&dir, &signer, &web, Some(&exe)).unwrap();

        assert_eq!(first.written, PATCHES.len());
        let exe_size = std::fs::metadata(std::env::current_exe().unwrap())
            .unwrap()
            .len();
        assert!(first.largest > exe_size);
        let paths = |m: &crate::package::Manifest| -> Vec<String> {
            m.files.iter().map(|f| f.path.clone()).collect()
        };
        let p2 = verified(&dir, &signer, "sms-6.4.0.2.pkg");
        assert_eq!(
            paths(&p2),
            [
                "client/assets/app.wasm",
                "client/index.html",
                "server/bin/sms"
            ]
        );
        let p4 = verified(&dir, &signer, "sms-6.4.0.4.pkg");
        assert!(p4.database_changes);
        assert_eq!(
            paths(&p4),
            [
                "database/0001-rule-tags.down.sql",
                "database/0001-rule-tags.up.sql",
                "server/bin/sms"
            ]
        );
        let p5 = verified(&dir, &signer, "sms-6.4.0.5.pkg");
        assert_eq!(
            check_payload(&p5).unwrap().migrations,
            1,
            "Patch 4's, again"
        );
        assert!(check_payload(&p5).unwrap().client);
        for patch in [1, 3] {
            let m = verified(&dir, &signer, &format!("sms-6.4.0.{patch}.pkg"));
            assert_eq!(paths(&m), ["server/bin/sms"]);
        }

        // A warm start with the same executable and client writes nothing.
        let again = write_demo_packages(&dir, &signer, &web, Some(&exe)).unwrap();
        assert_eq!(
            again,
            DemoPackages {
                written: 0,
                ..first
            }
        );
    }

    #[test]
    fn the_stamp_changes_with_the_client_and_the_executable() {
        let data = tempfile::tempdir().unwrap();
        let exe = data.path().join("sms");
        std::fs::write(&exe, "v1").unwrap();
        let web = data.path().join("dist");
        std::fs::create_dir_all(&web).unwrap();
        let not_built = stamp(Some(&exe), &WebClient::find(&web).unwrap()).unwrap();
        assert!(not_built.contains("client not built"), "{not_built}");
        std::fs::write(web.join("index.html"), "<html></html>").unwrap();
        let built = stamp(Some(&exe), &WebClient::find(&web).unwrap()).unwrap();
        assert_ne!(built, not_built);
        std::fs::write(&exe, "v2, longer").unwrap();
        let rebuilt = stamp(Some(&exe), &WebClient::find(&web).unwrap()).unwrap();
        assert_ne!(rebuilt, built);
    }

    #[test]
    fn a_client_patch_without_a_built_client_says_how_to_build_it() {
        let data = tempfile::tempdir().unwrap();
        let payload = data.path().join("payload");
        let exe = data.path().join("sms");
        std::fs::write(&exe, "#!/bin/sh\n").unwrap();
        let patch2 = PATCHES.iter().find(|p| p.client).unwrap();
        patch2
            .write_payload(&payload, Some(&exe), &WebClient::NotBuilt)
            .unwrap();
        let page = std::fs::read_to_string(payload.join(CLIENT_INDEX)).unwrap();
        assert!(page.contains("make spa"), "{page}");
        assert!(payload.join(SERVER_EXECUTABLE).is_file());
    }
}
