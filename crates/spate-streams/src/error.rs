//! Errors of the Data Streams layer and their one mapping to AWS error shapes.
//!
//! Every variant maps to exactly one AWS error type in [`StreamsError::to_aws`], an exhaustive
//! `match` with no wildcard arm, so a new internal error cannot silently become a client error.

use spate_log::LogError;
use spate_meta::MetaError;
use spate_wire::{AwsError, Violations};

#[derive(Debug, thiserror::Error)]
pub enum StreamsError {
    /// Modeled constraints violated (AWS's framework-level `ValidationException`).
    #[error("{}", .0.message())]
    Validation(Violations),
    /// A semantic `ValidationException` with its own message.
    #[error("{0}")]
    ValidationMessage(String),
    /// The body is not JSON (or CBOR) of the operation's input shape.
    #[error("{0}")]
    Serialization(String),
    #[error("{0}")]
    ResourceNotFound(String),
    #[error("{0}")]
    ResourceInUse(String),
    #[error("{0}")]
    InvalidArgument(String),
    #[error("{0}")]
    LimitExceeded(String),
    #[error("{0}")]
    ProvisionedThroughputExceeded(String),
    #[error("{0}")]
    ExpiredIterator(String),
    #[error("{0}")]
    ExpiredNextToken(String),
    /// The KMS key a request names does not exist.
    #[error("{0}")]
    KmsNotFound(String),
    /// The KMS key a request or a stream uses is disabled.
    #[error("{0}")]
    KmsDisabled(String),
    #[error("storage failure: {0}")]
    Log(#[from] LogError),
    #[error("metadata failure: {0}")]
    Meta(#[from] MetaError),
    /// An invariant of the stored state does not hold.
    #[error("internal failure: {0}")]
    Internal(String),
}

spate_wire::request_error_conversion!(StreamsError);

impl StreamsError {
    /// The error as AWS clients expect it on the wire.
    pub fn to_aws(&self) -> AwsError {
        let message = self.to_string();
        match self {
            StreamsError::Validation(_) | StreamsError::ValidationMessage(_) => {
                AwsError::client("ValidationException", message)
            }
            StreamsError::Serialization(_) => AwsError::client("SerializationException", message),
            StreamsError::ResourceNotFound(_) => {
                AwsError::client("ResourceNotFoundException", message)
            }
            StreamsError::ResourceInUse(_) => AwsError::client("ResourceInUseException", message),
            StreamsError::InvalidArgument(_) => {
                AwsError::client("InvalidArgumentException", message)
            }
            StreamsError::LimitExceeded(_) => AwsError::client("LimitExceededException", message),
            StreamsError::ProvisionedThroughputExceeded(_) => {
                AwsError::client("ProvisionedThroughputExceededException", message)
            }
            StreamsError::ExpiredIterator(_) => {
                AwsError::client("ExpiredIteratorException", message)
            }
            StreamsError::ExpiredNextToken(_) => {
                AwsError::client("ExpiredNextTokenException", message)
            }
            StreamsError::KmsNotFound(_) => AwsError::client("KMSNotFoundException", message),
            StreamsError::KmsDisabled(_) => AwsError::client("KMSDisabledException", message),
            StreamsError::Log(_) | StreamsError::Meta(_) | StreamsError::Internal(_) => {
                AwsError::server("InternalFailureException", "Internal service failure.")
            }
        }
    }

    /// Whether the server, not the caller, is at fault (worth an error-level log line).
    pub fn is_server_fault(&self) -> bool {
        matches!(
            self,
            StreamsError::Log(_) | StreamsError::Meta(_) | StreamsError::Internal(_)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_errors_keep_their_message_and_faults_hide_internals() {
        let err = StreamsError::ResourceNotFound("Stream s under account 1 not found.".into());
        let aws = err.to_aws();
        assert_eq!((aws.code, aws.status), ("ResourceNotFoundException", 400));
        assert_eq!(aws.message, "Stream s under account 1 not found.");

        let aws = StreamsError::Internal("segment 7 missing".into()).to_aws();
        assert_eq!((aws.code, aws.status), ("InternalFailureException", 500));
        assert!(!aws.message.contains("segment"));
    }
}
