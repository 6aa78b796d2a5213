//! ListTagsForStream: tags in key order, paged by ExclusiveStartTagKey and Limit.

use serde::{Deserialize, Serialize};
use spate_wire::Violations;

use crate::api::Validate;
use crate::error::StreamsError;
use crate::service::StreamsService;
use crate::shapes::Tag;
use crate::validation::StreamRef;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    #[serde(flatten)]
    pub stream: StreamRef,
    pub exclusive_start_tag_key: Option<String>,
    pub limit: Option<i64>,
}

impl Validate for Request {
    fn validate(&self, v: &mut Violations) {
        self.stream.validate(v);
        if let Some(key) = &self.exclusive_start_tag_key {
            v.string_length("exclusiveStartTagKey", key, 1, 128);
        }
        if let Some(limit) = self.limit {
            v.range("limit", limit, Some(1), Some(50));
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Response {
    pub tags: Vec<Tag>,
    pub has_more_tags: bool,
}

pub async fn handle(service: &StreamsService, request: Request) -> Result<Response, StreamsError> {
    let name = request.stream.resolve(&service.config)?;
    let stream = service.visible_stream(&name)?;
    let limit = usize::try_from(request.limit.unwrap_or(50)).unwrap_or(1);
    let after = request.exclusive_start_tag_key.unwrap_or_default();
    let remaining: Vec<_> = stream
        .tags
        .iter()
        .filter(|(key, _)| **key > after)
        .collect();
    Ok(Response {
        tags: remaining
            .iter()
            .take(limit)
            .map(|(key, value)| Tag {
                key: (*key).clone(),
                value: Some((*value).clone()),
            })
            .collect(),
        has_more_tags: remaining.len() > limit,
    })
}
