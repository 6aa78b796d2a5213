//! Where delivered batches go. Each destination answers a batch with success or with an error
//! that says whether trying again may help.

pub mod redshift;
pub mod s3;

use crate::delivery::Batch;
use crate::model::Destination;
use crate::service::FirehoseService;

/// Delivers one batch to the stream's destination; `Ok` once the destination confirmed it.
pub(crate) async fn deliver(service: &FirehoseService, batch: Batch) -> Result<(), DeliveryError> {
    let stream = std::sync::Arc::clone(&batch.stream);
    match &stream.destination {
        Destination::S3 { settings, .. } => s3::deliver(service, settings, batch).await,
        Destination::Redshift { settings } => redshift::deliver(service, settings, batch).await,
    }
}

/// A delivery attempt that failed.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// The destination cannot be used as configured (no server for the bucket, bad key);
    /// retried all the same, since the configuration may be fixed by UpdateDestination.
    #[error("{0}")]
    Configuration(String),
    /// The destination refused or did not answer.
    #[error("{0}")]
    Failed(String),
}
