//! The test vendor's packages, checked by the server's own verifier.

use backend::package::{Limits, Verifier};

use super::*;

fn verify(vendor: &Vendor, bytes: &[u8]) -> Result<(), String> {
    verified(vendor, bytes).map(|_| ())
}

fn verified(vendor: &Vendor, bytes: &[u8]) -> Result<Vec<String>, String> {
    let keys = vendor.trusted_keys();
    let mut verifier = Verifier::new(&keys, Limits::default(), None);
    verifier.update(bytes).map_err(|e| e.code.to_string())?;
    verifier
        .finish()
        .map(|p| p.manifest.files.into_iter().map(|f| f.path).collect())
        .map_err(|e| e.code.to_string())
}

#[test]
fn client_and_database_packages_carry_what_their_flags_say() {
    let vendor = Vendor::new();
    let files = verified(
        &vendor,
        &vendor
            .package(5)
            .updates_client()
            .database_changes()
            .bytes(),
    );
    assert_eq!(
        files,
        Ok(vec![
            "client/app-5.js".to_owned(),
            "client/index.html".to_owned(),
            "database/0001-patch-table.down.sql".to_owned(),
            "database/0001-patch-table.up.sql".to_owned(),
            "server/app.bin".to_owned(),
        ])
    );
    let files = verified(
        &vendor,
        &vendor
            .package(6)
            .database_changes()
            .without_rollback()
            .bytes(),
    );
    assert_eq!(
        files,
        Ok(vec![
            "database/0001-patch-table.up.sql".to_owned(),
            "server/app.bin".to_owned(),
        ])
    );
}

#[test]
fn an_executable_client_files_and_migrations_can_be_added() {
    let vendor = Vendor::new();
    let exe = vendor.path("sms-copy");
    std::fs::write(&exe, b"\x7fELF not really").unwrap();
    let files = verified(
        &vendor,
        &vendor
            .package(3)
            .server_executable(&exe)
            .updates_client()
            .client_file("img/logo.svg", "<svg/>")
            .migration("0002-rules.up.sql", "CREATE TABLE r (id INTEGER);")
            .migration("0002-rules.down.sql", "DROP TABLE r;")
            .bytes(),
    );
    assert_eq!(
        files,
        Ok(vec![
            "client/app-3.js".to_owned(),
            "client/img/logo.svg".to_owned(),
            "client/index.html".to_owned(),
            "database/0002-rules.down.sql".to_owned(),
            "database/0002-rules.up.sql".to_owned(),
            "server/app.bin".to_owned(),
            "server/bin/sms".to_owned(),
        ])
    );
    let script = vendor.package(4).server_script("exit 0\n");
    let bytes = script.bytes();
    let at = bytes
        .windows(b"#!/bin/sh\nexit 0\n".len())
        .position(|w| w == b"#!/bin/sh\nexit 0\n");
    assert!(at.is_some(), "the script with its #! line");
}

#[test]
fn a_client_folder_replaces_the_placeholder_client_and_one_file_can_be_changed() {
    let vendor = Vendor::new();
    let built = vendor.path("built-client");
    std::fs::create_dir_all(built.join("assets/img")).unwrap();
    std::fs::write(built.join("index.html"), "<html>built</html>").unwrap();
    std::fs::write(built.join("app-1a2b.js"), "built();").unwrap();
    std::fs::write(built.join("assets/img/logo.svg"), "<svg/>").unwrap();
    let package = vendor
        .package(7)
        .updates_client()
        .client_from_dir(&built)
        .client_file("index.html", "<html>changed</html>");
    let files = package.payload_files().unwrap();
    let client: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(path, bytes)| (path.as_str(), bytes.as_slice()))
        .collect();
    assert_eq!(
        client,
        vec![
            ("client/app-1a2b.js", b"built();".as_slice()),
            ("client/assets/img/logo.svg", b"<svg/>".as_slice()),
            ("client/index.html", b"<html>changed</html>".as_slice()),
        ]
    );
    let verified = verified(&vendor, &package.bytes());
    assert_eq!(
        verified,
        Ok(vec![
            "client/app-1a2b.js".to_owned(),
            "client/assets/img/logo.svg".to_owned(),
            "client/index.html".to_owned(),
            "server/app.bin".to_owned(),
        ])
    );
}

#[test]
fn inconsistent_packages_can_be_built_for_the_verifier_to_refuse() {
    let vendor = Vendor::new();
    let no_flag = vendor
        .package(3)
        .database_changes()
        .manifest_override("database_changes", false.into());
    assert_eq!(no_flag.manifest()["database_changes"], false);
    assert_eq!(
        verify(&vendor, &no_flag.bytes()),
        Err("database_payload_mismatch".to_owned())
    );
    let bad_name = vendor.package(4).migration("1-x.up.sql", "SELECT 1;");
    assert_eq!(
        verify(&vendor, &bad_name.bytes()),
        Err("migration_name_invalid".to_owned())
    );
    let no_down = vendor.package(5).migration("0001-x.up.sql", "SELECT 1;");
    assert_eq!(
        verify(&vendor, &no_down.bytes()),
        Err("down_migration_missing".to_owned())
    );
    let no_index = vendor
        .package(6)
        .manifest_override("updates", "client".into())
        .manifest_override("client_version", "6.4.0.6".into());
    assert_eq!(
        verify(&vendor, &no_index.bytes()),
        Err("client_payload_mismatch".to_owned())
    );
}

#[test]
fn a_package_verifies_with_the_vendors_key_and_says_what_the_builder_set() {
    let vendor = Vendor::named("kit-vendor");
    let package = vendor.package(4).reboot().updates_client().payload_kib(3);
    let manifest = package.manifest();
    assert_eq!(manifest["restart"], "reboot");
    assert_eq!(manifest["updates"], "both");
    assert_eq!(manifest["client_version"], "6.4.0.4");
    assert_eq!(manifest["build"], "6.4.0.9204");
    let bytes = package.bytes();
    assert!(bytes.len() > 3 * 1024);
    assert_eq!(verify(&vendor, &bytes), Ok(()));
}

#[test]
fn a_damaged_package_fails_its_checksum() {
    let vendor = Vendor::new();
    let file = vendor.package(3).write();
    damage_payload(&file);
    assert_eq!(
        verify(&vendor, &std::fs::read(&file).unwrap()),
        Err("checksum_mismatch".to_owned())
    );
}
