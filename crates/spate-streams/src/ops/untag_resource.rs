//! UntagResource: RemoveTagsFromStream addressed by resource ARN.

use serde::Deserialize;
use spate_wire::Violations;

use super::list_tags_for_resource::{Resource, resource_of};
use super::{Empty, tags};
use crate::api::Validate;
use crate::error::StreamsError;
use crate::service::StreamsService;
use crate::validation;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    pub tag_keys: Option<Vec<String>>,
    #[serde(rename = "ResourceARN")]
    pub resource_arn: Option<String>,
}

impl Validate for Request {
    fn validate(&self, v: &mut Violations) {
        match &self.tag_keys {
            None => v.required("tagKeys", &self.tag_keys),
            Some(keys) => tags::validate_keys(v, "tagKeys", keys),
        }
        validation::resource_arn(v, "resourceARN", &self.resource_arn);
    }
}

pub async fn handle(service: &StreamsService, request: Request) -> Result<Empty, StreamsError> {
    match resource_of(service, request.resource_arn.as_deref())? {
        Resource::Stream(name) => {
            tags::remove(service, &name, &request.tag_keys.unwrap_or_default()).await?
        }
        Resource::Consumer(consumer) => {
            tags::remove_on_consumer(service, &consumer, &request.tag_keys.unwrap_or_default())
                .await?
        }
    }
    Ok(Empty {})
}
