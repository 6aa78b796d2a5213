//! ListTagsForResource: the tags of the stream a resource ARN names.

use serde::{Deserialize, Serialize};
use spate_wire::Violations;

use crate::api::Validate;
use crate::error::StreamsError;
use crate::service::StreamsService;
use crate::shapes::Tag;
use crate::validation;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    #[serde(rename = "ResourceARN")]
    pub resource_arn: Option<String>,
}

impl Validate for Request {
    fn validate(&self, v: &mut Violations) {
        validation::resource_arn(v, "resourceARN", &self.resource_arn);
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Response {
    pub tags: Vec<Tag>,
}

/// The stream a resource ARN names. Consumer ARNs name no resource until consumers exist.
pub(crate) fn stream_of(
    service: &StreamsService,
    arn: Option<&str>,
) -> Result<String, StreamsError> {
    let arn = arn.unwrap_or_default();
    let stream = validation::stream_of_resource_arn(&service.config, arn)?;
    if arn.contains("/consumer/") {
        return Err(StreamsError::ResourceNotFound(format!(
            "Consumer {arn} not found."
        )));
    }
    Ok(stream)
}

pub async fn handle(service: &StreamsService, request: Request) -> Result<Response, StreamsError> {
    let name = stream_of(service, request.resource_arn.as_deref())?;
    let stream = service.visible_stream(&name)?;
    Ok(Response {
        tags: stream
            .tags
            .iter()
            .map(|(key, value)| Tag {
                key: key.clone(),
                value: Some(value.clone()),
            })
            .collect(),
    })
}
