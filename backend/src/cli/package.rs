//! `sms keygen`, `sms pack`, `sms verify`: signing keys and signed patch packages.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;

use crate::package::{self, Limits, PackageSigner, TrustedKeys, Verifier};
use crate::storage::executable::{SchemaList, schema_of_blocking};

pub(super) fn keygen(key_id: &str, out: &Path) -> anyhow::Result<()> {
    anyhow::ensure!(!key_id.trim().is_empty(), "the key id must not be empty");
    let signer = PackageSigner::generate(key_id);
    let (secret, public) = signer.write(out)?;
    println!(
        "Wrote the private key {} (keep it secret) and the public key {} (give it to servers with --trust-key).",
        secret.display(),
        public.display()
    );
    Ok(())
}

pub(super) fn pack(key: &Path, manifest: &Path, payload: &Path, out: &Path) -> anyhow::Result<()> {
    let signer = PackageSigner::load(key)?;
    let text = std::fs::read_to_string(manifest)
        .with_context(|| format!("cannot read the manifest {}", manifest.display()))?;
    let template: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("the manifest {} is not JSON", manifest.display()))?;
    let packed = package::pack::pack(&signer, &template, payload, out)?;
    warn_of_builtin_migrations(&template, payload);
    println!(
        "Wrote {}: {} with {} payload file(s), signed with `{}`.",
        out.display(),
        shared::patch::display_name(packed.product_version, packed.patch, &packed.build),
        packed.files.len(),
        signer.key_id
    );
    Ok(())
}

/// Warns when the payload's server executable brings server schema migrations this `sms`
/// does not have while the manifest says `database_changes: false` (docs/schema.md): the
/// server judges its install a database change all the same.
fn warn_of_builtin_migrations(manifest: &serde_json::Value, payload: &Path) {
    let executable = payload.join(package::payload::SERVER_EXECUTABLE);
    if !executable.is_file() || manifest["database_changes"].as_bool() == Some(true) {
        return;
    }
    let own = SchemaList::own();
    match schema_of_blocking(&executable) {
        Ok(listed) => {
            let brings: Vec<&str> = listed
                .migrations
                .iter()
                .filter(|m| !own.has(&m.name))
                .map(|m| m.name.as_str())
                .collect();
            if !brings.is_empty() {
                eprintln!(
                    "warning: the payload's server executable brings the server schema \
                     migrations {} and the manifest says \"database_changes\": false; servers \
                     judge its install a database change all the same (a backup first, \
                     refused while HA clustering is enabled): say \"database_changes\": true",
                    brings.join(", ")
                );
            }
        }
        Err(err) => eprintln!(
            "warning: cannot tell which server schema migrations the payload's executable \
             brings: {err}"
        ),
    }
}

/// `sms verify`: exit 0 with the facts, or 1 with `code: message`.
pub(super) fn verify(file: &Path, trust_keys: &[PathBuf]) -> ExitCode {
    let mut keys = TrustedKeys::new();
    for path in trust_keys {
        if let Err(err) = keys.add_file(path) {
            eprintln!("error: {err}");
            return ExitCode::FAILURE;
        }
    }
    let mut input = match std::fs::File::open(file) {
        Ok(input) => input,
        Err(err) => {
            eprintln!("error: cannot read {}: {err}", file.display());
            return ExitCode::FAILURE;
        }
    };
    let mut verifier = Verifier::new(&keys, Limits::default(), None);
    let mut buffer = vec![0u8; 256 * 1024];
    let verdict = loop {
        match input.read(&mut buffer) {
            Ok(0) => break verifier.finish(),
            Ok(n) => {
                if let Err(err) = verifier.update(&buffer[..n]) {
                    break Err(err);
                }
            }
            Err(err) => {
                eprintln!("error: cannot read {}: {err}", file.display());
                return ExitCode::FAILURE;
            }
        }
    };
    match verdict {
        Ok(verified) => {
            let m = &verified.manifest;
            println!(
                "OK {}",
                shared::patch::display_name(m.product_version, m.patch, &m.build)
            );
            println!("  title:            {}", m.title);
            println!("  released:         {}", m.released);
            println!("  updates:          {:?}", m.updates);
            if let Some(client) = m.client_version {
                println!("  client version:   {client}");
            }
            println!("  restart:          {:?}", m.restart);
            println!("  database changes: {}", m.database_changes);
            println!("  rollback:         {}", m.rollback);
            println!("  signed by:        {}", m.key_id);
            println!(
                "  payload:          {} file(s), {} bytes",
                m.files.len(),
                m.payload_size()
            );
            println!(
                "  package:          {} bytes, sha256 {}",
                verified.size, verified.sha256
            );
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("rejected: {}: {}", err.code, err.message);
            ExitCode::FAILURE
        }
    }
}
