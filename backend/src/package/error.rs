//! Why a package was rejected: a stable code and a human message.

use std::fmt;

/// The stable codes of package rejections (also the API's error codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RejectCode {
    NotAPackage,
    ManifestInvalid,
    UnknownKey,
    SignatureInvalid,
    UnexpectedEntry,
    MissingEntry,
    DuplicateEntry,
    PathTraversal,
    LinkEntry,
    SizeMismatch,
    ChecksumMismatch,
    Truncated,
    TooLarge,
    WrongProductVersion,
    AlreadyInstalled,
    OlderThanInstalled,
    ClientPayloadMismatch,
    DatabasePayloadMismatch,
    MigrationNameInvalid,
    MigrationNumberDuplicate,
    DownMigrationMissing,
}

impl RejectCode {
    pub const ALL: [RejectCode; 21] = [
        RejectCode::NotAPackage,
        RejectCode::ManifestInvalid,
        RejectCode::UnknownKey,
        RejectCode::SignatureInvalid,
        RejectCode::UnexpectedEntry,
        RejectCode::MissingEntry,
        RejectCode::DuplicateEntry,
        RejectCode::PathTraversal,
        RejectCode::LinkEntry,
        RejectCode::SizeMismatch,
        RejectCode::ChecksumMismatch,
        RejectCode::Truncated,
        RejectCode::TooLarge,
        RejectCode::WrongProductVersion,
        RejectCode::AlreadyInstalled,
        RejectCode::OlderThanInstalled,
        RejectCode::ClientPayloadMismatch,
        RejectCode::DatabasePayloadMismatch,
        RejectCode::MigrationNameInvalid,
        RejectCode::MigrationNumberDuplicate,
        RejectCode::DownMigrationMissing,
    ];

    /// The `snake_case` code, e.g. `signature_invalid`.
    pub fn as_str(self) -> &'static str {
        match self {
            RejectCode::NotAPackage => "not_a_package",
            RejectCode::ManifestInvalid => "manifest_invalid",
            RejectCode::UnknownKey => "unknown_key",
            RejectCode::SignatureInvalid => "signature_invalid",
            RejectCode::UnexpectedEntry => "unexpected_entry",
            RejectCode::MissingEntry => "missing_entry",
            RejectCode::DuplicateEntry => "duplicate_entry",
            RejectCode::PathTraversal => "path_traversal",
            RejectCode::LinkEntry => "link_entry",
            RejectCode::SizeMismatch => "size_mismatch",
            RejectCode::ChecksumMismatch => "checksum_mismatch",
            RejectCode::Truncated => "truncated",
            RejectCode::TooLarge => "too_large",
            RejectCode::WrongProductVersion => "wrong_product_version",
            RejectCode::AlreadyInstalled => "already_installed",
            RejectCode::OlderThanInstalled => "older_than_installed",
            RejectCode::ClientPayloadMismatch => "client_payload_mismatch",
            RejectCode::DatabasePayloadMismatch => "database_payload_mismatch",
            RejectCode::MigrationNameInvalid => "migration_name_invalid",
            RejectCode::MigrationNumberDuplicate => "migration_number_duplicate",
            RejectCode::DownMigrationMissing => "down_migration_missing",
        }
    }
}

impl fmt::Display for RejectCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A rejected package: the code for programs, the message for people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct PackageError {
    pub code: RejectCode,
    pub message: String,
}

impl PackageError {
    pub fn new(code: RejectCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}
