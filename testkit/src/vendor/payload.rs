//! A package's payload: the bytes of `server/app.bin` (text a test can find, or incompressible
//! noise), the files of a folder, and a payload damaged on purpose.

use std::io::Write;
use std::path::Path;

use anyhow::Context;

/// The line a text payload repeats, so a test can find the payload's bytes inside a package.
pub const PAYLOAD_LINE: &[u8] = b"SMS test payload line\n";

/// What `server/app.bin` of a package holds.
#[derive(Debug, Clone, Copy)]
pub(super) enum Payload {
    /// This many bytes of [`PAYLOAD_LINE`] repeated.
    Text(u64),
    /// This many pseudo-random (incompressible) bytes.
    Random(u64),
}

/// Every regular file under `dir`, recursively: its path relative to `dir` (with `/`), its
/// bytes; sorted by path. Symbolic links and other special files are left out.
pub(super) fn files_under(dir: &Path) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let mut files = Vec::new();
    let mut folders = vec![(dir.to_owned(), String::new())];
    while let Some((folder, prefix)) = folders.pop() {
        let entries = std::fs::read_dir(&folder)
            .with_context(|| format!("cannot list {}", folder.display()))?;
        for entry in entries {
            let entry = entry.with_context(|| format!("cannot list {}", folder.display()))?;
            let name = entry.file_name();
            let name = name
                .to_str()
                .with_context(|| format!("{} is not UTF-8", entry.path().display()))?;
            let rel = format!("{prefix}{name}");
            let kind = entry.file_type()?;
            if kind.is_dir() {
                folders.push((entry.path(), format!("{rel}/")));
            } else if kind.is_file() {
                let bytes = std::fs::read(entry.path())
                    .with_context(|| format!("cannot read {}", entry.path().display()))?;
                files.push((rel, bytes));
            }
        }
    }
    files.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(files)
}

pub(super) fn write_payload(path: &Path, payload: Payload) -> anyhow::Result<()> {
    const PIECE: usize = 1 << 20;
    let file =
        std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut out = std::io::BufWriter::with_capacity(PIECE, file);
    match payload {
        Payload::Text(size) => {
            let piece = PAYLOAD_LINE.repeat(PIECE / PAYLOAD_LINE.len());
            let mut left = size;
            while left > 0 {
                let n = left.min(piece.len() as u64) as usize;
                out.write_all(&piece[..n])?;
                left -= n as u64;
            }
        }
        Payload::Random(size) => {
            let mut state = 0x9E37_79B9_7F4A_7C15_u64;
            let mut block = vec![0u8; PIECE];
            let mut left = size;
            while left > 0 {
                for word in block.chunks_exact_mut(8) {
                    // xorshift64: incompressible enough, and far faster than the disk.
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    word.copy_from_slice(&state.to_le_bytes());
                }
                let n = left.min(PIECE as u64) as usize;
                out.write_all(&block[..n])?;
                left -= n as u64;
            }
        }
    }
    out.flush()?;
    Ok(())
}

/// Flips one byte of the last [`PAYLOAD_LINE`] in the package `file` (a text payload): its
/// signature still holds, its payload's checksum does not.
///
/// # Panics
///
/// When `file` cannot be read or written, or holds no text payload.
pub fn damage_payload(file: &Path) {
    let mut bytes = std::fs::read(file).expect("the package to damage");
    let last_line = bytes
        .windows(PAYLOAD_LINE.len())
        .rposition(|window| window == PAYLOAD_LINE)
        .expect("a text payload in the package");
    bytes[last_line] ^= 0x20;
    std::fs::write(file, bytes).expect("the damaged package is written");
}
