//! The operation table of `KinesisAnalytics_20150814` (Kinesis Data Analytics for SQL, v1): a
//! JSON body in, a JSON body out.
//!
//! Each operation's request shape has every member optional, so a missing required member
//! becomes AWS's `ValidationException` rather than a deserialisation error. An operation the
//! model does not have is `UnknownOperationException`.

use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;
use spate_wire::{AwsError, Codec};

use crate::error::AnalyticsError;
use crate::ops;
use crate::service::AnalyticsService;

/// The prefix of `X-Amz-Target` for the v1 (SQL) API.
pub const TARGET_PREFIX: &str = "KinesisAnalytics_20150814";

/// The signing name of Kinesis Data Analytics (v1 and v2) in SigV4 credential scopes.
pub const SIGNING_NAME: &str = "kinesisanalytics";

pub use spate_wire::validate::Validate;

fn decode<T: DeserializeOwned + Validate>(codec: Codec, body: &[u8]) -> Result<T, AnalyticsError> {
    Ok(spate_wire::validate::decode_request(codec, body)?)
}

fn encode<T: Serialize>(codec: Codec, response: &T) -> Result<Vec<u8>, AnalyticsError> {
    codec
        .encode(response)
        .map_err(|err| AnalyticsError::Internal(err.to_string()))
}

macro_rules! operations {
    ($service:expr, $operation:expr, $body:expr, $codec:expr,
     { $($name:literal => $($module:ident)::+),* $(,)? }) => {
        match $operation {
            $($name => Some(async {
                let request: ops::$($module)::+::Request = decode($codec, $body)?;
                let response = ops::$($module)::+::handle($service, request).await?;
                encode($codec, &response)
            }.await),)*
            _ => None,
        }
    };
}

impl AnalyticsService {
    /// Runs one operation; an unknown operation name is `UnknownOperationException`.
    pub async fn handle(
        self: &Arc<Self>,
        operation: &str,
        body: &[u8],
        codec: Codec,
    ) -> Result<Vec<u8>, AwsError> {
        match self.run(operation, body, codec).await {
            Some(Ok(bytes)) => Ok(bytes),
            Some(Err(err)) => {
                if err.is_server_fault() {
                    tracing::error!(operation, error = %err, "Kinesis Analytics operation failed");
                }
                Err(err.to_aws())
            }
            None => Err(AwsError::unknown_operation(&format!(
                "{TARGET_PREFIX}.{operation}"
            ))),
        }
    }

    pub(crate) async fn run(
        self: &Arc<Self>,
        operation: &str,
        body: &[u8],
        codec: Codec,
    ) -> Option<Result<Vec<u8>, AnalyticsError>> {
        operations!(self, operation, body, codec, {
            "CreateApplication" => create_application,
            "DescribeApplication" => describe_application,
            "ListApplications" => list_applications,
            "DeleteApplication" => delete_application,
            "AddApplicationInput" => pieces::add_input,
            "AddApplicationOutput" => pieces::add_output,
            "DeleteApplicationOutput" => pieces::delete_output,
            "AddApplicationReferenceDataSource" => pieces::add_reference,
            "DeleteApplicationReferenceDataSource" => pieces::delete_reference,
            "AddApplicationCloudWatchLoggingOption" => pieces::add_logging,
            "DeleteApplicationCloudWatchLoggingOption" => pieces::delete_logging,
            "AddApplicationInputProcessingConfiguration" => pieces::add_processing,
            "DeleteApplicationInputProcessingConfiguration" => pieces::delete_processing,
            "UpdateApplication" => update_application,
            "TagResource" => tags::tag_resource,
            "UntagResource" => tags::untag_resource,
            "ListTagsForResource" => tags::list_tags_for_resource,
            "StartApplication" => start_application,
            "StopApplication" => stop_application,
            "DiscoverInputSchema" => discover_input_schema,
        })
    }
}
