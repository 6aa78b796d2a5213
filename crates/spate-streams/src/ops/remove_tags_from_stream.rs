//! RemoveTagsFromStream: removes tags by key; keys the stream lacks are ignored.

use serde::Deserialize;
use spate_wire::Violations;

use super::{Empty, tags};
use crate::api::Validate;
use crate::error::StreamsError;
use crate::service::StreamsService;
use crate::validation::StreamRef;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    #[serde(flatten)]
    pub stream: StreamRef,
    pub tag_keys: Option<Vec<String>>,
}

impl Validate for Request {
    fn validate(&self, v: &mut Violations) {
        self.stream.validate(v);
        match &self.tag_keys {
            None => v.required("tagKeys", &self.tag_keys),
            Some(keys) => tags::validate_keys(v, "tagKeys", keys),
        }
    }
}

pub async fn handle(service: &StreamsService, request: Request) -> Result<Empty, StreamsError> {
    let name = request.stream.resolve(&service.config)?;
    tags::remove(service, &name, &request.tag_keys.unwrap_or_default()).await?;
    Ok(Empty {})
}
