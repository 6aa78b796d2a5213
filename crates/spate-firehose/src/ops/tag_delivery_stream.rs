//! TagDeliveryStream: adds or overwrites tags, at most 50 per stream.

use serde::Deserialize;
use spate_wire::Violations;

use super::{Empty, MAX_TAGS, Tag};
use crate::api::Validate;
use crate::error::FirehoseError;
use crate::model::DeliveryStreamMeta;
use crate::service::FirehoseService;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    pub delivery_stream_name: Option<String>,
    pub tags: Option<Vec<Tag>>,
}

impl Validate for Request {
    fn validate(&self, v: &mut Violations) {
        super::stream_name(v, "deliveryStreamName", &self.delivery_stream_name, true);
        match &self.tags {
            None => v.required("tags", &self.tags),
            Some(tags) => super::tags(v, "tags", tags),
        }
    }
}

pub async fn handle(service: &FirehoseService, request: Request) -> Result<Empty, FirehoseError> {
    let name = super::name_of(&request.delivery_stream_name);
    let _control = service.control.lock().await;
    let stream = service.existing(name)?;
    let mut tags = stream.tags.clone();
    for tag in request.tags.unwrap_or_default() {
        tags.insert(tag.key.unwrap_or_default(), tag.value.unwrap_or_default());
    }
    if tags.len() > MAX_TAGS {
        return Err(FirehoseError::LimitExceeded(format!(
            "Firehose {name} would have {} tags; a Firehose stream can have at most {MAX_TAGS}.",
            tags.len()
        )));
    }
    service
        .store(DeliveryStreamMeta {
            tags,
            ..(*stream).clone()
        })
        .await?;
    Ok(Empty {})
}
