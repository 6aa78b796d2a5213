//! The operation table: awsJson body in, awsJson body out.
//!
//! Each operation lives in its own module under `ops/` with its request shape (every member
//! optional, so a missing required member becomes AWS's `ValidationException` rather than a
//! deserialisation error), its validation, its response shape and its handler.

use std::sync::Arc;

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
    /// Starts SubscribeToShard from an awsJson body: an error before anything is streamed, or the
    /// event-stream messages to send.
    pub async fn subscribe_json(
        self: &Arc<Self>,
        body: &[u8],
    ) -> Result<ops::subscribe_to_shard::Subscription, StreamsError> {
        let request: ops::subscribe_to_shard::Request = decode(body)?;
        ops::subscribe_to_shard::handle(self, request).await
    }

    /// Runs one operation on an awsJson body. `None` when Spate does not implement the operation.
    pub async fn handle_json(
        &self,
        operation: &str,
        body: &[u8],
    ) -> Option<Result<Vec<u8>, StreamsError>> {
        // Account-wide control-plane rates; ListShards (per stream) and GetShardIterator (per
        // shard) are checked by their operations, which know the scope.
        if !matches!(operation, "ListShards" | "GetShardIterator")
            && !self.quotas.admit_control(operation, "", self.now_ms())
        {
            return Some(Err(StreamsError::LimitExceeded(format!(
                "Rate exceeded for operation {operation} under account {}.",
                self.config.account_id
            ))));
        }
        let outcome: Result<Option<Result<Vec<u8>, StreamsError>>, StreamsError> = async {
            Ok(operations!(self, operation, body, {
                "AddTagsToStream" => add_tags_to_stream,
                "CreateStream" => create_stream,
                "DecreaseStreamRetentionPeriod" => decrease_stream_retention_period,
                "DeleteStream" => delete_stream,
                "DeregisterStreamConsumer" => deregister_stream_consumer,
                "DescribeAccountSettings" => describe_account_settings,
                "DescribeLimits" => describe_limits,
                "DescribeStream" => describe_stream,
                "DescribeStreamConsumer" => describe_stream_consumer,
                "DescribeStreamSummary" => describe_stream_summary,
                "GetRecords" => get_records,
                "GetShardIterator" => get_shard_iterator,
                "IncreaseStreamRetentionPeriod" => increase_stream_retention_period,
                "ListShards" => list_shards,
                "ListStreamConsumers" => list_stream_consumers,
                "ListStreams" => list_streams,
                "ListTagsForResource" => list_tags_for_resource,
                "ListTagsForStream" => list_tags_for_stream,
                "MergeShards" => merge_shards,
                "PutRecord" => put_record,
                "PutRecords" => put_records,
                "RegisterStreamConsumer" => register_stream_consumer,
                "RemoveTagsFromStream" => remove_tags_from_stream,
                "SplitShard" => split_shard,
                "TagResource" => tag_resource,
                "UntagResource" => untag_resource,
                "UpdateShardCount" => update_shard_count,
                "UpdateStreamMode" => update_stream_mode,
            }))
        }
        .await;
        match outcome {
            Ok(found) => found,
            Err(err) => Some(Err(err)),
        }
    }
}
