//! StopStreamEncryption: records written from now on are stored unencrypted; those written while
//! encryption was on stay encrypted and readable.

use super::Empty;
use super::start_stream_encryption::require_kms;
use super::update::{Transition, change_stream};
use crate::error::StreamsError;
use crate::service::StreamsService;

/// StopStreamEncryption's input has the same members as StartStreamEncryption's.
pub use super::start_stream_encryption::Request;

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
