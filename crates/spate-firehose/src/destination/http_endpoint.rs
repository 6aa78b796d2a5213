//! Delivery to an HTTP endpoint in the format of *HTTP endpoint delivery request and response
//! specifications* (protocol version 1.0):
//!
//! - `POST` to the configured URL, unchanged, with `Content-Type: application/json`,
//!   `X-Amz-Firehose-Protocol-Version: 1.0`, `X-Amz-Firehose-Request-Id` (a GUID kept the same
//!   across the attempts of one request), `X-Amz-Firehose-Source-Arn` (the stream's ARN),
//!   `X-Amz-Firehose-Access-Key` when an access key is configured,
//!   `X-Amz-Firehose-Common-Attributes` (`{"commonAttributes": {name: value}}`) when attributes
//!   are, and `Content-Encoding: gzip` with a GZIP body when `ContentEncoding` is `GZIP`.
//! - Body: `{"requestId": ..., "timestamp": <epoch ms>, "records": [{"data": <base64>}, ...]}`.
//! - Success is status 200 with a JSON body `{"requestId": <the same id>, "timestamp": ...}`.
//!   Any other status (2xx included), a body that does not echo the request id, a timeout (3
//!   minutes by default) or a connection failure fails the whole request, which is retried.
//!
//! Error codes (`HttpEndpoint.DestinationException` for a non-200 answer,
//! `HttpEndpoint.InvalidResponseFromDestination` for a malformed one) follow *Troubleshooting
//! HTTP Endpoints*; `HttpEndpoint.RequestTimeout` and `HttpEndpoint.ConnectionFailed` are
//! Spate's names (unverified).

use std::io::Write;

use base64::Engine;
use serde_json::{Value, json};

use super::DeliveryError;
use super::client::{self, excerpt};
use super::retry::{self, Failure, Plan, Sender};
use crate::delivery::{Batch, BatchRecord};
use crate::keys::ErrorOutputType;
use crate::service::FirehoseService;
use crate::settings::http_endpoint::HttpEndpointDestination;

/// A response body larger than this is not a Firehose response.
const RESPONSE_LIMIT: usize = 64 << 10;

pub(crate) async fn deliver(
    service: &FirehoseService,
    settings: &HttpEndpointDestination,
    batch: &Batch,
) -> Result<(), DeliveryError> {
    let plan = Plan {
        retry_secs: settings.retry_secs(),
        s3: &settings.s3,
        error_type: ErrorOutputType::HttpEndpointFailed,
        back_up_all: settings.all_data(),
    };
    let mut sender = HttpSender {
        service,
        settings,
        source_arn: &batch.stream.arn,
        request_id: uuid::Uuid::new_v4().to_string(),
    };
    retry::deliver(service, batch, plan, &mut sender).await
}

struct HttpSender<'a> {
    service: &'a FirehoseService,
    settings: &'a HttpEndpointDestination,
    source_arn: &'a str,
    request_id: String,
}

impl Sender for HttpSender<'_> {
    async fn send(&mut self, records: &[&BatchRecord]) -> Vec<(usize, Failure)> {
        retry::whole_request(records.len(), self.send_once(records).await)
    }
}

impl HttpSender<'_> {
    async fn send_once(&self, records: &[&BatchRecord]) -> Result<(), Failure> {
        let body = request_body(&self.request_id, self.service.now_ms(), records);
        let client = self
            .service
            .http
            .get()
            .map_err(|err| Failure::new("HttpEndpoint.ConnectionFailed", err))?;
        let mut request = client
            .post(self.settings.url())
            .header("Content-Type", "application/json")
            .header("X-Amz-Firehose-Protocol-Version", "1.0")
            .header("X-Amz-Firehose-Request-Id", &self.request_id)
            .header("X-Amz-Firehose-Source-Arn", self.source_arn);
        if let Some(key) = self.settings.access_key() {
            request = request.header("X-Amz-Firehose-Access-Key", key);
        }
        if let Some(attributes) = self.settings.common_attributes() {
            request = request.header("X-Amz-Firehose-Common-Attributes", attributes);
        }
        let body = if self.settings.gzip() {
            request = request.header("Content-Encoding", "gzip");
            gzip(&body)?
        } else {
            body
        };
        let (status, body) = client::exchange(request.body(body), RESPONSE_LIMIT)
            .await
            .map_err(transport_failure)?;
        check_response(status, &body, &self.request_id)
    }
}

/// The request body: `{"requestId", "timestamp", "records": [{"data": base64}]}`.
pub(crate) fn request_body(
    request_id: &str,
    timestamp_ms: i64,
    records: &[&BatchRecord],
) -> Vec<u8> {
    let engine = &base64::engine::general_purpose::STANDARD;
    let records: Vec<Value> = records
        .iter()
        .map(|record| json!({ "data": engine.encode(&record.data) }))
        .collect();
    json!({
        "requestId": request_id,
        "timestamp": timestamp_ms,
        "records": records,
    })
    .to_string()
    .into_bytes()
}

/// Whether an answer confirms the request: status 200 and a JSON body echoing its id.
pub(crate) fn check_response(status: u16, body: &[u8], request_id: &str) -> Result<(), Failure> {
    if status != 200 {
        return Err(Failure::new(
            "HttpEndpoint.DestinationException",
            format!(
                "The following response was received from the endpoint destination. {status}: {}",
                excerpt(body)
            ),
        ));
    }
    let invalid = |why: &str| {
        Failure::new(
            "HttpEndpoint.InvalidResponseFromDestination",
            format!(
                "The response received from the endpoint is invalid ({why}): {}",
                excerpt(body)
            ),
        )
    };
    let response: Value = serde_json::from_slice(body).map_err(|_| invalid("not JSON"))?;
    match response.get("requestId").and_then(Value::as_str) {
        Some(id) if id == request_id => Ok(()),
        Some(_) => Err(invalid("requestId does not match the request's")),
        None => Err(invalid("no requestId")),
    }
}

fn transport_failure(err: reqwest::Error) -> Failure {
    client::transport_failure(
        err,
        (
            "HttpEndpoint.RequestTimeout",
            "The endpoint did not answer in time",
        ),
        (
            "HttpEndpoint.ConnectionFailed",
            "Could not reach the endpoint",
        ),
    )
}

fn gzip(body: &[u8]) -> Result<Vec<u8>, Failure> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder
        .write_all(body)
        .and_then(|()| encoder.finish())
        .map_err(|err| Failure::new("HttpEndpoint.InternalError", format!("gzip: {err}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_carries_the_request_id_and_base64_records() {
        let (a, b) = (BatchRecord::of(b"hello"), BatchRecord::of(b"\x00\xff"));
        let body = request_body("id-1", 1_578_090_901_599, &[&a, &b]);
        let body: Value = serde_json::from_slice(&body).expect("json");
        assert_eq!(
            body,
            json!({
                "requestId": "id-1",
                "timestamp": 1_578_090_901_599i64,
                "records": [{"data": "aGVsbG8="}, {"data": "AP8="}]
            })
        );
    }

    #[test]
    fn only_200_echoing_the_request_id_confirms() {
        let ok = br#"{"requestId": "id-1", "timestamp": 1578090903599}"#;
        assert_eq!(check_response(200, ok, "id-1"), Ok(()));
        let failure = check_response(500, ok, "id-1").expect_err("500");
        assert_eq!(failure.code, "HttpEndpoint.DestinationException");
        assert!(failure.message.contains("500: "), "{}", failure.message);
        assert!(
            check_response(201, ok, "id-1").is_err(),
            "2xx other than 200 fails"
        );
        let other = check_response(200, ok, "id-2").expect_err("mismatch");
        assert_eq!(other.code, "HttpEndpoint.InvalidResponseFromDestination");
        assert!(check_response(200, b"OK", "id-1").is_err());
    }

    #[test]
    fn gzip_round_trips() {
        use std::io::Read;
        let packed = gzip(b"{\"a\":1}").expect("gzip");
        let mut text = String::new();
        flate2::read::GzDecoder::new(&packed[..])
            .read_to_string(&mut text)
            .expect("gunzip");
        assert_eq!(text, "{\"a\":1}");
    }
}
