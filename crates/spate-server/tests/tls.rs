//! TLS on the real listener: a server started from the configuration with a generated
//! self-signed certificate, driven by a hyper client over tokio-rustls that trusts the written
//! PEM, over ALPN `h2`, ALPN `http/1.1`, and HTTP/2 prior knowledge without ALPN (older Java
//! SDKs). Then a graceful shutdown with connections still open.

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper::body::Bytes;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::Value;
use spate_server::{Overrides, ServerConfig, Spate};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{self, ClientConfig, RootCertStore};

struct Server {
    address: SocketAddr,
    pem: std::path::PathBuf,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<(), spate_server::ServerError>>,
    _dir: tempfile::TempDir,
}

async fn start_tls() -> Server {
    let dir = tempfile::tempdir().expect("tempdir");
    let env = [("SPATE_STREAM_CREATE_DELAY_MS".to_string(), "0".to_string())];
    let overrides = Overrides {
        listen: Some("127.0.0.1:0".into()),
        data_dir: Some(dir.path().to_path_buf()),
        tls: Some("on".into()),
        ..Overrides::default()
    };
    let config = ServerConfig::load(None, env, &overrides).expect("config");
    let spate = Spate::open(config).await.expect("open");
    let pem = spate
        .tls()
        .and_then(|tls| tls.self_signed_pem.clone())
        .expect("a self-signed certificate was written");
    assert_eq!(pem, dir.path().join("tls/self-signed.pem"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(spate.serve(listener, async move {
        let _ = stopped.await;
    }));
    Server {
        address,
        pem,
        stop,
        task,
        _dir: dir,
    }
}

async fn connect(
    address: SocketAddr,
    pem: &Path,
    server_name: &str,
    alpn: &[&[u8]],
) -> TlsStream<TcpStream> {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(pem).expect("pem") {
        roots.add(cert.expect("certificate")).expect("trusted");
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    let tcp = TcpStream::connect(address).await.expect("connect");
    let name = ServerName::try_from(server_name.to_string()).expect("server name");
    TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .expect("the generated certificate is trusted for this name")
}

fn kinesis(uri: &str, operation: &str, body: &str) -> Request<Full<Bytes>> {
    let mut request = Request::post(uri)
        .header("host", "localhost")
        .header("x-amz-target", format!("Kinesis_20131202.{operation}"))
        .header("content-type", "application/x-amz-json-1.1")
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("request");
    common::sign(&mut request, body.as_bytes());
    request
}

async fn json(response: hyper::Response<hyper::body::Incoming>) -> (u16, hyper::Version, Value) {
    let status = response.status().as_u16();
    let version = response.version();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, version, body)
}

/// A client connection of either version that sends requests.
enum Sender {
    H2(hyper::client::conn::http2::SendRequest<Full<Bytes>>),
    H1(hyper::client::conn::http1::SendRequest<Full<Bytes>>),
}

impl Sender {
    async fn h2(stream: TlsStream<TcpStream>) -> Sender {
        let (sender, connection) =
            hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
                .await
                .expect("h2 handshake");
        tokio::spawn(connection);
        Sender::H2(sender)
    }

    async fn h1(stream: TlsStream<TcpStream>) -> Sender {
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .expect("http/1.1 handshake");
        tokio::spawn(connection);
        Sender::H1(sender)
    }

    async fn call(&mut self, operation: &str, body: &str) -> (u16, hyper::Version, Value) {
        let response = match self {
            Sender::H2(sender) => sender
                .send_request(kinesis("https://localhost/", operation, body))
                .await
                .expect("h2 response"),
            Sender::H1(sender) => sender
                .send_request(kinesis("/", operation, body))
                .await
                .expect("http/1.1 response"),
        };
        json(response).await
    }

    /// CreateStream then ListStreams, each answered in `version`.
    async fn create_and_list(&mut self, stream: &str, version: hyper::Version) {
        let create = format!(r#"{{"StreamName":"{stream}","ShardCount":1}}"#);
        let (status, answered_in, body) = self.call("CreateStream", &create).await;
        assert_eq!((status, answered_in), (200, version), "{body}");
        let (status, answered_in, body) = self.call("ListStreams", "{}").await;
        assert_eq!((status, answered_in), (200, version), "{body}");
        let names = body["StreamNames"].as_array().expect("StreamNames");
        assert!(names.iter().any(|name| name == stream), "{body}");
    }
}

#[tokio::test]
async fn tls_serves_alpn_h2_alpn_http1_and_h2_prior_knowledge_then_shuts_down_gracefully() {
    let server = start_tls().await;

    // (a) ALPN h2, offered before http/1.1 as the AWS SDKs do.
    let stream = connect(
        server.address,
        &server.pem,
        "localhost",
        &[b"h2", b"http/1.1"],
    )
    .await;
    assert_eq!(stream.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    let mut h2 = Sender::h2(stream).await;
    h2.create_and_list("over-alpn-h2", hyper::Version::HTTP_2)
        .await;

    // (b) ALPN http/1.1, to the IP address the certificate also names.
    let stream = connect(server.address, &server.pem, "127.0.0.1", &[b"http/1.1"]).await;
    assert_eq!(stream.get_ref().1.alpn_protocol(), Some(&b"http/1.1"[..]));
    let mut h1 = Sender::h1(stream).await;
    h1.create_and_list("over-alpn-http1", hyper::Version::HTTP_11)
        .await;

    // (c) No ALPN at all, HTTP/2 by prior knowledge (the connection preface).
    let stream = connect(server.address, &server.pem, "localhost", &[]).await;
    assert_eq!(stream.get_ref().1.alpn_protocol(), None);
    let mut prior = Sender::h2(stream).await;
    prior
        .create_and_list("over-prior-knowledge", hyper::Version::HTTP_2)
        .await;

    // No ALPN and HTTP/1.1 works too.
    let stream = connect(server.address, &server.pem, "localhost", &[]).await;
    let mut plain_h1 = Sender::h1(stream).await;
    let (status, version, _) = plain_h1.call("ListStreams", "{}").await;
    assert_eq!((status, version), (200, hyper::Version::HTTP_11));

    // Shutdown ends with the connections above still open (idle).
    server.stop.send(()).expect("server running");
    let served = tokio::time::timeout(Duration::from_secs(10), server.task)
        .await
        .expect("graceful shutdown does not wait on idle connections")
        .expect("server task");
    served.expect("server ended cleanly");
}

#[tokio::test]
async fn a_client_that_does_not_trust_the_certificate_is_refused() {
    let server = start_tls().await;
    let other = tempfile::tempdir().expect("tempdir");
    let pem = other.path().join("other.pem");
    let certified =
        rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).expect("generate");
    std::fs::write(&pem, certified.cert.pem()).expect("write");

    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(&pem).expect("pem") {
        roots.add(cert.expect("certificate")).expect("trusted");
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    let tcp = TcpStream::connect(server.address).await.expect("connect");
    let name = ServerName::try_from("localhost").expect("server name");
    let refused = TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await;
    assert!(refused.is_err(), "another certificate is not trusted");

    // Cleartext HTTP to the TLS port gets no HTTP answer.
    let mut tcp = TcpStream::connect(server.address).await.expect("connect");
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    tcp.write_all(b"GET /health HTTP/1.1\r\nhost: localhost\r\n\r\n")
        .await
        .expect("write");
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), tcp.read_to_end(&mut answer)).await;
    assert!(!answer.starts_with(b"HTTP/"), "{answer:?}");

    server.stop.send(()).expect("server running");
    server.task.await.expect("task").expect("clean");
}
