//! Errors of the Firehose layer and their one mapping to AWS error shapes.
//!
//! Every variant maps to exactly one AWS error type in [`FirehoseError::to_aws`], an exhaustive
//! `match` with no wildcard arm, so a new internal error cannot silently become a client error.

use spate_log::LogError;
use spate_meta::MetaError;
use spate_wire::{AwsError, Violations};

#[derive(Debug, thiserror::Error)]
pub enum FirehoseError {
    /// Modeled constraints violated (AWS's framework-level `ValidationException`).
    #[error("{}", .0.message())]
    Validation(Violations),
    /// The body is not JSON (or CBOR) of the operation's input shape.
    #[error("{0}")]
    Serialization(String),
    #[error("{0}")]
    InvalidArgument(String),
    #[error("{0}")]
    ResourceNotFound(String),
    #[error("{0}")]
    ResourceInUse(String),
    #[error("{0}")]
    LimitExceeded(String),
    #[error("{0}")]
    ConcurrentModification(String),
    /// The KMS key a request names cannot be used.
    #[error("{0}")]
    InvalidKmsResource(String),
    /// The service cannot take the call now; SDKs retry it.
    #[error("{0}")]
    ServiceUnavailable(String),
    #[error("storage failure: {0}")]
    Log(#[from] LogError),
    #[error("metadata failure: {0}")]
    Meta(#[from] MetaError),
    /// An invariant of the stored state does not hold.
    #[error("internal failure: {0}")]
    Internal(String),
}

spate_wire::request_error_conversion!(FirehoseError);

impl FirehoseError {
    /// The error as AWS clients expect it on the wire.
    pub fn to_aws(&self) -> AwsError {
        let message = self.to_string();
        match self {
            FirehoseError::Validation(_) => AwsError::client("ValidationException", message),
            FirehoseError::Serialization(_) => AwsError::client("SerializationException", message),
            FirehoseError::InvalidArgument(_) => {
                AwsError::client("InvalidArgumentException", message)
            }
            FirehoseError::ResourceNotFound(_) => {
                AwsError::client("ResourceNotFoundException", message)
            }
            FirehoseError::ResourceInUse(_) => AwsError::client("ResourceInUseException", message),
            FirehoseError::LimitExceeded(_) => AwsError::client("LimitExceededException", message),
            FirehoseError::ConcurrentModification(_) => {
                AwsError::client("ConcurrentModificationException", message)
            }
            FirehoseError::InvalidKmsResource(_) => {
                AwsError::client("InvalidKMSResourceException", message)
            }
            FirehoseError::ServiceUnavailable(_) => AwsError {
                status: 503,
                ..AwsError::server("ServiceUnavailableException", message)
            },
            FirehoseError::Log(_) | FirehoseError::Meta(_) | FirehoseError::Internal(_) => {
                AwsError::server("InternalFailure", "Internal service failure.")
            }
        }
    }

    /// Whether the server, not the caller, is at fault (worth an error-level log line).
    pub fn is_server_fault(&self) -> bool {
        matches!(
            self,
            FirehoseError::Log(_) | FirehoseError::Meta(_) | FirehoseError::Internal(_)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_errors_keep_their_message_and_faults_hide_internals() {
        let err = FirehoseError::ResourceNotFound("Firehose s under account 1 not found.".into());
        let aws = err.to_aws();
        assert_eq!((aws.code, aws.status), ("ResourceNotFoundException", 400));
        assert_eq!(aws.message, "Firehose s under account 1 not found.");

        let aws = FirehoseError::Internal("log 7 missing".into()).to_aws();
        assert_eq!(aws.status, 500);
        assert!(!aws.message.contains("log 7"));
    }
}
