//! The HTTP client the HTTP endpoint, Splunk and OpenSearch destinations share: one
//! connection pool, rustls with the system's roots plus `[firehose.http] ca_file`, and the
//! request timeout AWS gives endpoints (3 minutes by default).

use std::time::Duration;

use crate::config::HttpSettings;
use crate::error::FirehoseError;

pub(crate) fn build(settings: &HttpSettings) -> Result<reqwest::Client, FirehoseError> {
    let mut builder = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_millis(settings.request_timeout_ms.max(1)));
    if !settings.ca_file.is_empty() {
        let pem = std::fs::read(&settings.ca_file).map_err(|err| {
            FirehoseError::Internal(format!("firehose.http.ca_file {}: {err}", settings.ca_file))
        })?;
        let certificates = reqwest::Certificate::from_pem_bundle(&pem).map_err(|err| {
            FirehoseError::Internal(format!("firehose.http.ca_file {}: {err}", settings.ca_file))
        })?;
        builder = builder.tls_certs_merge(certificates);
    }
    builder
        .build()
        .map_err(|err| FirehoseError::Internal(format!("building the HTTP client: {err}")))
}

/// At most this many bytes of a response body are kept for an error message.
const MESSAGE_BYTES: usize = 1024;

/// A response body, shortened for a message.
pub(crate) fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(MESSAGE_BYTES)]);
    text.into_owned()
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
