//! Dynamic partitioning and the objects of a batch: the processed records grouped by their
//! partition key values (one object per distinct set, *Dynamic partitioning*,
//! `firehose/latest/dev/dynamic-partitioning.html`), each group's key made from the `Prefix`,
//! and the failed records grouped by error type into error objects under `ErrorOutputPrefix`.
//!
//! A group whose prefix cannot be evaluated (a key its prefix uses is missing) goes to the
//! `partitioning-failed` error output. Pure: time and UUIDs come from the caller.

use std::collections::BTreeMap;

use super::{FailedRecord, Failure, Processed, Record};
use crate::keys::{self, ErrorOutputType, KeyInputs, ValidatedPrefixes};

/// One object to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedObject {
    pub key: String,
    /// The records' data concatenated (before compression), or the error lines.
    pub body: Vec<u8>,
    /// Error objects are written uncompressed (unverified: AWS may apply the compression).
    pub is_error_output: bool,
}

/// What the keys of a batch's objects are made of, besides partition values.
#[derive(Debug, Clone, Copy)]
pub struct ObjectNaming<'a> {
    pub prefixes: &'a ValidatedPrefixes,
    pub stream_name: &'a str,
    pub stream_version: u64,
    pub time_zone: &'a jiff::tz::TimeZone,
    pub extension: &'a str,
    /// Arrival time of the batch's oldest record: error objects are named by it.
    pub oldest_ms: i64,
    pub now_ms: i64,
}

/// Records grouped by (query keys, lambda keys), in a stable order.
pub fn group(records: Vec<Record>) -> Vec<Vec<Record>> {
    type Keys = (BTreeMap<String, String>, BTreeMap<String, String>);
    let mut groups: BTreeMap<Keys, Vec<Record>> = BTreeMap::new();
    for record in records {
        let keys = (record.query_keys.clone(), record.lambda_keys.clone());
        groups.entry(keys).or_default().push(record);
    }
    groups.into_values().collect()
}

/// The objects of a processed batch: one per partition, then one per error type.
pub fn plan(
    processed: Processed,
    naming: &ObjectNaming<'_>,
    new_uuid: &mut dyn FnMut() -> uuid::Uuid,
) -> Result<Vec<PlannedObject>, keys::KeyError> {
    let mut objects = Vec::new();
    let mut failed = processed.failed;
    for records in group(processed.records) {
        let first = &records[0];
        let oldest_ms = records
            .iter()
            .map(|r| r.arrival_ms)
            .min()
            .unwrap_or(naming.oldest_ms);
        let inputs = KeyInputs {
            stream_name: naming.stream_name,
            stream_version: naming.stream_version,
            oldest_arrival_ms: oldest_ms,
            time_zone: naming.time_zone,
            query_keys: &first.query_keys,
            lambda_keys: &first.lambda_keys,
            extension: naming.extension,
        };
        match keys::object_key(naming.prefixes.prefix.as_ref(), &inputs, new_uuid) {
            Ok(key) => {
                let mut body = Vec::new();
                for record in &records {
                    body.extend_from_slice(&record.data);
                }
                objects.push(PlannedObject {
                    key,
                    body,
                    is_error_output: false,
                });
            }
            Err(err @ keys::KeyError::TimeOutOfRange { .. }) => return Err(err),
            Err(err) => {
                for record in &records {
                    failed.push(FailedRecord::partitioning_failed(
                        record,
                        Failure {
                            attempts_made: 1,
                            error_code: "DynamicPartitioning.PartitionKeyMissing".into(),
                            error_message: err.to_string(),
                            attempt_ending_ms: naming.now_ms,
                            lambda_arn: None,
                        },
                    ));
                }
            }
        }
    }
    let mut by_type: Vec<(ErrorOutputType, Vec<u8>)> = Vec::new();
    for record in failed {
        let at = match by_type.iter().position(|(t, _)| *t == record.error_type) {
            Some(at) => at,
            None => {
                by_type.push((record.error_type, Vec::new()));
                by_type.len() - 1
            }
        };
        let body = &mut by_type[at].1;
        body.extend_from_slice(record.line.to_string().as_bytes());
        body.push(b'\n');
    }
    let no_keys = BTreeMap::new();
    for (error_type, body) in by_type {
        let inputs = KeyInputs {
            stream_name: naming.stream_name,
            stream_version: naming.stream_version,
            oldest_arrival_ms: naming.oldest_ms,
            time_zone: naming.time_zone,
            query_keys: &no_keys,
            lambda_keys: &no_keys,
            extension: "",
        };
        let key = keys::error_object_key(
            naming.prefixes.error_output_prefix.as_ref(),
            naming.prefixes.prefix.as_ref(),
            error_type,
            &inputs,
            new_uuid,
        )?;
        objects.push(PlannedObject {
            key,
            body,
            is_error_output: true,
        });
    }
    Ok(objects)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn record(id: &str, customer: Option<&str>, data: &str) -> Record {
        let mut query_keys = BTreeMap::new();
        if let Some(customer) = customer {
            query_keys.insert("customer".to_string(), customer.to_string());
        }
        Record {
            id: id.into(),
            arrival_ms: 1_700_000_000_000,
            data: Bytes::from(data.to_owned()),
            lambda_keys: BTreeMap::new(),
            query_keys,
        }
    }

    #[test]
    fn one_object_per_partition_and_failures_to_the_error_prefix() {
        let prefixes = keys::validate_prefixes(
            Some("customer=!{partitionKeyFromQuery:customer}/"),
            Some("errors/!{firehose:error-output-type}/"),
            true,
        )
        .expect("valid");
        let naming = ObjectNaming {
            prefixes: &prefixes,
            stream_name: "s",
            stream_version: 1,
            time_zone: &jiff::tz::TimeZone::UTC,
            extension: "",
            oldest_ms: 1_700_000_000_000,
            now_ms: 1_700_000_001_000,
        };
        let processed = Processed {
            records: vec![
                record("1", Some("a"), "1\n"),
                record("2", Some("b"), "2\n"),
                record("3", Some("a"), "3\n"),
                record("4", None, "4\n"),
            ],
            failed: vec![],
        };
        let objects = plan(processed, &naming, &mut uuid::Uuid::nil).expect("planned");
        let keys: Vec<&str> = objects.iter().map(|o| o.key.as_str()).collect();
        assert_eq!(objects.len(), 3, "{keys:?}");
        assert!(
            keys[0].starts_with("customer=a/s-1-2023-11-14-22-13-20-"),
            "{keys:?}"
        );
        assert_eq!(objects[0].body, b"1\n3\n");
        assert!(keys[1].starts_with("customer=b/"), "{keys:?}");
        assert!(
            keys[2].starts_with("errors/partitioning-failed/s-1-"),
            "{keys:?}"
        );
        assert!(objects[2].is_error_output);
        let line: serde_json::Value =
            serde_json::from_slice(objects[2].body.trim_ascii_end()).expect("JSON line");
        assert_eq!(line["rawData"], "NAo=");
    }
}
