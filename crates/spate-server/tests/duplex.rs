//! Spike for PutMedia (Kinesis Video): through Spate's own listener and its limits wrappers,
//! an HTTP/1.1 handler can answer 200 and stream response pieces while the chunked request
//! body is still arriving (full duplex), and it sees the `transfer-encoding` header the
//! producer SDK signs. A raw socket plays the producer: it sends one chunk, waits for that
//! chunk's acknowledgement, then sends the next.

use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::Response;
use axum::routing::post;
use futures::StreamExt;
use spate_server::limits::LimitSettings;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Answers at once, then one line `ack <n> <bytes>` per request body piece as it arrives.
async fn acks(headers: HeaderMap, body: Body) -> Response {
    let saw = headers
        .get("transfer-encoding")
        .cloned()
        .unwrap_or(HeaderValue::from_static("absent"));
    let lines = body.into_data_stream().enumerate().map(|(index, piece)| {
        let length = piece.map(|bytes| bytes.len()).unwrap_or_default();
        Ok::<_, std::convert::Infallible>(Bytes::from(format!("ack {} {length}\n", index + 1)))
    });
    let mut response = Response::new(Body::from_stream(lines));
    response
        .headers_mut()
        .insert("x-saw-transfer-encoding", saw);
    response
}

/// Reads from `socket` until `received` contains `needle`, failing after 5 s.
async fn read_until(socket: &mut TcpStream, received: &mut Vec<u8>, needle: &str) {
    let wait = async {
        while !String::from_utf8_lossy(received).contains(needle) {
            let mut buffer = [0_u8; 4096];
            let read = socket.read(&mut buffer).await.expect("read");
            assert!(read > 0, "connection closed before {needle:?}");
            received.extend_from_slice(&buffer[..read]);
        }
    };
    tokio::time::timeout(Duration::from_secs(5), wait)
        .await
        .unwrap_or_else(|_| panic!("no {needle:?} within 5 s; got {received:?}"));
}

#[tokio::test]
async fn acknowledgements_flow_while_the_chunked_body_still_arrives() {
    let app = Router::new().route("/putMedia", post(acks));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    let limits = LimitSettings {
        max_header_bytes: 16_384,
        header_read_timeout_secs: 10,
        body_read_timeout_secs: 10,
        idle_timeout_secs: 10,
        tls_handshake_timeout_secs: 10,
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        spate_server::listener::serve(listener, app, None, &limits, async {
            let _ = stopped.await;
        })
        .await
    });

    let mut socket = TcpStream::connect(address).await.expect("connect");
    let head = format!(
        "POST /putMedia HTTP/1.1\r\nhost: {address}\r\ntransfer-encoding: chunked\r\n\
         connection: keep-alive\r\n\r\n"
    );
    socket.write_all(head.as_bytes()).await.expect("head");
    let mut received = Vec::new();
    for (index, piece) in ["first", "second piece"].iter().enumerate() {
        let chunk = format!("{:x}\r\n{piece}\r\n", piece.len());
        socket.write_all(chunk.as_bytes()).await.expect("chunk");
        let ack = format!("ack {} {}\n", index + 1, piece.len());
        read_until(&mut socket, &mut received, &ack).await;
    }
    let text = String::from_utf8_lossy(&received).to_string();
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
    assert!(
        text.to_ascii_lowercase()
            .contains("x-saw-transfer-encoding: chunked"),
        "{text}"
    );
    socket.write_all(b"0\r\n\r\n").await.expect("last chunk");
    // The response ends with the request body: its last chunk follows.
    read_until(&mut socket, &mut received, "\r\n0\r\n\r\n").await;
    let _ = stop.send(());
    server.await.expect("server task").expect("served");
}
