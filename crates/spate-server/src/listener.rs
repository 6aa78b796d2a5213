//! The one listener's accept loop, cleartext or TLS, with the bounds of [`LimitSettings`].
//!
//! Each accepted connection (after its TLS handshake, when TLS is on) is served by hyper-util's
//! `auto` builder, which picks HTTP/2 by the connection preface and HTTP/1.1 otherwise, so
//! HTTP/2 by prior knowledge works on both paths and HTTP/2 by ALPN on TLS. The builder carries
//! the header bounds and the HTTP/1.1 header read timeout; every request body is wrapped in a
//! [`StallTimeout`] and every response counted in flight ([`Activity`]) until its body is
//! dropped, so a connection without requests in flight for the idle timeout is shut down.
//!
//! Shutdown is graceful: the loop stops accepting, every connection is told to finish (HTTP/2
//! connections get a GOAWAY, idle HTTP/1.1 ones are closed, busy ones close after their
//! response), and `serve` returns once all of them have ended.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tracing::{debug, warn};

use crate::limits::{Activity, LimitSettings, StallTimeout, TrackedBody};
use crate::tls::Tls;

/// Serves `app` on `listener`, over TLS when `tls` is given, until `shutdown` resolves; then
/// lets open connections finish.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    tls: Option<Tls>,
    limits: &LimitSettings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let builder = connection_builder(limits);
    // Every connection holds a receiver; `closed()` resolves once all of them have ended.
    let (closing, _) = watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let (tcp, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(err) if is_connection_error(&err) => continue,
            Err(err) => {
                // Out of file descriptors, most likely: wait rather than spin.
                warn!(error = %err, "cannot accept a connection");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        // Small requests and responses (and TLS records) must not wait on Nagle's algorithm.
        if let Err(err) = tcp.set_nodelay(true) {
            debug!(peer = %peer, error = %err, "cannot set TCP_NODELAY");
        }
        let connection = Connection {
            app: app.clone(),
            builder: builder.clone(),
            body_read_timeout: limits.body_read_timeout(),
            idle_timeout: limits.idle_timeout(),
            closing: closing.subscribe(),
            peer,
        };
        let tls = tls.clone();
        let handshake_timeout = limits.tls_handshake_timeout();
        tokio::spawn(async move {
            match tls {
                None => connection.serve(tcp).await,
                Some(tls) => {
                    let Some(stream) = tls.accept(tcp, peer, handshake_timeout).await else {
                        return;
                    };
                    connection.serve(stream).await;
                }
            }
        });
    }
    drop(listener);
    // Receivers were taken before each handshake, so shutdown also waits for those in progress.
    closing.send_replace(true);
    closing.closed().await;
    Ok(())
}

/// hyper-util's builder with the configured bounds on both protocols.
fn connection_builder(limits: &LimitSettings) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout())
        .max_buf_size(limits.max_header_bytes as usize);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_header_list_size(limits.max_header_bytes);
    builder
}

/// Failures of one connection before it was accepted, as opposed to the listener's own.
fn is_connection_error(err: &std::io::Error) -> bool {
    matches!(
        err.kind(),
        std::io::ErrorKind::ConnectionRefused
            | std::io::ErrorKind::ConnectionAborted
            | std::io::ErrorKind::ConnectionReset
    )
}

/// One accepted connection and what serving it needs.
struct Connection {
    app: Router,
    builder: auto::Builder<TokioExecutor>,
    body_read_timeout: Duration,
    idle_timeout: Duration,
    closing: watch::Receiver<bool>,
    peer: SocketAddr,
}

impl Connection {
    async fn serve<I>(mut self, io: I)
    where
        I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let activity = Activity::new();
        let service = BoundedService {
            app: TowerToHyperService::new(self.app.clone()),
            activity: activity.clone(),
            body_read_timeout: self.body_read_timeout,
        };
        let connection = self
            .builder
            .serve_connection_with_upgrades(TokioIo::new(io), service);
        let mut connection = std::pin::pin!(connection);
        let mut ending = false;
        loop {
            tokio::select! {
                served = connection.as_mut() => {
                    if let Err(err) = served {
                        debug!(peer = %self.peer, error = %err, "connection ended with an error");
                    }
                    return;
                }
                _ = self.closing.wait_for(|closing| *closing), if !ending => {
                    connection.as_mut().graceful_shutdown();
                    ending = true;
                }
                () = activity.idle_for(self.idle_timeout), if !ending => {
                    debug!(peer = %self.peer, "closing an idle connection");
                    connection.as_mut().graceful_shutdown();
                    ending = true;
                }
            }
        }
    }
}

/// The router behind the per-request bounds: a stall timeout on the request body, and the
/// request counted in flight until its response body is dropped.
#[derive(Clone)]
struct BoundedService {
    app: TowerToHyperService<Router>,
    activity: std::sync::Arc<Activity>,
    body_read_timeout: Duration,
}

type ResponseFuture =
    Pin<Box<dyn Future<Output = Result<axum::http::Response<TrackedBody>, Infallible>> + Send>>;

impl hyper::service::Service<axum::http::Request<Incoming>> for BoundedService {
    type Response = axum::http::Response<TrackedBody>;
    type Error = Infallible;
    type Future = ResponseFuture;

    fn call(&self, request: axum::http::Request<Incoming>) -> ResponseFuture {
        let busy = self.activity.begin();
        let timeout = self.body_read_timeout;
        let request = request.map(|body| Body::new(StallTimeout::new(body, timeout)));
        let response = self.app.call(request);
        Box::pin(async move {
            let response = response.await?;
            Ok(response.map(|body| TrackedBody::new(body, busy)))
        })
    }
}
