//! StartStreamEncryption: encrypts records written from now on with a key of Spate's key store.

use serde::Deserialize;
use spate_wire::Violations;

use super::Empty;
use super::update::{Transition, change_stream};
use crate::api::Validate;
use crate::error::StreamsError;
use crate::kms::format_key_id;
use crate::model::{Encryption, StreamMeta};
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

/// The modeled `EncryptionType` values.
pub const ENCRYPTION_TYPES: [&str; 2] = ["NONE", "KMS"];

/// Checks `EncryptionType` and `KeyId` (StopStreamEncryption takes the same request shape).
fn validate_encryption(
    v: &mut Violations,
    encryption_type: &Option<String>,
    key_id: &Option<String>,
) {
    match encryption_type {
        None => v.required("encryptionType", encryption_type),
        Some(kind) => v.one_of("encryptionType", kind, &ENCRYPTION_TYPES),
    }
    match key_id {
        None => v.required("keyId", key_id),
        Some(key) => v.string_length("keyId", key, 1, 2048),
    }
}

/// Only `KMS` encrypts; AWS refuses `NONE` in both encryption operations.
pub fn require_kms(encryption_type: Option<&str>) -> Result<(), StreamsError> {
    match encryption_type {
        Some("KMS") => Ok(()),
        other => Err(StreamsError::InvalidArgument(format!(
            "Encryption type {} is not supported. The only valid value is KMS.",
            other.unwrap_or_default()
        ))),
    }
}

/// Successful key changes (Start- and StopStreamEncryption together) a stream may make in a
/// rolling day, as AWS documents.
pub const KEY_CHANGES_PER_DAY: usize = 25;

/// Counts one key change against the daily limit, or refuses it with LimitExceededException.
pub fn count_key_change(stream: &mut StreamMeta, now_ms: i64) -> Result<(), StreamsError> {
    let changes = &mut stream.settings.encryption_changes_ms;
    changes.retain(|at| now_ms - *at < super::reshard::DAY_MS);
    if changes.len() >= KEY_CHANGES_PER_DAY {
        return Err(StreamsError::LimitExceeded(format!(
            "Stream {} has had {KEY_CHANGES_PER_DAY} encryption key changes in the last 24 \
             hours, the most allowed.",
            stream.name
        )));
    }
    changes.push(now_ms);
    Ok(())
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
    let key_id = request.key_id.unwrap_or_default();
    // The stream first, as AWS does: a missing stream is reported before a missing key.
    service.active_stream(&name)?;
    let key = service.keys.resolve(&key_id)?;
    // Make the key material now, so the first encrypted write does not pay for it.
    service.keys.cipher(&key).await?;
    let now = service.now_ms();
    change_stream(service, &name, Transition::Updating, |stream| {
        count_key_change(stream, now)?;
        stream.settings.encryption = Some(Encryption {
            key_id,
            key: format_key_id(&key),
        });
        Ok(())
    })
    .await?;
    Ok(Empty {})
}
