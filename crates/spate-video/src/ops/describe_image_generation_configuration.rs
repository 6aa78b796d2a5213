//! DescribeImageGenerationConfiguration: the stored configuration, if any.

use serde::Serialize;

pub use super::describe_stream::Request;
use crate::error::VideoError;
use crate::model::ImageGenerationConfiguration;
use crate::service::{Call, VideoService};

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Response {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_generation_configuration: Option<ImageGenerationConfiguration>,
}

pub async fn handle(
    service: &VideoService,
    _call: &Call,
    request: Request,
) -> Result<Response, VideoError> {
    let (stream, _) = request.stream(service)?;
    Ok(Response {
        image_generation_configuration: stream.image_generation,
    })
}
