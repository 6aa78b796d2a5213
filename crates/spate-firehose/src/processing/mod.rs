//! Record processing of the S3 destinations (`ProcessingConfiguration`) and the dynamic
//! partitioning that follows it: the steps a batch goes through between the log and its objects.
//!
//! A batch runs [`decompression`] (`Decompression`) and [`cloudwatch_logs`]
//! (`CloudWatchLogProcessing`) first (the records are gzip until then), then, in AWS's documented order ("Data entering Firehose is processed in the following
//! order: De-aggregation → Data Transformation via Lambda → Partitioning Keys", *Apply dynamic
//! partitioning to aggregated data*, `firehose/latest/dev/dynamic-partitioning-multirecord-deaggergation.html`):
//! [`deaggregation`] (`RecordDeAggregation`), [`lambda`] (`Lambda`), [`metadata_extraction`]
//! (`MetadataExtraction`, the `partitionKeyFromQuery` values), then [`append_delimiter`]
//! (`AppendDelimiterToRecord`), whatever order the processors are listed in. Unverified: where
//! AWS applies the delimiter; after the keys are read is the only order in which the jq query
//! sees the record as sent. [`partition`] then groups the survivors into one object per distinct
//! set of partition key values. Records that fail a step leave the batch as [`FailedRecord`]s,
//! which the destination writes to its error output.

pub mod append_delimiter;
pub mod cloudwatch_logs;
pub mod deaggregation;
pub mod decompression;
pub mod lambda;
pub mod metadata_extraction;
pub mod partition;

use std::collections::BTreeMap;

use base64::Engine as _;
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use spate_wire::Violations;

use crate::config::FirehoseConfig;
use crate::delivery::BatchRecord;
use crate::error::FirehoseError;
use crate::keys::ErrorOutputType;

/// The processor types of the model's `ProcessorType`.
pub const PROCESSOR_TYPES: &[&str] = &[
    "RecordDeAggregation",
    "Decompression",
    "CloudWatchLogProcessing",
    "Lambda",
    "MetadataExtraction",
    "AppendDelimiterToRecord",
];

/// The parameter names of the model's `ProcessorParameterName`.
pub const PARAMETER_NAMES: &[&str] = &[
    "LambdaArn",
    "NumberOfRetries",
    "MetadataExtractionQuery",
    "JsonParsingEngine",
    "RoleArn",
    "BufferSizeInMBs",
    "BufferIntervalInSeconds",
    "SubRecordType",
    "Delimiter",
    "CompressionFormat",
    "DataMessageExtraction",
];

/// `ProcessingConfiguration` as the model shapes it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ProcessingConfiguration {
    pub enabled: Option<bool>,
    pub processors: Option<Vec<ProcessorSpec>>,
}

/// `Processor`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ProcessorSpec {
    #[serde(rename = "Type")]
    pub processor_type: Option<String>,
    pub parameters: Option<Vec<ProcessorParameter>>,
}

/// `ProcessorParameter`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ProcessorParameter {
    pub parameter_name: Option<String>,
    pub parameter_value: Option<String>,
}

impl ProcessorSpec {
    /// The value of parameter `name`, if given.
    pub fn parameter(&self, name: &str) -> Option<&str> {
        self.parameters
            .iter()
            .flatten()
            .find(|p| p.parameter_name.as_deref() == Some(name))
            .and_then(|p| p.parameter_value.as_deref())
    }

    /// Refuses parameters other than `allowed` for this processor type.
    fn only(&self, kind: &str, allowed: &[&str]) -> Result<(), FirehoseError> {
        for parameter in self.parameters.iter().flatten() {
            let name = parameter.parameter_name.as_deref().unwrap_or_default();
            if !allowed.contains(&name) {
                return Err(FirehoseError::InvalidArgument(format!(
                    "Processor parameter {name} is not valid for processor type {kind}."
                )));
            }
        }
        Ok(())
    }
}

/// Parses a stored or requested `ProcessingConfiguration` value.
pub fn parse(value: &Value) -> Result<ProcessingConfiguration, FirehoseError> {
    serde_json::from_value(value.clone()).map_err(|err| {
        FirehoseError::InvalidArgument(format!("ProcessingConfiguration is malformed: {err}"))
    })
}

/// The modeled constraints (`ValidationException`): the enums and the value's length and pattern.
pub fn validate(value: &Value, v: &mut Violations, path: &str) {
    let Ok(config) = parse(value) else {
        return;
    };
    for (i, processor) in config.processors.iter().flatten().enumerate() {
        let member = format!("{path}.processors.{}", i + 1);
        match &processor.processor_type {
            None => v.required(&format!("{member}.type"), &processor.processor_type),
            Some(kind) => v.one_of(&format!("{member}.type"), kind, PROCESSOR_TYPES),
        }
        for (j, parameter) in processor.parameters.iter().flatten().enumerate() {
            let member = format!("{member}.parameters.{}", j + 1);
            match &parameter.parameter_name {
                None => v.required(
                    &format!("{member}.parameterName"),
                    &parameter.parameter_name,
                ),
                Some(name) => v.one_of(&format!("{member}.parameterName"), name, PARAMETER_NAMES),
            }
            match &parameter.parameter_value {
                None => v.required(
                    &format!("{member}.parameterValue"),
                    &parameter.parameter_value,
                ),
                Some(text) => {
                    let member = format!("{member}.parameterValue");
                    v.string_length(&member, text, 1, 5120);
                    v.pattern(
                        &member,
                        text,
                        "^(?!\\s*$).+",
                        !text.trim().is_empty() && !text.contains('\n'),
                    );
                }
            }
        }
    }
}

/// The processors of a destination, checked and ready to run.
#[derive(Debug, Clone, Default)]
pub struct Pipeline {
    pub decompression: Option<decompression::Decompression>,
    pub cloudwatch_logs: Option<cloudwatch_logs::CloudWatchLogProcessing>,
    pub deaggregation: Option<deaggregation::DeAggregation>,
    pub lambda: Option<lambda::LambdaProcessor>,
    pub extraction: Option<metadata_extraction::MetadataExtraction>,
    pub append_delimiter: Option<append_delimiter::AppendDelimiter>,
}

impl Pipeline {
    /// The pipeline `processing` describes, checked against AWS's rules and Spate's Lambda
    /// mappings (`InvalidArgumentException` naming what is wrong). `None` when processing is
    /// absent or disabled.
    pub fn build(
        processing: Option<&Value>,
        dynamic_partitioning: bool,
        config: &FirehoseConfig,
    ) -> Result<Option<Pipeline>, FirehoseError> {
        let Some(value) = processing.filter(|value| !value.is_null()) else {
            return Ok(None);
        };
        let processing = parse(value)?;
        if processing.enabled == Some(false) {
            return Ok(None);
        }
        let mut pipeline = Pipeline::default();
        let mut seen: Vec<&str> = Vec::new();
        for processor in processing.processors.iter().flatten() {
            let kind = processor.processor_type.as_deref().unwrap_or_default();
            // Unverified: AWS's rule and wording; a second processor of a type has no meaning.
            if seen.contains(&kind) {
                return Err(FirehoseError::InvalidArgument(format!(
                    "Processor type {kind} can be specified only once."
                )));
            }
            seen.push(kind);
            match kind {
                "Lambda" => {
                    pipeline.lambda = Some(lambda::LambdaProcessor::from_spec(processor, config)?)
                }
                "RecordDeAggregation" => {
                    pipeline.deaggregation =
                        Some(deaggregation::DeAggregation::from_spec(processor)?)
                }
                "MetadataExtraction" => {
                    // *Dynamic partitioning*: inline parsing (jq) is a dynamic partitioning
                    // feature; its keys have nowhere to go without it.
                    if !dynamic_partitioning {
                        return Err(FirehoseError::InvalidArgument(
                            "MetadataExtraction processor is only supported when dynamic partitioning is enabled.".into(),
                        ));
                    }
                    pipeline.extraction = Some(metadata_extraction::MetadataExtraction::from_spec(
                        processor,
                    )?)
                }
                "AppendDelimiterToRecord" => {
                    pipeline.append_delimiter =
                        Some(append_delimiter::AppendDelimiter::from_spec(processor)?)
                }
                "Decompression" => {
                    pipeline.decompression =
                        Some(decompression::Decompression::from_spec(processor)?)
                }
                "CloudWatchLogProcessing" => {
                    pipeline.cloudwatch_logs = Some(
                        cloudwatch_logs::CloudWatchLogProcessing::from_spec(processor)?,
                    )
                }
                other => {
                    return Err(FirehoseError::InvalidArgument(format!(
                        "Unknown processor type {other}."
                    )));
                }
            }
        }
        if pipeline.cloudwatch_logs.is_some() && pipeline.decompression.is_none() {
            return Err(FirehoseError::InvalidArgument(
                "CloudWatchLogProcessing requires a Decompression processor.".into(),
            ));
        }
        Ok(Some(pipeline))
    }
}

/// One record on its way through the pipeline.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// Unique within the batch: the log offset, with `.N` for the Nth sub-record of a
    /// de-aggregated record. The `recordId` a Lambda sees.
    pub id: String,
    pub arrival_ms: i64,
    pub data: Bytes,
    /// `partitionKeyFromLambda` values the Lambda returned for it.
    pub lambda_keys: BTreeMap<String, String>,
    /// `partitionKeyFromQuery` values the jq query gave.
    pub query_keys: BTreeMap<String, String>,
}

impl Record {
    pub fn from_batch(record: &BatchRecord) -> Record {
        Record {
            id: record.offset.to_string(),
            arrival_ms: record.arrival_ms,
            data: record.data.clone(),
            lambda_keys: BTreeMap::new(),
            query_keys: BTreeMap::new(),
        }
    }
}

/// A record that goes to the error output, as the JSON line AWS writes for it.
#[derive(Debug, Clone, PartialEq)]
pub struct FailedRecord {
    pub error_type: ErrorOutputType,
    pub line: Value,
}

/// What is known about a failure besides the record.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub attempts_made: u32,
    pub error_code: String,
    pub error_message: String,
    pub attempt_ending_ms: i64,
    /// The Lambda's ARN, for failures of a Lambda processor.
    pub lambda_arn: Option<String>,
}

impl FailedRecord {
    /// A `processing-failed` record in the format of *Handle failure in data transformation*
    /// (`firehose/latest/dev/data-transformation-failure-handling.html`): `attemptsMade`,
    /// `arrivalTimestamp`, `errorCode`, `errorMessage`, `attemptEndingTimestamp`, `rawData`
    /// (base64), `lambdaArn`. The page shows every value quoted as a placeholder; numbers are
    /// written as JSON numbers here (unverified).
    pub fn processing_failed(record: &Record, failure: Failure) -> FailedRecord {
        let mut line = json!({
            "attemptsMade": failure.attempts_made,
            "arrivalTimestamp": record.arrival_ms,
            "errorCode": failure.error_code,
            "errorMessage": failure.error_message,
            "attemptEndingTimestamp": failure.attempt_ending_ms,
            "rawData": base64::engine::general_purpose::STANDARD.encode(&record.data),
        });
        if let Some(arn) = failure.lambda_arn {
            line["lambdaArn"] = json!(arn);
        }
        FailedRecord {
            error_type: ErrorOutputType::ProcessingFailed,
            line,
        }
    }

    /// A `partitioning-failed` record: the same fields, without `lambdaArn`. Unverified: the
    /// docs name neither this format nor the error codes (`DynamicPartitioning.*` here).
    pub fn partitioning_failed(record: &Record, failure: Failure) -> FailedRecord {
        let mut failed = FailedRecord::processing_failed(
            record,
            Failure {
                lambda_arn: None,
                ..failure
            },
        );
        failed.error_type = ErrorOutputType::PartitioningFailed;
        failed
    }
}

/// The outcome of the processors: records to deliver and records for the error output.
#[derive(Debug, Default)]
pub struct Processed {
    pub records: Vec<Record>,
    pub failed: Vec<FailedRecord>,
}

/// What a Lambda invocation needs to know about the stream.
#[derive(Clone)]
pub struct StreamContext<'a> {
    pub delivery_stream_arn: &'a str,
    pub region: &'a str,
    /// The current time in epoch milliseconds.
    pub now_ms: &'a (dyn Fn() -> i64 + Sync),
}

impl std::fmt::Debug for StreamContext<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamContext")
            .field("delivery_stream_arn", &self.delivery_stream_arn)
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

/// Runs the pipeline over a batch's records. The CPU-bound steps (splitting, jq) run off the
/// async runtime, a batch being up to 128 MiB.
pub async fn run(
    pipeline: &Pipeline,
    context: &StreamContext<'_>,
    records: &[BatchRecord],
) -> Processed {
    let mut processed = Processed {
        records: records.iter().map(Record::from_batch).collect(),
        failed: Vec::new(),
    };
    if pipeline.decompression.is_some() || pipeline.cloudwatch_logs.is_some() {
        let decompression = pipeline.decompression.clone();
        let cloudwatch_logs = pipeline.cloudwatch_logs.clone();
        let now_ms = (context.now_ms)();
        processed = off_runtime(processed, move |processed| {
            if let Some(decompression) = decompression {
                decompression.apply(processed, now_ms);
            }
            if let Some(cloudwatch_logs) = cloudwatch_logs {
                cloudwatch_logs.apply(processed, now_ms);
            }
        })
        .await;
    }
    if let Some(deaggregation) = pipeline.deaggregation.clone() {
        let now_ms = (context.now_ms)();
        processed = off_runtime(processed, move |processed| {
            deaggregation.apply(processed, now_ms)
        })
        .await;
    }
    if let Some(lambda) = &pipeline.lambda {
        let input = std::mem::take(&mut processed.records);
        let output = lambda.apply(context, input).await;
        processed.records = output.records;
        processed.failed.extend(output.failed);
    }
    if let Some(extraction) = pipeline.extraction.clone() {
        let now_ms = (context.now_ms)();
        processed = off_runtime(processed, move |processed| {
            extraction.apply(processed, now_ms)
        })
        .await;
    }
    if let Some(append) = &pipeline.append_delimiter {
        append.apply(&mut processed.records);
    }
    processed
}

/// Runs `step` on a blocking thread.
async fn off_runtime(
    mut processed: Processed,
    step: impl FnOnce(&mut Processed) + Send + 'static,
) -> Processed {
    let handle = tokio::task::spawn_blocking(move || {
        step(&mut processed);
        processed
    });
    handle.await.expect("a processing step does not panic")
}
