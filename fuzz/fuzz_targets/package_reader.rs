//! Fuzzes the streaming package reader (`backend::package::Verifier`).
//!
//! The first input byte picks how the rest is used:
//! - even: the rest is the package file itself, fed in pieces whose sizes the input also picks,
//!   so the reader's state machine sees every split of headers and data;
//! - odd: the rest is `manifest.json` and everything after the signature; the harness signs the
//!   manifest with its own key, so the fuzzer gets past the signature check and reaches the
//!   manifest rules, the payload entries, their sizes and checksums, and the end of the archive.
//!
//! The reader must never panic, hang or grow without bound, whatever the bytes.

#![no_main]

use std::sync::LazyLock;

use backend::package::ustar::{BLOCK, file_header, padding};
use backend::package::verify::InstalledLevel;
use backend::package::{Limits, TrustedKeys, Verifier};
use ed25519_dalek::{Signer, SigningKey};
use libfuzzer_sys::fuzz_target;

const KEY_ID: &str = "fuzz-vendor";

/// A fixed key: the fuzzer's packages are signed by it and only it is trusted here.
static SIGNING_KEY: LazyLock<SigningKey> = LazyLock::new(|| SigningKey::from_bytes(&[7u8; 32]));

static KEYS: LazyLock<TrustedKeys> = LazyLock::new(|| {
    let mut keys = TrustedKeys::new();
    keys.add(KEY_ID, SIGNING_KEY.verifying_key())
        .expect("a fixed key id is valid");
    keys
});

/// Small limits, so that the fuzzer also meets them.
const LIMITS: Limits = Limits {
    max_package_bytes: 1 << 20,
    max_manifest_bytes: 64 << 10,
    max_entries: 64,
};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let installed = InstalledLevel {
        product_version: "6.4.0".parse().expect("a valid version"),
        patch_level: "2".parse().expect("a valid level"),
    };
    let package;
    let bytes = if mode % 2 == 0 {
        rest
    } else {
        package = signed_package(rest);
        &package
    };
    let mut verifier = Verifier::new(&KEYS, LIMITS, Some(installed));
    for piece in pieces(bytes, mode) {
        if verifier.update(piece).is_err() {
            return;
        }
    }
    let _ = verifier.finish();
});

/// `rest` = two bytes of manifest length (little endian), the manifest, then the archive's tail.
fn signed_package(rest: &[u8]) -> Vec<u8> {
    let (len, rest) = match rest {
        [a, b, rest @ ..] => (usize::from(u16::from_le_bytes([*a, *b])), rest),
        _ => (0, rest),
    };
    let (manifest, tail) = rest.split_at(len.min(rest.len()));
    let signature = SIGNING_KEY.sign(manifest).to_bytes();
    let mut out = Vec::with_capacity(4 * BLOCK + manifest.len() + tail.len());
    for (name, body) in [("manifest.json", manifest), ("manifest.sig", &signature[..])] {
        let header = file_header(name, body.len() as u64, 0).expect("short names fit a header");
        out.extend_from_slice(&header);
        out.extend_from_slice(body);
        out.resize(out.len() + padding(body.len() as u64) as usize, 0);
    }
    out.extend_from_slice(tail);
    out
}

/// Splits `bytes` into pieces of sizes derived from `seed`: 1 byte up to a few blocks.
fn pieces(bytes: &[u8], seed: u8) -> impl Iterator<Item = &[u8]> {
    let mut state = u32::from(seed) | 1;
    let mut rest = bytes;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        let size = 1 + (state >> 16) as usize % (3 * BLOCK);
        let (piece, tail) = rest.split_at(size.min(rest.len()));
        rest = tail;
        Some(piece)
    })
}
