//! Errors of the application API and their one mapping to AWS error shapes.
//!
//! Every variant maps to exactly one AWS error type in [`AnalyticsError::to_aws`], an exhaustive
//! `match` with no wildcard arm, so a new internal error cannot silently become a client error.

use spate_meta::MetaError;
use spate_wire::{AwsError, Violations};

#[derive(Debug, thiserror::Error)]
pub enum AnalyticsError {
    /// Modeled constraints violated (AWS's framework-level `ValidationException`).
    #[error("{}", .0.message())]
    Validation(Violations),
    /// The body is not JSON (or CBOR) of the operation's input shape.
    #[error("{0}")]
    Serialization(String),
    #[error("{0}")]
    InvalidArgument(String),
    /// The application code does not parse; the message carries the line and column.
    #[error("{0}")]
    CodeValidation(String),
    #[error("{0}")]
    ResourceNotFound(String),
    #[error("{0}")]
    ResourceInUse(String),
    #[error("{0}")]
    LimitExceeded(String),
    #[error("{0}")]
    TooManyTags(String),
    /// A stale `CurrentApplicationVersionId`.
    #[error("{0}")]
    ConcurrentModification(String),
    /// StartApplication: the application cannot run as configured.
    #[error("{0}")]
    InvalidApplicationConfiguration(String),
    /// A service the operation needs is not available (DiscoverInputSchema without Data
    /// Streams).
    #[error("{0}")]
    ServiceUnavailable(String),
    /// An operation this server does not perform yet (the SQL engine is not built).
    #[error("{0}")]
    UnsupportedOperation(String),
    /// DiscoverInputSchema found no records, or none it could read.
    #[error("{0}")]
    UnableToDetectSchema(String),
    #[error("metadata failure: {0}")]
    Meta(#[from] MetaError),
    /// An invariant of the stored state does not hold.
    #[error("internal failure: {0}")]
    Internal(String),
}

spate_wire::request_error_conversion!(AnalyticsError);

impl AnalyticsError {
    /// The error as AWS clients expect it on the wire.
    pub fn to_aws(&self) -> AwsError {
        let message = self.to_string();
        match self {
            AnalyticsError::Validation(_) => AwsError::client("ValidationException", message),
            AnalyticsError::Serialization(_) => AwsError::client("SerializationException", message),
            AnalyticsError::InvalidArgument(_) => {
                AwsError::client("InvalidArgumentException", message)
            }
            AnalyticsError::CodeValidation(_) => {
                AwsError::client("CodeValidationException", message)
            }
            AnalyticsError::ResourceNotFound(_) => {
                AwsError::client("ResourceNotFoundException", message)
            }
            AnalyticsError::ResourceInUse(_) => AwsError::client("ResourceInUseException", message),
            AnalyticsError::LimitExceeded(_) => AwsError::client("LimitExceededException", message),
            AnalyticsError::TooManyTags(_) => AwsError::client("TooManyTagsException", message),
            AnalyticsError::ConcurrentModification(_) => {
                AwsError::client("ConcurrentModificationException", message)
            }
            AnalyticsError::InvalidApplicationConfiguration(_) => {
                AwsError::client("InvalidApplicationConfigurationException", message)
            }
            AnalyticsError::ServiceUnavailable(_) => {
                AwsError::server("ServiceUnavailableException", message)
            }
            AnalyticsError::UnsupportedOperation(_) => {
                AwsError::client("UnsupportedOperationException", message)
            }
            AnalyticsError::UnableToDetectSchema(_) => {
                AwsError::client("UnableToDetectSchemaException", message)
            }
            AnalyticsError::Meta(_) | AnalyticsError::Internal(_) => {
                AwsError::server("InternalFailure", "Internal service failure.")
            }
        }
    }

    /// Whether the server, not the caller, is at fault (worth an error-level log line).
    pub fn is_server_fault(&self) -> bool {
        matches!(self, AnalyticsError::Meta(_) | AnalyticsError::Internal(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_errors_keep_their_message_and_faults_hide_internals() {
        let aws = AnalyticsError::CodeValidation("line 1, column 8: expected".into()).to_aws();
        assert_eq!((aws.code, aws.status), ("CodeValidationException", 400));
        assert_eq!(aws.message, "line 1, column 8: expected");
        let aws = AnalyticsError::Internal("stored app".into()).to_aws();
        assert_eq!(aws.status, 500);
        assert!(!aws.message.contains("stored app"));
    }
}
