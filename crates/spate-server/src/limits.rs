//! Bounds on what one client may make the listener hold: header size, time to send the headers,
//! pauses inside a request body, idle connections, body size and encoding.
//!
//! The numbers come from the `[limits]` section of the configuration ([`LimitSettings`]). Where
//! each one is enforced:
//!
//! - header size: hyper, HTTP/1.1 by the connection's read buffer (`max_buf_size`: a head that
//!   does not fit is answered `431 Request Header Fields Too Large` and the connection closed),
//!   HTTP/2 by `SETTINGS_MAX_HEADER_LIST_SIZE`; hyper also refuses more than 100 HTTP/1.1 headers;
//! - time to send the headers: hyper's HTTP/1.1 `header_read_timeout`, which runs from the moment
//!   the connection waits for a request head, so it also closes HTTP/1.1 keep-alive connections
//!   left idle that long;
//! - idle connections: [`Activity`] counts the requests a connection has in flight, responses
//!   included (an open SubscribeToShard is in flight for its whole lifetime); a connection with
//!   none for `idle_timeout_secs` is shut down gracefully. This is what ends HTTP/2 connections
//!   that only trickle frames, and connections that never finish their first bytes;
//! - pauses inside a body: [`StallTimeout`] wraps every request body and fails it when no data
//!   comes for `body_read_timeout_secs`, so a client that promises a large body and stops sending
//!   is answered and disconnected;
//! - body size and encoding: [`check_request_body`], a middleware on the API route, refuses a
//!   `Content-Encoding` other than `identity` (Kinesis requests are never compressed, so nothing
//!   is ever decompressed) and a body over [`MAX_JSON_BODY_BYTES`] before reading it, with 413 as
//!   AWS does (no error type, so botocore reports the code `413`).

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::Request;
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use hyper::body::{Frame, SizeHint};
use serde::{Deserialize, Serialize};
use spate_wire::{AwsError, MAX_JSON_BODY_BYTES};

use crate::http;

/// The `[limits]` section: how much and how long one client may make the listener wait.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitSettings {
    /// Largest request head in bytes: the HTTP/1.1 request line and headers, or the HTTP/2
    /// header list. At least 8192 (hyper's smallest read buffer).
    pub max_header_bytes: u32,
    /// Seconds an HTTP/1.1 client has to send a request's headers, counted from when the
    /// connection starts waiting for them (also how long an idle keep-alive connection is kept).
    pub header_read_timeout_secs: u64,
    /// Longest pause, in seconds, between two pieces of a request body.
    pub body_read_timeout_secs: u64,
    /// Seconds a connection with no request in flight is kept open.
    pub idle_timeout_secs: u64,
    /// Seconds a client has to finish the TLS handshake.
    pub tls_handshake_timeout_secs: u64,
}

/// hyper refuses (panics on) an HTTP/1.1 read buffer smaller than this.
const MIN_HEADER_BYTES: u32 = 8192;

impl LimitSettings {
    /// Refuses settings hyper cannot take or that would disable a bound.
    pub fn validate(&self) -> Result<(), String> {
        if self.max_header_bytes < MIN_HEADER_BYTES {
            return Err(format!(
                "limits.max_header_bytes must be at least {MIN_HEADER_BYTES}, not {}",
                self.max_header_bytes
            ));
        }
        let timeouts = [
            ("header_read_timeout_secs", self.header_read_timeout_secs),
            ("body_read_timeout_secs", self.body_read_timeout_secs),
            ("idle_timeout_secs", self.idle_timeout_secs),
            (
                "tls_handshake_timeout_secs",
                self.tls_handshake_timeout_secs,
            ),
        ];
        for (name, secs) in timeouts {
            if secs == 0 {
                return Err(format!("limits.{name} must be at least 1 second"));
            }
        }
        Ok(())
    }

    pub fn header_read_timeout(&self) -> Duration {
        Duration::from_secs(self.header_read_timeout_secs)
    }

    pub fn body_read_timeout(&self) -> Duration {
        Duration::from_secs(self.body_read_timeout_secs)
    }

    pub fn idle_timeout(&self) -> Duration {
        Duration::from_secs(self.idle_timeout_secs)
    }

    pub fn tls_handshake_timeout(&self) -> Duration {
        Duration::from_secs(self.tls_handshake_timeout_secs)
    }
}

/// Requests one connection has in flight, from the call until the response body is dropped,
/// and when the last one ended. Plain atomics: a request costs two counter updates and a clock
/// read, and the connection's idle check runs on its own timer, never woken by requests.
#[derive(Debug)]
pub(crate) struct Activity {
    in_flight: AtomicUsize,
    /// When a request last ended, in nanoseconds since `since`.
    last_end_nanos: AtomicU64,
    since: tokio::time::Instant,
}

impl Activity {
    pub(crate) fn new() -> Arc<Activity> {
        Arc::new(Activity {
            in_flight: AtomicUsize::new(0),
            last_end_nanos: AtomicU64::new(0),
            since: tokio::time::Instant::now(),
        })
    }

    /// Counts a request in flight until the guard is dropped.
    pub(crate) fn begin(self: &Arc<Self>) -> Busy {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        Busy(self.clone())
    }

    /// Resolves once no request has been in flight for `timeout` in a row.
    pub(crate) async fn idle_for(&self, timeout: Duration) {
        loop {
            if self.in_flight.load(Ordering::SeqCst) > 0 {
                tokio::time::sleep(timeout).await;
                continue;
            }
            let last_end =
                self.since + Duration::from_nanos(self.last_end_nanos.load(Ordering::SeqCst));
            let deadline = last_end + timeout;
            if tokio::time::Instant::now() >= deadline {
                return;
            }
            tokio::time::sleep_until(deadline).await;
        }
    }
}

/// One request in flight on a connection; see [`Activity::begin`].
#[derive(Debug)]
pub(crate) struct Busy(Arc<Activity>);

impl Drop for Busy {
    fn drop(&mut self) {
        let activity = &self.0;
        let ended = tokio::time::Instant::now().saturating_duration_since(activity.since);
        let nanos = u64::try_from(ended.as_nanos()).unwrap_or(u64::MAX);
        // The time first: a check that sees the count at zero also sees when it got there.
        activity.last_end_nanos.fetch_max(nanos, Ordering::SeqCst);
        activity.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A response body that keeps its request counted in flight until it is dropped.
#[derive(Debug)]
pub(crate) struct TrackedBody {
    body: Body,
    _busy: Busy,
}

impl TrackedBody {
    pub(crate) fn new(body: Body, busy: Busy) -> TrackedBody {
        TrackedBody { body, _busy: busy }
    }
}

impl HttpBody for TrackedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// A request body that fails when no data arrives for `timeout`.
#[derive(Debug)]
pub(crate) struct StallTimeout<B> {
    body: B,
    timeout: Duration,
    /// Armed when the body first waits for data; rearmed after each frame.
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl<B> StallTimeout<B> {
    pub(crate) fn new(body: B, timeout: Duration) -> StallTimeout<B> {
        StallTimeout {
            body,
            timeout,
            sleep: None,
        }
    }
}

/// The error a stalled body ends with; part of the message clients see.
#[derive(Debug, thiserror::Error)]
#[error("no part of the request body arrived for {0:?}")]
pub struct BodyStalled(Duration);

impl<B> HttpBody for StallTimeout<B>
where
    B: HttpBody<Data = Bytes> + Unpin,
    B::Error: Into<axum::BoxError>,
{
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::BoxError>>> {
        let this = &mut *self;
        if let Poll::Ready(frame) = Pin::new(&mut this.body).poll_frame(cx) {
            if let Some(sleep) = this.sleep.as_mut() {
                sleep
                    .as_mut()
                    .reset(tokio::time::Instant::now() + this.timeout);
            }
            return Poll::Ready(frame.map(|frame| frame.map_err(Into::into)));
        }
        let timeout = this.timeout;
        let sleep = this
            .sleep
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
        ready!(sleep.as_mut().poll(cx));
        Poll::Ready(Some(Err(BodyStalled(timeout).into())))
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// Middleware of the API route: refuses compressed bodies and bodies over
/// [`MAX_JSON_BODY_BYTES`] before any handler reads them.
///
/// A body without `Content-Length` (chunked) is read here, up to the bound, so it is refused the
/// same way; SDKs always send `Content-Length`.
pub async fn check_request_body(request: Request, next: Next) -> Response {
    let headers = request.headers();
    if let Some(encoding) = unsupported_encoding(headers) {
        let error = AwsError::serialization(format!(
            "Content-Encoding {encoding:?} is not supported: Kinesis request bodies are sent \
             uncompressed."
        ));
        return http::error_response(&error, http::request_codec(headers), &http::request_id());
    }
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|text| text.parse::<u64>().ok());
    match declared {
        Some(length) if length > MAX_JSON_BODY_BYTES as u64 => {
            too_large(headers, &format!("{length} bytes"))
        }
        Some(_) => next.run(request).await,
        None if request.body().is_end_stream() => next.run(request).await,
        None => {
            let (parts, body) = request.into_parts();
            match axum::body::to_bytes(body, MAX_JSON_BODY_BYTES).await {
                Ok(bytes) => {
                    next.run(Request::from_parts(parts, Body::from(bytes)))
                        .await
                }
                Err(err) if is_length_limit(&err) => {
                    too_large(&parts.headers, &format!("over {MAX_JSON_BODY_BYTES} bytes"))
                }
                Err(err) => {
                    let error = AwsError::serialization(format!(
                        "The request body could not be read: {err}"
                    ));
                    http::error_response(
                        &error,
                        http::request_codec(&parts.headers),
                        &http::request_id(),
                    )
                }
            }
        }
    }
}

/// The `Content-Encoding` of a request unless it is absent or `identity`.
fn unsupported_encoding(headers: &HeaderMap) -> Option<String> {
    let mut refused = None;
    for value in headers.get_all(header::CONTENT_ENCODING) {
        let text = String::from_utf8_lossy(value.as_bytes());
        for coding in text.split(',').map(str::trim) {
            if !coding.is_empty() && !coding.eq_ignore_ascii_case("identity") {
                refused = Some(coding.to_string());
            }
        }
    }
    refused
}

fn is_length_limit(err: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(current) = source {
        if current.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = current.source();
    }
    false
}

/// 413 with a `message` and no error type, as AWS answers an oversized request.
fn too_large(headers: &HeaderMap, size: &str) -> Response {
    #[derive(Serialize)]
    struct Message<'a> {
        message: &'a str,
    }
    let codec = http::request_codec(headers);
    let message = format!(
        "Request Entity Too Large: the request body of {size} exceeds the \
         {MAX_JSON_BODY_BYTES}-byte limit."
    );
    let body = codec
        .encode(&Message { message: &message })
        .unwrap_or_else(|_| message.clone().into_bytes());
    let mut response = http::body_response(
        StatusCode::PAYLOAD_TOO_LARGE,
        body,
        codec,
        &http::request_id(),
    );
    // The body is left unread: tell HTTP/1.1 clients the connection ends here.
    response.headers_mut().insert(
        header::CONNECTION,
        header::HeaderValue::from_static("close"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> LimitSettings {
        LimitSettings {
            max_header_bytes: 65536,
            header_read_timeout_secs: 30,
            body_read_timeout_secs: 30,
            idle_timeout_secs: 60,
            tls_handshake_timeout_secs: 10,
        }
    }

    #[test]
    fn settings_hyper_cannot_take_are_refused() {
        assert!(settings().validate().is_ok());
        let small = LimitSettings {
            max_header_bytes: 4096,
            ..settings()
        };
        assert!(small.validate().expect_err("too small").contains("8192"));
        let zero = LimitSettings {
            body_read_timeout_secs: 0,
            ..settings()
        };
        assert!(
            zero.validate()
                .expect_err("zero")
                .contains("body_read_timeout_secs")
        );
    }

    #[test]
    fn only_identity_or_no_encoding_passes() {
        let mut headers = HeaderMap::new();
        assert_eq!(unsupported_encoding(&headers), None);
        headers.insert(header::CONTENT_ENCODING, "identity".parse().expect("value"));
        assert_eq!(unsupported_encoding(&headers), None);
        headers.insert(header::CONTENT_ENCODING, "gzip".parse().expect("value"));
        assert_eq!(unsupported_encoding(&headers).as_deref(), Some("gzip"));
        headers.insert(
            header::CONTENT_ENCODING,
            "identity, br".parse().expect("value"),
        );
        assert_eq!(unsupported_encoding(&headers).as_deref(), Some("br"));
    }

    #[tokio::test(start_paused = true)]
    async fn idle_resolves_only_after_the_last_request_ends() {
        let activity = Activity::new();
        let busy = activity.begin();
        let idle = activity.idle_for(Duration::from_secs(5));
        tokio::pin!(idle);
        tokio::select! {
            () = &mut idle => panic!("a request is in flight"),
            () = tokio::time::sleep(Duration::from_secs(60)) => {}
        }
        drop(busy);
        let started = tokio::time::Instant::now();
        idle.await;
        assert_eq!(started.elapsed(), Duration::from_secs(5));
    }

    #[tokio::test(start_paused = true)]
    async fn a_stalled_body_fails_and_a_flowing_one_does_not() {
        let (sender, mut receiver) = tokio::sync::mpsc::channel::<Bytes>(1);
        let chunks = futures::stream::poll_fn(move |cx| {
            receiver
                .poll_recv(cx)
                .map(|chunk| chunk.map(Ok::<_, std::convert::Infallible>))
        });
        let body = StallTimeout::new(Body::from_stream(chunks), Duration::from_secs(30));
        let feed = tokio::spawn(async move {
            for _ in 0..3 {
                tokio::time::sleep(Duration::from_secs(20)).await;
                sender.send(Bytes::from_static(b"x")).await.ok();
            }
            // Then silence, with the sender still alive.
            tokio::time::sleep(Duration::from_secs(3600)).await;
            drop(sender);
        });
        let started = tokio::time::Instant::now();
        let err = axum::body::to_bytes(Body::new(body), usize::MAX)
            .await
            .expect_err("stalls");
        assert!(format!("{err:?}").contains("BodyStalled"), "{err:?}");
        assert_eq!(started.elapsed(), Duration::from_secs(90));
        feed.abort();
    }
}
