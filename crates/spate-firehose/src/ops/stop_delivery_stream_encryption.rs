//! StopDeliveryStreamEncryption: records put from now on are stored in the clear; records
//! already sealed stay sealed and are opened at delivery as before.

use serde::Deserialize;
use spate_wire::Violations;

use super::Empty;
use crate::api::Validate;
use crate::error::FirehoseError;
use crate::model::{DeliveryStreamMeta, Encryption};
use crate::service::FirehoseService;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    pub delivery_stream_name: Option<String>,
}

impl Validate for Request {
    fn validate(&self, v: &mut Violations) {
        super::stream_name(v, "deliveryStreamName", &self.delivery_stream_name, true);
    }
}

pub async fn handle(service: &FirehoseService, request: Request) -> Result<Empty, FirehoseError> {
    let name = super::name_of(&request.delivery_stream_name);
    let _control = service.control.lock().await;
    let stream = service.existing(name)?;
    if stream.encryption.enabled {
        service
            .store(DeliveryStreamMeta {
                encryption: Encryption::default(),
                ..(*stream).clone()
            })
            .await?;
    }
    Ok(Empty {})
}
