//! Stores a session's fragments one after another and acknowledges each once durable.
//!
//! The session hands over complete fragments through a bounded channel and goes on reading the
//! body while an append (and its fsync) is under way. Appends run in fragment order, so
//! PERSISTED acknowledgements do too. A failed append is ERROR 5001 (ARCHIVAL_ERROR); the task
//! then stops, which closes the channel and ends the session.

use bytes::Bytes;
use spate_mkv::AckError;
use tokio::sync::mpsc;

use super::acks::{Ack, EventType};
use crate::store::{FragmentMeta, FragmentNumber, FragmentStore, StreamLogs};

/// Complete fragments waiting for their append.
pub(super) const APPEND_QUEUE: usize = 4;

/// One fragment to store.
pub(super) struct Append {
    pub number: FragmentNumber,
    pub timecode_ms: u64,
    pub meta: FragmentMeta,
    pub chunk: Bytes,
}

/// Appends what arrives on `fragments` to `logs`, sending PERSISTED when `persisted_acks`.
pub(super) async fn run(
    store: FragmentStore,
    logs: StreamLogs,
    mut fragments: mpsc::Receiver<Append>,
    acks: mpsc::Sender<Bytes>,
    persisted_acks: bool,
) {
    while let Some(fragment) = fragments.recv().await {
        match store.append(logs, fragment.meta, fragment.chunk).await {
            Ok(number) if number == fragment.number => {
                if persisted_acks {
                    let ack = Ack::fragment(EventType::Persisted, fragment.timecode_ms, number);
                    // A client gone stops reading acknowledgements, not storing fragments.
                    let _ = acks.send(ack.line()).await;
                }
            }
            outcome => {
                match outcome {
                    Ok(number) => tracing::error!(
                        expected = %fragment.number,
                        got = %number,
                        "fragment stored under another number"
                    ),
                    Err(err) => tracing::error!(error = %err, "storing a fragment failed"),
                }
                let about = Some((fragment.timecode_ms, fragment.number));
                let _ = acks
                    .send(Ack::error(AckError::ArchivalError, about).line())
                    .await;
                return;
            }
        }
    }
}
