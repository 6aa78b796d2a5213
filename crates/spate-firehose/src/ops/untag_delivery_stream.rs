//! UntagDeliveryStream: removes tags by key; keys the stream does not have are ignored.

use serde::Deserialize;
use spate_wire::Violations;

use super::Empty;
use crate::api::Validate;
use crate::error::FirehoseError;
use crate::model::DeliveryStreamMeta;
use crate::service::FirehoseService;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    pub delivery_stream_name: Option<String>,
    pub tag_keys: Option<Vec<Option<String>>>,
}

impl Validate for Request {
    fn validate(&self, v: &mut Violations) {
        super::stream_name(v, "deliveryStreamName", &self.delivery_stream_name, true);
        match &self.tag_keys {
            None => v.required("tagKeys", &self.tag_keys),
            Some(keys) => {
                let rendered = format!("[{} keys]", keys.len());
                v.collection_length("tagKeys", &rendered, keys.len(), 1, 50);
                for (index, key) in keys.iter().enumerate() {
                    super::tag_key(v, &format!("tagKeys.{}.member", index + 1), key);
                }
            }
        }
    }
}

pub async fn handle(service: &FirehoseService, request: Request) -> Result<Empty, FirehoseError> {
    let name = super::name_of(&request.delivery_stream_name);
    let _control = service.control.lock().await;
    let stream = service.existing(name)?;
    let mut tags = stream.tags.clone();
    for key in request.tag_keys.unwrap_or_default().into_iter().flatten() {
        tags.remove(&key);
    }
    service
        .store(DeliveryStreamMeta {
            tags,
            ..(*stream).clone()
        })
        .await?;
    Ok(Empty {})
}
