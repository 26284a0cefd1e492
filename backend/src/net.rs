//! How this process makes TLS connections: the crypto provider it installs, and how its HTTP
//! clients trust the HTTPS servers they call: the system's roots, plus a CA file, or one
//! certificate pinned by its SHA-256 fingerprint (the peer node of an HA cluster, a server the
//! CLI talks to). A pinned certificate is the only one accepted, whatever names it holds.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{WebPkiSupportedAlgorithms, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};
use sha2::{Digest, Sha256};

/// Installs ring as the process's TLS crypto provider (the only one built in). Every process
/// calls it before it makes its first HTTP client or TLS configuration; later calls do nothing.
pub fn install_tls_provider() {
    // An error only says a provider is installed already: the same one, as it is the only one.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Whom to trust beyond the system's roots.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Trust {
    /// PEM file of the CA certificate(s) that also sign the servers called.
    pub ca_file: Option<PathBuf>,
    /// The one certificate accepted: the SHA-256 of its DER bytes.
    pub fingerprint: Option<[u8; 32]>,
}

/// `AB:CD:...` (as `sms serve` prints it and browsers show it) or 64 hex digits: 32 bytes.
pub fn parse_fingerprint(text: &str) -> anyhow::Result<[u8; 32]> {
    let digits: String = text.trim().chars().filter(|c| *c != ':').collect();
    let bytes = hex::decode(&digits).ok().filter(|bytes| bytes.len() == 32);
    let Some(bytes) = bytes else {
        anyhow::bail!(
            "`{text}` is not a SHA-256 fingerprint: give 32 bytes in hex, e.g. as `sms serve` \
             prints it (AB:CD:...)"
        );
    };
    let mut pin = [0u8; 32];
    pin.copy_from_slice(&bytes);
    Ok(pin)
}

/// `builder` trusting what `trust` says (HTTPS; plain HTTP is not affected).
pub fn trusting(
    builder: reqwest::ClientBuilder,
    trust: &Trust,
) -> anyhow::Result<reqwest::ClientBuilder> {
    install_tls_provider();
    if let Some(pin) = trust.fingerprint {
        let provider = rustls::crypto::ring::default_provider();
        let verifier = Pinned {
            sha256: pin,
            algorithms: provider.signature_verification_algorithms,
        };
        let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(provider))
            .with_safe_default_protocol_versions()
            .context("cannot set up TLS")?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        return Ok(builder.tls_backend_preconfigured(config));
    }
    if let Some(file) = &trust.ca_file {
        let pem = std::fs::read(file)
            .with_context(|| format!("cannot read the CA file {}", file.display()))?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem)
            .with_context(|| format!("{} holds no PEM certificate", file.display()))?;
        anyhow::ensure!(!certs.is_empty(), "{} holds no certificate", file.display());
        return Ok(builder.tls_certs_merge(certs));
    }
    Ok(builder)
}

/// Accepts exactly the certificate with this SHA-256 (its signatures still checked).
#[derive(Debug)]
struct Pinned {
    sha256: [u8; 32],
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if Sha256::digest(end_entity.as_ref()).as_slice() == self.sha256 {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::ApplicationVerificationFailure,
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_parse_with_or_without_colons() {
        let hex = "AB".repeat(32);
        let colons = vec!["ab"; 32].join(":");
        assert_eq!(parse_fingerprint(&hex).unwrap(), [0xAB; 32]);
        assert_eq!(parse_fingerprint(&colons).unwrap(), [0xAB; 32]);
        assert!(parse_fingerprint("AB:CD").is_err());
        assert!(parse_fingerprint(&"ZZ".repeat(32)).is_err());
    }
}
