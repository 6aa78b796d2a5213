//! DeleteDeliveryStream: refused while the stream is CREATING, as on AWS; otherwise the stream shows DELETING, stops taking records, and is removed (its
//! undelivered records with it, as on AWS) once the delete delay is over.

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
    pub allow_force_delete: Option<bool>,
}

impl Validate for Request {
    fn validate(&self, v: &mut Violations) {
        super::stream_name(v, "deliveryStreamName", &self.delivery_stream_name, true);
    }
}

pub async fn handle(service: &FirehoseService, request: Request) -> Result<Empty, FirehoseError> {
    let name = super::name_of(&request.delivery_stream_name);
    let _control = service.control.lock().await;
    let stream = service
        .get(name)
        .ok_or_else(|| FirehoseError::ResourceNotFound(service.config.not_found_message(name)))?;
    if stream.deleting_since_ms.is_some() {
        return Ok(Empty {});
    }
    if stream.status(service.now_ms()) == "CREATING" {
        return Err(FirehoseError::ResourceInUse(format!(
            "Firehose {name} under account {} is in CREATING state; it can be deleted once it is ACTIVE.",
            service.config.account_id
        )));
    }
    let deleting = DeliveryStreamMeta {
        deleting_since_ms: Some(service.now_ms()),
        ..(*stream).clone()
    };
    service.store(deleting).await?;
    if service.config.delete_delay_ms == 0 {
        service.finish_delete(name).await?;
    }
    Ok(Empty {})
}
