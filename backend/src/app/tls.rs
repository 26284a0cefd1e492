//! Serving HTTPS: the server's certificate (the one given with `--tls-cert`/`--tls-key`, or a
//! self-signed one made on the first start and kept in the data dir) and the TLS acceptor that
//! serves it (and whatever an admin replaces it with).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;

use crate::app::demo::write_private_file;
use crate::config::{Config, Transport};
use crate::net::install_tls_provider;
use crate::service::certificate::ServerCertificate;

/// The folder of the data dir holding the self-signed certificate.
pub const TLS_DIR: &str = "tls";
const CERT_FILE: &str = "cert.pem";
const KEY_FILE: &str = "key.pem";

/// What the server serves HTTPS with.
#[derive(Clone)]
pub struct ServerTls {
    pub acceptor: tokio_rustls::TlsAcceptor,
    /// The certificate served, which an admin may replace while the server runs.
    pub certificate: ServerCertificate,
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
    let certificate = ServerCertificate::load(&cert_file, &key_file).with_context(|| {
        format!(
            "cannot serve HTTPS with {} and {}",
            cert_file.display(),
            key_file.display()
        )
    })?;
    let server = certificate.server_config().context("cannot set up TLS")?;
    Ok(Some(ServerTls {
        acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(server)),
        certificate,
    }))
}

/// Where the self-signed certificate and its key are kept in `data_dir`.
pub fn self_signed_files(data_dir: &Path) -> (PathBuf, PathBuf) {
    let dir = data_dir.join(TLS_DIR);
    (dir.join(CERT_FILE), dir.join(KEY_FILE))
}

/// The data dir's self-signed certificate and key, made for this host's names and addresses
/// when they are not there yet (the key readable by this user only).
fn self_signed(config: &Config) -> anyhow::Result<(PathBuf, PathBuf)> {
    let dir = config.storage.data_dir.join(TLS_DIR);
    let (cert_file, key_file) = self_signed_files(&config.storage.data_dir);
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
    crate::storage::files::write_synced(&cert_file, cert.pem().as_bytes())
        .with_context(|| format!("cannot write {}", cert_file.display()))?;
    tracing::info!(
        names = %names.join(", "),
        file = %cert_file.display(),
        "made a self-signed certificate: replace it with one your browsers trust"
    );
    Ok((cert_file, key_file))
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
