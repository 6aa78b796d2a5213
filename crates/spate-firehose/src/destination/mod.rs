//! Where delivered batches go. Each destination answers a batch with success or with an error
//! that says whether trying again may help.

pub mod s3;

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
