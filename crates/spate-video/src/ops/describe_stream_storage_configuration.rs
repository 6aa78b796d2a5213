//! DescribeStreamStorageConfiguration: a stream's `DefaultStorageTier`.

use serde::Serialize;

pub use super::describe_stream::Request;
use super::update_stream_storage_configuration::Storage;
use crate::error::VideoError;
use crate::service::{Call, VideoService};

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Response {
    pub stream_name: String,
    #[serde(rename = "StreamARN")]
    pub stream_arn: String,
    pub stream_storage_configuration: Storage,
}

pub async fn handle(
    service: &VideoService,
    _call: &Call,
    request: Request,
) -> Result<Response, VideoError> {
    let (stream, _) = request.stream(service)?;
    Ok(Response {
        stream_name: stream.name,
        stream_arn: stream.arn,
        stream_storage_configuration: Storage {
            default_storage_tier: Some(stream.storage_tier),
        },
    })
}
