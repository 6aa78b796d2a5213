//! ListDeliveryStreams: names in alphabetical order, optionally of one source type, paged by
//! the last name seen.

use serde::Deserialize;
use serde_json::{Value, json};
use spate_wire::Violations;

use crate::api::Validate;
use crate::error::FirehoseError;
use crate::service::FirehoseService;

/// AWS's default page size.
const DEFAULT_LIMIT: i64 = 10;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    pub limit: Option<i64>,
    pub delivery_stream_type: Option<String>,
    pub exclusive_start_delivery_stream_name: Option<String>,
}

impl Validate for Request {
    fn validate(&self, v: &mut Violations) {
        if let Some(limit) = self.limit {
            v.range("limit", limit, Some(1), Some(10_000));
        }
        if let Some(kind) = &self.delivery_stream_type {
            v.one_of(
                "deliveryStreamType",
                kind,
                &[
                    "DirectPut",
                    "KinesisStreamAsSource",
                    "MSKAsSource",
                    "DatabaseAsSource",
                ],
            );
        }
        super::stream_name(
            v,
            "exclusiveStartDeliveryStreamName",
            &self.exclusive_start_delivery_stream_name,
            false,
        );
    }
}

pub async fn handle(service: &FirehoseService, request: Request) -> Result<Value, FirehoseError> {
    let limit = request.limit.unwrap_or(DEFAULT_LIMIT) as usize;
    let matching: Vec<String> = service
        .all()
        .iter()
        .filter(|stream| {
            request
                .delivery_stream_type
                .as_deref()
                .is_none_or(|kind| kind == stream.stream_type.model_name())
        })
        .filter(|stream| {
            request
                .exclusive_start_delivery_stream_name
                .as_deref()
                .is_none_or(|start| stream.name.as_str() > start)
        })
        .map(|stream| stream.name.clone())
        .collect();
    let has_more = matching.len() > limit;
    let names: Vec<&String> = matching.iter().take(limit).collect();
    Ok(json!({
        "DeliveryStreamNames": names,
        "HasMoreDeliveryStreams": has_more,
    }))
}
