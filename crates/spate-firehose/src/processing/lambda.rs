//! `Lambda`: data transformation by a function that takes a batch of records and returns them
//! transformed, dropped or failed. Spate has no Lambda: `[firehose.lambda."<function arn>"]`
//! maps the ARN to an HTTP endpoint (`url`, POSTed the event) or a local command (`command`, the
//! event on stdin, the response on stdout).
//!
//! Formats and rules, from *Transform source data* (`firehose/latest/dev/data-transformation.html`),
//! *Required parameters for data transformation* (`data-transformation-status-model.html`) and
//! *Handle failure in data transformation* (`data-transformation-failure-handling.html`):
//! - the event: `{"invocationId", "deliveryStreamArn", "region", "records": [{"recordId",
//!   "approximateArrivalTimestamp", "data" (base64)}]}`; the response: `{"records":
//!   [{"recordId", "result": "Ok"|"Dropped"|"ProcessingFailed", "data" (base64), "metadata":
//!   {"partitionKeys": {...}}}]}`;
//! - "The buffering size hint ranges between 0.2 MB and 3MB. The default Lambda buffering size
//!   hint is 1 MB"; the interval hint ranges 0 to 900 seconds, default 60 (Spate invokes when
//!   the destination's buffer is cut, so the interval only is checked);
//! - a failed invocation is retried, "three times by default" (`NumberOfRetries`); if it still
//!   fails the records "are treated as unsuccessfully processed records";
//! - "Any mismatch between the ID of the original record and the ID of the transformed record is
//!   treated as a data transformation failure": a record missing from the response fails.
//!
//! Unverified: the error codes (`Lambda.FunctionError`, `Lambda.JsonProcessingException`,
//! `Lambda.MissingRecordId`, `Lambda.DuplicatedRecordId`, `Lambda.ProcessingFailed`,
//! `Lambda.InvalidReturn`) and messages; the `NumberOfRetries` upper bound (300).

use std::collections::{BTreeMap, HashMap};
use std::process::Stdio;
use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{FailedRecord, Failure, Processed, ProcessorSpec, Record, StreamContext};
use crate::config::{FirehoseConfig, LambdaTarget};
use crate::error::FirehoseError;

/// `NumberOfRetries` when not given.
pub const DEFAULT_RETRIES: u32 = 3;
/// `BufferSizeInMBs` when not given, bytes.
pub const DEFAULT_BUFFER_BYTES: usize = 1 << 20;

#[derive(Debug, Clone)]
pub struct LambdaProcessor {
    pub arn: String,
    pub retries: u32,
    /// The largest event payload of one invocation (the records' data), bytes.
    pub buffer_bytes: usize,
    pub target: LambdaTarget,
}

fn invalid(message: String) -> FirehoseError {
    FirehoseError::InvalidArgument(message)
}

impl LambdaProcessor {
    pub fn from_spec(
        spec: &ProcessorSpec,
        config: &FirehoseConfig,
    ) -> Result<LambdaProcessor, FirehoseError> {
        spec.only(
            "Lambda",
            &[
                "LambdaArn",
                "NumberOfRetries",
                "RoleArn",
                "BufferSizeInMBs",
                "BufferIntervalInSeconds",
            ],
        )?;
        let Some(arn) = spec.parameter("LambdaArn") else {
            return Err(invalid(
                "Lambda processor requires the LambdaArn parameter.".into(),
            ));
        };
        let retries = match spec.parameter("NumberOfRetries") {
            None => DEFAULT_RETRIES,
            Some(text) => text
                .parse::<u32>()
                .ok()
                .filter(|n| *n <= 300)
                .ok_or_else(|| {
                    invalid(format!(
                        "NumberOfRetries {text} must be an integer between 0 and 300."
                    ))
                })?,
        };
        let buffer_bytes = match spec.parameter("BufferSizeInMBs") {
            None => DEFAULT_BUFFER_BYTES,
            Some(text) => text
                .parse::<f64>()
                .ok()
                .filter(|mib| (0.2..=3.0).contains(mib))
                .map(|mib| (mib * f64::from(1u32 << 20)) as usize)
                .ok_or_else(|| {
                    invalid(format!(
                        "BufferSizeInMBs {text} must be a number between 0.2 and 3."
                    ))
                })?,
        };
        if let Some(text) = spec.parameter("BufferIntervalInSeconds")
            && !text.parse::<u32>().is_ok_and(|secs| secs <= 900)
        {
            return Err(invalid(format!(
                "BufferIntervalInSeconds {text} must be an integer between 0 and 900."
            )));
        }
        if let Some(role) = spec.parameter("RoleArn")
            && !role.starts_with("arn:")
        {
            return Err(invalid(format!("RoleArn {role} is not an ARN.")));
        }
        let Some(target) = config.lambda.get(arn) else {
            return Err(invalid(format!(
                "Lambda function {arn} is not mapped in Spate's configuration: add [firehose.lambda.\"{arn}\"] with url = \"http://...\" or command = [...]."
            )));
        };
        match (&target.url, &target.command) {
            (Some(_), None) => {}
            (None, Some(command)) if !command.is_empty() => {}
            _ => {
                return Err(invalid(format!(
                    "[firehose.lambda.\"{arn}\"] in Spate's configuration needs exactly one of url and command."
                )));
            }
        }
        Ok(LambdaProcessor {
            arn: arn.to_owned(),
            retries,
            buffer_bytes,
            target: target.clone(),
        })
    }

    /// Invokes the function on `records`, in chunks of at most `buffer_bytes` of data.
    pub async fn apply(&self, context: &StreamContext<'_>, records: Vec<Record>) -> Processed {
        let mut processed = Processed::default();
        for chunk in chunks(records, self.buffer_bytes) {
            let event = event(context, &chunk);
            let mut attempts = 0;
            let outcome = loop {
                attempts += 1;
                let result = match self.invoke(&event).await {
                    Ok(body) => parse_response(&body),
                    Err(failure) => Err(failure),
                };
                match result {
                    Ok(response) => break Ok(response),
                    Err(failure) if attempts > self.retries => break Err(failure),
                    Err(failure) => {
                        tracing::debug!(lambda = %self.arn, attempt = attempts, error = %failure.1, "lambda invocation failed");
                    }
                }
            };
            let now = (context.now_ms)();
            let failure = |code: &str, message: String| Failure {
                attempts_made: attempts,
                error_code: code.to_owned(),
                error_message: message,
                attempt_ending_ms: now,
                lambda_arn: Some(self.arn.clone()),
            };
            match outcome {
                Err((code, message)) => {
                    for record in &chunk {
                        processed.failed.push(FailedRecord::processing_failed(
                            record,
                            failure(code, message.clone()),
                        ));
                    }
                }
                Ok(response) => apply_response(chunk, response, &failure, &mut processed),
            }
        }
        processed
    }

    /// One invocation: the response body, or (error code, message).
    pub(crate) async fn invoke(&self, event: &[u8]) -> Result<Vec<u8>, (&'static str, String)> {
        let timeout = Duration::from_millis(self.target.timeout_ms);
        if let Some(url) = &self.target.url {
            let client = reqwest::Client::builder()
                .timeout(timeout)
                .build()
                .map_err(|err| ("Lambda.FunctionError", err.to_string()))?;
            let response = client
                .post(url)
                .header("content-type", "application/json")
                .body(event.to_vec())
                .send()
                .await
                .map_err(|err| ("Lambda.FunctionError", format!("POST {url}: {err}")))?;
            let status = response.status();
            let body = response
                .bytes()
                .await
                .map_err(|err| ("Lambda.FunctionError", format!("POST {url}: {err}")))?;
            if !status.is_success() {
                return Err((
                    "Lambda.FunctionError",
                    format!(
                        "The Lambda function was invoked but it returned an error result: HTTP {status}"
                    ),
                ));
            }
            return Ok(body.to_vec());
        }
        let command = self.target.command.as_deref().unwrap_or_default();
        let Some((program, args)) = command.split_first() else {
            return Err(("Lambda.FunctionError", "no command configured".into()));
        };
        let run = async {
            let mut child = tokio::process::Command::new(program)
                .args(args)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .kill_on_drop(true)
                .spawn()
                .map_err(|err| format!("starting {program}: {err}"))?;
            let mut stdin = child.stdin.take().ok_or("no stdin")?;
            let mut stdout = child.stdout.take().ok_or("no stdout")?;
            let write = async {
                let result = stdin.write_all(event).await;
                drop(stdin);
                result
            };
            let mut output = Vec::new();
            let (written, read) = tokio::join!(write, stdout.read_to_end(&mut output));
            written.map_err(|err| format!("writing the event to {program}: {err}"))?;
            read.map_err(|err| format!("reading the response of {program}: {err}"))?;
            let status = child.wait().await.map_err(|err| err.to_string())?;
            if !status.success() {
                return Err(format!(
                    "The Lambda function was invoked but it returned an error result: {program} exited with {status}"
                ));
            }
            Ok::<_, String>(output)
        };
        match tokio::time::timeout(timeout, run).await {
            Ok(result) => result.map_err(|message| ("Lambda.FunctionError", message)),
            Err(_) => Err((
                "Lambda.FunctionError",
                format!("{program} did not answer within {timeout:?}"),
            )),
        }
    }
}

/// Records in invocation-sized groups: each at most `limit` bytes of data, at least one record.
pub fn chunks(records: Vec<Record>, limit: usize) -> Vec<Vec<Record>> {
    let mut out = Vec::new();
    let mut chunk = Vec::new();
    let mut size = 0;
    for record in records {
        if !chunk.is_empty() && size + record.data.len() > limit {
            out.push(std::mem::take(&mut chunk));
            size = 0;
        }
        size += record.data.len();
        chunk.push(record);
    }
    if !chunk.is_empty() {
        out.push(chunk);
    }
    out
}

/// The event JSON of one invocation.
pub fn event(context: &StreamContext<'_>, records: &[Record]) -> Vec<u8> {
    let engine = base64::engine::general_purpose::STANDARD;
    let records: Vec<Value> = records
        .iter()
        .map(|record| {
            json!({
                "recordId": record.id,
                "approximateArrivalTimestamp": record.arrival_ms,
                "data": engine.encode(&record.data),
            })
        })
        .collect();
    let event = json!({
        "invocationId": uuid::Uuid::new_v4().to_string(),
        "deliveryStreamArn": context.delivery_stream_arn,
        "region": context.region,
        "records": records,
    });
    serde_json::to_vec(&event).expect("a JSON value serializes")
}

#[derive(Debug, Deserialize)]
pub struct Response {
    records: Vec<ResponseRecord>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResponseRecord {
    record_id: Option<String>,
    result: Option<String>,
    data: Option<String>,
    metadata: Option<Value>,
}

fn parse_response(body: &[u8]) -> Result<Response, (&'static str, String)> {
    serde_json::from_slice(body).map_err(|err| {
        (
            "Lambda.JsonProcessingException",
            format!("The response of the Lambda function is not valid: {err}"),
        )
    })
}

/// Applies a response to the chunk it answers.
fn apply_response(
    chunk: Vec<Record>,
    response: Response,
    failure: &dyn Fn(&str, String) -> Failure,
    processed: &mut Processed,
) {
    let mut answers: HashMap<String, Vec<ResponseRecord>> = HashMap::new();
    for answer in response.records {
        // Answers for ids not in the chunk match nothing and are left out.
        let id = answer.record_id.clone().unwrap_or_default();
        answers.entry(id).or_default().push(answer);
    }
    for mut record in chunk {
        let Some(mut found) = answers.remove(&record.id) else {
            processed.failed.push(FailedRecord::processing_failed(
                &record,
                failure(
                    "Lambda.MissingRecordId",
                    format!("The response has no record with recordId {}.", record.id),
                ),
            ));
            continue;
        };
        if found.len() > 1 {
            processed.failed.push(FailedRecord::processing_failed(
                &record,
                failure(
                    "Lambda.DuplicatedRecordId",
                    format!("The response has recordId {} more than once.", record.id),
                ),
            ));
            continue;
        }
        let answer = found.remove(0);
        match answer.result.as_deref() {
            Some("Dropped") => {}
            Some("Ok") => {
                let data = answer
                    .data
                    .as_deref()
                    .map(|text| base64::engine::general_purpose::STANDARD.decode(text.as_bytes()));
                let Some(Ok(data)) = data else {
                    processed.failed.push(FailedRecord::processing_failed(
                        &record,
                        failure(
                            "Lambda.InvalidReturn",
                            "The record's data is missing or not base64.".into(),
                        ),
                    ));
                    continue;
                };
                record.lambda_keys = partition_keys(answer.metadata.as_ref());
                record.data = Bytes::from(data);
                processed.records.push(record);
            }
            Some("ProcessingFailed") => processed.failed.push(FailedRecord::processing_failed(
                &record,
                failure(
                    "Lambda.ProcessingFailed",
                    "The Lambda function returned ProcessingFailed for the record.".into(),
                ),
            )),
            other => processed.failed.push(FailedRecord::processing_failed(
                &record,
                failure(
                    "Lambda.InvalidReturn",
                    format!(
                        "The record's result {} is not Ok, Dropped or ProcessingFailed.",
                        other.unwrap_or("(none)")
                    ),
                ),
            )),
        }
    }
}

/// `metadata.partitionKeys`, values as text.
fn partition_keys(metadata: Option<&Value>) -> BTreeMap<String, String> {
    let mut keys = BTreeMap::new();
    if let Some(Value::Object(members)) = metadata.and_then(|m| m.get("partitionKeys")) {
        for (key, value) in members {
            let text = match value {
                Value::String(text) => text.clone(),
                Value::Null => continue,
                other => other.to_string(),
            };
            keys.insert(key.clone(), text);
        }
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str, data: &str) -> Record {
        Record {
            id: id.into(),
            arrival_ms: 1000,
            data: Bytes::from(data.to_owned()),
            lambda_keys: BTreeMap::new(),
            query_keys: BTreeMap::new(),
        }
    }

    fn context() -> (String, fn() -> i64) {
        (
            "arn:aws:firehose:us-east-1:000000000000:deliverystream/s".into(),
            || 5000,
        )
    }

    #[test]
    fn the_event_is_aws_shaped() {
        let (arn, now) = context();
        let ctx = StreamContext {
            delivery_stream_arn: &arn,
            region: "us-east-1",
            now_ms: &now,
        };
        let event: Value =
            serde_json::from_slice(&event(&ctx, &[record("7", "hi")])).expect("JSON");
        assert_eq!(event["deliveryStreamArn"], arn.as_str());
        assert_eq!(event["region"], "us-east-1");
        assert!(event["invocationId"].is_string());
        assert_eq!(
            event["records"][0],
            json!({"recordId": "7", "approximateArrivalTimestamp": 1000, "data": "aGk="})
        );
    }

    #[test]
    fn responses_transform_drop_and_fail_records() {
        let response: Response = serde_json::from_value(json!({"records": [
            {"recordId": "1", "result": "Ok", "data": "SEk=", "metadata": {"partitionKeys": {"k": "v", "n": 3}}},
            {"recordId": "2", "result": "Dropped"},
            {"recordId": "3", "result": "ProcessingFailed", "data": "eA=="},
            {"recordId": "99", "result": "Ok", "data": "eA=="}
        ]}))
        .expect("parses");
        let chunk = vec![
            record("1", "hi"),
            record("2", "x"),
            record("3", "y"),
            record("4", "z"),
        ];
        let mut processed = Processed::default();
        let failure = |code: &str, message: String| Failure {
            attempts_made: 1,
            error_code: code.into(),
            error_message: message,
            attempt_ending_ms: 5,
            lambda_arn: Some("arn:aws:lambda:us-east-1:000000000000:function:f".into()),
        };
        apply_response(chunk, response, &failure, &mut processed);
        assert_eq!(processed.records.len(), 1);
        assert_eq!(processed.records[0].data, Bytes::from("HI"));
        assert_eq!(processed.records[0].lambda_keys["k"], "v");
        assert_eq!(processed.records[0].lambda_keys["n"], "3");
        let codes: Vec<&Value> = processed
            .failed
            .iter()
            .map(|f| &f.line["errorCode"])
            .collect();
        assert_eq!(codes, ["Lambda.ProcessingFailed", "Lambda.MissingRecordId"]);
        let line = &processed.failed[0].line;
        assert_eq!(line["rawData"], "eQ==");
        assert_eq!(line["arrivalTimestamp"], 1000);
        assert_eq!(
            line["lambdaArn"],
            "arn:aws:lambda:us-east-1:000000000000:function:f"
        );
    }

    #[test]
    fn chunks_keep_under_the_buffer_size() {
        let records = vec![
            record("1", "aaaa"),
            record("2", "bbbb"),
            record("3", "cccccccccc"),
        ];
        let sizes: Vec<usize> = chunks(records, 8).iter().map(Vec::len).collect();
        assert_eq!(sizes, [2, 1]);
    }

    #[test]
    fn unmapped_functions_are_refused_by_arn() {
        let spec: ProcessorSpec = serde_json::from_value(json!({
            "Type": "Lambda",
            "Parameters": [{"ParameterName": "LambdaArn", "ParameterValue": "arn:aws:lambda:us-east-1:1:function:nope"}]
        }))
        .expect("parses");
        let err =
            LambdaProcessor::from_spec(&spec, &FirehoseConfig::default()).expect_err("refused");
        assert!(
            err.to_string()
                .contains("arn:aws:lambda:us-east-1:1:function:nope")
        );
    }
}
