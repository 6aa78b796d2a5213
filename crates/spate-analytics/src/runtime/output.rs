//! Outputs: the rows of an in-application stream serialized as an output's
//! `DestinationSchema` says (JSON or CSV), and delivered to its Kinesis data stream
//! (`PutRecords`) or Firehose delivery stream (`PutRecordBatch`) in process, or to an AWS
//! Lambda function (`LambdaOutput`, the function Spate maps its ARN to).
//!
//! A Lambda output's event and response are those of the developer guide's "Using a Lambda
//! Function as Output": `{"invocationId", "applicationArn", "records": [{"recordId",
//! "lambdaDeliveryRecordMetadata": {"retryHint"}, "data" (base64)}]}`, answered by
//! `{"records": [{"recordId", "result": "Ok" | "DeliveryFailed"}]}`; records that failed, or that
//! the answer leaves out, are sent again with a higher retry hint.
//!
//! Serialization, as far as AWS documents it: one record per row; JSON records are one object
//! whose keys are the stream's column names as the code declared them (upper-case unless
//! quoted), numbers as JSON numbers, DATE/TIME/TIMESTAMP as their SQL literal text
//! (`2017-09-27 09:51:21.000`); CSV records are the values joined by commas and ended by a
//! newline. Delivery retries a failing destination with doubling waits (as AWS does,
//! indefinitely, which holds the application back) and keeps each output's order.

use std::time::Duration;

use base64::Engine;
use serde_json::{Value as Json, json};
use tokio::sync::watch;
use tracing::warn;

use crate::input::{Row, SqlType, Value};
use crate::model::Piece;

use super::apis::{FirehoseApi, LambdaApi, StreamsApi};
use super::{RuntimeError, Signal};

/// Records per `PutRecords` / `PutRecordBatch` call (both APIs' limit).
const BATCH_RECORDS: usize = 500;
/// Bytes per call: Firehose's 4 MiB (Data Streams allows 5 MiB).
const BATCH_BYTES: usize = 4 * 1024 * 1024;
const FIRST_RETRY: Duration = Duration::from_millis(100);
const LAST_RETRY: Duration = Duration::from_secs(5);

/// `DestinationSchema.RecordFormatType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv,
}

/// Where an output's records go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    Stream { arn: String },
    DeliveryStream { arn: String },
    Lambda { arn: String },
}

/// One output of an application, as the runtime uses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    /// The in-application stream whose rows it writes.
    pub stream: String,
    pub destination: Destination,
    pub format: Format,
}

impl Output {
    /// Reads an `Output` piece as stored.
    pub fn from_piece(piece: &Piece) -> Result<Output, RuntimeError> {
        let body = &piece.body;
        let stream = body["Name"].as_str().unwrap_or_default().to_owned();
        let format = match body["DestinationSchema"]["RecordFormatType"].as_str() {
            Some("CSV") => Format::Csv,
            Some("JSON") => Format::Json,
            other => {
                return Err(RuntimeError::Configuration(format!(
                    "Output {} has RecordFormatType {other:?}; it must be JSON or CSV.",
                    piece.id
                )));
            }
        };
        let arn = |member: &str| body[member]["ResourceARN"].as_str().map(str::to_owned);
        let destination = if let Some(arn) = arn("KinesisStreamsOutput") {
            Destination::Stream { arn }
        } else if let Some(arn) = arn("KinesisFirehoseOutput") {
            Destination::DeliveryStream { arn }
        } else if let Some(arn) = arn("LambdaOutput") {
            Destination::Lambda { arn }
        } else {
            return Err(RuntimeError::Configuration(format!(
                "Output {} names no destination.",
                piece.id
            )));
        };
        Ok(Output {
            stream,
            destination,
            format,
        })
    }
}

/// The rows as records, one per row.
pub fn encode(format: Format, columns: &[(String, SqlType)], rows: &[Row]) -> Vec<Vec<u8>> {
    rows.iter()
        .map(|row| match format {
            Format::Json => json_record(columns, row).into_bytes(),
            Format::Csv => csv_record(row).into_bytes(),
        })
        .collect()
}

/// One JSON object. Written by hand so DECIMAL keeps its exact digits.
fn json_record(columns: &[(String, SqlType)], row: &Row) -> String {
    let mut text = String::from("{");
    for (index, ((name, _), value)) in columns.iter().zip(row).enumerate() {
        if index > 0 {
            text.push(',');
        }
        text.push_str(&json_string(name));
        text.push(':');
        text.push_str(&json_value(value));
    }
    text.push('}');
    text
}

fn json_string(text: &str) -> String {
    Json::String(text.to_owned()).to_string()
}

fn json_value(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Boolean(flag) => flag.to_string(),
        Value::Integer(number) => number.to_string(),
        // Unverified: NaN and infinities, which JSON cannot hold, are written as null.
        Value::Double(number) if !number.is_finite() => "null".into(),
        Value::Double(number) => json!(number).to_string(),
        Value::Decimal { .. } => value.to_string(),
        // Unverified: binary values as hexadecimal text, as the SQL literal shows them.
        Value::Varchar(_)
        | Value::Timestamp(_)
        | Value::Date(_)
        | Value::Time(_)
        | Value::Binary(_) => json_string(&value.to_string()),
    }
}

/// One CSV line. Unverified: a NULL is an empty field, and a field holding a comma, a quote
/// or a line break is quoted with its quotes doubled.
fn csv_record(row: &Row) -> String {
    let mut text = String::new();
    for (index, value) in row.iter().enumerate() {
        if index > 0 {
            text.push(',');
        }
        if matches!(value, Value::Null) {
            continue;
        }
        // A DOUBLE keeps its fraction (`11.0`), as in JSON output (Unverified for CSV).
        let field = match value {
            Value::Double(number) if number.is_finite() => json!(number).to_string(),
            _ => value.to_string(),
        };
        if field.contains([',', '"', '\n', '\r']) {
            text.push('"');
            text.push_str(&field.replace('"', "\"\""));
            text.push('"');
        } else {
            text.push_str(&field);
        }
    }
    text.push('\n');
    text
}

/// The services outputs write to.
#[derive(Debug, Clone)]
pub struct Writers {
    pub streams: Option<std::sync::Arc<dyn StreamsApi>>,
    pub firehose: Option<std::sync::Arc<dyn FirehoseApi>>,
    pub lambda: Option<std::sync::Arc<dyn LambdaApi>>,
    /// The application's ARN, for Lambda events.
    pub application_arn: String,
}

/// A partition key for each record: spread over the stream's shards, as AWS's random keys are.
#[derive(Debug)]
pub struct PartitionKeys {
    state: u64,
}

impl PartitionKeys {
    pub fn new(seed: u64) -> PartitionKeys {
        PartitionKeys { state: seed }
    }

    /// The next key: 32 hex digits of a SplitMix64 sequence.
    pub fn next_key(&mut self) -> String {
        let mut word = || {
            self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        format!("{:016x}{:016x}", word(), word())
    }
}

/// Delivers `records` to `destination`, retrying (with doubling waits) until every record is
/// accepted. `Err(Aborted)` when `abort` says [`Signal::Abort`] first (the server shuts down: the records stay
/// pending in the checkpoint and are delivered after the restart).
pub async fn deliver(
    writers: &Writers,
    destination: &Destination,
    records: &[Vec<u8>],
    keys: &mut PartitionKeys,
    abort: &mut watch::Receiver<Signal>,
) -> Result<(), RuntimeError> {
    let mut start = 0;
    while start < records.len() {
        let mut end = start;
        let mut bytes = 0;
        while end < records.len()
            && end - start < BATCH_RECORDS
            && (end == start || bytes + records[end].len() <= BATCH_BYTES)
        {
            bytes += records[end].len();
            end += 1;
        }
        let mut remaining: Vec<&[u8]> = records[start..end].iter().map(Vec::as_slice).collect();
        let mut wait = FIRST_RETRY;
        let mut attempt = 0u32;
        loop {
            match put_batch(writers, destination, &remaining, keys, attempt).await {
                Ok(failed) if failed.is_empty() => break,
                Ok(failed) => {
                    warn!(destination = ?destination, failed = failed.len(), "some output records were refused; retrying them");
                    remaining = failed;
                }
                Err(err) => {
                    warn!(destination = ?destination, error = %err, "writing output failed; retrying");
                }
            }
            if *abort.borrow() == Signal::Abort {
                return Err(RuntimeError::Aborted);
            }
            tokio::select! {
                changed = abort.changed() => {
                    if changed.is_err() {
                        return Err(RuntimeError::Aborted);
                    }
                }
                _ = tokio::time::sleep(wait) => {}
            }
            if *abort.borrow() == Signal::Abort {
                return Err(RuntimeError::Aborted);
            }
            wait = (wait * 2).min(LAST_RETRY);
            attempt += 1;
        }
        start = end;
    }
    Ok(())
}

/// One `PutRecords` or `PutRecordBatch` call: the records it refused, in order.
async fn put_batch<'a>(
    writers: &Writers,
    destination: &Destination,
    records: &[&'a [u8]],
    keys: &mut PartitionKeys,
    attempt: u32,
) -> Result<Vec<&'a [u8]>, RuntimeError> {
    let encode = |data: &[u8]| base64::engine::general_purpose::STANDARD.encode(data);
    if let Destination::Lambda { arn } = destination {
        return invoke_lambda(writers, arn, records, keys, attempt).await;
    }
    let (answer, results_member) = match destination {
        Destination::Lambda { .. } => return Ok(Vec::new()),
        Destination::Stream { arn } => {
            let api = writers.streams.as_ref().ok_or_else(|| {
                RuntimeError::Unsupported("Kinesis Data Streams is not served here".into())
            })?;
            let entries: Vec<Json> = records
                .iter()
                .map(|data| json!({"Data": encode(data), "PartitionKey": keys.next_key()}))
                .collect();
            let answer = api
                .call("PutRecords", json!({"StreamARN": arn, "Records": entries}))
                .await
                .map_err(|err| {
                    RuntimeError::Destination(format!("{}: {}", err.code, err.message))
                })?;
            (answer, "Records")
        }
        Destination::DeliveryStream { arn } => {
            let api = writers
                .firehose
                .as_ref()
                .ok_or_else(|| RuntimeError::Unsupported("Firehose is not served here".into()))?;
            let name = arn.rsplit('/').next().unwrap_or_default();
            let entries: Vec<Json> = records
                .iter()
                .map(|data| json!({"Data": encode(data)}))
                .collect();
            let answer = api
                .call(
                    "PutRecordBatch",
                    json!({"DeliveryStreamName": name, "Records": entries}),
                )
                .await
                .map_err(|err| {
                    RuntimeError::Destination(format!("{}: {}", err.code, err.message))
                })?;
            (answer, "RequestResponses")
        }
    };
    let mut failed = Vec::new();
    if let Some(results) = answer[results_member].as_array() {
        for (data, result) in records.iter().zip(results) {
            if result.get("ErrorCode").is_some_and(|code| !code.is_null()) {
                failed.push(*data);
            }
        }
    }
    Ok(failed)
}

/// One invocation of a Lambda output's function: the records it did not deliver, in order.
async fn invoke_lambda<'a>(
    writers: &Writers,
    arn: &str,
    records: &[&'a [u8]],
    keys: &mut PartitionKeys,
    attempt: u32,
) -> Result<Vec<&'a [u8]>, RuntimeError> {
    let api = writers
        .lambda
        .as_ref()
        .ok_or_else(|| RuntimeError::Unsupported("AWS Lambda is not served here".into()))?;
    let ids: Vec<String> = records.iter().map(|_| keys.next_key()).collect();
    let event = json!({
        "invocationId": keys.next_key(),
        "applicationArn": writers.application_arn,
        "records": records.iter().zip(&ids).map(|(data, id)| json!({
            "recordId": id,
            "lambdaDeliveryRecordMetadata": {"retryHint": attempt},
            "data": base64::engine::general_purpose::STANDARD.encode(data),
        })).collect::<Vec<_>>(),
    });
    let body = serde_json::to_vec(&event).map_err(|err| RuntimeError::Internal(err.to_string()))?;
    let answer = api
        .invoke(arn, &body)
        .await
        .map_err(|err| RuntimeError::Destination(format!("{}: {}", err.code, err.message)))?;
    let answer: Json = serde_json::from_slice(&answer).map_err(|err| {
        RuntimeError::Destination(format!("the Lambda function's answer is not JSON: {err}"))
    })?;
    let delivered: std::collections::HashSet<&str> = answer["records"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|record| record["result"].as_str() == Some("Ok"))
        .filter_map(|record| record["recordId"].as_str())
        .collect();
    Ok(records
        .iter()
        .zip(&ids)
        .filter(|(_, id)| !delivered.contains(id.as_str()))
        .map(|(data, _)| *data)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn columns() -> Vec<(String, SqlType)> {
        vec![
            ("TICKER".into(), SqlType::Varchar(8)),
            (
                "PRICE".into(),
                SqlType::Decimal {
                    precision: 10,
                    scale: 2,
                },
            ),
            ("N".into(), SqlType::Integer),
            ("AT".into(), SqlType::Timestamp),
            ("X".into(), SqlType::Double),
        ]
    }

    fn row() -> Row {
        vec![
            Value::Varchar("A\"B,C".into()),
            Value::Decimal {
                unscaled: 3399,
                scale: 2,
            },
            Value::Null,
            Value::Timestamp(1_506_505_881_000),
            Value::Double(1.5),
        ]
    }

    #[test]
    fn json_records_keep_names_numbers_and_timestamp_text() {
        let records = encode(Format::Json, &columns(), &[row()]);
        let text = String::from_utf8(records[0].clone()).expect("UTF-8");
        assert_eq!(
            text,
            r#"{"TICKER":"A\"B,C","PRICE":33.99,"N":null,"AT":"2017-09-27 09:51:21.000","X":1.5}"#
        );
        let parsed: Json = serde_json::from_str(&text).expect("valid JSON");
        assert_eq!(parsed["PRICE"], json!(33.99));
    }

    #[test]
    fn csv_records_are_lines_with_quoted_fields_where_needed() {
        let records = encode(Format::Csv, &columns(), &[row()]);
        assert_eq!(
            String::from_utf8(records[0].clone()).expect("UTF-8"),
            "\"A\"\"B,C\",33.99,,2017-09-27 09:51:21.000,1.5\n"
        );
    }

    #[test]
    fn outputs_read_their_destination() {
        let piece = |body: Json| Piece {
            id: "1.1".into(),
            body,
        };
        let output = Output::from_piece(&piece(json!({
            "Name": "DEST",
            "KinesisStreamsOutput": {"ResourceARN": "arn:s", "RoleARN": "arn:r"},
            "DestinationSchema": {"RecordFormatType": "CSV"},
        })))
        .expect("an output");
        assert_eq!(output.format, Format::Csv);
        assert_eq!(
            output.destination,
            Destination::Stream {
                arn: "arn:s".into()
            }
        );
        let lambda = Output::from_piece(&piece(json!({
            "Name": "DEST",
            "LambdaOutput": {"ResourceARN": "arn:l", "RoleARN": "arn:r"},
            "DestinationSchema": {"RecordFormatType": "JSON"},
        })))
        .expect("an output");
        assert_eq!(
            lambda.destination,
            Destination::Lambda {
                arn: "arn:l".into()
            }
        );
        let err = Output::from_piece(&piece(json!({
            "Name": "DEST",
            "DestinationSchema": {"RecordFormatType": "JSON"},
        })))
        .expect_err("refused");
        assert!(err.to_string().contains("names no destination"), "{err}");
    }

    #[test]
    fn partition_keys_differ() {
        let mut keys = PartitionKeys::new(7);
        let first = keys.next_key();
        assert_eq!(first.len(), 32);
        assert_ne!(first, keys.next_key());
    }
}
