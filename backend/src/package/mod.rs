//! Signed patch packages: the manifest, the payload's rules, signing keys, the streaming verifier
//! and the packer, and the TMC's signed catalog.
//! The format is the contract in `docs/package-format.md`.

pub mod catalog;
pub mod error;
pub mod keys;
pub mod manifest;
pub mod notes;
pub mod pack;
pub mod payload;
pub mod tuf;
pub mod ustar;
pub mod verify;

pub use error::{PackageError, RejectCode};
pub use keys::{KeyError, PackageSigner, PublicKeyFile, SecretKeyFile, TrustedKeys};
pub use manifest::{Manifest, ManifestFile, Restart, Updates};
pub use payload::{PayloadSummary, check_payload};
pub use verify::{Limits, VerifiedPackage, Verifier};
