//! Delivery to Splunk's HTTP Event Collector (HEC).
//!
//! - `Raw` endpoint type: `POST <HECEndpoint>/services/collector/raw`, the records' bytes
//!   concatenated (*Understand data delivery*: "Firehose concatenates the bytes that you send").
//! - `Event` endpoint type: `POST <HECEndpoint>/services/collector/event`, one HEC event JSON
//!   object per record, concatenated: a record that already is a HEC event (a JSON object with
//!   an `event` member, as a transform for the event endpoint makes them) is sent as it is, any
//!   other is wrapped as `{"event": "<record as text>"}` (Spate's reading; unverified).
//! - Headers: `Authorization: Splunk <HECToken>` and `X-Splunk-Request-Channel: <GUID>`.
//! - Indexer acknowledgement: when HEC answers with an `ackId`, `POST
//!   <HECEndpoint>/services/collector/ack` with `{"acks": [id]}` on the same channel is polled
//!   until it answers `{"acks": {"<id>": true}}`, for at most `HECAcknowledgmentTimeoutInSeconds`
//!   (then `Splunk.AckTimeout`, and the batch is retried). An answer without `ackId` (the token
//!   has acknowledgement off) confirms the batch at once.
//!
//! Error codes are those of *Data delivery errors* for Splunk, chosen from HEC's numeric `code`
//! (1 disabled token, 2-4 token, 6/12/13 data format, 7 index, 14 acknowledgement disabled).

use std::time::Duration;

use serde_json::{Value, json};
use tokio::time::Instant;

use super::DeliveryError;
use super::client::{self, excerpt};
use super::retry::{self, Failure, Plan, Sender};
use crate::delivery::{Batch, BatchRecord};
use crate::keys::ErrorOutputType;
use crate::service::FirehoseService;
use crate::settings::splunk::SplunkDestination;

const RESPONSE_LIMIT: usize = 64 << 10;

pub(crate) async fn deliver(
    service: &FirehoseService,
    settings: &SplunkDestination,
    batch: &Batch,
) -> Result<(), DeliveryError> {
    let plan = Plan {
        retry_secs: settings.retry_secs(),
        s3: &settings.s3,
        error_type: ErrorOutputType::SplunkFailed,
        back_up_all: settings.all_events(),
    };
    let mut sender = SplunkSender {
        service,
        settings,
        channel: uuid::Uuid::new_v4().to_string(),
    };
    retry::deliver(service, batch, plan, &mut sender).await
}

struct SplunkSender<'a> {
    service: &'a FirehoseService,
    settings: &'a SplunkDestination,
    channel: String,
}

impl Sender for SplunkSender<'_> {
    async fn send(&mut self, records: &[&BatchRecord]) -> Vec<(usize, Failure)> {
        retry::whole_request(records.len(), self.send_once(records).await)
    }

    fn error_fields(&self, record: &BatchRecord) -> serde_json::Map<String, Value> {
        let mut fields = serde_json::Map::new();
        fields.insert("EventId".into(), json!(format!("{}.0", record.offset)));
        fields
    }
}

impl SplunkSender<'_> {
    fn url(&self, path: &str) -> String {
        let base = self.settings.hec_endpoint.as_deref().unwrap_or_default();
        format!("{}{path}", base.trim_end_matches('/'))
    }

    fn post(&self, path: &str) -> Result<reqwest::RequestBuilder, Failure> {
        let token = self.settings.hec_token.as_deref().unwrap_or_default();
        let client =
            (self.service.http.get()).map_err(|err| Failure::new("Splunk.InvalidEndpoint", err))?;
        Ok(client
            .post(self.url(path))
            .header("Authorization", format!("Splunk {token}"))
            .header("X-Splunk-Request-Channel", &self.channel))
    }

    /// Posts `body` as JSON to `path`; HEC's answer, which must come with status 200.
    async fn post_json(
        &self,
        path: &str,
        body: impl Into<reqwest::Body>,
    ) -> Result<Value, Failure> {
        let request = self
            .post(path)?
            .header("Content-Type", "application/json")
            .body(body);
        let (status, body) = client::exchange(request, RESPONSE_LIMIT)
            .await
            .map_err(transport_failure)?;
        let answer: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        if status != 200 {
            return Err(hec_failure(status, &answer, &body));
        }
        Ok(answer)
    }

    async fn send_once(&self, records: &[&BatchRecord]) -> Result<(), Failure> {
        let (path, body) = if self.settings.raw() {
            ("/services/collector/raw", raw_body(records))
        } else {
            ("/services/collector/event", event_body(records))
        };
        let answer = self.post_json(path, body).await?;
        match answer.get("ackId").and_then(Value::as_u64) {
            None => Ok(()),
            Some(ack_id) => self.wait_for_ack(ack_id).await,
        }
    }

    async fn wait_for_ack(&self, ack_id: u64) -> Result<(), Failure> {
        let timeout = Duration::from_secs(self.settings.ack_timeout_secs().max(0) as u64);
        let poll = Duration::from_millis(self.service.config.http.ack_poll_interval_ms.max(1));
        let deadline = Instant::now() + timeout;
        loop {
            let body = json!({ "acks": [ack_id] }).to_string();
            let answer = self.post_json("/services/collector/ack", body).await?;
            if is_acked(&answer, ack_id) {
                return Ok(());
            }
            if Instant::now() + poll > deadline {
                return Err(Failure::new(
                    "Splunk.AckTimeout",
                    format!(
                        "Did not receive an acknowledgement from HEC before the HEC acknowledgement timeout expired ({}s).",
                        timeout.as_secs()
                    ),
                ));
            }
            tokio::time::sleep(poll).await;
        }
    }
}

/// The raw endpoint's body: the records' bytes, concatenated.
pub(crate) fn raw_body(records: &[&BatchRecord]) -> Vec<u8> {
    let mut body = Vec::new();
    for record in records {
        body.extend_from_slice(&record.data);
    }
    body
}

/// The event endpoint's body: one HEC event object per record.
pub(crate) fn event_body(records: &[&BatchRecord]) -> Vec<u8> {
    let mut body = Vec::new();
    for record in records {
        match serde_json::from_slice::<Value>(&record.data) {
            Ok(event @ Value::Object(_)) if event.get("event").is_some() => {
                body.extend_from_slice(event.to_string().as_bytes());
            }
            _ => {
                let text = String::from_utf8_lossy(&record.data);
                body.extend_from_slice(json!({ "event": text }).to_string().as_bytes());
            }
        }
    }
    body
}

/// Whether `{"acks": {"<id>": true}}` acknowledges `ack_id`.
pub(crate) fn is_acked(answer: &Value, ack_id: u64) -> bool {
    answer
        .get("acks")
        .and_then(|acks| acks.get(ack_id.to_string()))
        .and_then(Value::as_bool)
        == Some(true)
}

fn hec_failure(status: u16, answer: &Value, body: &[u8]) -> Failure {
    let code = answer.get("code").and_then(Value::as_i64);
    let name = match (status, code) {
        (_, Some(1)) => "Splunk.DisabledToken",
        (_, Some(2..=4)) | (401 | 403, _) => "Splunk.InvalidToken",
        (_, Some(6 | 12 | 13)) => "Splunk.InvalidDataFormat",
        (_, Some(7)) => "Splunk.InvalidIndex",
        (_, Some(14)) => "Splunk.DisabledAck",
        (404, _) => "Splunk.URLNotFound",
        _ => "Splunk.ServerError",
    };
    Failure::new(name, format!("HEC answered {status}: {}", excerpt(body)))
}

fn transport_failure(err: reqwest::Error) -> Failure {
    client::transport_failure(
        err,
        ("Splunk.ConnectionTimeout", "HEC did not answer in time"),
        ("Splunk.InvalidEndpoint", "Could not reach HEC"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_bodies_wrap_records_that_are_not_events() {
        let (a, b) = (
            BatchRecord::of(b"plain line"),
            BatchRecord::of(br#"{"event": {"k": 1}, "sourcetype": "s"}"#),
        );
        let body = String::from_utf8(event_body(&[&a, &b])).expect("utf-8");
        let mut events = serde_json::Deserializer::from_str(&body).into_iter::<Value>();
        assert_eq!(
            events.next().expect("one").expect("json"),
            json!({"event": "plain line"})
        );
        assert_eq!(
            events.next().expect("two").expect("json"),
            json!({"event": {"k": 1}, "sourcetype": "s"})
        );
        assert!(events.next().is_none());
    }

    #[test]
    fn raw_bodies_concatenate() {
        let (a, b) = (BatchRecord::of(b"a\n"), BatchRecord::of(b"b\n"));
        assert_eq!(raw_body(&[&a, &b]), b"a\nb\n");
    }

    #[test]
    fn acks_and_hec_codes_are_read() {
        assert!(is_acked(&json!({"acks": {"3": true}}), 3));
        assert!(!is_acked(&json!({"acks": {"3": false}}), 3));
        let failure = hec_failure(403, &json!({"text": "Invalid token", "code": 4}), b"");
        assert_eq!(failure.code, "Splunk.InvalidToken");
        let failure = hec_failure(503, &json!({"text": "Server is busy", "code": 9}), b"");
        assert_eq!(failure.code, "Splunk.ServerError");
    }
}
