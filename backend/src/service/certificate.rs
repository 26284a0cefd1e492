//! The server's HTTPS certificate: the chain and key it serves, read from their files at
//! start, and replaced by an admin while the server runs. A replacement is checked first (the
//! key belongs to the certificate, it is valid now, it names this server), written to the same
//! files, and then served to every new connection; connections already open finish on the
//! certificate they started with.
//!
//! The files are replaced through `cert.pem.new` / `key.pem.new`: both are written and synced,
//! then renamed key first. A stop between the two renames is finished at the next start (the
//! pair of new files is complete and matches), so the server never comes up with a certificate
//! and a key that do not belong together.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use sha2::{Digest, Sha256};
use shared::tls::{CertificateInfo, CertificateUpload};

use crate::service::{Audit, AuditEvent};
use crate::storage::files::{sync_dir, write_private, write_synced};

/// What a certificate or its replacement can fail with; each has its own API code.
#[derive(Debug, thiserror::Error)]
pub enum CertificateError {
    #[error("{0}")]
    CertificateUnreadable(String),
    #[error("{0}")]
    KeyUnreadable(String),
    #[error(
        "The private key does not belong to the certificate: upload the key that was made \
         together with the certificate's signing request."
    )]
    KeyMismatch,
    #[error(
        "The certificate expired on {not_after} (UTC): ask your certificate authority for a new \
         one."
    )]
    Expired { not_after: String },
    #[error(
        "The certificate is valid only from {not_before} (UTC): upload it then, or check this \
         server's clock."
    )]
    NotYetValid { not_before: String },
    #[error(
        "The certificate is for {names}, not for {reached_as}, the name this console is reached \
         by: browsers would refuse it. Upload a certificate whose names include {reached_as}."
    )]
    NameMismatch { names: String, reached_as: String },
    #[error(
        "This server serves plain HTTP, so it has no certificate to replace: start it with \
         --tls-cert and --tls-key, or listen on a non-loopback address."
    )]
    NotServingHttps,
    #[error("Cannot save the new certificate ({0}). The current one is still served.")]
    NotSaved(String),
}

/// The certificate served over HTTPS; cheap to clone (one certificate per process).
#[derive(Clone)]
pub struct ServerCertificate {
    inner: Arc<Inner>,
}

struct Inner {
    cert_file: PathBuf,
    key_file: PathBuf,
    provider: Arc<CryptoProvider>,
    current: RwLock<Arc<Served>>,
    /// One replacement at a time (the files are written in place).
    replacing: tokio::sync::Mutex<()>,
}

/// A chain and key in use, with what the API shows of them.
struct Served {
    key: Arc<CertifiedKey>,
    details: Details,
}

/// The parts of [`CertificateInfo`] that do not depend on the time asked.
#[derive(Debug, Clone)]
struct Details {
    subject: String,
    issuer: String,
    names: Vec<String>,
    not_before: DateTime<Utc>,
    not_after: DateTime<Utc>,
    fingerprint_sha256: String,
    self_signed: bool,
    chain_length: usize,
}

impl std::fmt::Debug for ServerCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerCertificate")
            .field("cert_file", &self.inner.cert_file)
            .field("fingerprint", &self.fingerprint())
            .finish_non_exhaustive()
    }
}

impl ServerCertificate {
    /// Reads the chain and key from their files (finishing a replacement a stop cut short).
    pub fn load(cert_file: &Path, key_file: &Path) -> Result<Self, CertificateError> {
        finish_replacement(cert_file, key_file);
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let chain_pem = std::fs::read(cert_file).map_err(|err| {
            CertificateError::CertificateUnreadable(format!(
                "Cannot read the certificate chain {}: {err}.",
                cert_file.display()
            ))
        })?;
        let key_pem = std::fs::read(key_file).map_err(|err| {
            CertificateError::KeyUnreadable(format!(
                "Cannot read the private key {}: {err}.",
                key_file.display()
            ))
        })?;
        let served = served(&chain_pem, &key_pem, &provider)?;
        let now = Utc::now();
        if served.details.not_after < now {
            tracing::warn!(
                file = %cert_file.display(),
                not_after = %served.details.not_after,
                "the server's certificate has expired: browsers refuse it; replace it in \
                 Admin > General > Server certificate"
            );
        } else if shared::tls::expires_soon(served.details.not_after, now) {
            tracing::warn!(
                file = %cert_file.display(),
                not_after = %served.details.not_after,
                "the server's certificate expires soon: replace it in Admin > General > Server \
                 certificate"
            );
        }
        Ok(Self {
            inner: Arc::new(Inner {
                cert_file: cert_file.to_owned(),
                key_file: key_file.to_owned(),
                provider,
                current: RwLock::new(Arc::new(served)),
                replacing: tokio::sync::Mutex::new(()),
            }),
        })
    }

    /// The TLS configuration that serves this certificate, the current one at every handshake.
    pub fn server_config(&self) -> Result<rustls::ServerConfig, rustls::Error> {
        let mut config = rustls::ServerConfig::builder_with_provider(self.inner.provider.clone())
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_cert_resolver(Arc::new(Resolver(self.inner.clone())));
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(config)
    }

    /// Where the certificate chain is kept.
    pub fn cert_file(&self) -> &Path {
        &self.inner.cert_file
    }

    /// SHA-256 of the certificate served now, `AB:CD:...`.
    pub fn fingerprint(&self) -> String {
        self.current().details.fingerprint_sha256.clone()
    }

    /// What the API shows of the certificate served now, its expiry counted from `now`.
    pub fn info(&self, now: DateTime<Utc>) -> CertificateInfo {
        self.current().details.info(now)
    }

    /// Checks `upload` and, when it passes, saves it and serves it from the next connection
    /// on. `reached_as` is the name (or address) the admin reaches this console by: the
    /// certificate must hold it. Audited either way.
    pub async fn replace(
        &self,
        upload: &CertificateUpload,
        reached_as: &str,
        audit: &Audit,
        actor: &str,
        source: Option<String>,
    ) -> Result<CertificateInfo, CertificateError> {
        let _one_at_a_time = self.inner.replacing.lock().await;
        let now = Utc::now();
        let replaced = self.check_and_save(upload, reached_as, now).await;
        let event = match &replaced {
            Ok(details) => AuditEvent::success("certificate_replace", actor).details(format!(
                "now serving {} ({}), valid until {}, SHA-256 {}",
                details.subject,
                details.names.join(", "),
                details.not_after.format("%Y-%m-%d"),
                details.fingerprint_sha256
            )),
            Err(err) => AuditEvent::failure("certificate_replace", actor).details(err.to_string()),
        };
        let event = event.target("server certificate").source(source);
        if let Err(err) = audit.record(event).await {
            tracing::error!("cannot record the certificate replacement in the audit log: {err}");
        }
        let details = replaced?;
        tracing::info!(
            subject = %details.subject,
            fingerprint = %details.fingerprint_sha256,
            "serving a new certificate"
        );
        Ok(details.info(now))
    }

    async fn check_and_save(
        &self,
        upload: &CertificateUpload,
        reached_as: &str,
        now: DateTime<Utc>,
    ) -> Result<Details, CertificateError> {
        let served = served(
            upload.certificate.as_bytes(),
            upload.key.as_bytes(),
            &self.inner.provider,
        )?;
        served.check_valid_at(now)?;
        served.check_names(reached_as)?;
        let (cert_file, key_file) = (self.inner.cert_file.clone(), self.inner.key_file.clone());
        let (chain, key) = (upload.certificate.clone(), upload.key.clone());
        tokio::task::spawn_blocking(move || save(&cert_file, &key_file, &chain, &key))
            .await
            .map_err(|err| CertificateError::NotSaved(err.to_string()))??;
        let details = served.details.clone();
        *self
            .inner
            .current
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(served);
        Ok(details)
    }

    fn current(&self) -> Arc<Served> {
        self.inner.current()
    }
}

impl Inner {
    fn current(&self) -> Arc<Served> {
        self.current
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

/// Hands every handshake the certificate current at that moment.
#[derive(Debug)]
struct Resolver(Arc<Inner>);

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inner")
            .field("cert_file", &self.cert_file)
            .finish_non_exhaustive()
    }
}

impl ResolvesServerCert for Resolver {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.current().key.clone())
    }
}

impl Details {
    fn info(&self, now: DateTime<Utc>) -> CertificateInfo {
        CertificateInfo {
            subject: self.subject.clone(),
            issuer: self.issuer.clone(),
            names: self.names.clone(),
            not_before: self.not_before,
            not_after: self.not_after,
            days_left: shared::tls::days_left(self.not_after, now),
            expires_soon: shared::tls::expires_soon(self.not_after, now),
            fingerprint_sha256: self.fingerprint_sha256.clone(),
            self_signed: self.self_signed,
            chain_length: self.chain_length,
        }
    }
}

impl Served {
    fn check_valid_at(&self, now: DateTime<Utc>) -> Result<(), CertificateError> {
        let in_words = |at: DateTime<Utc>| at.format("%Y-%m-%d %H:%M").to_string();
        if self.details.not_after < now {
            return Err(CertificateError::Expired {
                not_after: in_words(self.details.not_after),
            });
        }
        if self.details.not_before > now {
            return Err(CertificateError::NotYetValid {
                not_before: in_words(self.details.not_before),
            });
        }
        Ok(())
    }

    /// The certificate holds `reached_as` (a DNS name, wildcards as browsers match them, or
    /// an IP address), by the TLS layer's own rule.
    fn check_names(&self, reached_as: &str) -> Result<(), CertificateError> {
        let mismatch = || CertificateError::NameMismatch {
            names: if self.details.names.is_empty() {
                "no name at all".into()
            } else {
                self.details.names.join(", ")
            },
            reached_as: reached_as.to_owned(),
        };
        let name = ServerName::try_from(reached_as.to_owned()).map_err(|_| mismatch())?;
        let leaf = self.key.end_entity_cert().map_err(|_| mismatch())?;
        let leaf = webpki::EndEntityCert::try_from(leaf).map_err(|err| {
            CertificateError::CertificateUnreadable(format!(
                "The certificate cannot be used for a server ({err})."
            ))
        })?;
        leaf.verify_is_valid_for_subject_name(&name)
            .map_err(|_| mismatch())
    }
}

/// Parses a PEM chain and key into what is served, checking that the key belongs to the
/// leaf certificate.
fn served(
    chain_pem: &[u8],
    key_pem: &[u8],
    provider: &CryptoProvider,
) -> Result<Served, CertificateError> {
    let chain = CertificateDer::pem_slice_iter(chain_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|err| {
            CertificateError::CertificateUnreadable(format!(
                "The certificate chain is not PEM ({err}): give the certificates as \
                 -----BEGIN CERTIFICATE----- blocks, the server's own first."
            ))
        })?;
    let Some(leaf) = chain.first() else {
        return Err(CertificateError::CertificateUnreadable(
            "There is no -----BEGIN CERTIFICATE----- block: give the certificate chain as PEM, \
             the server's own certificate first."
                .into(),
        ));
    };
    let details = details(leaf, chain.len())?;
    for (position, cert) in chain.iter().enumerate().skip(1) {
        x509_parser::parse_x509_certificate(cert.as_ref()).map_err(|err| {
            CertificateError::CertificateUnreadable(format!(
                "Certificate {} of the chain is not an X.509 certificate ({err}).",
                position + 1
            ))
        })?;
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|err| {
        CertificateError::KeyUnreadable(format!(
            "The private key is not PEM ({err}): give it unencrypted, as the PEM block a \
             certificate tool writes for a PKCS#8, RSA or EC key."
        ))
    })?;
    let key = CertifiedKey::from_der(chain, key, provider).map_err(|err| match err {
        rustls::Error::InconsistentKeys(_) => CertificateError::KeyMismatch,
        other => CertificateError::KeyUnreadable(format!(
            "The private key cannot be used ({other}): give an RSA (2048 bits or more), ECDSA \
             P-256/P-384 or Ed25519 key."
        )),
    })?;
    Ok(Served {
        key: Arc::new(key),
        details,
    })
}

fn details(leaf: &CertificateDer<'_>, chain_length: usize) -> Result<Details, CertificateError> {
    let (_, cert) = x509_parser::parse_x509_certificate(leaf.as_ref()).map_err(|err| {
        CertificateError::CertificateUnreadable(format!(
            "The first certificate of the chain is not an X.509 certificate ({err})."
        ))
    })?;
    let time = |at: &x509_parser::time::ASN1Time| {
        DateTime::from_timestamp(at.timestamp(), 0).ok_or_else(|| {
            CertificateError::CertificateUnreadable(
                "The certificate's validity is out of any usable range.".into(),
            )
        })
    };
    let mut names = Vec::new();
    if let Ok(Some(alternative)) = cert.subject_alternative_name() {
        for name in &alternative.value.general_names {
            match name {
                x509_parser::extensions::GeneralName::DNSName(dns) => names.push((*dns).to_owned()),
                x509_parser::extensions::GeneralName::IPAddress(bytes) => {
                    if let Some(address) = ip_address(bytes) {
                        names.push(address.to_string());
                    }
                }
                _ => {}
            }
        }
    }
    Ok(Details {
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        names,
        not_before: time(&cert.validity().not_before)?,
        not_after: time(&cert.validity().not_after)?,
        fingerprint_sha256: fingerprint(leaf.as_ref()),
        self_signed: cert.subject().as_raw() == cert.issuer().as_raw(),
        chain_length,
    })
}

fn ip_address(bytes: &[u8]) -> Option<std::net::IpAddr> {
    if let Ok(v4) = <[u8; 4]>::try_from(bytes) {
        return Some(v4.into());
    }
    <[u8; 16]>::try_from(bytes).ok().map(Into::into)
}

/// `AB:CD:...`: the SHA-256 of a certificate's DER bytes, as browsers show it.
pub fn fingerprint(der: &[u8]) -> String {
    Sha256::digest(der)
        .iter()
        .map(|byte| format!("{byte:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn pending(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".new");
    PathBuf::from(name)
}

/// Writes the new chain and key beside the files in use, then renames them over them.
fn save(cert_file: &Path, key_file: &Path, chain: &str, key: &str) -> Result<(), CertificateError> {
    let failed = |path: &Path, err: std::io::Error| {
        CertificateError::NotSaved(format!(
            "{}: {err}; give the server's user write access to its folder",
            path.display()
        ))
    };
    let (new_cert, new_key) = (pending(cert_file), pending(key_file));
    write_private(&new_key, key.as_bytes()).map_err(|err| failed(&new_key, err))?;
    if let Err(err) = write_synced(&new_cert, chain.as_bytes()) {
        let _ = std::fs::remove_file(&new_key);
        return Err(failed(&new_cert, err));
    }
    std::fs::rename(&new_key, key_file).map_err(|err| failed(key_file, err))?;
    std::fs::rename(&new_cert, cert_file).map_err(|err| failed(cert_file, err))?;
    for dir in [cert_file.parent(), key_file.parent()]
        .into_iter()
        .flatten()
    {
        if let Err(err) = sync_dir(dir) {
            tracing::warn!("cannot sync {}: {err}", dir.display());
        }
    }
    Ok(())
}

/// A replacement cut short between its renames: when the new chain is still pending and it
/// belongs to the key in use (the key was renamed already), finishes it; pending files that
/// do not make a pair are removed.
fn finish_replacement(cert_file: &Path, key_file: &Path) {
    let (new_cert, new_key) = (pending(cert_file), pending(key_file));
    if !new_cert.exists() && !new_key.exists() {
        return;
    }
    let provider = rustls::crypto::ring::default_provider();
    let key_now = if new_key.exists() { &new_key } else { key_file };
    let pair = std::fs::read(&new_cert)
        .ok()
        .zip(std::fs::read(key_now).ok())
        .is_some_and(|(chain, key)| served(&chain, &key, &provider).is_ok());
    if pair {
        let renamed = (!new_key.exists() || std::fs::rename(&new_key, key_file).is_ok())
            && std::fs::rename(&new_cert, cert_file).is_ok();
        if renamed {
            tracing::warn!(
                file = %cert_file.display(),
                "finished replacing the certificate, which the last stop cut short"
            );
            return;
        }
    }
    for file in [new_cert, new_key] {
        let _ = std::fs::remove_file(file);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn made(names: &[&str]) -> (String, String) {
        let key = rcgen::KeyPair::generate().unwrap();
        let params = rcgen::CertificateParams::new(
            names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>(),
        )
        .unwrap();
        (params.self_signed(&key).unwrap().pem(), key.serialize_pem())
    }

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn a_replacement_cut_between_its_renames_is_finished_at_the_next_load() {
        let dir = tempfile::tempdir().unwrap();
        let (old_cert, old_key) = made(&["old.example"]);
        let (new_cert, new_key) = made(&["new.example"]);
        let cert = write(dir.path(), "cert.pem", &old_cert);
        // The key was renamed already; the new chain still waits beside the old one.
        let key = write(dir.path(), "key.pem", &new_key);
        write(dir.path(), "cert.pem.new", &new_cert);
        drop(old_key);
        let loaded = ServerCertificate::load(&cert, &key).unwrap();
        assert_eq!(loaded.info(Utc::now()).names, vec!["new.example"]);
        assert!(!dir.path().join("cert.pem.new").exists());
    }

    #[test]
    fn pending_files_that_do_not_make_a_pair_are_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let (old_cert, old_key) = made(&["old.example"]);
        let (new_cert, _) = made(&["new.example"]);
        let cert = write(dir.path(), "cert.pem", &old_cert);
        let key = write(dir.path(), "key.pem", &old_key);
        // A stop while the new chain was written: its key is another one.
        write(dir.path(), "cert.pem.new", &new_cert[..new_cert.len() / 2]);
        let loaded = ServerCertificate::load(&cert, &key).unwrap();
        assert_eq!(loaded.info(Utc::now()).names, vec!["old.example"]);
        assert!(!dir.path().join("cert.pem.new").exists());
    }

    #[test]
    fn names_are_checked_as_browsers_check_them() {
        let provider = rustls::crypto::ring::default_provider();
        let (cert, key) = made(&["*.example.com", "10.0.0.5"]);
        let served = served(cert.as_bytes(), key.as_bytes(), &provider).unwrap();
        assert!(served.check_names("sms.example.com").is_ok());
        assert!(served.check_names("10.0.0.5").is_ok());
        for other in [
            "example.com",
            "a.b.example.com",
            "10.0.0.6",
            "sms.example.org",
        ] {
            assert!(
                matches!(
                    served.check_names(other),
                    Err(CertificateError::NameMismatch { .. })
                ),
                "{other} accepted"
            );
        }
        assert_eq!(served.details.names, vec!["*.example.com", "10.0.0.5"]);
    }
}
