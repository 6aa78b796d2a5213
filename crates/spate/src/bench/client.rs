//! A minimal Kinesis client for the load generator: awsJson 1.1 requests over HTTP/1.1
//! keep-alive (hyper-util's pooled legacy client), signed with SigV4 by Spate's own signer
//! (`spate_wire::sigv4`, checked against the official `aws-sigv4` crate), with AWS error responses turned into their error type (`__type`). SubscribeToShard's
//! answer is handed back as a body still streaming, over HTTP/1.1 or over one HTTP/2 connection
//! (cleartext, prior knowledge) that carries every subscription, as the AWS SDKs do.
//!
//! The load-generating workers each own a [`Connection`] instead: one HTTP/1.1 connection that
//! the worker's own task drives while it waits for an answer, so a call costs no hand-off to a
//! connection task and no pool checkout.

use std::time::{Duration, SystemTime};

use anyhow::{Context, bail};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::client::conn::http1;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use spate_wire::sigv4::{Credentials, Signer};

/// The content type of Kinesis's JSON protocol.
const CONTENT_TYPE: &str = "application/x-amz-json-1.1";
/// No response of Kinesis is larger than a GetRecords answer (10 MiB of data, base64): 32 MiB.
const MAX_RESPONSE_BYTES: usize = 32 * 1024 * 1024;
/// A request that takes longer than this counts as failed ("Timeout").
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// The service answered with an error: `error_type` is `__type` without its namespace.
    #[error("{error_type} (HTTP {status}): {message}")]
    Service {
        error_type: String,
        status: u16,
        message: String,
    },
    /// No answer: connection refused or reset, or a malformed response.
    #[error("transport: {0}")]
    Transport(String),
    /// No answer within the request timeout.
    #[error("timed out after {REQUEST_TIMEOUT:?}")]
    Timeout,
}

impl CallError {
    /// The name errors are counted under in the report.
    pub fn error_type(&self) -> &str {
        match self {
            CallError::Service { error_type, .. } => error_type,
            CallError::Transport(_) => "Transport",
            CallError::Timeout => "Timeout",
        }
    }
}

/// Which HTTP version carries subscriptions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SubscribeProtocol {
    /// One HTTP/2 connection (h2c, prior knowledge), a stream per subscription.
    Http2,
    /// One HTTP/1.1 connection per subscription, the answer chunked.
    Http1,
}

/// One endpoint, one set of credentials; cheap to share between workers behind an `Arc`.
#[derive(Debug)]
pub struct KinesisClient {
    http: Client<HttpConnector, Full<Bytes>>,
    /// HTTP/2 only; its connection is opened on first use, by subscriptions over HTTP/2.
    http2: Client<HttpConnector, Full<Bytes>>,
    uri: http::Uri,
    host: http::HeaderValue,
    signer: Signer,
    /// `Kinesis_20131202`, or another awsJson service's target prefix (see [`Self::for_service`]).
    target_prefix: &'static str,
}

impl KinesisClient {
    /// A client for `endpoint` (http:// only) keeping up to `connections` idle connections.
    /// Credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN),
    /// or are `test`/`test`; the region from AWS_DEFAULT_REGION (or AWS_REGION), or us-east-1.
    pub fn new(endpoint: &str, connections: usize) -> anyhow::Result<Self> {
        let uri: http::Uri = endpoint
            .parse()
            .with_context(|| format!("{endpoint:?} is not a URL"))?;
        if uri.scheme_str() != Some("http") {
            bail!("--endpoint must be an http:// URL (https is not supported by spate bench yet)");
        }
        let authority = uri
            .authority()
            .with_context(|| format!("{endpoint:?} names no host"))?;
        let host = http::HeaderValue::from_str(authority.as_str())
            .context("the endpoint's host is not a valid header value")?;
        let uri = http::Uri::builder()
            .scheme("http")
            .authority(authority.clone())
            .path_and_query("/")
            .build()
            .context("building the request URL")?;

        let env = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
        let access_key = env("AWS_ACCESS_KEY_ID").unwrap_or_else(|| "test".to_owned());
        let secret_key = env("AWS_SECRET_ACCESS_KEY").unwrap_or_else(|| "test".to_owned());
        let region = env("AWS_DEFAULT_REGION")
            .or_else(|| env("AWS_REGION"))
            .unwrap_or_else(|| "us-east-1".to_owned());
        let credentials = Credentials {
            access_key_id: access_key,
            secret_access_key: secret_key,
            session_token: env("AWS_SESSION_TOKEN"),
        };

        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let http = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(connections)
            .build(connector.clone());
        let http2 = Client::builder(TokioExecutor::new())
            .http2_only(true)
            .build(connector);
        Ok(Self {
            http,
            http2,
            uri,
            host,
            signer: Signer::new(credentials, &region, "kinesis"),
            target_prefix: "Kinesis_20131202",
        })
    }

    /// A client of another awsJson service on the same endpoint: its `X-Amz-Target` prefix
    /// (`Firehose_20150804`) and SigV4 signing name (`firehose`).
    pub fn for_service(
        endpoint: &str,
        connections: usize,
        target_prefix: &'static str,
        signing_name: &str,
    ) -> anyhow::Result<Self> {
        let mut client = Self::new(endpoint, connections)?;
        client.signer = client.signer.for_service(signing_name);
        client.target_prefix = target_prefix;
        Ok(client)
    }

    /// Calls `Kinesis_20131202.<operation>` with a JSON body; returns the response body.
    pub async fn call(&self, operation: &str, body: Vec<u8>) -> Result<Bytes, CallError> {
        let request = self.signed_request(operation, body)?;
        let response = tokio::time::timeout(REQUEST_TIMEOUT, async {
            let response = self
                .http
                .request(request)
                .await
                .map_err(|err| CallError::Transport(err.to_string()))?;
            let (parts, body) = response.into_parts();
            let body = Limited::new(body, MAX_RESPONSE_BYTES)
                .collect()
                .await
                .map_err(|err| CallError::Transport(err.to_string()))?
                .to_bytes();
            Ok::<_, CallError>((parts, body))
        })
        .await
        .map_err(|_| CallError::Timeout)??;
        let (parts, body) = response;
        if parts.status.is_success() {
            return Ok(body);
        }
        Err(service_error(parts.status, &parts.headers, &body))
    }

    /// Calls SubscribeToShard with a JSON body; once the answer's status says success, returns
    /// its body, which goes on streaming event-stream messages.
    pub async fn subscribe(
        &self,
        body: Vec<u8>,
        protocol: SubscribeProtocol,
    ) -> Result<Incoming, CallError> {
        let request = self.signed_request("SubscribeToShard", body)?;
        let http = match protocol {
            SubscribeProtocol::Http1 => &self.http,
            SubscribeProtocol::Http2 => &self.http2,
        };
        let response = tokio::time::timeout(REQUEST_TIMEOUT, http.request(request))
            .await
            .map_err(|_| CallError::Timeout)?
            .map_err(|err| CallError::Transport(err.to_string()))?;
        let (parts, body) = response.into_parts();
        if parts.status.is_success() {
            return Ok(body);
        }
        let body = tokio::time::timeout(
            REQUEST_TIMEOUT,
            Limited::new(body, MAX_RESPONSE_BYTES).collect(),
        )
        .await
        .map_err(|_| CallError::Timeout)?
        .map_err(|err| CallError::Transport(err.to_string()))?
        .to_bytes();
        Err(service_error(parts.status, &parts.headers, &body))
    }

    fn signed_request(
        &self,
        operation: &str,
        body: Vec<u8>,
    ) -> Result<http::Request<Full<Bytes>>, CallError> {
        let target = format!("{}.{operation}", self.target_prefix);
        let host = self.host.to_str().unwrap_or_default();
        let headers = [
            ("content-type", CONTENT_TYPE),
            ("host", host),
            ("x-amz-target", target.as_str()),
        ];
        let signed = self
            .signer
            .sign(SystemTime::now(), "POST", "/", "", &headers, &body);
        let mut request = http::Request::builder()
            .method(http::Method::POST)
            .uri(self.uri.clone())
            .header(http::header::HOST, self.host.clone())
            .header(http::header::CONTENT_TYPE, CONTENT_TYPE)
            .header("x-amz-target", target)
            .header("x-amz-date", signed.x_amz_date.as_str())
            .header(http::header::AUTHORIZATION, signed.authorization);
        if let Some(token) = signed.x_amz_security_token {
            request = request.header("x-amz-security-token", token);
        }
        request
            .body(Full::new(Bytes::from(body)))
            .map_err(|err| CallError::Transport(err.to_string()))
    }
}

/// One keep-alive HTTP/1.1 connection, driven by the task that calls on it; reopened after a
/// failure.
pub struct Connection {
    client: std::sync::Arc<KinesisClient>,
    open: Option<OpenConnection>,
}

struct OpenConnection {
    sender: http1::SendRequest<Full<Bytes>>,
    driver: std::pin::Pin<Box<http1::Connection<TokioIo<tokio::net::TcpStream>, Full<Bytes>>>>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("open", &self.open.is_some())
            .finish()
    }
}

impl Connection {
    /// A connection to `client`'s endpoint, opened on the first call.
    pub fn new(client: std::sync::Arc<KinesisClient>) -> Self {
        Self { client, open: None }
    }

    /// Calls `Kinesis_20131202.<operation>` with a JSON body; returns the response body.
    pub async fn call(&mut self, operation: &str, body: Vec<u8>) -> Result<Bytes, CallError> {
        let request = self.client.signed_request(operation, body)?;
        let outcome = tokio::time::timeout(REQUEST_TIMEOUT, self.exchange(request))
            .await
            .unwrap_or(Err(CallError::Timeout));
        if matches!(outcome, Err(CallError::Transport(_) | CallError::Timeout)) {
            self.open = None;
        }
        let (parts, body) = outcome?;
        if parts.status.is_success() {
            return Ok(body);
        }
        Err(service_error(parts.status, &parts.headers, &body))
    }

    /// Sends `request` and reads its whole answer, driving the connection meanwhile.
    async fn exchange(
        &mut self,
        request: http::Request<Full<Bytes>>,
    ) -> Result<(http::response::Parts, Bytes), CallError> {
        let transport = |err: &dyn std::fmt::Display| CallError::Transport(err.to_string());
        if self.open.is_none() {
            let stream =
                tokio::net::TcpStream::connect(self.client.host.to_str().unwrap_or_default())
                    .await
                    .map_err(|err| transport(&err))?;
            stream.set_nodelay(true).map_err(|err| transport(&err))?;
            let (sender, driver) = http1::handshake(TokioIo::new(stream))
                .await
                .map_err(|err| transport(&err))?;
            self.open = Some(OpenConnection {
                sender,
                driver: Box::pin(driver),
            });
        }
        let OpenConnection { sender, driver } = self.open.as_mut().expect("opened just above");
        let answer = async {
            let response = sender
                .send_request(request)
                .await
                .map_err(|err| transport(&err))?;
            let (parts, body) = response.into_parts();
            let body = Limited::new(body, MAX_RESPONSE_BYTES)
                .collect()
                .await
                .map_err(|err| transport(&*err))?
                .to_bytes();
            Ok((parts, body))
        };
        tokio::select! {
            biased;
            answer = answer => answer,
            closed = driver.as_mut() => Err(match closed {
                Ok(()) => CallError::Transport("the server closed the connection".to_owned()),
                Err(err) => transport(&err),
            }),
        }
    }
}

/// The error of a non-2xx answer: `__type` from the body (namespace dropped), else the
/// `x-amzn-ErrorType` header, else `HTTP <status>`.
fn service_error(status: http::StatusCode, headers: &http::HeaderMap, body: &[u8]) -> CallError {
    #[derive(serde::Deserialize)]
    struct Envelope {
        #[serde(rename = "__type")]
        error_type: Option<String>,
        #[serde(alias = "Message")]
        message: Option<String>,
    }
    let envelope: Option<Envelope> = serde_json::from_slice(body).ok();
    let from_body = envelope.as_ref().and_then(|e| e.error_type.clone());
    let from_header = headers
        .get("x-amzn-errortype")
        .and_then(|value| value.to_str().ok())
        .map(|value| value.split(':').next().unwrap_or(value).to_owned());
    let raw = from_body
        .or(from_header)
        .unwrap_or_else(|| format!("HTTP {}", status.as_u16()));
    let error_type = raw.rsplit('#').next().unwrap_or(&raw).to_owned();
    CallError::Service {
        error_type,
        status: status.as_u16(),
        message: envelope.and_then(|e| e.message).unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_type_comes_from_the_body_without_its_namespace() {
        let body =
            br#"{"__type":"com.amazonaws.kinesis#ResourceNotFoundException","message":"no"}"#;
        let err = service_error(http::StatusCode::BAD_REQUEST, &http::HeaderMap::new(), body);
        assert_eq!(err.error_type(), "ResourceNotFoundException");

        let mut headers = http::HeaderMap::new();
        headers.insert(
            "x-amzn-errortype",
            http::HeaderValue::from_static("ThrottlingException:http://internal"),
        );
        let err = service_error(http::StatusCode::BAD_REQUEST, &headers, b"not json");
        assert_eq!(err.error_type(), "ThrottlingException");

        let err = service_error(http::StatusCode::BAD_GATEWAY, &http::HeaderMap::new(), b"");
        assert_eq!(err.error_type(), "HTTP 502");
    }
}
