//! A buffer's object on its way to S3 while the worker fills the next buffer: the PutObject,
//! then the durable checkpoint past the buffer, then the log's trim, in a task of its own.
//! The worker keeps one upload in flight at most, and waits for it before the next, so
//! checkpoints are stored in order; a failed upload sends the worker back to its checkpoint.
//! Stopping the worker aborts the upload, and its records stay in the log.

use std::sync::Arc;

use spate_log::LogId;
use tokio::task::JoinHandle;
use tracing::debug;

use super::{store_checkpoint, trim};
use crate::destination::{DeliveryError, s3};
use crate::model::{DeliveryStreamMeta, Destination};
use crate::service::FirehoseService;

/// An object being written, and the offset its buffer ends at.
pub(super) struct Upload {
    upto: u64,
    handle: JoinHandle<Result<(), DeliveryError>>,
    /// What the task ended with, once a wait saw it end.
    ended: Option<Result<(), DeliveryError>>,
}

impl Upload {
    /// Starts writing `object`, the buffer of `stream` that ends before `upto`.
    pub(super) fn start(
        service: Arc<FirehoseService>,
        name: String,
        log: LogId,
        stream: Arc<DeliveryStreamMeta>,
        oldest_ms: i64,
        object: Vec<u8>,
        upto: u64,
    ) -> Upload {
        let handle = tokio::spawn(async move {
            let Destination::S3 { settings, .. } = &stream.destination else {
                return Err(DeliveryError::Configuration(
                    "an object made ahead for a destination other than S3".into(),
                ));
            };
            let bytes = object.len();
            s3::put_precompressed(&service, settings, &stream, oldest_ms, object).await?;
            debug!(delivery_stream = %name, upto, bytes, "delivered");
            store_checkpoint(&service, &name, upto)
                .await
                .map_err(|err| DeliveryError::Failed(format!("storing the checkpoint: {err}")))?;
            trim(&service, &name, log, upto).await;
            Ok(())
        });
        Upload {
            upto,
            handle,
            ended: None,
        }
    }

    /// Whether the upload has ended, one way or the other.
    pub(super) fn has_ended(&self) -> bool {
        self.ended.is_some() || self.handle.is_finished()
    }

    /// Resolves when the upload ends (at once if it has).
    pub(super) async fn ended(&mut self) {
        if self.ended.is_none() {
            let result = (&mut self.handle).await;
            self.ended = Some(joined(result));
        }
    }

    /// Waits for the upload: the offset now checkpointed, or why it failed.
    pub(super) async fn outcome(mut self) -> Result<u64, DeliveryError> {
        self.ended().await;
        match self.ended.take() {
            Some(Ok(())) => Ok(self.upto),
            Some(Err(err)) => Err(err),
            None => Err(DeliveryError::Failed("the upload did not end".into())),
        }
    }
}

impl Drop for Upload {
    fn drop(&mut self) {
        self.handle.abort();
    }
}

fn joined(
    result: Result<Result<(), DeliveryError>, tokio::task::JoinError>,
) -> Result<(), DeliveryError> {
    result.map_err(|err| DeliveryError::Failed(format!("the upload task failed: {err}")))?
}
