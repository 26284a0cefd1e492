//! Tests of the streaming package verifier.

use std::path::Path;

use serde_json::json;

use super::*;
use crate::package::PackageSigner;
use crate::package::pack::{PayloadRules, pack_with};

/// Packs `files` (path, bytes) under the manifest `template` without checking the payload's
/// rules, and feeds the package to a verifier in 1000-byte pieces.
fn verify_packed(
    dir: &Path,
    template: serde_json::Value,
    files: &[(&str, &[u8])],
) -> Result<VerifiedPackage, PackageError> {
    let signer = PackageSigner::generate("k");
    let payload = dir.join("payload");
    for (path, bytes) in files {
        let target = payload.join(path);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::write(target, bytes).unwrap();
    }
    let out = dir.join("p.pkg");
    pack_with(&signer, &template, &payload, &out, PayloadRules::Skip).unwrap();
    let mut keys = TrustedKeys::new();
    keys.add("k", signer.verifying_key()).unwrap();
    let mut verifier = Verifier::new(&keys, Limits::default(), None);
    for piece in std::fs::read(&out).unwrap().chunks(1000) {
        verifier.update(piece)?;
    }
    verifier.finish()
}

fn template(database_changes: bool) -> serde_json::Value {
    json!({
        "product_version": "6.4.0", "patch": 4, "build": "6.4.0.9204",
        "released": "2026-11-02", "title": "Rule tags", "updates": "server",
        "restart": "application", "database_changes": database_changes,
        "rollback": true, "release_notes": "Rule tags",
    })
}

#[test]
fn a_package_with_consistent_migrations_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let verified = verify_packed(
        dir.path(),
        template(true),
        &[
            ("server/bin/sms", b"#!/bin/sh\n"),
            (
                "database/0001-rule-tags.up.sql",
                b"CREATE TABLE rule_tags (id INTEGER);",
            ),
            ("database/0001-rule-tags.down.sql", b"DROP TABLE rule_tags;"),
        ],
    )
    .unwrap();
    assert_eq!(verified.manifest.files.len(), 3);
}

#[test]
fn the_verifier_refuses_a_payload_that_breaks_the_rules() {
    let dir = tempfile::tempdir().unwrap();
    let err = verify_packed(
        dir.path(),
        template(false),
        &[
            ("server/bin/sms", b"#!/bin/sh\n"),
            (
                "database/0001-rule-tags.up.sql",
                b"CREATE TABLE rule_tags (id INTEGER);",
            ),
            ("database/0001-rule-tags.down.sql", b"DROP TABLE rule_tags;"),
        ],
    )
    .unwrap_err();
    assert_eq!(err.code, RejectCode::DatabasePayloadMismatch);
    assert!(err.message.contains("database_changes"), "{}", err.message);

    let dir = tempfile::tempdir().unwrap();
    let err = verify_packed(
        dir.path(),
        template(true),
        &[(
            "database/0001-rule-tags.up.sql",
            b"CREATE TABLE rule_tags (id INTEGER);",
        )],
    )
    .unwrap_err();
    assert_eq!(err.code, RejectCode::DownMigrationMissing);
}
