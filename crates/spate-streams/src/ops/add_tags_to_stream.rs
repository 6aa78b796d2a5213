//! AddTagsToStream: adds or overwrites tags, at most 50 per stream.

use std::collections::BTreeMap;

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
    pub tags: Option<BTreeMap<String, String>>,
}

impl Validate for Request {
    fn validate(&self, v: &mut Violations) {
        validation::name(v, "streamName", &self.stream_name, false);
        validation::stream_arn(v, "streamARN", &self.stream_arn);
        match &self.tags {
            None => v.required("tags", &self.tags),
            Some(map) => tags::validate_map(v, "tags", map),
        }
    }
}

pub async fn handle(service: &StreamsService, request: Request) -> Result<Empty, StreamsError> {
    let name = validation::resolve_stream_name(
        &service.config,
        request.stream_name.as_deref(),
        request.stream_arn.as_deref(),
    )?;
    tags::add(service, &name, request.tags.unwrap_or_default()).await?;
    Ok(Empty {})
}
