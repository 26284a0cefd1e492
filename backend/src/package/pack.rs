//! Building and signing a package: `sms pack`.

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use sha2::{Digest, Sha256};

use super::keys::PackageSigner;
use super::manifest::{Manifest, ManifestFile};
use super::payload::check_payload;
use super::ustar::{self, BLOCK};
use super::verify::{MANIFEST_ENTRY, PAYLOAD_PREFIX, SIGNATURE_ENTRY};

/// Whether `pack_with` holds the payload to the rules every server checks
/// (`payload::check_payload`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayloadRules {
    /// Refuse to build a package servers would refuse (what `sms pack` does).
    Enforce,
    /// Build it anyway: for test packages that break the rules on purpose.
    Skip,
}

/// Reads the manifest template, fills in `files` (from `payload_dir`) and `key_id` (from the key),
/// checks the manifest's and the payload's rules, signs it, and writes the package to `out`
/// (through a temporary file, renamed at the end).
pub fn pack(
    signer: &PackageSigner,
    template: &serde_json::Value,
    payload_dir: &Path,
    out: &Path,
) -> anyhow::Result<Manifest> {
    pack_with(signer, template, payload_dir, out, PayloadRules::Enforce)
}

/// `pack`, with the payload's rules enforced or not.
pub fn pack_with(
    signer: &PackageSigner,
    template: &serde_json::Value,
    payload_dir: &Path,
    out: &Path,
    rules: PayloadRules,
) -> anyhow::Result<Manifest> {
    let files = payload_files(payload_dir)?;
    let mut listed = Vec::with_capacity(files.len());
    for (relative, absolute) in &files {
        let (size, sha256) = hash_file(absolute)?;
        listed.push(ManifestFile {
            path: relative.clone(),
            size,
            sha256,
        });
    }
    let mut value = template.clone();
    let Some(object) = value.as_object_mut() else {
        bail!("the manifest template must be a JSON object");
    };
    if let Some(given) = object.get("key_id").and_then(|v| v.as_str())
        && given != signer.key_id
    {
        bail!(
            "the manifest names the key `{given}`, but --key is `{}`",
            signer.key_id
        );
    }
    object.insert("key_id".into(), signer.key_id.clone().into());
    object.insert("files".into(), serde_json::to_value(&listed)?);
    object.entry("format").or_insert(1.into());
    object.entry("product").or_insert("SMS".into());

    let manifest: Manifest = serde_json::from_value(value)
        .context("the manifest template is missing a field or has a wrong value")?;
    manifest
        .validate()
        .map_err(|err| anyhow::anyhow!("{} ({})", err.message, err.code))?;
    if rules == PayloadRules::Enforce {
        check_payload(&manifest)
            .map_err(|err| anyhow::anyhow!("{} ({})", err.message, err.code))?;
    }
    let manifest_bytes = serde_json::to_vec_pretty(&manifest)?;
    let signature = signer.sign(&manifest_bytes);

    let tmp = temporary_path(out);
    let written = write_package(&tmp, &manifest_bytes, &signature, &manifest, &files);
    if let Err(err) = written {
        // Best effort: the write error is returned; a left-over temporary file is harmless.
        let _ = std::fs::remove_file(&tmp);
        return Err(err);
    }
    std::fs::rename(&tmp, out).with_context(|| format!("cannot create {}", out.display()))?;
    Ok(manifest)
}

fn write_package(
    path: &Path,
    manifest_bytes: &[u8],
    signature: &[u8; 64],
    manifest: &Manifest,
    files: &[(String, PathBuf)],
) -> anyhow::Result<()> {
    let file = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut out = BufWriter::new(file);
    let mtime = chrono::Utc::now().timestamp().max(0).unsigned_abs();
    write_entry(
        &mut out,
        MANIFEST_ENTRY,
        manifest_bytes.len() as u64,
        mtime,
        &mut &manifest_bytes[..],
    )?;
    write_entry(&mut out, SIGNATURE_ENTRY, 64, mtime, &mut &signature[..])?;
    for (listed, (relative, absolute)) in manifest.files.iter().zip(files) {
        let mut source =
            File::open(absolute).with_context(|| format!("cannot read {}", absolute.display()))?;
        write_entry(
            &mut out,
            &format!("{PAYLOAD_PREFIX}{relative}"),
            listed.size,
            mtime,
            &mut source,
        )?;
    }
    out.write_all(&[0u8; BLOCK * 2])?;
    let file = out.into_inner().map_err(|err| err.into_error())?;
    file.sync_all()?;
    Ok(())
}

fn write_entry(
    out: &mut impl Write,
    name: &str,
    size: u64,
    mtime: u64,
    data: &mut impl Read,
) -> anyhow::Result<()> {
    let header = ustar::file_header(name, size, mtime)?;
    out.write_all(&header)?;
    let copied = std::io::copy(&mut data.take(size), out)?;
    if copied != size {
        bail!("`{name}` changed while it was packed ({copied} of {size} bytes)");
    }
    let pad = usize::try_from(ustar::padding(size))?;
    out.write_all(&[0u8; BLOCK][..pad])?;
    Ok(())
}

/// Every regular file under `dir`, as (path relative to `dir` with `/`, absolute path), sorted.
pub fn payload_files(dir: &Path) -> anyhow::Result<Vec<(String, PathBuf)>> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(folder) = pending.pop() {
        let entries = std::fs::read_dir(&folder)
            .with_context(|| format!("cannot read the payload folder {}", folder.display()))?;
        for entry in entries {
            let entry = entry?;
            let path = entry.path();
            let kind = entry.file_type()?;
            if kind.is_symlink() {
                bail!(
                    "{} is a link; payloads may contain regular files only",
                    path.display()
                );
            } else if kind.is_dir() {
                pending.push(path);
            } else if kind.is_file() {
                let relative = path
                    .strip_prefix(dir)?
                    .components()
                    .map(|c| c.as_os_str().to_str().map(str::to_owned))
                    .collect::<Option<Vec<_>>>()
                    .with_context(|| format!("{} has a name that is not UTF-8", path.display()))?
                    .join("/");
                found.push((relative, path));
            } else {
                bail!("{} is not a regular file", path.display());
            }
        }
    }
    if found.is_empty() {
        bail!("the payload folder {} has no files", dir.display());
    }
    found.sort();
    Ok(found)
}

fn hash_file(path: &Path) -> anyhow::Result<(u64, String)> {
    let mut file = File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut hasher = Sha256::new();
    let size = std::io::copy(&mut file, &mut hasher)?;
    Ok((size, hex::encode(hasher.finalize())))
}

fn temporary_path(out: &Path) -> PathBuf {
    let mut name = out.as_os_str().to_owned();
    name.push(format!(".{}.tmp", std::process::id()));
    PathBuf::from(name)
}
