//! TagResource: AddTagsToStream addressed by resource ARN.

use std::collections::BTreeMap;

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
    pub tags: Option<BTreeMap<String, String>>,
    #[serde(rename = "ResourceARN")]
    pub resource_arn: Option<String>,
}

impl Validate for Request {
    fn validate(&self, v: &mut Violations) {
        match &self.tags {
            None => v.required("tags", &self.tags),
            Some(map) => tags::validate_map(v, "tags", map),
        }
        validation::resource_arn(v, "resourceARN", &self.resource_arn);
    }
}

pub async fn handle(service: &StreamsService, request: Request) -> Result<Empty, StreamsError> {
    match resource_of(service, request.resource_arn.as_deref())? {
        Resource::Stream(name) => {
            tags::add(service, &name, request.tags.unwrap_or_default()).await?
        }
        Resource::Consumer(consumer) => {
            tags::add_on_consumer(service, &consumer, request.tags.unwrap_or_default()).await?
        }
    }
    Ok(Empty {})
}
