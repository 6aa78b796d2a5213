//! The HTTP client the HTTP endpoint, Splunk and OpenSearch destinations share: one
//! connection pool, rustls with the system's roots plus `[firehose.http] ca_file`, and the
//! request timeout AWS gives endpoints (3 minutes by default); and the reading of an answer,
//! or of the failure to get one, that they share.

use std::sync::OnceLock;
use std::time::Duration;

use super::retry::Failure;
use crate::config::HttpSettings;
use crate::error::FirehoseError;

/// The shared client, made on first use: rustls reads the system's roots when a client is built
/// and fails when there are none, which must not keep Spate from starting (a host without CA
/// certificates can still deliver to S3, or to HTTPS endpoints through `ca_file`).
#[derive(Debug)]
pub(crate) struct HttpClient {
    settings: HttpSettings,
    extra_roots: Vec<reqwest::Certificate>,
    client: OnceLock<reqwest::Client>,
}

impl HttpClient {
    /// Reads `ca_file` now, so a wrong path or file stops the server at start.
    pub(crate) fn new(settings: &HttpSettings) -> Result<HttpClient, FirehoseError> {
        let mut extra_roots = Vec::new();
        if !settings.ca_file.is_empty() {
            let invalid = |err: &dyn std::fmt::Display| {
                FirehoseError::Internal(format!(
                    "firehose.http.ca_file {}: {err}",
                    settings.ca_file
                ))
            };
            let pem = std::fs::read(&settings.ca_file).map_err(|err| invalid(&err))?;
            extra_roots =
                reqwest::Certificate::from_pem_bundle(&pem).map_err(|err| invalid(&err))?;
        }
        Ok(HttpClient {
            settings: settings.clone(),
            extra_roots,
            client: OnceLock::new(),
        })
    }

    /// The client; an error (no usable roots) is a delivery failure, tried again next time.
    pub(crate) fn get(&self) -> Result<reqwest::Client, String> {
        if let Some(client) = self.client.get() {
            return Ok(client.clone());
        }
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_millis(
                self.settings.request_timeout_ms.max(1),
            ))
            .tls_certs_merge(self.extra_roots.iter().cloned())
            .build()
            .map_err(|err| format!("building the HTTP client: {err}"))?;
        Ok(self.client.get_or_init(|| client).clone())
    }
}

/// At most this many bytes of a response body are kept for an error message.
const MESSAGE_BYTES: usize = 1024;

/// A response body, shortened for a message.
pub(crate) fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(MESSAGE_BYTES)]);
    text.into_owned()
}

/// Sends `request` and reads the answer: its status and up to `limit` bytes of its body.
pub(crate) async fn exchange(
    request: reqwest::RequestBuilder,
    limit: usize,
) -> Result<(u16, Vec<u8>), reqwest::Error> {
    let response = request.send().await?;
    let status = response.status().as_u16();
    let body = read_body(response, limit).await?;
    Ok((status, body))
}

/// A request that got no answer, as a destination names it: `timeout` (code, sentence) when it
/// ran out of time, else `unreachable`; the sentence is followed by the error.
pub(crate) fn transport_failure(
    err: reqwest::Error,
    timeout: (&str, &str),
    unreachable: (&str, &str),
) -> Failure {
    let (code, sentence) = if err.is_timeout() {
        timeout
    } else {
        unreachable
    };
    Failure::new(code, format!("{sentence}: {err}"))
}

/// Reads a response body up to `limit` bytes (a destination's answer is small; a huge one is
/// cut rather than held).
pub(crate) async fn read_body(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Vec<u8>, reqwest::Error> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        let room = limit.saturating_sub(body.len());
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() >= limit {
            break;
        }
    }
    Ok(body)
}
