//! DescribeMediaStorageConfiguration: whether a channel's media is stored to a stream.

use serde::Serialize;

pub use super::describe_signaling_channel::Request;
use crate::error::VideoError;
use crate::model::MediaStorage;
use crate::service::{Call, VideoService};

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Response {
    pub media_storage_configuration: MediaStorage,
}

pub async fn handle(
    service: &VideoService,
    _call: &Call,
    request: Request,
) -> Result<Response, VideoError> {
    let (channel, _) = service.channel(
        request.channel_name.as_deref(),
        request.channel_arn.as_deref(),
    )?;
    Ok(Response {
        media_storage_configuration: channel.media_storage.unwrap_or(MediaStorage {
            stream_arn: None,
            status: "DISABLED".to_owned(),
        }),
    })
}
