//! AddTagsToStream: adds or overwrites tags, at most 50 per stream.

use std::collections::BTreeMap;

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
    pub tags: Option<BTreeMap<String, String>>,
}

impl Validate for Request {
    fn validate(&self, v: &mut Violations) {
        self.stream.validate(v);
        match &self.tags {
            None => v.required("tags", &self.tags),
            Some(map) => tags::validate_map(v, "tags", map),
        }
    }
}

pub async fn handle(service: &StreamsService, request: Request) -> Result<Empty, StreamsError> {
    let name = request.stream.resolve(&service.config)?;
    tags::add(service, &name, request.tags.unwrap_or_default()).await?;
    Ok(Empty {})
}
