//! Serving HTTPS: the server's certificate (the one given with `--tls-cert`/`--tls-key`, or a
//! self-signed one made on the first start and kept in the data dir), the TLS acceptor, and the
//! certificate's SHA-256 fingerprint, printed with the ready line so an admin can check what
//! the browser shows.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use sha2::{Digest, Sha256};

use crate::app::demo::write_private_file;
use crate::config::{Config, Transport, install_tls_provider};

/// The folder of the data dir holding the self-signed certificate.
pub const TLS_DIR: &str = "tls";
const CERT_FILE: &str = "cert.pem";
const KEY_FILE: &str = "key.pem";

/// What the server serves HTTPS with.
#[derive(Clone)]
pub struct ServerTls {
    pub acceptor: tokio_rustls::TlsAcceptor,
    /// SHA-256 of the leaf certificate, as `AB:CD:...`.
    pub fingerprint: String,
    /// Where the certificate is.
    pub cert_file: PathBuf,
}

/// The TLS the configuration asks for: none (plain HTTP), the given certificate, or the
/// self-signed one (made now when the data dir has none).
pub fn server_tls(config: &Config) -> anyhow::Result<Option<ServerTls>> {
    let (cert_file, key_file) = match &config.transport {
        Transport::Http => return Ok(None),
        Transport::Https { cert, key } => (cert.clone(), key.clone()),
        Transport::HttpsSelfSigned => self_signed(config)?,
    };
    install_tls_provider();
    let chain = CertificateDer::pem_file_iter(&cert_file)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .with_context(|| {
            format!(
                "cannot read the certificate chain {} (PEM, leaf first)",
                cert_file.display()
            )
        })?;
    let Some(leaf) = chain.first() else {
        anyhow::bail!("{} holds no certificate", cert_file.display());
    };
    let fingerprint = fingerprint(leaf.as_ref());
    let key = PrivateKeyDer::from_pem_file(&key_file)
        .with_context(|| format!("cannot read the private key {} (PEM)", key_file.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut server = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("cannot set up TLS")?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .with_context(|| {
            format!(
                "the key {} does not fit the certificate {}",
                key_file.display(),
                cert_file.display()
            )
        })?;
    server.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Some(ServerTls {
        acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(server)),
        fingerprint,
        cert_file,
    }))
}

/// `AB:CD:...`: the SHA-256 of a certificate's DER bytes, as browsers show it.
pub fn fingerprint(der: &[u8]) -> String {
    Sha256::digest(der)
        .iter()
        .map(|byte| format!("{byte:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// The data dir's self-signed certificate and key, made for this host's names and addresses
/// when they are not there yet (the key readable by this user only).
fn self_signed(config: &Config) -> anyhow::Result<(PathBuf, PathBuf)> {
    let dir = config.storage.data_dir.join(TLS_DIR);
    let (cert_file, key_file) = (dir.join(CERT_FILE), dir.join(KEY_FILE));
    if cert_file.exists() && key_file.exists() {
        return Ok((cert_file, key_file));
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let names = host_names_and_addresses(config);
    let key = rcgen::KeyPair::generate().context("cannot make a key for the certificate")?;
    let mut params = rcgen::CertificateParams::new(names.clone())
        .context("cannot describe the self-signed certificate")?;
    params.distinguished_name.push(
        rcgen::DnType::CommonName,
        names.first().cloned().unwrap_or_else(|| "sms".into()),
    );
    params
        .distinguished_name
        .push(rcgen::DnType::OrganizationName, "SMS (self-signed)");
    let now = chrono::Utc::now();
    let today = now.date_naive();
    use chrono::Datelike;
    params.not_before = rcgen::date_time_ymd(today.year(), today.month() as u8, 1);
    params.not_after = rcgen::date_time_ymd(today.year() + 10, today.month() as u8, 1);
    let cert = params
        .self_signed(&key)
        .context("cannot sign the self-signed certificate")?;
    write_private_file(&key_file, &key.serialize_pem())?;
    write_new_file(&cert_file, &cert.pem())?;
    tracing::info!(
        names = %names.join(", "),
        file = %cert_file.display(),
        "made a self-signed certificate: replace it with one your browsers trust"
    );
    Ok((cert_file, key_file))
}

fn write_new_file(path: &Path, contents: &str) -> anyhow::Result<()> {
    let temporary = path.with_extension("pem.tmp");
    std::fs::write(&temporary, contents)
        .and_then(|()| std::fs::rename(&temporary, path))
        .with_context(|| format!("cannot write {}", path.display()))
}

/// The names a browser may reach this server by: its host name, `localhost`, the listen
/// address (when it is one), the host name's addresses, and the loopback addresses.
fn host_names_and_addresses(config: &Config) -> Vec<String> {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| name.trim().to_owned())
        .unwrap_or_default();
    let mut names = Vec::new();
    let mut add = |name: String| {
        if !name.is_empty() && !names.contains(&name) {
            names.push(name);
        }
    };
    add(host.clone());
    add("localhost".into());
    if !config.listen.ip().is_unspecified() {
        add(config.listen.ip().to_string());
    }
    if !host.is_empty()
        && let Ok(addresses) = std::net::ToSocketAddrs::to_socket_addrs(&(host.as_str(), 0))
    {
        for address in addresses {
            add(address.ip().to_string());
        }
    }
    add("127.0.0.1".into());
    add("::1".into());
    names
}
