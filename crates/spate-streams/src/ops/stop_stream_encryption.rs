//! StopStreamEncryption: records written from now on are stored unencrypted; those written while
//! encryption was on stay encrypted and readable.

use serde::Deserialize;
use spate_wire::Violations;

use super::Empty;
use super::start_stream_encryption::{require_kms, validate_encryption};
use super::update::{Transition, change_stream};
use crate::api::Validate;
use crate::error::StreamsError;
use crate::service::StreamsService;
use crate::validation::StreamRef;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    #[serde(flatten)]
    pub stream: StreamRef,
    pub encryption_type: Option<String>,
    pub key_id: Option<String>,
}

impl Validate for Request {
    fn validate(&self, v: &mut Violations) {
        self.stream.validate(v);
        validate_encryption(v, &self.encryption_type, &self.key_id);
    }
}

pub async fn handle(service: &StreamsService, request: Request) -> Result<Empty, StreamsError> {
    let name = request.stream.resolve(&service.config)?;
    require_kms(request.encryption_type.as_deref())?;
    // The model lists no KMS errors for this operation: the key is not looked up.
    let now = service.now_ms();
    change_stream(service, &name, Transition::Updating, |stream| {
        super::start_stream_encryption::count_key_change(stream, now)?;
        stream.settings.encryption = None;
        Ok(())
    })
    .await?;
    Ok(Empty {})
}
