//! Where delivered batches go. Each destination answers a batch with success or with an error
//! that says whether trying again may help.
//!
//! `s3` writes objects (what it builds from a destination's settings is kept in `prepared`);
//! `http_endpoint`, `splunk` and `opensearch` send over HTTP (`client`) and retry failed
//! records for their retry duration before the error output (`retry`).

mod client;
pub mod http_endpoint;
pub mod opensearch;
pub(crate) mod prepared;
pub mod redshift;
pub(crate) mod retry;
pub mod s3;
pub mod splunk;

pub(crate) use client::HttpClient;

use crate::delivery::Batch;
use crate::model::Destination;
use crate::service::FirehoseService;

/// Delivers one batch to the stream's destination; `Ok` once the destination confirmed it (or,
/// for the HTTP-based destinations, once what failed past the retry duration is in S3).
pub(crate) async fn deliver(service: &FirehoseService, batch: Batch) -> Result<(), DeliveryError> {
    let stream = std::sync::Arc::clone(&batch.stream);
    match &stream.destination {
        Destination::S3 { settings, .. } => s3::deliver(service, settings, &batch).await,
        Destination::HttpEndpoint(settings) => {
            http_endpoint::deliver(service, settings, &batch).await
        }
        Destination::Splunk(settings) => splunk::deliver(service, settings, &batch).await,
        Destination::OpenSearch {
            settings,
            elasticsearch,
        } => opensearch::deliver(service, settings, *elasticsearch, &batch).await,
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
