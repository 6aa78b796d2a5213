//! The operation table of `Firehose_20150804`: a JSON body in, a JSON body out.
//!
//! Each operation's request shape has every member optional, so a missing required member
//! becomes AWS's `ValidationException` rather than a deserialisation error.

use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;
use spate_wire::{AwsError, Codec};

use crate::error::FirehoseError;
use crate::ops;
use crate::service::FirehoseService;

/// The prefix of `X-Amz-Target` for Firehose.
pub const TARGET_PREFIX: &str = "Firehose_20150804";

/// The signing name of Firehose in SigV4 credential scopes.
pub const SIGNING_NAME: &str = "firehose";

pub use spate_wire::validate::Validate;

fn decode<T: DeserializeOwned + Validate>(codec: Codec, body: &[u8]) -> Result<T, FirehoseError> {
    Ok(spate_wire::validate::decode_request(codec, body)?)
}

fn encode<T: Serialize>(codec: Codec, response: &T) -> Result<Vec<u8>, FirehoseError> {
    codec
        .encode(response)
        .map_err(|err| FirehoseError::Internal(err.to_string()))
}

macro_rules! operations {
    ($service:expr, $operation:expr, $body:expr, $codec:expr,
     { $($name:literal => $module:ident),* $(,)? }) => {
        match $operation {
            $($name => Some(async {
                let request: ops::$module::Request = decode($codec, $body)?;
                let response = ops::$module::handle($service, request).await?;
                encode($codec, &response)
            }.await),)*
            _ => None,
        }
    };
}

impl FirehoseService {
    /// Runs one operation; an unknown operation name is `UnknownOperationException`.
    pub async fn handle(
        self: &Arc<Self>,
        operation: &str,
        body: &[u8],
        codec: Codec,
    ) -> Result<Vec<u8>, AwsError> {
        let result = self.run(operation, body, codec).await;
        match result {
            Some(Ok(bytes)) => Ok(bytes),
            Some(Err(err)) => {
                if err.is_server_fault() {
                    tracing::error!(operation, error = %err, "Firehose operation failed");
                }
                Err(err.to_aws())
            }
            None => Err(AwsError::unknown_operation(operation)),
        }
    }

    async fn run(
        self: &Arc<Self>,
        operation: &str,
        body: &[u8],
        codec: Codec,
    ) -> Option<Result<Vec<u8>, FirehoseError>> {
        operations!(self, operation, body, codec, {
            "CreateDeliveryStream" => create_delivery_stream,
            "DeleteDeliveryStream" => delete_delivery_stream,
            "DescribeDeliveryStream" => describe_delivery_stream,
            "ListDeliveryStreams" => list_delivery_streams,
            "ListTagsForDeliveryStream" => list_tags_for_delivery_stream,
            "PutRecord" => put_record,
            "PutRecordBatch" => put_record_batch,
            "StartDeliveryStreamEncryption" => start_delivery_stream_encryption,
            "StopDeliveryStreamEncryption" => stop_delivery_stream_encryption,
            "TagDeliveryStream" => tag_delivery_stream,
            "UntagDeliveryStream" => untag_delivery_stream,
            "UpdateDestination" => update_destination,
        })
    }
}
