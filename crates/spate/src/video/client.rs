//! The HTTP side of `spate video`: the endpoint and credentials options, SigV4-signed PutMedia
//! and GetMedia requests (signing name `kinesisvideo`, Spate's own signer), one HTTP/1.1
//! connection per call (hyper), a request body fed from a channel while the answer streams back,
//! and rest-json error answers turned into a one-line message.
//!
//! PutMedia is signed as the Kinesis Video producer SDK signs it: the payload hash of the empty
//! string (the body is still to come), with `transfer-encoding`, `user-agent` and the
//! `x-amzn-*` headers among the signed ones. Unverified: no `Content-Type` is sent with the MKV
//! body (PutMedia is not in the botocore models; Spate reads the body whatever it says).

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::SystemTime;

use anyhow::{Context as _, bail};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Body, Frame, Incoming};
use hyper_util::rt::TokioIo;
use spate_wire::sigv4::{Credentials, Signer};
use tokio::sync::mpsc;

/// The SigV4 signing name of every Kinesis Video API.
pub const SIGNING_NAME: &str = "kinesisvideo";
/// The largest error answer read.
const MAX_ERROR_BYTES: usize = 64 * 1024;

/// Where to send requests, and as whom.
#[derive(Debug, Clone, clap::Args)]
pub struct ClientArgs {
    /// Spate's base URL (plain HTTP), as GetDataEndpoint answers it.
    #[arg(long, default_value = "http://127.0.0.1:4567")]
    pub endpoint: String,
    /// The region requests are signed for [default: AWS_DEFAULT_REGION, AWS_REGION, else
    /// us-east-1].
    #[arg(long)]
    pub region: Option<String>,
    /// The access key requests are signed with [default: AWS_ACCESS_KEY_ID, else "test", which
    /// Spate accepts unless it was started with credentials].
    #[arg(long, requires = "secret_access_key")]
    pub access_key_id: Option<String>,
    /// The secret of --access-key-id [default: AWS_SECRET_ACCESS_KEY, else "test"].
    #[arg(long, requires = "access_key_id")]
    pub secret_access_key: Option<String>,
}

/// How PutMedia names its stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamRef {
    Name(String),
    Arn(String),
}

impl StreamRef {
    /// An ARN when it looks like one (`arn:`), else a name.
    pub fn parse(value: &str) -> Self {
        if value.starts_with("arn:") {
            StreamRef::Arn(value.to_owned())
        } else {
            StreamRef::Name(value.to_owned())
        }
    }
}

/// PutMedia's headers.
#[derive(Debug, Clone)]
pub struct PutMediaParams {
    pub stream: StreamRef,
    /// `ABSOLUTE` or `RELATIVE`.
    pub timecode_type: &'static str,
    /// `x-amzn-producer-start-timestamp`, epoch milliseconds.
    pub producer_start_ms: i64,
}

/// One endpoint, one signer.
#[derive(Debug)]
pub struct VideoClient {
    /// `host:port`, the `Host` header and what is signed as `host`.
    authority: String,
    signer: Signer,
    user_agent: String,
}

impl VideoClient {
    pub fn new(args: &ClientArgs) -> anyhow::Result<Self> {
        let env = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
        let access_key_id = args
            .access_key_id
            .clone()
            .or_else(|| env("AWS_ACCESS_KEY_ID"))
            .unwrap_or_else(|| "test".to_owned());
        let secret_access_key = args
            .secret_access_key
            .clone()
            .or_else(|| env("AWS_SECRET_ACCESS_KEY"))
            .unwrap_or_else(|| "test".to_owned());
        // A session token belongs to the environment's key, not to one given on the command line.
        let session_token = args
            .access_key_id
            .is_none()
            .then(|| env("AWS_SESSION_TOKEN"))
            .flatten();
        let region = args
            .region
            .clone()
            .or_else(|| env("AWS_DEFAULT_REGION"))
            .or_else(|| env("AWS_REGION"))
            .unwrap_or_else(|| "us-east-1".to_owned());
        let credentials = Credentials {
            access_key_id,
            secret_access_key,
            session_token,
        };
        Self::with(
            &args.endpoint,
            Signer::new(credentials, &region, SIGNING_NAME),
        )
    }

    /// A client of `endpoint` (http:// only) signing with `signer`.
    pub fn with(endpoint: &str, signer: Signer) -> anyhow::Result<Self> {
        let uri: http::Uri = endpoint
            .parse()
            .with_context(|| format!("--endpoint {endpoint:?} is not a URL"))?;
        if uri.scheme_str() != Some("http") {
            bail!("--endpoint must be an http:// URL (https is not supported by spate video yet)");
        }
        if uri.path() != "/" && !uri.path().is_empty() {
            bail!("--endpoint must be a base URL without a path");
        }
        let authority = uri
            .authority()
            .with_context(|| format!("--endpoint {endpoint:?} names no host"))?;
        let authority = match authority.port() {
            Some(_) => authority.as_str().to_owned(),
            None => format!("{}:80", authority.host()),
        };
        Ok(Self {
            authority,
            signer,
            user_agent: format!("spate/{}", env!("CARGO_PKG_VERSION")),
        })
    }

    /// A signed PutMedia request (`transfer-encoding: chunked`) with `body`.
    pub fn put_media_request<B>(
        &self,
        now: SystemTime,
        params: &PutMediaParams,
        body: B,
    ) -> anyhow::Result<http::Request<B>> {
        let (stream_header, stream) = match &params.stream {
            StreamRef::Name(name) => ("x-amzn-stream-name", name.as_str()),
            StreamRef::Arn(arn) => ("x-amzn-stream-arn", arn.as_str()),
        };
        let start = spate_mkv::tags::format_seconds(params.producer_start_ms);
        let mut headers = vec![
            ("host", self.authority.as_str()),
            ("transfer-encoding", "chunked"),
            ("user-agent", self.user_agent.as_str()),
            ("x-amzn-fragment-acknowledgment-required", "1"),
            ("x-amzn-fragment-timecode-type", params.timecode_type),
            ("x-amzn-producer-start-timestamp", start.as_str()),
            (stream_header, stream),
        ];
        headers.sort_by(|a, b| a.0.cmp(b.0));
        self.signed("/putMedia", &headers, b"", now, body)
    }

    /// A signed GetMedia request with its JSON body.
    pub fn get_media_request(
        &self,
        now: SystemTime,
        json: Vec<u8>,
    ) -> anyhow::Result<http::Request<Full<Bytes>>> {
        let headers = [
            ("content-type", "application/json"),
            ("host", self.authority.as_str()),
            ("user-agent", self.user_agent.as_str()),
        ];
        let body = Full::new(Bytes::from(json.clone()));
        self.signed("/getMedia", &headers, &json, now, body)
    }

    fn signed<B>(
        &self,
        path: &str,
        headers: &[(&str, &str)],
        payload: &[u8],
        now: SystemTime,
        body: B,
    ) -> anyhow::Result<http::Request<B>> {
        let signed = self.signer.sign(now, "POST", path, "", headers, payload);
        let mut request = http::Request::builder()
            .method(http::Method::POST)
            .uri(path);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request = request
            .header("x-amz-date", signed.x_amz_date.as_str())
            .header(http::header::AUTHORIZATION, signed.authorization);
        if let Some(token) = signed.x_amz_security_token {
            request = request.header("x-amz-security-token", token);
        }
        request.body(body).context("building the request")
    }

    /// Opens a connection, sends `request` and answers its response head; the body streams.
    pub async fn send<B>(
        &self,
        request: http::Request<B>,
    ) -> anyhow::Result<http::Response<Incoming>>
    where
        B: Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let stream = tokio::net::TcpStream::connect(&self.authority)
            .await
            .with_context(|| format!("connecting to {}", self.authority))?;
        stream.set_nodelay(true).context("setting TCP_NODELAY")?;
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .context("starting HTTP/1.1")?;
        tokio::spawn(async move {
            if let Err(err) = connection.await {
                tracing::debug!(error = %err, "connection ended");
            }
        });
        sender
            .send_request(request)
            .await
            .with_context(|| format!("sending the request to {}", self.authority))
    }
}

/// The one-line description of an error answer: `<type> (HTTP <status>): <message>`, the type
/// from `x-amzn-ErrorType` (AWS's rest-json), else the body's `__type`.
pub async fn error_message(response: http::Response<Incoming>) -> String {
    let (parts, body) = response.into_parts();
    let body = match Limited::new(body, MAX_ERROR_BYTES).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => Bytes::new(),
    };
    describe_error(parts.status, &parts.headers, &body)
}

fn describe_error(status: http::StatusCode, headers: &http::HeaderMap, body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct Envelope {
        #[serde(rename = "__type")]
        error_type: Option<String>,
        #[serde(alias = "Message")]
        message: Option<String>,
    }
    let envelope: Option<Envelope> = serde_json::from_slice(body).ok();
    let from_header = headers
        .get("x-amzn-errortype")
        .and_then(|value| value.to_str().ok())
        .map(|value| value.split(':').next().unwrap_or(value).to_owned());
    let raw = from_header
        .or_else(|| envelope.as_ref().and_then(|e| e.error_type.clone()))
        .unwrap_or_else(|| "UnknownError".to_owned());
    let error_type = raw.rsplit('#').next().unwrap_or(&raw);
    let message = envelope
        .and_then(|e| e.message)
        .unwrap_or_else(|| String::from_utf8_lossy(body).trim().to_owned());
    format!("{error_type} (HTTP {}): {message}", status.as_u16())
}

/// Why a request body was cut short.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BodyAbort(pub String);

/// A request body fed through a channel: data pieces, then the end when every sender is gone,
/// or an error that aborts the request.
#[derive(Debug)]
pub struct ChannelBody {
    receiver: mpsc::Receiver<Result<Bytes, BodyAbort>>,
}

impl ChannelBody {
    /// The body and the sender feeding it (`depth` pieces in flight at most).
    pub fn new(depth: usize) -> (mpsc::Sender<Result<Bytes, BodyAbort>>, Self) {
        let (sender, receiver) = mpsc::channel(depth);
        (sender, ChannelBody { receiver })
    }
}

impl Body for ChannelBody {
    type Data = Bytes;
    type Error = BodyAbort;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyAbort>>> {
        self.receiver
            .poll_recv(cx)
            .map(|piece| piece.map(|piece| piece.map(Frame::data)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use spate_wire::sigv4::verify::{check_signature, read_signature};
    use spate_wire::sigv4::{RequestParts, SigningKey};

    fn client() -> VideoClient {
        let credentials = Credentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
            session_token: None,
        };
        VideoClient::with(
            "http://127.0.0.1:4567",
            Signer::new(credentials, "us-west-2", SIGNING_NAME),
        )
        .expect("client")
    }

    #[test]
    fn put_media_is_signed_over_the_empty_payload_with_the_producer_headers() {
        let now = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_726_677_688);
        let params = PutMediaParams {
            stream: StreamRef::parse("cam1"),
            timecode_type: "RELATIVE",
            producer_start_ms: 1_726_677_688_724,
        };
        let request = client()
            .put_media_request(now, &params, ())
            .expect("request");
        let headers = request.headers();
        assert_eq!(headers["x-amzn-stream-name"], "cam1");
        assert_eq!(headers["x-amzn-producer-start-timestamp"], "1726677688.724");
        assert_eq!(headers["transfer-encoding"], "chunked");
        assert_eq!(headers["host"], "127.0.0.1:4567");
        let parts = RequestParts {
            method: "POST",
            path: "/putMedia",
            query: "",
            headers,
            authority: None,
        };
        let presented = read_signature(&parts, SIGNING_NAME, Some(1_726_677_700))
            .expect("a well-formed signature");
        assert_eq!(
            presented.signed_headers,
            [
                "host",
                "transfer-encoding",
                "user-agent",
                "x-amz-date",
                "x-amzn-fragment-acknowledgment-required",
                "x-amzn-fragment-timecode-type",
                "x-amzn-producer-start-timestamp",
                "x-amzn-stream-name"
            ]
        );
        let key = SigningKey::derive(
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "20240918",
            "us-west-2",
            SIGNING_NAME,
        );
        check_signature(&parts, &presented, b"", &key).expect("verifies over the empty payload");
        assert!(
            check_signature(&parts, &presented, b"\x1a\x45\xdf\xa3", &key).is_err(),
            "the body is not what was signed"
        );
    }

    #[test]
    fn get_media_is_signed_over_its_body_and_arns_are_recognised() {
        let now = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_726_677_688);
        let json = br#"{"StreamName":"cam1","StartSelector":{"StartSelectorType":"EARLIEST"}}"#;
        let request = client()
            .get_media_request(now, json.to_vec())
            .expect("request");
        let parts = RequestParts {
            method: "POST",
            path: "/getMedia",
            query: "",
            headers: request.headers(),
            authority: None,
        };
        let presented = read_signature(&parts, SIGNING_NAME, None).expect("signature");
        let key = SigningKey::derive(
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "20240918",
            "us-west-2",
            SIGNING_NAME,
        );
        check_signature(&parts, &presented, json, &key).expect("verifies over the body");
        assert_eq!(
            StreamRef::parse("arn:aws:kinesisvideo:us-east-1:000000000000:stream/cam1/1"),
            StreamRef::Arn("arn:aws:kinesisvideo:us-east-1:000000000000:stream/cam1/1".into())
        );
    }

    #[test]
    fn errors_name_their_type_and_message() {
        let mut headers = http::HeaderMap::new();
        headers.insert(
            "x-amzn-errortype",
            http::HeaderValue::from_static("ResourceNotFoundException:http://internal"),
        );
        let message = describe_error(
            http::StatusCode::NOT_FOUND,
            &headers,
            br#"{"Message":"The requested stream is not found or not active."}"#,
        );
        assert_eq!(
            message,
            "ResourceNotFoundException (HTTP 404): The requested stream is not found or not active."
        );
        assert!(VideoClient::with("https://x:1", client().signer).is_err());
    }
}
