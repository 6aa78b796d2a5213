//! DescribeDeliveryStream: the stream's status, source, encryption and destinations.

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
    pub limit: Option<i64>,
    pub exclusive_start_destination_id: Option<String>,
}

impl Validate for Request {
    fn validate(&self, v: &mut Violations) {
        super::stream_name(v, "deliveryStreamName", &self.delivery_stream_name, true);
        if let Some(limit) = self.limit {
            v.range("limit", limit, Some(1), Some(10_000));
        }
        if let Some(id) = &self.exclusive_start_destination_id {
            v.string_length("exclusiveStartDestinationId", id, 1, 100);
            v.pattern(
                "exclusiveStartDestinationId",
                id,
                "[a-zA-Z0-9-]+",
                id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'),
            );
        }
    }
}

pub async fn handle(service: &FirehoseService, request: Request) -> Result<Value, FirehoseError> {
    let name = super::name_of(&request.delivery_stream_name);
    let stream = service
        .get(name)
        .ok_or_else(|| FirehoseError::ResourceNotFound(service.config.not_found_message(name)))?;
    let mut description = stream.description(service.now_ms());
    // One destination: a start after it leaves none.
    if request
        .exclusive_start_destination_id
        .as_deref()
        .is_some_and(|start| start >= crate::model::DESTINATION_ID)
    {
        description["Destinations"] = json!([]);
    }
    Ok(json!({ "DeliveryStreamDescription": description }))
}
