//! `CloudWatchLogProcessing` (`DataMessageExtraction` `true`): from decompressed CloudWatch
//! Logs subscription records (`{"messageType", "owner", "logGroup", "logStream",
//! "subscriptionFilters", "logEvents": [{"id", "timestamp", "message"}]}`), only the messages are
//! kept, one record per log event (*Decompress CloudWatch Logs*, "message extraction",
//! `firehose/latest/dev/writing-with-cloudwatch-logs-decompression.html`).
//!
//! Unverified: that `CONTROL_MESSAGE` records are dropped (they carry no log events), that each
//! message becomes its own record with no delimiter added, and the rule that Decompression must
//! be enabled too. A record that is not such JSON goes to `processing-failed`.

use bytes::Bytes;
use serde::Deserialize;

use super::{FailedRecord, Failure, Processed, ProcessorSpec, Record};
use crate::error::FirehoseError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloudWatchLogProcessing {
    pub extract_messages: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LogsRecord {
    message_type: String,
    #[serde(default)]
    log_events: Vec<LogEvent>,
}

#[derive(Deserialize)]
struct LogEvent {
    message: String,
}

impl CloudWatchLogProcessing {
    pub fn from_spec(spec: &ProcessorSpec) -> Result<CloudWatchLogProcessing, FirehoseError> {
        spec.only("CloudWatchLogProcessing", &["DataMessageExtraction"])?;
        let extract_messages = match spec.parameter("DataMessageExtraction") {
            None | Some("false") => false,
            Some("true") => true,
            Some(other) => {
                return Err(FirehoseError::InvalidArgument(format!(
                    "DataMessageExtraction {other} must be true or false."
                )));
            }
        };
        Ok(CloudWatchLogProcessing { extract_messages })
    }

    pub fn apply(&self, processed: &mut Processed, now_ms: i64) {
        if !self.extract_messages {
            return;
        }
        for record in std::mem::take(&mut processed.records) {
            let parsed: Result<LogsRecord, _> = serde_json::from_slice(&record.data);
            match parsed {
                Ok(logs) if logs.message_type == "DATA_MESSAGE" => {
                    for (index, event) in logs.log_events.into_iter().enumerate() {
                        processed.records.push(Record {
                            id: format!("{}.{index}", record.id),
                            data: Bytes::from(event.message),
                            ..record.clone()
                        });
                    }
                }
                Ok(_) => {}
                Err(err) => processed.failed.push(FailedRecord::processing_failed(
                    &record,
                    Failure {
                        attempts_made: 1,
                        error_code: "CloudWatchLogProcessing.InvalidRecord".into(),
                        error_message: format!("not a CloudWatch Logs record: {err}"),
                        attempt_ending_ms: now_ms,
                        lambda_arn: None,
                    },
                )),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn record(data: &str) -> Record {
        Record {
            id: "3".into(),
            arrival_ms: 0,
            data: Bytes::from(data.to_owned()),
            lambda_keys: BTreeMap::new(),
            query_keys: BTreeMap::new(),
        }
    }

    #[test]
    fn messages_are_extracted_and_control_messages_dropped() {
        let processor = CloudWatchLogProcessing {
            extract_messages: true,
        };
        let mut processed = Processed {
            records: vec![
                record(
                    r#"{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s","subscriptionFilters":["f"],"logEvents":[{"id":"1","timestamp":1,"message":"one"},{"id":"2","timestamp":2,"message":"two"}]}"#,
                ),
                record(r#"{"messageType":"CONTROL_MESSAGE","logEvents":[]}"#),
                record("garbage"),
            ],
            failed: vec![],
        };
        processor.apply(&mut processed, 0);
        let data: Vec<&[u8]> = processed.records.iter().map(|r| &r.data[..]).collect();
        assert_eq!(data, [&b"one"[..], &b"two"[..]]);
        assert_eq!(processed.records[1].id, "3.1");
        assert_eq!(processed.failed.len(), 1);
    }
}
