//! A download checked against what the TMC listed for it (its size and SHA-256: the format-1
//! catalog's entry, or the TUF target), also when the package's own checks refuse it first.

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use sha2::{Digest, Sha256};

use super::{Expected, ImportError};

/// A download longer than the TMC listed.
pub(super) fn too_long(expected: &Expected) -> ImportError {
    ImportError::Mismatch(format!(
        "the download is larger than the {} bytes the TMC lists for it",
        expected.size
    ))
}

/// A download whose bytes are not those the TMC listed.
pub(super) fn not_listed(expected: &Expected, size: u64, sha256: &str) -> ImportError {
    ImportError::Mismatch(format!(
        "the downloaded package ({size} bytes, SHA-256 {sha256}) is not the one the TMC lists \
         ({} bytes, SHA-256 {}); nothing was kept",
        expected.size, expected.sha256
    ))
}

/// Reads and hashes the rest of a download the package's checks refused: the mismatch with
/// what the TMC listed, if its bytes are not those; `None` when they are (or the rest cannot
/// be read), so that the package's own reason stands.
pub(super) async fn unlisted<S, E>(
    stream: &mut S,
    expected: &Expected,
    mut hasher: Sha256,
    mut seen: u64,
) -> Option<ImportError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
{
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.ok()?;
        seen += chunk.len() as u64;
        if seen > expected.size {
            return Some(too_long(expected));
        }
        hasher.update(&chunk);
    }
    let sha256 = hex::encode(hasher.finalize());
    (seen != expected.size || sha256 != expected.sha256)
        .then(|| not_listed(expected, seen, &sha256))
}
