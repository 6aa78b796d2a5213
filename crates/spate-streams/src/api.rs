//! The operation table: an awsJson or CBOR body in, a body in the same encoding out.
//!
//! Each operation lives in its own module under `ops/` with its request shape (every member
//! optional, so a missing required member becomes AWS's `ValidationException` rather than a
//! deserialisation error), its validation, its response shape and its handler. The shapes are
//! encoding-agnostic; [`Codec`] decodes requests and encodes responses in either encoding.

use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;
use spate_wire::Codec;

use crate::error::StreamsError;
use crate::ops;
use crate::service::StreamsService;

/// The prefix of `X-Amz-Target` for Data Streams.
pub const TARGET_PREFIX: &str = "Kinesis_20131202";

pub use spate_wire::validate::Validate;

/// Decodes and validates a request. Blobs and partition keys are decoded into one buffer per
/// request (`spate_wire::arena`), so the records PutRecords stores cost one allocation per call.
fn decode<T: DeserializeOwned + Validate>(codec: Codec, body: &[u8]) -> Result<T, StreamsError> {
    Ok(spate_wire::validate::decode_request(codec, body)?)
}

fn encode<T: Serialize>(codec: Codec, response: &T) -> Result<Vec<u8>, StreamsError> {
    codec
        .encode(response)
        .map_err(|err| StreamsError::Internal(err.to_string()))
}

/// Calls `$callback!(args..., { "Name" => module, ... })` with every operation Spate implements
/// through [`StreamsService::handle`]: the one list the dispatcher and the decode-only entry
/// point ([`decode_request`]) share.
macro_rules! with_operations {
    ($callback:ident ! ( $($args:tt)* )) => {
        $callback!($($args)* {
            "AddTagsToStream" => add_tags_to_stream,
            "CreateStream" => create_stream,
            "DecreaseStreamRetentionPeriod" => decrease_stream_retention_period,
            "DeleteResourcePolicy" => delete_resource_policy,
            "DeleteStream" => delete_stream,
            "DeregisterStreamConsumer" => deregister_stream_consumer,
            "DescribeAccountSettings" => describe_account_settings,
            "DescribeLimits" => describe_limits,
            "DescribeStream" => describe_stream,
            "DescribeStreamConsumer" => describe_stream_consumer,
            "DescribeStreamSummary" => describe_stream_summary,
            "DisableEnhancedMonitoring" => disable_enhanced_monitoring,
            "EnableEnhancedMonitoring" => enable_enhanced_monitoring,
            "GetRecords" => get_records,
            "GetResourcePolicy" => get_resource_policy,
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
            "PutResourcePolicy" => put_resource_policy,
            "RegisterStreamConsumer" => register_stream_consumer,
            "RemoveTagsFromStream" => remove_tags_from_stream,
            "SplitShard" => split_shard,
            "StartStreamEncryption" => start_stream_encryption,
            "StopStreamEncryption" => stop_stream_encryption,
            "TagResource" => tag_resource,
            "UntagResource" => untag_resource,
            "UpdateAccountSettings" => update_account_settings,
            "UpdateMaxRecordSize" => update_max_record_size,
            "UpdateShardCount" => update_shard_count,
            "UpdateStreamMode" => update_stream_mode,
            "UpdateStreamWarmThroughput" => update_stream_warm_throughput,
        })
    };
}

/// Decodes, validates and runs the named operation; `None` for an operation not in the list.
macro_rules! dispatch {
    ($service:expr, $operation:expr, $body:expr, $codec:expr,
     { $($name:literal => $module:ident),* $(,)? }) => {
        match $operation {
            $($name => {
                let request: ops::$module::Request = decode($codec, $body)?;
                let response = ops::$module::handle($service, request).await?;
                Some(encode($codec, &response))
            })*
            _ => None,
        }
    };
}

/// Decodes and validates the named operation's request, then drops it.
macro_rules! decode_only {
    ($operation:expr, $body:expr, $codec:expr,
     { $($name:literal => $module:ident),* $(,)? }) => {
        match $operation {
            $($name => Some(decode::<ops::$module::Request>($codec, $body).map(drop)),)*
            _ => None,
        }
    };
}

/// Lists the operation names, then `$extra`.
macro_rules! names {
    ($($extra:literal)* { $($name:literal => $module:ident),* $(,)? }) => {
        &[$($name,)* $($extra),*]
    };
}

/// SubscribeToShard is started by [`StreamsService::subscribe`], not run by the dispatcher.
const SUBSCRIBE_TO_SHARD: &str = "SubscribeToShard";

/// Every operation with a request body: those [`StreamsService::handle`] runs, and
/// SubscribeToShard.
pub const OPERATIONS: &[&str] = with_operations!(names!("SubscribeToShard"));

/// Decodes and validates a request body of `operation` exactly as the server does before it runs
/// the operation, and drops the request: the entry point of the decoding fuzz targets
/// (`fuzz/`), which reach every request shape through it without a service to run them on.
/// `None` when `operation` is not one of [`OPERATIONS`].
pub fn decode_request(
    operation: &str,
    codec: Codec,
    body: &[u8],
) -> Option<Result<(), StreamsError>> {
    if operation == SUBSCRIBE_TO_SHARD {
        return Some(decode::<ops::subscribe_to_shard::Request>(codec, body).map(drop));
    }
    with_operations!(decode_only!(operation, body, codec,))
}

impl StreamsService {
    /// Starts SubscribeToShard from a body in `codec`'s encoding: an error before anything is
    /// streamed, or the event-stream messages to send, whose payloads use the same encoding.
    pub async fn subscribe(
        self: &Arc<Self>,
        body: &[u8],
        codec: Codec,
    ) -> Result<ops::subscribe_to_shard::Subscription, StreamsError> {
        let request: ops::subscribe_to_shard::Request = decode(codec, body)?;
        ops::subscribe_to_shard::handle(self, request, codec).await
    }

    /// [`StreamsService::subscribe`] with an awsJson body.
    pub async fn subscribe_json(
        self: &Arc<Self>,
        body: &[u8],
    ) -> Result<ops::subscribe_to_shard::Subscription, StreamsError> {
        self.subscribe(body, Codec::Json).await
    }

    /// Runs one operation on an awsJson body. `None` when Spate does not implement the operation.
    pub async fn handle_json(
        &self,
        operation: &str,
        body: &[u8],
    ) -> Option<Result<Vec<u8>, StreamsError>> {
        self.handle(operation, body, Codec::Json).await
    }

    /// Runs one operation on a body in `codec`'s encoding and answers in the same encoding.
    /// `None` when Spate does not implement the operation.
    pub async fn handle(
        &self,
        operation: &str,
        body: &[u8],
        codec: Codec,
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
        let outcome: Result<Option<Result<Vec<u8>, StreamsError>>, StreamsError> =
            async { Ok(with_operations!(dispatch!(self, operation, body, codec,))) }.await;
        match outcome {
            Ok(found) => found,
            Err(err) => Some(Err(err)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_operation_decodes_and_others_are_unknown() {
        let mut names = OPERATIONS.to_vec();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), OPERATIONS.len(), "no operation listed twice");
        assert!(OPERATIONS.contains(&"PutRecords"));
        assert!(OPERATIONS.contains(&"SubscribeToShard"));
        for operation in OPERATIONS {
            for codec in [Codec::Json, Codec::Cbor] {
                // An empty body decodes to the empty request, which may or may not validate.
                assert!(
                    decode_request(operation, codec, b"").is_some(),
                    "{operation}"
                );
                let garbage = decode_request(operation, codec, b"\xff{");
                assert!(
                    matches!(garbage, Some(Err(StreamsError::Serialization(_)))),
                    "{operation} {codec}: {garbage:?}"
                );
            }
        }
        assert!(decode_request("NoSuchOperation", Codec::Json, b"{}").is_none());
    }
}
