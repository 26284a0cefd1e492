//! The small part of POSIX tar (ustar) that packages use: 512-byte headers of regular files.
//!
//! Hand-written because verification must tell apart every way a header can be wrong (damaged,
//! link, device, extension header) and check the zero padding that tar libraries skip silently.

use super::error::{PackageError, RejectCode};

pub const BLOCK: usize = 512;

/// What a header block says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Header {
    /// An all-zero block: the end-of-archive marker (two of them end an archive).
    Zero,
    /// A regular file entry.
    File { name: String, size: u64 },
    /// A hard or symbolic link.
    Link { name: String },
    /// Anything else: directory, device, FIFO, pax or GNU extension header.
    Other { name: String, typeflag: u8 },
}

/// Parses one header block. `offset` (of the block in the archive) is for messages.
pub fn parse_header(block: &[u8; BLOCK], offset: u64) -> Result<Header, PackageError> {
    if block.iter().all(|&b| b == 0) {
        return Ok(Header::Zero);
    }
    let damaged = |why: &str| {
        PackageError::new(
            RejectCode::NotAPackage,
            format!("the tar header at byte {offset} is damaged or not a tar header ({why})"),
        )
    };
    let stored =
        parse_checksum(&block[148..156]).ok_or_else(|| damaged("malformed checksum field"))?;
    let computed: u64 = block
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            if (148..156).contains(&i) {
                u64::from(b' ')
            } else {
                u64::from(b)
            }
        })
        .sum();
    if stored != computed {
        return Err(damaged("checksum mismatch"));
    }
    let magic = &block[257..265];
    let posix = &magic[..6] == b"ustar\0";
    let gnu = magic == b"ustar  \0";
    if !posix && !gnu {
        return Err(damaged("no ustar magic"));
    }
    let name = field_str(&block[0..100]).ok_or_else(|| damaged("name is not UTF-8"))?;
    let name = if posix {
        let prefix = field_str(&block[345..500]).ok_or_else(|| damaged("prefix is not UTF-8"))?;
        if prefix.is_empty() {
            name
        } else {
            format!("{prefix}/{name}")
        }
    } else {
        name
    };
    let typeflag = block[156];
    match typeflag {
        b'0' | 0 => {
            let size = parse_size(&block[124..136]).ok_or_else(|| damaged("unreadable size"))?;
            Ok(Header::File { name, size })
        }
        b'1' | b'2' => Ok(Header::Link { name }),
        other => Ok(Header::Other {
            name,
            typeflag: other,
        }),
    }
}

/// The checksum field, strictly: six octal digits then NUL and space (what POSIX, GNU and Python
/// tar write), or seven digits then NUL or space. The field is not covered by the checksum itself,
/// so being strict here is what makes every bit of a header count.
fn parse_checksum(field: &[u8]) -> Option<u64> {
    let digits = match field {
        [d @ .., 0, b' '] if d.len() == 6 => d,
        [d @ .., 0 | b' '] if d.len() == 7 => d,
        _ => return None,
    };
    if !digits.iter().all(|b| (b'0'..=b'7').contains(b)) {
        return None;
    }
    u64::from_str_radix(std::str::from_utf8(digits).ok()?, 8).ok()
}

/// A NUL-terminated (or full-width) text field.
fn field_str(field: &[u8]) -> Option<String> {
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    String::from_utf8(field[..end].to_vec()).ok()
}

/// Octal digits, optionally surrounded by spaces and ended by NUL or space.
fn parse_octal(field: &[u8]) -> Option<u64> {
    let text: Vec<u8> = field.iter().copied().take_while(|&b| b != 0).collect();
    let text = std::str::from_utf8(&text).ok()?.trim();
    if text.is_empty() {
        return Some(0);
    }
    u64::from_str_radix(text, 8).ok()
}

/// A size: octal, or GNU base-256 (high bit of the first byte set) for sizes of 8 GiB and more.
fn parse_size(field: &[u8]) -> Option<u64> {
    if field[0] & 0x80 != 0 {
        let mut value: u64 = u64::from(field[0] & 0x7f);
        for &b in &field[1..] {
            value = value.checked_mul(256)?.checked_add(u64::from(b))?;
        }
        Some(value)
    } else {
        parse_octal(field)
    }
}

/// Why a file cannot be described by a ustar header.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct HeaderError(String);

/// A POSIX ustar header for a regular file of `size` bytes, mode 0644, mtime `mtime`.
/// Names longer than 100 bytes are split into prefix and name where possible.
pub fn file_header(name: &str, size: u64, mtime: u64) -> Result<[u8; BLOCK], HeaderError> {
    let mut block = [0u8; BLOCK];
    let (prefix, short) = split_name(name).ok_or_else(|| {
        HeaderError(format!(
            "`{name}` is too long for a ustar header (at most 255 bytes, name part 100)"
        ))
    })?;
    block[..short.len()].copy_from_slice(short.as_bytes());
    block[345..345 + prefix.len()].copy_from_slice(prefix.as_bytes());
    write_octal(&mut block[100..108], 0o644);
    write_octal(&mut block[108..116], 0);
    write_octal(&mut block[116..124], 0);
    if size >= 0o77777777777 {
        return Err(HeaderError(format!(
            "`{name}` is too large for a ustar header (8 GiB or more)"
        )));
    }
    write_octal(&mut block[124..136], size);
    write_octal(&mut block[136..148], mtime.min(0o77777777777));
    block[156] = b'0';
    block[257..263].copy_from_slice(b"ustar\0");
    block[263..265].copy_from_slice(b"00");
    block[148..156].fill(b' ');
    let sum: u64 = block.iter().map(|&b| u64::from(b)).sum();
    write_octal(&mut block[148..155], sum);
    block[155] = b' ';
    Ok(block)
}

fn split_name(name: &str) -> Option<(&str, &str)> {
    if name.len() <= 100 {
        return Some(("", name));
    }
    // Split at a '/' so that the prefix has at most 155 bytes and the rest at most 100.
    name.match_indices('/')
        .map(|(i, _)| (&name[..i], &name[i + 1..]))
        .find(|(prefix, rest)| prefix.len() <= 155 && rest.len() <= 100 && !rest.is_empty())
}

/// Zero-padded octal, NUL-terminated, filling `field`.
fn write_octal(field: &mut [u8], value: u64) {
    let width = field.len() - 1;
    let text = format!("{value:0width$o}");
    field[..width].copy_from_slice(&text.as_bytes()[text.len() - width..]);
    field[width] = 0;
}

/// Bytes of zero padding after `size` bytes of data.
pub fn padding(size: u64) -> u64 {
    (BLOCK as u64 - size % BLOCK as u64) % BLOCK as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_headers_parse_back() {
        let block = file_header("payload/server/app.bin", 1234, 1_700_000_000).unwrap();
        assert_eq!(
            parse_header(&block, 0).unwrap(),
            Header::File {
                name: "payload/server/app.bin".into(),
                size: 1234
            }
        );
    }

    #[test]
    fn long_names_use_the_prefix() {
        let name = format!("payload/{}/{}", "d".repeat(120), "f".repeat(90));
        let block = file_header(&name, 1, 0).unwrap();
        assert_eq!(
            parse_header(&block, 0).unwrap(),
            Header::File { name, size: 1 }
        );
        assert!(file_header(&"x".repeat(300), 1, 0).is_err());
    }

    #[test]
    fn damaged_headers_are_refused() {
        let mut block = file_header("manifest.json", 10, 0).unwrap();
        block[5] ^= 0x01;
        assert_eq!(
            parse_header(&block, 512).unwrap_err().code,
            RejectCode::NotAPackage
        );
    }

    #[test]
    fn links_and_others_are_recognised() {
        let mut block = file_header("payload/x", 0, 0).unwrap();
        block[156] = b'2';
        block[148..156].fill(b' ');
        let sum: u64 = block.iter().map(|&b| u64::from(b)).sum();
        write_octal(&mut block[148..155], sum);
        assert!(matches!(
            parse_header(&block, 0).unwrap(),
            Header::Link { .. }
        ));
    }

    #[test]
    fn base256_sizes_are_read() {
        let mut field = [0u8; 12];
        field[0] = 0x80;
        field[7] = 0x02; // 2 << 32 = 8 GiB
        assert_eq!(parse_size(&field), Some(2u64 << 32));
    }

    #[test]
    fn padding_fills_to_the_block() {
        assert_eq!(padding(0), 0);
        assert_eq!(padding(1), 511);
        assert_eq!(padding(512), 0);
        assert_eq!(padding(513), 511);
    }
}
