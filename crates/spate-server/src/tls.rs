//! TLS on the one listener: rustls (ring provider) with ALPN `h2` and `http/1.1`.
//!
//! The certificate and key come from PEM files, or, when neither is configured, a self-signed
//! certificate for `localhost`, `127.0.0.1` and `::1` is made at start-up. Its PEM is written to
//! `<data_dir>/tls/self-signed.pem` so clients can trust it (`AWS_CA_BUNDLE`,
//! `NODE_EXTRA_CA_CERTS`, boto3's `verify=`), and its SHA-256 fingerprint is logged. A new one is
//! made on every start; its private key never touches the disk.
//!
//! After the handshake ([`Tls::accept`], bounded by `limits.tls_handshake_timeout_secs`), the
//! connection is served like a cleartext one by [`crate::listener`], whose builder picks HTTP/2
//! from the connection preface rather than from ALPN, so clients that speak HTTP/2 over TLS
//! without ALPN (older Java SDKs, by prior knowledge) are served too.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::server::TlsStream;
use tracing::{debug, info};

use crate::config::TlsSettings;

/// Names the generated certificate is valid for.
pub const SELF_SIGNED_NAMES: &[&str] = &["localhost", "127.0.0.1", "::1"];

/// ALPN protocols offered, in order of preference.
pub const ALPN_PROTOCOLS: &[&[u8]] = &[b"h2", b"http/1.1"];

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read TLS {what} {path}: {message}")]
    Pem {
        what: &'static str,
        path: PathBuf,
        message: String,
    },
    #[error("tls.cert and tls.key go together: give both, or neither for a self-signed one")]
    Incomplete,
    #[error("TLS certificate file {0} holds no certificate")]
    NoCertificate(PathBuf),
    #[error("cannot generate a self-signed certificate: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("cannot write the self-signed certificate to {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("TLS configuration refused: {0}")]
    Rustls(#[from] rustls::Error),
}

/// A ready TLS acceptor, and where the self-signed certificate was written if one was made.
#[derive(Clone)]
pub struct Tls {
    acceptor: TlsAcceptor,
    /// The PEM of a generated certificate; `None` with configured files.
    pub self_signed_pem: Option<PathBuf>,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls")
            .field("self_signed_pem", &self.self_signed_pem)
            .finish_non_exhaustive()
    }
}

impl Tls {
    /// Loads the configured certificate and key, or makes a self-signed pair under `data_dir`.
    pub fn prepare(settings: &TlsSettings, data_dir: &Path) -> Result<Tls, TlsError> {
        let (chain, key, self_signed_pem) = match (&settings.cert, &settings.key) {
            (Some(cert), Some(key)) => {
                let (chain, key) = read_pem(cert, key)?;
                info!(cert = %cert.display(), fingerprint = %fingerprint(&chain[0]), "tls certificate loaded");
                (chain, key, None)
            }
            (None, None) => {
                let (chain, key, path) = self_signed(data_dir)?;
                (chain, key, Some(path))
            }
            _ => return Err(TlsError::Incomplete),
        };
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(chain, key)?;
        config.alpn_protocols = ALPN_PROTOCOLS.iter().map(|p| p.to_vec()).collect();
        Ok(Tls {
            acceptor: TlsAcceptor::from(Arc::new(config)),
            self_signed_pem,
        })
    }

    /// Completes the TLS handshake of an accepted connection within `timeout`; `None` (logged
    /// at debug level) when the client fails or takes too long.
    pub(crate) async fn accept(
        &self,
        tcp: TcpStream,
        peer: SocketAddr,
        timeout: Duration,
    ) -> Option<TlsStream<TcpStream>> {
        let stream = match tokio::time::timeout(timeout, self.acceptor.accept(tcp)).await {
            Ok(Ok(stream)) => stream,
            Ok(Err(err)) => {
                debug!(peer = %peer, error = %err, "tls handshake failed");
                return None;
            }
            Err(_) => {
                debug!(peer = %peer, "tls handshake timed out");
                return None;
            }
        };
        let alpn = stream
            .get_ref()
            .1
            .alpn_protocol()
            .map(|p| String::from_utf8_lossy(p).into_owned());
        debug!(peer = %peer, alpn = alpn.as_deref().unwrap_or("-"), "tls connection");
        Some(stream)
    }
}

type Chain = Vec<CertificateDer<'static>>;

fn read_pem(cert: &Path, key: &Path) -> Result<(Chain, PrivateKeyDer<'static>), TlsError> {
    let pem_error = |what: &'static str, path: &Path| {
        let path = path.to_path_buf();
        move |err: rustls::pki_types::pem::Error| TlsError::Pem {
            what,
            path,
            message: err.to_string(),
        }
    };
    let chain = CertificateDer::pem_file_iter(cert)
        .map_err(pem_error("certificate", cert))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(pem_error("certificate", cert))?;
    if chain.is_empty() {
        return Err(TlsError::NoCertificate(cert.to_path_buf()));
    }
    let key = PrivateKeyDer::from_pem_file(key).map_err(pem_error("key", key))?;
    Ok((chain, key))
}

/// Makes a certificate for [`SELF_SIGNED_NAMES`] and writes its PEM to
/// `<data_dir>/tls/self-signed.pem`.
fn self_signed(data_dir: &Path) -> Result<(Chain, PrivateKeyDer<'static>, PathBuf), TlsError> {
    let names: Vec<String> = SELF_SIGNED_NAMES.iter().map(|n| n.to_string()).collect();
    let certified = rcgen::generate_simple_self_signed(names)?;
    let dir = data_dir.join("tls");
    let path = dir.join("self-signed.pem");
    std::fs::create_dir_all(&dir)
        .and_then(|()| std::fs::write(&path, certified.cert.pem()))
        .map_err(|source| TlsError::Write {
            path: path.clone(),
            source,
        })?;
    let cert = certified.cert.der().clone();
    // Printed in full, so it can be pasted after --ca-bundle from any directory.
    let shown = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
    info!(
        pem = %shown.display(),
        fingerprint = %fingerprint(&cert),
        names = ?SELF_SIGNED_NAMES,
        "generated a self-signed tls certificate; clients trust it with `aws --ca-bundle <pem>`, \
         boto3 `verify=<pem>`, AWS_CA_BUNDLE=<pem> or NODE_EXTRA_CA_CERTS=<pem>"
    );
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        certified.signing_key.serialize_der(),
    ));
    Ok((vec![cert], key, path))
}

/// The SHA-256 fingerprint of a certificate, as `AA:BB:...` (the form `openssl x509 -fingerprint
/// -sha256` prints).
pub fn fingerprint(cert: &CertificateDer<'_>) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, cert.as_ref());
    let hex: Vec<String> = digest.as_ref().iter().map(|b| format!("{b:02X}")).collect();
    hex.join(":")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_are_colon_separated_sha256() {
        let cert = CertificateDer::from(b"abc".to_vec());
        assert_eq!(
            fingerprint(&cert),
            "BA:78:16:BF:8F:01:CF:EA:41:41:40:DE:5D:AE:22:23:B0:03:61:A3:96:17:7A:9C:B4:10:FF:61:F2:00:15:AD"
        );
    }

    #[test]
    fn a_self_signed_certificate_is_written_and_configured_files_are_read() {
        let dir = tempfile::tempdir().expect("tempdir");
        let tls = Tls::prepare(&TlsSettings::default(), dir.path()).expect("self-signed");
        let pem = tls.self_signed_pem.expect("a pem was written");
        assert_eq!(pem, dir.path().join("tls/self-signed.pem"));

        // The written certificate, with a key of its own, loads as configured files.
        let certified =
            rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).expect("generate");
        let cert = dir.path().join("cert.pem");
        let key = dir.path().join("key.pem");
        std::fs::write(&cert, certified.cert.pem()).expect("write");
        std::fs::write(&key, certified.signing_key.serialize_pem()).expect("write");
        let settings = TlsSettings {
            enabled: true,
            cert: Some(cert.clone()),
            key: Some(key),
        };
        let tls = Tls::prepare(&settings, dir.path()).expect("files");
        assert!(tls.self_signed_pem.is_none());

        let settings = TlsSettings {
            key: Some(cert.clone()),
            ..settings
        };
        let err = Tls::prepare(&settings, dir.path()).expect_err("a certificate is no key");
        assert!(err.to_string().contains("key"), "{err}");

        let settings = TlsSettings {
            key: None,
            ..settings
        };
        let err = Tls::prepare(&settings, dir.path()).expect_err("a certificate needs its key");
        assert!(matches!(err, TlsError::Incomplete), "{err}");
    }
}
