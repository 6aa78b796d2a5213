//! ListTagsForResource: the tags of the stream or consumer a resource ARN names.

use serde::{Deserialize, Serialize};
use spate_wire::Violations;

use super::consumer_ref::ConsumerRef;
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

/// What a resource ARN names: a stream, or a consumer of a stream.
pub(crate) enum Resource {
    Stream(String),
    Consumer(ConsumerRef),
}

pub(crate) fn resource_of(
    service: &StreamsService,
    arn: Option<&str>,
) -> Result<Resource, StreamsError> {
    let arn = arn.unwrap_or_default();
    let stream = validation::stream_of_resource_arn(&service.config, arn)?;
    if arn.contains("/consumer/") {
        return Ok(Resource::Consumer(ConsumerRef {
            consumer_arn: Some(arn.to_string()),
            ..ConsumerRef::default()
        }));
    }
    Ok(Resource::Stream(stream))
}

pub async fn handle(service: &StreamsService, request: Request) -> Result<Response, StreamsError> {
    let tags = match resource_of(service, request.resource_arn.as_deref())? {
        Resource::Stream(name) => service.visible_stream(&name)?.tags.clone(),
        Resource::Consumer(consumer) => consumer.resolve(service)?.1.tags.clone(),
    };
    Ok(Response {
        tags: tags
            .iter()
            .map(|(key, value)| Tag {
                key: key.clone(),
                value: Some(value.clone()),
            })
            .collect(),
    })
}
