//! DiscoverInputSchema: samples records of a Kinesis data stream or a Firehose delivery stream
//! of the caller's account (`runtime::discover`), or the lines of an S3 object
//! (`S3Configuration`, through the account's object store), passes them through the Lambda
//! preprocessor if one is given, and infers their schema (`input::discover_input_schema`).
//!
//! Unverified: AWS's exact messages; the error type for a stream that does not exist
//! (InvalidArgumentException here, since the model lists no ResourceNotFoundException).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use spate_wire::Violations;

use crate::api::Validate;
use crate::error::AnalyticsError;
use crate::input::{DiscoverError, SourceSchema, discover_input_schema};
use crate::ops;
use crate::runtime::reader::{self, Preprocessor};
use crate::runtime::{discover, reference};
use crate::service::AnalyticsService;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    #[serde(rename = "ResourceARN")]
    pub resource_arn: Option<String>,
    #[serde(rename = "RoleARN")]
    pub role_arn: Option<String>,
    pub input_starting_position_configuration:
        Option<ops::start_application::StartingPositionConfiguration>,
    pub s3_configuration: Option<Value>,
    pub input_processing_configuration: Option<Value>,
}

const POSITIONS: &[&str] = &["NOW", "TRIM_HORIZON", "LAST_STOPPED_POINT"];

fn arn(v: &mut Violations, path: &str, value: &Option<String>) {
    if let Some(text) = value {
        v.string_length(path, text, 1, 2048);
        v.pattern(path, text, "arn:.*", text.starts_with("arn:"));
    }
}

impl Validate for Request {
    fn validate(&self, v: &mut Violations) {
        arn(v, "resourceARN", &self.resource_arn);
        if let Some(role) = &self.role_arn {
            v.string_length("roleARN", role, 1, 2048);
        }
        if let Some(starting) = &self.input_starting_position_configuration
            && let Some(position) = &starting.input_starting_position
        {
            v.one_of(
                "inputStartingPositionConfiguration.inputStartingPosition",
                position,
                POSITIONS,
            );
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Response {
    pub input_schema: SourceSchema,
    pub parsed_input_records: Vec<Vec<Option<String>>>,
    pub processed_input_records: Vec<String>,
    pub raw_input_records: Vec<String>,
}

pub async fn handle(
    service: &AnalyticsService,
    request: Request,
) -> Result<Response, AnalyticsError> {
    let preprocessor = match &request.input_processing_configuration {
        None => None,
        Some(configuration) => Some(preprocessor_of(service, configuration)?),
    };
    if let Some(s3) = &request.s3_configuration {
        let samples = object_samples(service, s3).await?;
        return respond(samples, preprocessor.as_ref(), "the S3 object").await;
    }
    let Some(resource) = request.resource_arn else {
        return Err(AnalyticsError::InvalidArgument(
            "Either ResourceARN with InputStartingPositionConfiguration, or S3Configuration, must be given.".into(),
        ));
    };
    let Some(position) = request
        .input_starting_position_configuration
        .and_then(|starting| starting.input_starting_position)
    else {
        return Err(AnalyticsError::InvalidArgument(
            "InputStartingPositionConfiguration is required with ResourceARN.".into(),
        ));
    };
    let wait = service.config.runtime.discovery_wait;
    let samples = if resource.starts_with("arn:aws:firehose:") {
        let name = reader::delivery_stream_name(&resource).ok_or_else(|| {
            AnalyticsError::InvalidArgument(format!(
                "{resource} is not the ARN of a Firehose delivery stream."
            ))
        })?;
        let Some(api) = service.connections.firehose.as_ref() else {
            return Err(AnalyticsError::ServiceUnavailable(
                "Firehose is not served here, so no delivery stream can be sampled.".into(),
            ));
        };
        discover::sample_delivery_stream(api, name, &position, service.now_ms(), wait).await
    } else {
        let Some(api) = service.connections.streams.as_ref() else {
            return Err(AnalyticsError::ServiceUnavailable(
                "Kinesis Data Streams is not served here, so no stream can be sampled.".into(),
            ));
        };
        discover::sample(api, &resource, &position, service.now_ms(), wait).await
    };
    let samples =
        samples.map_err(|err| AnalyticsError::InvalidArgument(format!("{resource}: {err}")))?;
    if samples.is_empty() {
        return Err(AnalyticsError::UnableToDetectSchema(format!(
            "No data found in {resource} from position {position}: put records in the stream, or start from TRIM_HORIZON, and try again."
        )));
    }
    respond(samples, preprocessor.as_ref(), &resource).await
}

/// The Lambda preprocessor of an `InputProcessingConfiguration`, which samples go through
/// before their schema is inferred (ProcessedInputRecords).
fn preprocessor_of(
    service: &AnalyticsService,
    configuration: &Value,
) -> Result<Preprocessor, AnalyticsError> {
    let Some(arn) = configuration["InputLambdaProcessor"]["ResourceARN"].as_str() else {
        return Err(AnalyticsError::InvalidArgument(
            "InputProcessingConfiguration needs InputLambdaProcessor with its ResourceARN.".into(),
        ));
    };
    let Some(lambda) = service.connections.lambda.clone() else {
        return Err(AnalyticsError::ServiceUnavailable(
            "AWS Lambda functions are not invoked here, so records cannot be preprocessed.".into(),
        ));
    };
    lambda
        .check(arn)
        .map_err(|err| AnalyticsError::InvalidArgument(err.message))?;
    Ok(Preprocessor {
        function_arn: arn.to_owned(),
        application_arn: String::new(),
        lambda,
    })
}

/// The records of an `S3Configuration`'s object: its non-empty lines, at most
/// `discover::MAX_SAMPLES`. Unverified: how AWS cuts a static file into sample records.
async fn object_samples(
    service: &AnalyticsService,
    s3: &Value,
) -> Result<Vec<Vec<u8>>, AnalyticsError> {
    let bucket_arn = s3["BucketARN"].as_str().unwrap_or_default();
    let key = s3["FileKey"].as_str().unwrap_or_default();
    let Some(bucket) = reference::bucket_of(bucket_arn) else {
        return Err(AnalyticsError::InvalidArgument(format!(
            "S3Configuration BucketARN {bucket_arn:?} names no S3 bucket."
        )));
    };
    if key.is_empty() {
        return Err(AnalyticsError::InvalidArgument(
            "S3Configuration needs a FileKey.".into(),
        ));
    }
    let Some(objects) = service.connections.objects.as_ref() else {
        return Err(AnalyticsError::ServiceUnavailable(
            "No S3 endpoint is configured here, so S3Configuration cannot be read.".into(),
        ));
    };
    let object = objects.get_object(bucket, key).await.map_err(|err| {
        AnalyticsError::InvalidArgument(format!("Cannot read s3://{bucket}/{key}: {}", err.message))
    })?;
    Ok(reference::records_of(&object, true)
        .into_iter()
        .take(discover::MAX_SAMPLES)
        .map(|line| line.strip_suffix(b"\r").unwrap_or(line).to_vec())
        .collect())
}

/// The inferred schema of `samples` (read from `source`, through `preprocessor` if there is
/// one), the samples as read and as processed.
async fn respond(
    samples: Vec<Vec<u8>>,
    preprocessor: Option<&Preprocessor>,
    source: &str,
) -> Result<Response, AnalyticsError> {
    let processed_samples: Vec<Vec<u8>> = match preprocessor {
        None => samples.clone(),
        Some(preprocessor) => {
            // Unverified: sampled records carry no Kinesis metadata to the function.
            let metadata = vec![("kinesisStreamRecordMetadata", Value::Null); samples.len()];
            let data = samples.iter().map(|sample| (sample.clone(), 0)).collect();
            let (kept, _failed) =
                reader::preprocess(preprocessor, source, "sample", metadata, data)
                    .await
                    .map_err(|err| AnalyticsError::InvalidArgument(err.to_string()))?;
            kept.into_iter().map(|(data, _)| data).collect()
        }
    };
    let discovery = discover_input_schema(&processed_samples).map_err(|err| match err {
        DiscoverError::NoSamples => AnalyticsError::UnableToDetectSchema(format!(
            "No data found in {source} to infer a schema from."
        )),
        other => AnalyticsError::UnableToDetectSchema(format!(
            "Unable to detect the schema of the records of {source}: {other}."
        )),
    })?;
    let raw: Vec<String> = samples
        .iter()
        .map(|sample| String::from_utf8_lossy(sample).into_owned())
        .collect();
    let processed = processed_samples
        .iter()
        .map(|sample| String::from_utf8_lossy(sample).into_owned())
        .collect();
    Ok(Response {
        input_schema: discovery.input_schema,
        parsed_input_records: discovery.parsed_input_records,
        processed_input_records: processed,
        raw_input_records: raw,
    })
}
