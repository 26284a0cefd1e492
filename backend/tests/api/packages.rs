//! The package verifier against a corpus of malformed packages built here, through the library
//! and through `sms verify`; and the `keygen` / `pack` / `verify` round trip.

use std::process::Command;

use backend::package::keys::PackageSigner;
use backend::package::ustar::{self, BLOCK};
use backend::package::verify::InstalledLevel;
use backend::package::{
    Limits, Manifest, ManifestFile, RejectCode, Restart, TrustedKeys, Updates, Verifier,
};
use sha2::{Digest, Sha256};
use testkit::Vendor;

const SMS: &str = env!("CARGO_BIN_EXE_sms");

/// One raw tar entry, possibly broken on purpose.
#[derive(Clone)]
pub(crate) struct Entry {
    name: String,
    data: Vec<u8>,
    typeflag: u8,
    /// The size the header claims, when it differs from `data.len()`.
    claimed: Option<u64>,
}

impl Entry {
    fn file(name: &str, data: &[u8]) -> Self {
        Self {
            name: name.into(),
            data: data.to_vec(),
            typeflag: b'0',
            claimed: None,
        }
    }
    fn kind(mut self, typeflag: u8) -> Self {
        self.typeflag = typeflag;
        self
    }
    fn claims(mut self, size: u64) -> Self {
        self.claimed = Some(size);
        self
    }
}

fn header(entry: &Entry) -> [u8; BLOCK] {
    let claimed = entry.claimed.unwrap_or(entry.data.len() as u64);
    let mut block = ustar::file_header(&entry.name, claimed.min(0o77777777776), 0).unwrap();
    if entry.claimed.is_some_and(|c| c >= 0o77777777776) {
        // GNU base-256 size for huge claims.
        let mut field = [0u8; 12];
        field[0] = 0x80;
        field[4..12].copy_from_slice(&claimed.to_be_bytes());
        block[124..136].copy_from_slice(&field);
    }
    block[156] = entry.typeflag;
    block[148..156].fill(b' ');
    let sum: u64 = block.iter().map(|&b| u64::from(b)).sum();
    let text = format!("{sum:06o}\0 ");
    block[148..156].copy_from_slice(text.as_bytes());
    block
}

pub(crate) fn tar(entries: &[Entry], end_blocks: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for entry in entries {
        out.extend_from_slice(&header(entry));
        out.extend_from_slice(&entry.data);
        out.resize(
            out.len() + ustar::padding(entry.data.len() as u64) as usize,
            0,
        );
    }
    out.resize(out.len() + end_blocks * BLOCK, 0);
    out
}

/// The vendor whose packages the corpus breaks, a stranger using the vendor's key id, and the
/// keys a verifier trusts (the vendor's).
pub(crate) struct Kit {
    pub(crate) vendor: Vendor,
    stranger: PackageSigner,
    pub(crate) keys: TrustedKeys,
}

pub(crate) fn kit() -> Kit {
    let vendor = Vendor::named("vendor-test");
    let stranger = PackageSigner::generate("vendor-test");
    let keys = vendor.trusted_keys();
    Kit {
        vendor,
        stranger,
        keys,
    }
}

const PAYLOAD_A: &[u8] = b"server binary v3\n";
const PAYLOAD_B: &[u8] = b"client bundle v3, somewhat longer than one line of text\n";

fn manifest(files: &[(&str, &[u8])]) -> Manifest {
    Manifest {
        format: 1,
        product: "SMS".into(),
        product_version: "6.4.0".parse().unwrap(),
        patch: 3,
        build: "6.4.0.9203".parse().unwrap(),
        released: chrono::NaiveDate::from_ymd_opt(2026, 11, 2).unwrap(),
        title: "Security fixes".into(),
        updates: Updates::Server,
        client_version: None,
        restart: Restart::Application,
        database_changes: false,
        rollback: true,
        key_id: "vendor-test".into(),
        release_notes: "## Fixes\n\n- CVE-2026-0001".into(),
        files: files
            .iter()
            .map(|(path, data)| ManifestFile {
                path: (*path).into(),
                size: data.len() as u64,
                sha256: hex::encode(Sha256::digest(data)),
            })
            .collect(),
    }
}

fn signed(signer: &PackageSigner, manifest_bytes: &[u8]) -> Vec<Entry> {
    vec![
        Entry::file("manifest.json", manifest_bytes),
        Entry::file("manifest.sig", &signer.sign(manifest_bytes)),
    ]
}

fn good_entries(kit: &Kit) -> Vec<Entry> {
    let m = manifest(&[("server/app.bin", PAYLOAD_A), ("client/app.js", PAYLOAD_B)]);
    let bytes = serde_json::to_vec(&m).unwrap();
    let mut entries = signed(kit.vendor.signer(), &bytes);
    entries.push(Entry::file("payload/server/app.bin", PAYLOAD_A));
    entries.push(Entry::file("payload/client/app.js", PAYLOAD_B));
    entries
}

pub(crate) fn good_package(kit: &Kit) -> Vec<Entry> {
    good_entries(kit)
}

fn signed_json(kit: &Kit, json: &str) -> Vec<Entry> {
    let mut entries = signed(kit.vendor.signer(), json.as_bytes());
    entries.push(Entry::file("payload/server/app.bin", PAYLOAD_A));
    entries
}

pub(crate) fn verify(
    keys: &TrustedKeys,
    limits: Limits,
    installed: Option<InstalledLevel>,
    bytes: &[u8],
    chunk: usize,
) -> Result<(), RejectCode> {
    let mut verifier = Verifier::new(keys, limits, installed);
    for piece in bytes.chunks(chunk.max(1)) {
        verifier.update(piece).map_err(|e| e.code)?;
    }
    verifier.finish().map(|_| ()).map_err(|e| e.code)
}

/// One corpus case: name, bytes, the code it must be rejected with, limits, installed state.
pub(crate) type Case = (
    &'static str,
    Vec<u8>,
    RejectCode,
    Limits,
    Option<InstalledLevel>,
);

/// Adds `path` to a manifest's file list (the verifier refuses these cases before any payload).
fn list(manifest: &mut serde_json::Value, path: &str) {
    if let Some(files) = manifest["files"].as_array_mut() {
        files.push(serde_json::json!({"path": path, "size": 1, "sha256": "0".repeat(64)}));
    }
}

pub(crate) fn corpus(kit: &Kit) -> Vec<Case> {
    let limits = Limits::default();
    let good = good_package(kit);
    let good_bytes = tar(&good, 2);
    let m = manifest(&[("server/app.bin", PAYLOAD_A), ("client/app.js", PAYLOAD_B)]);
    let json = serde_json::to_string(&m).unwrap();
    let level = |version: &str, level: u32| {
        Some(InstalledLevel {
            product_version: version.parse().unwrap(),
            patch_level: shared::PatchLevel(level),
        })
    };
    let with = |edit: &dyn Fn(&mut Vec<Entry>)| {
        let mut entries = good.clone();
        edit(&mut entries);
        tar(&entries, 2)
    };
    let manifest_edit = |edit: &dyn Fn(&mut serde_json::Value)| {
        let mut value = serde_json::to_value(&m).unwrap();
        edit(&mut value);
        let mut entries = signed(kit.vendor.signer(), value.to_string().as_bytes());
        entries.extend_from_slice(&good[2..]);
        tar(&entries, 2)
    };
    let mut padded = good_bytes.clone();
    // The manifest's padding sits right before the second header.
    let manifest_len = json.len();
    let pad_at = BLOCK + manifest_len;
    if !manifest_len.is_multiple_of(BLOCK) {
        padded[pad_at] = 1;
    }

    let mut cases = vec![
        (
            "empty file",
            Vec::new(),
            RejectCode::NotAPackage,
            limits,
            None,
        ),
        (
            "text, not a tar",
            b"This is not a package. ".repeat(100),
            RejectCode::NotAPackage,
            limits,
            None,
        ),
        (
            "shorter than a block",
            vec![7u8; 100],
            RejectCode::NotAPackage,
            limits,
            None,
        ),
        (
            "non-zero padding",
            padded,
            RejectCode::NotAPackage,
            limits,
            None,
        ),
        (
            "signature first",
            with(&|e| e.swap(0, 1)),
            RejectCode::MissingEntry,
            limits,
            None,
        ),
        (
            "no signature",
            with(&|e| {
                e.remove(1);
            }),
            RejectCode::MissingEntry,
            limits,
            None,
        ),
        (
            "a listed payload missing",
            with(&|e| {
                e.pop();
            }),
            RejectCode::MissingEntry,
            limits,
            None,
        ),
        (
            "only the end marker",
            vec![0u8; 2 * BLOCK],
            RejectCode::MissingEntry,
            limits,
            None,
        ),
        (
            "manifest not JSON",
            tar(&signed_json(kit, "{not json"), 2),
            RejectCode::ManifestInvalid,
            limits,
            None,
        ),
        (
            "manifest with an unknown field",
            manifest_edit(&|v| v["surprise"] = 1.into()),
            RejectCode::ManifestInvalid,
            limits,
            None,
        ),
        (
            "manifest of another product",
            manifest_edit(&|v| v["product"] = "TOS".into()),
            RejectCode::ManifestInvalid,
            limits,
            None,
        ),
        (
            "manifest with patch 0",
            manifest_edit(&|v| v["patch"] = 0.into()),
            RejectCode::ManifestInvalid,
            limits,
            None,
        ),
        (
            "updates the client but carries no client/index.html",
            manifest_edit(&|v| {
                v["updates"] = "both".into();
                v["client_version"] = "6.4.0.3".into();
            }),
            RejectCode::ClientPayloadMismatch,
            limits,
            None,
        ),
        (
            "changes the database but carries no migration",
            manifest_edit(&|v| v["database_changes"] = true.into()),
            RejectCode::DatabasePayloadMismatch,
            limits,
            None,
        ),
        (
            "a migration without its number",
            manifest_edit(&|v| {
                v["database_changes"] = true.into();
                list(v, "database/add-rules.up.sql");
            }),
            RejectCode::MigrationNameInvalid,
            limits,
            None,
        ),
        (
            "two migrations numbered 0001",
            manifest_edit(&|v| {
                v["database_changes"] = true.into();
                list(v, "database/0001-a.up.sql");
                list(v, "database/0001-a.down.sql");
                list(v, "database/0001-b.up.sql");
            }),
            RejectCode::MigrationNumberDuplicate,
            limits,
            None,
        ),
        (
            "a migration that cannot be rolled back in a patch that can",
            manifest_edit(&|v| {
                v["database_changes"] = true.into();
                list(v, "database/0001-a.up.sql");
            }),
            RejectCode::DownMigrationMissing,
            limits,
            None,
        ),
        (
            "signed by an unknown key",
            {
                let mut value = serde_json::to_value(&m).unwrap();
                value["key_id"] = "someone-else".into();
                let mut entries = signed(&kit.stranger, value.to_string().as_bytes());
                entries.extend_from_slice(&good[2..]);
                tar(&entries, 2)
            },
            RejectCode::UnknownKey,
            limits,
            None,
        ),
        (
            "signed by a stranger under the vendor's id",
            {
                let mut entries = signed(&kit.stranger, json.as_bytes());
                entries.extend_from_slice(&good[2..]);
                tar(&entries, 2)
            },
            RejectCode::SignatureInvalid,
            limits,
            None,
        ),
        (
            "manifest altered after signing",
            {
                let altered = json.replace("Security fixes", "Security fixez");
                let mut entries = good.clone();
                entries[0] = Entry::file("manifest.json", altered.as_bytes());
                tar(&entries, 2)
            },
            RejectCode::SignatureInvalid,
            limits,
            None,
        ),
        (
            "signature of 63 bytes",
            with(&|e| e[1].data.truncate(63)),
            RejectCode::SignatureInvalid,
            limits,
            None,
        ),
        (
            "an unlisted payload file",
            with(&|e| e.push(Entry::file("payload/extra.bin", b"extra"))),
            RejectCode::UnexpectedEntry,
            limits,
            None,
        ),
        (
            "a directory entry",
            with(&|e| e.insert(2, Entry::file("payload/server", b"").kind(b'5'))),
            RejectCode::UnexpectedEntry,
            limits,
            None,
        ),
        (
            "a pax extension header",
            with(&|e| e.insert(2, Entry::file("pax", b"").kind(b'x'))),
            RejectCode::UnexpectedEntry,
            limits,
            None,
        ),
        (
            "payload out of order",
            with(&|e| e.swap(2, 3)),
            RejectCode::UnexpectedEntry,
            limits,
            None,
        ),
        (
            "data after the end",
            {
                let mut b = good_bytes.clone();
                b.extend_from_slice(b"trailing");
                b
            },
            RejectCode::UnexpectedEntry,
            limits,
            None,
        ),
        (
            "a payload file twice",
            with(&|e| {
                let again = e[2].clone();
                e.insert(3, again);
            }),
            RejectCode::DuplicateEntry,
            limits,
            None,
        ),
        (
            "manifest.json twice",
            with(&|e| {
                let again = e[0].clone();
                e.insert(1, again);
            }),
            RejectCode::DuplicateEntry,
            limits,
            None,
        ),
        (
            "the manifest lists a path twice",
            manifest_edit(&|v| {
                let f = v["files"][0].clone();
                v["files"].as_array_mut().unwrap().push(f);
            }),
            RejectCode::DuplicateEntry,
            limits,
            None,
        ),
        (
            "an entry escaping with ..",
            with(&|e| e.push(Entry::file("payload/../../etc/cron.d/evil", b"x"))),
            RejectCode::PathTraversal,
            limits,
            None,
        ),
        (
            "an absolute entry",
            with(&|e| e.insert(2, Entry::file("/etc/passwd", b"x"))),
            RejectCode::PathTraversal,
            limits,
            None,
        ),
        (
            "the manifest lists ../",
            manifest_edit(&|v| v["files"][0]["path"] = "../outside".into()),
            RejectCode::PathTraversal,
            limits,
            None,
        ),
        (
            "a symbolic link",
            with(&|e| e.insert(2, Entry::file("payload/server/app.bin", b"").kind(b'2'))),
            RejectCode::LinkEntry,
            limits,
            None,
        ),
        (
            "a hard link",
            with(&|e| e.insert(2, Entry::file("payload/server/app.bin", b"").kind(b'1'))),
            RejectCode::LinkEntry,
            limits,
            None,
        ),
        (
            "payload longer than listed",
            with(&|e| e[2].data.push(b'!')),
            RejectCode::SizeMismatch,
            limits,
            None,
        ),
        (
            "payload content altered",
            with(&|e| e[3].data[0] ^= 0x20),
            RejectCode::ChecksumMismatch,
            limits,
            None,
        ),
        (
            "cut inside the payload",
            good_bytes[..4 * BLOCK + 5].to_vec(),
            RejectCode::Truncated,
            limits,
            None,
        ),
        (
            "cut inside a header",
            good_bytes[..BLOCK + 100].to_vec(),
            RejectCode::Truncated,
            limits,
            None,
        ),
        (
            "no end marker",
            tar(&good, 0),
            RejectCode::Truncated,
            limits,
            None,
        ),
        (
            "half an end marker",
            tar(&good, 1),
            RejectCode::Truncated,
            limits,
            None,
        ),
        (
            "an entry claiming a terabyte",
            with(&|e| e[2] = e[2].clone().claims(1 << 40)),
            RejectCode::TooLarge,
            limits,
            None,
        ),
        (
            "a manifest over the limit",
            good_bytes.clone(),
            RejectCode::TooLarge,
            Limits {
                max_manifest_bytes: 100,
                ..limits
            },
            None,
        ),
        (
            "a package over the limit",
            good_bytes.clone(),
            RejectCode::TooLarge,
            Limits {
                max_package_bytes: 3 * BLOCK as u64,
                ..limits
            },
            None,
        ),
        (
            "too many entries",
            good_bytes.clone(),
            RejectCode::TooLarge,
            Limits {
                max_entries: 3,
                ..limits
            },
            None,
        ),
        (
            "for another product version",
            good_bytes.clone(),
            RejectCode::WrongProductVersion,
            limits,
            level("6.5.0", 0),
        ),
        (
            "already installed",
            good_bytes.clone(),
            RejectCode::AlreadyInstalled,
            limits,
            level("6.4.0", 3),
        ),
        (
            "older than installed",
            good_bytes.clone(),
            RejectCode::OlderThanInstalled,
            limits,
            level("6.4.0", 5),
        ),
    ];
    cases.sort_by_key(|c| c.2.as_str());
    cases
}

#[test]
fn a_good_package_verifies_in_any_chunking() {
    let kit = kit();
    let bytes = tar(&good_package(&kit), 2);
    for chunk in [1, 7, 512, 513, 4096, bytes.len()] {
        assert_eq!(
            verify(&kit.keys, Limits::default(), None, &bytes, chunk),
            Ok(()),
            "chunk {chunk}"
        );
    }
    // Trailing record padding, as tar tools write it, is fine.
    let mut padded = bytes.clone();
    padded.resize(10240 * 2, 0);
    assert_eq!(
        verify(&kit.keys, Limits::default(), None, &padded, 1000),
        Ok(())
    );
    let installed = Some(InstalledLevel {
        product_version: "6.4.0".parse().unwrap(),
        patch_level: shared::PatchLevel(1),
    });
    assert_eq!(
        verify(&kit.keys, Limits::default(), installed, &bytes, 4096),
        Ok(())
    );
}

#[test]
fn the_malformed_corpus_is_rejected_with_its_codes() {
    let kit = kit();
    let corpus = corpus(&kit);
    assert!(corpus.len() >= 25);
    let mut covered = std::collections::HashSet::new();
    for (name, bytes, code, limits, installed) in &corpus {
        for chunk in [1, 511, 64 * 1024] {
            assert_eq!(
                verify(&kit.keys, *limits, *installed, bytes, chunk),
                Err(*code),
                "{name} (chunk {chunk})"
            );
        }
        covered.insert(*code);
    }
    for code in RejectCode::ALL {
        assert!(covered.contains(&code), "no corpus case for {code}");
    }
}

/// xorshift64*: a small deterministic generator, so failures can be replayed.
fn next(state: &mut u64) -> u64 {
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    state.wrapping_mul(0x2545_F491_4F6C_DD1D)
}

#[test]
fn bit_flips_anywhere_are_rejected() {
    let kit = kit();
    let bytes = tar(&good_package(&kit), 2);
    let mut seed = 0x5EED_0001u64;
    for _ in 0..300 {
        let mut flipped = bytes.clone();
        let at = (next(&mut seed) % bytes.len() as u64) as usize;
        let bit = 1u8 << (next(&mut seed) % 8);
        flipped[at] ^= bit;
        assert!(
            verify(&kit.keys, Limits::default(), None, &flipped, 4096).is_err(),
            "a flip of bit {bit:#x} at byte {at} was not noticed"
        );
    }
}

#[test]
fn truncation_at_any_length_is_rejected() {
    let kit = kit();
    let bytes = tar(&good_package(&kit), 2);
    let mut seed = 0x5EED_0002u64;
    for _ in 0..200 {
        let len = (next(&mut seed) % bytes.len() as u64) as usize;
        let code = verify(&kit.keys, Limits::default(), None, &bytes[..len], 4096).unwrap_err();
        let expected = if len < BLOCK {
            [RejectCode::NotAPackage, RejectCode::Truncated]
        } else {
            [RejectCode::Truncated; 2]
        };
        assert!(expected.contains(&code), "cut at {len}: {code}");
    }
}

fn sms(args: &[&str]) -> std::process::Output {
    Command::new(SMS).args(args).output().expect("sms runs")
}

#[test]
fn sms_verify_rejects_the_corpus_with_each_code() {
    let kit = kit();
    let dir = tempfile::tempdir().unwrap();
    let public = kit.vendor.public_key().display().to_string();
    for (i, (name, bytes, code, limits, installed)) in corpus(&kit).into_iter().enumerate() {
        if installed.is_some() || limits != Limits::default() {
            continue; // needs a server's installed state or other limits
        }
        let file = dir.path().join(format!("case-{i}.pkg"));
        std::fs::write(&file, &bytes).unwrap();
        let out = sms(&["verify", file.to_str().unwrap(), "--trust-key", &public]);
        assert!(!out.status.success(), "{name} passed");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.starts_with(&format!("rejected: {code}: ")),
            "{name}: {stderr}"
        );
    }
}

#[test]
fn keygen_pack_and_verify_work_together() {
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().join("acme");
    let out = sms(&[
        "keygen",
        "--key-id",
        "acme-2026",
        "--out",
        prefix.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let again = sms(&[
        "keygen",
        "--key-id",
        "acme-2026",
        "--out",
        prefix.to_str().unwrap(),
    ]);
    assert!(!again.status.success(), "keygen must not overwrite keys");

    let payload = dir.path().join("payload");
    std::fs::create_dir_all(payload.join("server/lib")).unwrap();
    std::fs::create_dir_all(payload.join("client")).unwrap();
    std::fs::create_dir_all(payload.join("database")).unwrap();
    std::fs::write(payload.join("server/lib/app.so"), vec![42u8; 100_000]).unwrap();
    std::fs::write(payload.join("client/index.html"), b"<html>v3</html>\n").unwrap();
    std::fs::write(
        payload.join("database/0001-rules.up.sql"),
        b"CREATE TABLE rules (id INTEGER PRIMARY KEY);\n",
    )
    .unwrap();
    let manifest = dir.path().join("manifest.json");
    std::fs::write(
        &manifest,
        serde_json::json!({
            "product_version": "6.4.0", "patch": 3, "build": "6.4.0.9203",
            "released": "2026-11-02", "title": "Patch 3", "updates": "both",
            "client_version": "6.4.0.3", "restart": "reboot", "database_changes": true,
            "rollback": false, "release_notes": "# Patch 3\n\nFixes."
        })
        .to_string(),
    )
    .unwrap();
    let package = dir.path().join("patch3.pkg");
    let out = sms(&[
        "pack",
        "--key",
        &format!("{}.key", prefix.display()),
        "--manifest",
        manifest.to_str().unwrap(),
        "--payload",
        payload.to_str().unwrap(),
        "--out",
        package.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let public = format!("{}.pub", prefix.display());
    let out = sms(&["verify", package.to_str().unwrap(), "--trust-key", &public]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("SMS 6.4.0 Patch 3 (build 6.4.0.9203)"),
        "{stdout}"
    );
    assert!(stdout.contains("3 file(s), 100061 bytes"), "{stdout}");

    let untrusted = sms(&["verify", package.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&untrusted.stderr).starts_with("rejected: unknown_key: "));
}

#[test]
fn sms_pack_refuses_a_payload_that_servers_would_refuse() {
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().join("acme");
    let key = sms(&[
        "keygen",
        "--key-id",
        "acme",
        "--out",
        prefix.to_str().unwrap(),
    ]);
    assert!(key.status.success());
    let payload = dir.path().join("payload");
    std::fs::create_dir_all(payload.join("server/bin")).unwrap();
    std::fs::write(payload.join("server/bin/sms"), b"#!/bin/sh\n").unwrap();
    let manifest = dir.path().join("manifest.json");
    std::fs::write(
        &manifest,
        serde_json::json!({
            "product_version": "6.4.0", "patch": 3, "build": "6.4.0.9203",
            "released": "2026-11-02", "title": "Patch 3", "updates": "server",
            "database_changes": true, "rollback": true, "release_notes": "Fixes."
        })
        .to_string(),
    )
    .unwrap();
    let package = dir.path().join("patch3.pkg");
    let out = sms(&[
        "pack",
        "--key",
        &format!("{}.key", prefix.display()),
        "--manifest",
        manifest.to_str().unwrap(),
        "--payload",
        payload.to_str().unwrap(),
        "--out",
        package.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("database_payload_mismatch"), "{stderr}");
    assert!(!package.exists());
}

#[test]
fn a_package_built_with_gnu_tar_verifies() {
    // Another tool, same rules: the layout of docs/package-format.md built with GNU tar.
    let kit = kit();
    let dir = tempfile::tempdir().unwrap();
    let public = kit.vendor.public_key().display().to_string();
    let root = dir.path().join("pkg");
    std::fs::create_dir_all(root.join("payload/server")).unwrap();
    std::fs::write(root.join("payload/server/app.bin"), PAYLOAD_A).unwrap();
    let m = manifest(&[("server/app.bin", PAYLOAD_A)]);
    let bytes = serde_json::to_vec_pretty(&m).unwrap();
    std::fs::write(root.join("manifest.json"), &bytes).unwrap();
    std::fs::write(root.join("manifest.sig"), kit.vendor.signer().sign(&bytes)).unwrap();
    let package = dir.path().join("gnu.pkg");
    let status = Command::new("tar")
        .current_dir(&root)
        .args(["--format=ustar", "--no-recursion", "-cf"])
        .arg(&package)
        .args(["manifest.json", "manifest.sig", "payload/server/app.bin"])
        .status()
        .expect("tar runs");
    assert!(status.success());
    let out = sms(&["verify", package.to_str().unwrap(), "--trust-key", &public]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn sms_patch_import_stores_good_packages_and_leaves_nothing_of_bad_ones() {
    let kit = kit();
    let dir = tempfile::tempdir().unwrap();
    let public = kit.vendor.public_key().display().to_string();
    let data = dir.path().join("data");
    let data_arg = data.to_str().unwrap();
    let good = dir.path().join("patch3.pkg");
    std::fs::write(&good, tar(&good_package(&kit), 2)).unwrap();
    let mut corrupt_bytes = tar(&good_package(&kit), 2);
    let at = corrupt_bytes.len() - 3 * BLOCK;
    corrupt_bytes[at] ^= 0xff;
    let corrupt = dir.path().join("corrupt.pkg");
    std::fs::write(&corrupt, corrupt_bytes).unwrap();
    let repository = data.join("patches");

    let rejected = sms(&[
        "patch",
        "import",
        corrupt.to_str().unwrap(),
        "--trust-key",
        &public,
        "--data-dir",
        data_arg,
    ]);
    assert!(!rejected.status.success());
    let stderr = String::from_utf8_lossy(&rejected.stderr);
    assert!(stderr.contains("rejected: "), "{stderr}");
    assert_eq!(
        std::fs::read_dir(&repository).unwrap().count(),
        0,
        "nothing stays behind"
    );

    let untrusted = sms(&[
        "patch",
        "import",
        good.to_str().unwrap(),
        "--data-dir",
        data_arg,
    ]);
    assert!(String::from_utf8_lossy(&untrusted.stderr).contains("rejected: unknown_key"));

    let imported = sms(&[
        "patch",
        "import",
        good.to_str().unwrap(),
        "--trust-key",
        &public,
        "--data-dir",
        data_arg,
    ]);
    assert!(
        imported.status.success(),
        "{}",
        String::from_utf8_lossy(&imported.stderr)
    );
    assert!(
        String::from_utf8_lossy(&imported.stdout)
            .contains("Imported SMS 6.4.0 Patch 3 (build 6.4.0.9203)")
    );
    assert_eq!(std::fs::read_dir(&repository).unwrap().count(), 1);

    let again = sms(&[
        "patch",
        "import",
        good.to_str().unwrap(),
        "--trust-key",
        &public,
        "--data-dir",
        data_arg,
    ]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already in the patch repository"));
}
