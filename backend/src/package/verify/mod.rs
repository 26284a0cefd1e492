//! The one streaming verifier: every way in (upload, CLI, TMC download) feeds the package's
//! bytes through `Verifier::update` as they arrive, in constant memory, and asks `finish` for the
//! verdict. Nothing is trusted before the signature is checked; the manifest's rules and the
//! payload's (`payload::check_payload`) are checked before any payload byte is read.

use sha2::{Digest, Sha256};
use shared::{PatchLevel, ProductVersion};

use super::error::{PackageError, RejectCode};
use super::keys::TrustedKeys;
use super::manifest::{Manifest, check_relative_path};
use super::payload::check_payload;
use super::ustar::{self, BLOCK, Header};

pub const MANIFEST_ENTRY: &str = "manifest.json";
pub const SIGNATURE_ENTRY: &str = "manifest.sig";
pub const PAYLOAD_PREFIX: &str = "payload/";
const SIGNATURE_LEN: usize = 64;

/// Bounds on what a package may be (`[packages]` in the configuration file).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Largest whole package, in bytes.
    pub max_package_bytes: u64,
    /// Largest `manifest.json`, in bytes.
    pub max_manifest_bytes: u64,
    /// Most tar entries (manifest and signature included).
    pub max_entries: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_package_bytes: 8 << 30,
            max_manifest_bytes: 1 << 20,
            max_entries: 10_000,
        }
    }
}

/// What runs here, for the applicability checks (absent for `sms verify` without a server).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InstalledLevel {
    pub product_version: ProductVersion,
    pub patch_level: PatchLevel,
}

/// A package that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedPackage {
    pub manifest: Manifest,
    /// SHA-256 of the whole package file, lowercase hex.
    pub sha256: String,
    /// Size of the whole package file.
    pub size: u64,
}

#[derive(Debug)]
enum State {
    /// Collecting a header block.
    Header,
    /// Collecting `manifest.json`.
    Manifest { remaining: u64 },
    /// Collecting `manifest.sig`.
    Signature { remaining: u64 },
    /// Hashing payload file `index`.
    Payload { index: usize, remaining: u64 },
    /// Zero bytes after an entry's data, up to the block boundary.
    Padding { remaining: u64 },
    /// After the first zero block: the second must follow.
    EndMarker,
    /// After the end marker: only zero bytes may follow (tar pads to its record size).
    Trailer,
    /// A rejection was reported; nothing more is read.
    Failed,
}

/// The streaming verifier. Feed it with `update`, then call `finish`.
pub struct Verifier<'k> {
    keys: &'k TrustedKeys,
    limits: Limits,
    installed: Option<InstalledLevel>,
    state: State,
    /// The block being collected (headers, end marker).
    block: Box<[u8; BLOCK]>,
    block_fill: usize,
    /// Offset of the next byte in the archive.
    offset: u64,
    entries: u64,
    manifest_bytes: Vec<u8>,
    signature: Vec<u8>,
    manifest: Option<Manifest>,
    next_payload: usize,
    payload_hash: Sha256,
    whole: Sha256,
}

impl<'k> Verifier<'k> {
    pub fn new(keys: &'k TrustedKeys, limits: Limits, installed: Option<InstalledLevel>) -> Self {
        Self {
            keys,
            limits,
            installed,
            state: State::Header,
            block: Box::new([0u8; BLOCK]),
            block_fill: 0,
            offset: 0,
            entries: 0,
            manifest_bytes: Vec::new(),
            signature: Vec::with_capacity(SIGNATURE_LEN),
            manifest: None,
            next_payload: 0,
            payload_hash: Sha256::new(),
            whole: Sha256::new(),
        }
    }

    /// The manifest, once its signature has been checked (useful for early decisions).
    pub fn manifest(&self) -> Option<&Manifest> {
        self.manifest.as_ref()
    }

    /// Bytes seen so far.
    pub fn bytes_seen(&self) -> u64 {
        self.offset
    }

    /// Feeds the next bytes of the package. The first error is final.
    pub fn update(&mut self, mut data: &[u8]) -> Result<(), PackageError> {
        if matches!(self.state, State::Failed) {
            return Err(PackageError::new(
                RejectCode::NotAPackage,
                "the package was already rejected",
            ));
        }
        let total = self.offset.saturating_add(data.len() as u64);
        if total > self.limits.max_package_bytes {
            return self.fail(PackageError::new(
                RejectCode::TooLarge,
                format!(
                    "the package is larger than the limit of {} bytes",
                    self.limits.max_package_bytes
                ),
            ));
        }
        self.whole.update(data);
        while !data.is_empty() {
            let used = match self.step(data) {
                Ok(used) => used,
                Err(err) => return self.fail(err),
            };
            self.offset += used as u64;
            data = &data[used..];
        }
        Ok(())
    }

    fn fail(&mut self, err: PackageError) -> Result<(), PackageError> {
        self.state = State::Failed;
        Err(err)
    }

    /// Consumes a prefix of `data` in the current state; returns how many bytes it used.
    fn step(&mut self, data: &[u8]) -> Result<usize, PackageError> {
        match self.state {
            State::Header | State::EndMarker => {
                let used = self.fill_block(data);
                if self.block_fill == BLOCK {
                    self.block_fill = 0;
                    let block_offset = self.offset + used as u64 - BLOCK as u64;
                    self.on_block(block_offset)?;
                }
                Ok(used)
            }
            State::Manifest { remaining } => {
                let used = take(data, remaining);
                self.manifest_bytes.extend_from_slice(&data[..used]);
                let remaining = remaining - used as u64;
                if remaining == 0 {
                    self.begin_padding(self.manifest_bytes.len() as u64);
                } else {
                    self.state = State::Manifest { remaining };
                }
                Ok(used)
            }
            State::Signature { remaining } => {
                let used = take(data, remaining);
                self.signature.extend_from_slice(&data[..used]);
                let remaining = remaining - used as u64;
                if remaining == 0 {
                    self.check_signature()?;
                    self.begin_padding(SIGNATURE_LEN as u64);
                } else {
                    self.state = State::Signature { remaining };
                }
                Ok(used)
            }
            State::Payload { index, remaining } => {
                let used = take(data, remaining);
                self.payload_hash.update(&data[..used]);
                let remaining = remaining - used as u64;
                if remaining == 0 {
                    self.check_payload_hash(index)?;
                } else {
                    self.state = State::Payload { index, remaining };
                }
                Ok(used)
            }
            State::Padding { remaining } => {
                let used = take(data, remaining);
                if data[..used].iter().any(|&b| b != 0) {
                    return Err(PackageError::new(
                        RejectCode::NotAPackage,
                        format!(
                            "the padding after the entry ending at byte {} is not zero: the file is damaged",
                            self.offset
                        ),
                    ));
                }
                let remaining = remaining - used as u64;
                self.state = if remaining == 0 {
                    State::Header
                } else {
                    State::Padding { remaining }
                };
                Ok(used)
            }
            State::Trailer => {
                if data.iter().any(|&b| b != 0) {
                    return Err(PackageError::new(
                        RejectCode::UnexpectedEntry,
                        "data follows the end of the archive",
                    ));
                }
                Ok(data.len())
            }
            State::Failed => Ok(data.len()),
        }
    }

    fn fill_block(&mut self, data: &[u8]) -> usize {
        let used = (BLOCK - self.block_fill).min(data.len());
        self.block[self.block_fill..self.block_fill + used].copy_from_slice(&data[..used]);
        self.block_fill += used;
        used
    }

    fn begin_padding(&mut self, size: u64) {
        let pad = ustar::padding(size);
        self.state = if pad == 0 {
            State::Header
        } else {
            State::Padding { remaining: pad }
        };
    }

    /// A whole header block has arrived.
    fn on_block(&mut self, block_offset: u64) -> Result<(), PackageError> {
        let header = ustar::parse_header(&self.block, block_offset)?;
        if matches!(self.state, State::EndMarker) {
            return match header {
                Header::Zero => {
                    self.state = State::Trailer;
                    Ok(())
                }
                _ => Err(PackageError::new(
                    RejectCode::NotAPackage,
                    format!(
                        "a lone zero block at byte {} is followed by more entries",
                        block_offset - BLOCK as u64
                    ),
                )),
            };
        }
        let (name, size) = match header {
            Header::Zero => {
                self.check_complete()?;
                self.state = State::EndMarker;
                return Ok(());
            }
            Header::Link { name } => {
                return Err(PackageError::new(
                    RejectCode::LinkEntry,
                    format!(
                        "the entry `{name}` is a link; packages may contain regular files only"
                    ),
                ));
            }
            Header::Other { name, typeflag } => {
                check_entry_path(&name)?;
                return Err(PackageError::new(
                    RejectCode::UnexpectedEntry,
                    format!(
                        "the entry `{name}` is not a regular file (tar type `{}`); packages may contain regular files only",
                        char::from(typeflag).escape_default()
                    ),
                ));
            }
            Header::File { name, size } => (name, size),
        };
        check_entry_path(&name)?;
        self.entries += 1;
        if self.entries > self.limits.max_entries {
            return Err(PackageError::new(
                RejectCode::TooLarge,
                format!(
                    "the package has more than {} entries",
                    self.limits.max_entries
                ),
            ));
        }
        let room = self
            .limits
            .max_package_bytes
            .saturating_sub(block_offset + BLOCK as u64);
        if size > room {
            return Err(PackageError::new(
                RejectCode::TooLarge,
                format!(
                    "the entry `{name}` claims {size} bytes, more than the package limit of {} bytes allows",
                    self.limits.max_package_bytes
                ),
            ));
        }
        match self.entries {
            1 => self.begin_manifest(&name, size),
            2 => self.begin_signature(&name, size),
            _ => self.begin_payload(&name, size),
        }
    }

    fn begin_manifest(&mut self, name: &str, size: u64) -> Result<(), PackageError> {
        if name != MANIFEST_ENTRY {
            return Err(PackageError::new(
                RejectCode::MissingEntry,
                format!("the package must begin with {MANIFEST_ENTRY}, but begins with `{name}`"),
            ));
        }
        if size > self.limits.max_manifest_bytes {
            return Err(PackageError::new(
                RejectCode::TooLarge,
                format!(
                    "{MANIFEST_ENTRY} has {size} bytes; the limit is {}",
                    self.limits.max_manifest_bytes
                ),
            ));
        }
        self.start_data(State::Manifest { remaining: size }, size);
        Ok(())
    }

    fn begin_signature(&mut self, name: &str, size: u64) -> Result<(), PackageError> {
        if name == MANIFEST_ENTRY {
            return Err(PackageError::new(
                RejectCode::DuplicateEntry,
                format!("{MANIFEST_ENTRY} appears twice"),
            ));
        }
        if name != SIGNATURE_ENTRY {
            return Err(PackageError::new(
                RejectCode::MissingEntry,
                format!("{SIGNATURE_ENTRY} must follow {MANIFEST_ENTRY}, but `{name}` does"),
            ));
        }
        if size != SIGNATURE_LEN as u64 {
            return Err(PackageError::new(
                RejectCode::SignatureInvalid,
                format!(
                    "{SIGNATURE_ENTRY} has {size} bytes; an Ed25519 signature has {SIGNATURE_LEN}"
                ),
            ));
        }
        self.start_data(State::Signature { remaining: size }, size);
        Ok(())
    }

    fn begin_payload(&mut self, name: &str, size: u64) -> Result<(), PackageError> {
        let Some(manifest) = self.manifest.as_ref() else {
            return Err(PackageError::new(
                RejectCode::MissingEntry,
                "the manifest was not verified before the payload",
            ));
        };
        if name == MANIFEST_ENTRY || name == SIGNATURE_ENTRY {
            return Err(PackageError::new(
                RejectCode::DuplicateEntry,
                format!("`{name}` appears twice"),
            ));
        }
        let path = name.strip_prefix(PAYLOAD_PREFIX).unwrap_or("");
        let listed = manifest.files.iter().position(|f| f.path == path);
        let index = self.next_payload;
        match listed {
            Some(i) if i < index => {
                return Err(PackageError::new(
                    RejectCode::DuplicateEntry,
                    format!("the entry `{name}` appears twice"),
                ));
            }
            Some(i) if i > index => {
                return Err(PackageError::new(
                    RejectCode::UnexpectedEntry,
                    format!(
                        "the entry `{name}` is out of order: the manifest lists payload/{} first",
                        manifest.files[index].path
                    ),
                ));
            }
            Some(_) => {}
            None => {
                return Err(PackageError::new(
                    RejectCode::UnexpectedEntry,
                    format!("the entry `{name}` is not listed in the manifest"),
                ));
            }
        }
        let expected = manifest.files[index].size;
        if size != expected {
            return Err(PackageError::new(
                RejectCode::SizeMismatch,
                format!("the entry `{name}` has {size} bytes, but the manifest says {expected}"),
            ));
        }
        self.next_payload += 1;
        self.payload_hash = Sha256::new();
        self.start_data(
            State::Payload {
                index,
                remaining: size,
            },
            size,
        );
        if size == 0 {
            self.check_payload_hash(index)?;
        }
        Ok(())
    }

    /// Enters a data state, or skips straight past an empty entry.
    fn start_data(&mut self, state: State, size: u64) {
        if size == 0 {
            self.state = State::Header;
        } else {
            self.state = state;
        }
    }

    fn check_signature(&mut self) -> Result<(), PackageError> {
        let key_id = Manifest::key_id_of(&self.manifest_bytes)?;
        let signature: [u8; SIGNATURE_LEN] =
            self.signature.as_slice().try_into().map_err(|_| {
                PackageError::new(
                    RejectCode::SignatureInvalid,
                    "the signature is not 64 bytes",
                )
            })?;
        match self.keys.verify(&key_id, &self.manifest_bytes, &signature) {
            None => Err(PackageError::new(
                RejectCode::UnknownKey,
                format!(
                    "the package is signed with the key `{key_id}`, which this server does not trust; \
                     add the vendor's public key with --trust-key"
                ),
            )),
            Some(false) => Err(PackageError::new(
                RejectCode::SignatureInvalid,
                format!(
                    "the signature of {MANIFEST_ENTRY} does not match the key `{key_id}`: the package was altered or damaged"
                ),
            )),
            Some(true) => {
                let manifest = Manifest::parse(&self.manifest_bytes)?;
                check_payload(&manifest)?;
                if let Some(installed) = self.installed {
                    check_applicable(&manifest, installed)?;
                }
                self.manifest_bytes = Vec::new();
                self.manifest = Some(manifest);
                Ok(())
            }
        }
    }

    fn check_payload_hash(&mut self, index: usize) -> Result<(), PackageError> {
        let hash = hex::encode(std::mem::take(&mut self.payload_hash).finalize());
        let Some(file) = self.manifest.as_ref().and_then(|m| m.files.get(index)) else {
            return Err(PackageError::new(
                RejectCode::MissingEntry,
                "payload without a manifest",
            ));
        };
        if hash != file.sha256 {
            return Err(PackageError::new(
                RejectCode::ChecksumMismatch,
                format!(
                    "payload/{} does not match its checksum in the manifest: the package was altered or damaged",
                    file.path
                ),
            ));
        }
        let size = file.size;
        self.begin_padding(size);
        Ok(())
    }

    /// At the end marker: everything the manifest lists must have arrived.
    fn check_complete(&self) -> Result<(), PackageError> {
        let missing = match (&self.manifest, self.entries) {
            (_, 0) => Some(MANIFEST_ENTRY.to_owned()),
            (_, 1) => Some(SIGNATURE_ENTRY.to_owned()),
            (Some(m), _) if self.next_payload < m.files.len() => Some(format!(
                "{PAYLOAD_PREFIX}{}",
                m.files[self.next_payload].path
            )),
            _ => None,
        };
        match missing {
            Some(entry) => Err(PackageError::new(
                RejectCode::MissingEntry,
                format!("the package ends without `{entry}`"),
            )),
            None => Ok(()),
        }
    }

    /// The verdict, once every byte was fed.
    pub fn finish(self) -> Result<VerifiedPackage, PackageError> {
        let truncated = |what: &str| {
            PackageError::new(
                RejectCode::Truncated,
                format!(
                    "the package ends early ({what} after {} bytes): the file is incomplete",
                    self.offset
                ),
            )
        };
        match self.state {
            State::Failed => Err(PackageError::new(
                RejectCode::NotAPackage,
                "the package was rejected",
            )),
            State::Trailer => {
                let manifest = self.manifest.ok_or_else(|| truncated("no manifest"))?;
                Ok(VerifiedPackage {
                    manifest,
                    sha256: hex::encode(self.whole.finalize()),
                    size: self.offset,
                })
            }
            State::Header if self.offset == 0 => Err(PackageError::new(
                RejectCode::NotAPackage,
                "the file is empty: a package is a tar archive that begins with manifest.json",
            )),
            State::Header
                if self.entries == 0 && self.block_fill > 0 && self.offset < BLOCK as u64 =>
            {
                Err(PackageError::new(
                    RejectCode::NotAPackage,
                    "the file is too short to be a package (less than one tar block)",
                ))
            }
            State::Header => Err(truncated("in or before a tar header")),
            State::EndMarker => Err(truncated("inside the end-of-archive marker")),
            State::Manifest { .. } => Err(truncated("inside manifest.json")),
            State::Signature { .. } => Err(truncated("inside manifest.sig")),
            State::Payload { index, .. } => Err(truncated(&format!(
                "inside payload/{}",
                self.manifest
                    .as_ref()
                    .and_then(|m| m.files.get(index))
                    .map(|f| f.path.as_str())
                    .unwrap_or("?")
            ))),
            State::Padding { .. } => Err(truncated("inside the padding of an entry")),
        }
    }
}

/// Any entry name must stay inside the package's folder.
fn check_entry_path(name: &str) -> Result<(), PackageError> {
    check_relative_path(name)
}

fn take(data: &[u8], remaining: u64) -> usize {
    usize::try_from(remaining).map_or(data.len(), |r| r.min(data.len()))
}

/// Whether the package applies to the installed level: `shared::applicability` decides, in
/// its words; the rejection's code is the applicability's.
pub fn check_applicable(
    manifest: &Manifest,
    installed: InstalledLevel,
) -> Result<(), PackageError> {
    let id = shared::PatchId::new(manifest.product_version, manifest.patch).map_err(|err| {
        PackageError::new(
            RejectCode::ManifestInvalid,
            format!("the manifest's patch: {err}"),
        )
    })?;
    let reason = shared::applicability(installed.product_version, installed.patch_level, id);
    let code = match reason {
        shared::Applicability::Applicable => return Ok(()),
        shared::Applicability::WrongProductVersion { .. } => RejectCode::WrongProductVersion,
        shared::Applicability::AlreadyInstalled => RejectCode::AlreadyInstalled,
        shared::Applicability::OlderThanInstalled { .. } => RejectCode::OlderThanInstalled,
    };
    Err(PackageError::new(
        code,
        format!(
            "Patch {} for SMS {}: {}",
            manifest.patch,
            manifest.product_version,
            reason.message().trim_end_matches('.')
        ),
    ))
}

#[cfg(test)]
mod tests;
