//! The operation table: awsJson body in, awsJson body out.
//!
//! Each operation lives in its own module under `ops/` with its request shape (every member
//! optional, so a missing required member becomes AWS's `ValidationException` rather than a
//! deserialisation error), its validation, its response shape and its handler.

use serde::Serialize;
use serde::de::DeserializeOwned;
use spate_wire::Violations;

use crate::error::StreamsError;
use crate::ops;
use crate::service::StreamsService;

/// The prefix of `X-Amz-Target` for Data Streams.
pub const TARGET_PREFIX: &str = "Kinesis_20131202";

/// A request shape that checks its modeled constraints.
pub trait Validate {
    fn validate(&self, v: &mut Violations);
}

fn decode<T: DeserializeOwned + Validate>(body: &[u8]) -> Result<T, StreamsError> {
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        body
    };
    let request: T = serde_json::from_slice(body)
        .map_err(|err| StreamsError::Serialization(serialization_message(&err)))?;
    let mut violations = Violations::new();
    request.validate(&mut violations);
    violations.finish().map_err(StreamsError::Validation)?;
    Ok(request)
}

fn serialization_message(err: &serde_json::Error) -> String {
    match err.classify() {
        serde_json::error::Category::Data => {
            format!("The request does not match the operation's input shape: {err}")
        }
        _ => format!("The request body is not valid JSON: {err}"),
    }
}

fn encode<T: Serialize>(response: &T) -> Result<Vec<u8>, StreamsError> {
    serde_json::to_vec(response)
        .map_err(|err| StreamsError::Internal(format!("response does not encode: {err}")))
}

macro_rules! operations {
    ($service:expr, $operation:expr, $body:expr, { $($name:literal => $module:ident),* $(,)? }) => {
        match $operation {
            $($name => {
                let request: ops::$module::Request = decode($body)?;
                let response = ops::$module::handle($service, request).await?;
                Some(encode(&response))
            })*
            _ => None,
        }
    };
}

impl StreamsService {
    /// Runs one operation on an awsJson body. `None` when Spate does not implement the operation.
    pub async fn handle_json(
        &self,
        operation: &str,
        body: &[u8],
    ) -> Option<Result<Vec<u8>, StreamsError>> {
        let outcome: Result<Option<Result<Vec<u8>, StreamsError>>, StreamsError> = async {
            Ok(operations!(self, operation, body, {
                "AddTagsToStream" => add_tags_to_stream,
                "CreateStream" => create_stream,
                "DecreaseStreamRetentionPeriod" => decrease_stream_retention_period,
                "DeleteResourcePolicy" => delete_resource_policy,
                "DeleteStream" => delete_stream,
                "DescribeAccountSettings" => describe_account_settings,
                "DescribeLimits" => describe_limits,
                "DescribeStream" => describe_stream,
                "DescribeStreamSummary" => describe_stream_summary,
                "DisableEnhancedMonitoring" => disable_enhanced_monitoring,
                "EnableEnhancedMonitoring" => enable_enhanced_monitoring,
                "GetRecords" => get_records,
                "GetResourcePolicy" => get_resource_policy,
                "GetShardIterator" => get_shard_iterator,
                "IncreaseStreamRetentionPeriod" => increase_stream_retention_period,
                "ListShards" => list_shards,
                "ListStreams" => list_streams,
                "ListTagsForResource" => list_tags_for_resource,
                "ListTagsForStream" => list_tags_for_stream,
                "PutRecord" => put_record,
                "PutRecords" => put_records,
                "PutResourcePolicy" => put_resource_policy,
                "RemoveTagsFromStream" => remove_tags_from_stream,
                "StartStreamEncryption" => start_stream_encryption,
                "StopStreamEncryption" => stop_stream_encryption,
                "TagResource" => tag_resource,
                "UntagResource" => untag_resource,
                "UpdateAccountSettings" => update_account_settings,
                "UpdateMaxRecordSize" => update_max_record_size,
                "UpdateStreamWarmThroughput" => update_stream_warm_throughput,
            }))
        }
        .await;
        match outcome {
            Ok(found) => found,
            Err(err) => Some(Err(err)),
        }
    }
}
