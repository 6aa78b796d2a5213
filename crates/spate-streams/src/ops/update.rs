//! The read-modify-write of a stream's settings shared by the operations that change them.

use std::sync::Arc;

use crate::error::StreamsError;
use crate::model::{StreamMeta, StreamStatus};
use crate::service::StreamsService;

/// Whether a change passes through UPDATING (for the configured `update_delay_ms`) or is
/// visible at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    Updating,
    Immediate,
}

/// Applies `change` to an ACTIVE stream under the control-plane lock and stores the result.
/// `change` sees the stream before the change and may refuse it.
pub async fn change_stream<T>(
    service: &StreamsService,
    name: &str,
    transition: Transition,
    change: impl FnOnce(&mut StreamMeta) -> Result<T, StreamsError>,
) -> Result<(T, Arc<StreamMeta>), StreamsError> {
    let guard = service.registry.lock().await;
    let stream = service.active_stream(name)?;
    let mut updated = service.settled(&stream);
    let outcome = change(&mut updated)?;
    if transition == Transition::Updating {
        let delay = i64::try_from(service.config.update_delay_ms).unwrap_or(i64::MAX);
        updated.status = StreamStatus::Updating;
        updated.status_until_ms = Some(service.now_ms().saturating_add(delay));
    }
    let saved = service.registry.save(&guard, updated).await?;
    Ok((outcome, saved))
}
