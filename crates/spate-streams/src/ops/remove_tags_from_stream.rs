//! RemoveTagsFromStream: removes tags by key; keys the stream lacks are ignored.

use serde::Deserialize;
use spate_wire::Violations;

use super::{Empty, tags};
use crate::api::Validate;
use crate::error::StreamsError;
use crate::service::StreamsService;
use crate::validation;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    pub stream_name: Option<String>,
    #[serde(rename = "StreamARN")]
    pub stream_arn: Option<String>,
    pub tag_keys: Option<Vec<String>>,
}

impl Validate for Request {
    fn validate(&self, v: &mut Violations) {
        validation::name(v, "streamName", &self.stream_name, false);
        validation::stream_arn(v, "streamARN", &self.stream_arn);
        match &self.tag_keys {
            None => v.required("tagKeys", &self.tag_keys),
            Some(keys) => tags::validate_keys(v, "tagKeys", keys),
        }
    }
}

pub async fn handle(service: &StreamsService, request: Request) -> Result<Empty, StreamsError> {
    let name = validation::resolve_stream_name(
        &service.config,
        request.stream_name.as_deref(),
        request.stream_arn.as_deref(),
    )?;
    tags::remove(service, &name, &request.tag_keys.unwrap_or_default()).await?;
    Ok(Empty {})
}
