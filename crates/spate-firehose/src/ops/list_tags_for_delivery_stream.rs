//! ListTagsForDeliveryStream: tags in key order, paged by the last key seen.

use serde::Deserialize;
use serde_json::{Value, json};
use spate_wire::Violations;

use crate::api::Validate;
use crate::error::FirehoseError;
use crate::service::FirehoseService;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    pub delivery_stream_name: Option<String>,
    pub exclusive_start_tag_key: Option<String>,
    pub limit: Option<i64>,
}

impl Validate for Request {
    fn validate(&self, v: &mut Violations) {
        super::stream_name(v, "deliveryStreamName", &self.delivery_stream_name, true);
        if self.exclusive_start_tag_key.is_some() {
            super::tag_key(v, "exclusiveStartTagKey", &self.exclusive_start_tag_key);
        }
        if let Some(limit) = self.limit {
            v.range("limit", limit, Some(1), Some(50));
        }
    }
}

pub async fn handle(service: &FirehoseService, request: Request) -> Result<Value, FirehoseError> {
    let name = super::name_of(&request.delivery_stream_name);
    let stream = service.existing(name)?;
    let limit = request.limit.unwrap_or(50) as usize;
    let after: Vec<(&String, &String)> = stream
        .tags
        .iter()
        .filter(|(key, _)| {
            request
                .exclusive_start_tag_key
                .as_deref()
                .is_none_or(|start| key.as_str() > start)
        })
        .collect();
    let tags: Vec<Value> = after
        .iter()
        .take(limit)
        .map(|(key, value)| json!({"Key": key, "Value": value}))
        .collect();
    Ok(json!({
        "Tags": tags,
        "HasMoreTags": after.len() > limit,
    }))
}
