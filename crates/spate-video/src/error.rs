//! Errors of the Video layer and their one mapping to AWS error shapes.
//!
//! Every variant maps to exactly one AWS error type and the HTTP status the `kinesisvideo`
//! model gives it, in [`VideoError::to_aws`]: an exhaustive `match` with no wildcard arm.

use spate_meta::MetaError;
use spate_wire::{AwsError, Violations};

#[derive(Debug, thiserror::Error)]
pub enum VideoError {
    /// Modeled constraints violated.
    #[error("{}", .0.message())]
    Validation(Violations),
    /// The body is not JSON of the operation's input shape.
    #[error("{0}")]
    Serialization(String),
    #[error("{0}")]
    InvalidArgument(String),
    #[error("{0}")]
    ResourceNotFound(String),
    #[error("{0}")]
    ResourceInUse(String),
    #[error("{0}")]
    VersionMismatch(String),
    #[error("{0}")]
    AccountStreamLimitExceeded(String),
    #[error("{0}")]
    AccountChannelLimitExceeded(String),
    #[error("{0}")]
    TagsPerResourceExceededLimit(String),
    #[error("{0}")]
    StreamEdgeConfigurationNotFound(String),
    /// A per-stream call rate quota is exceeded.
    #[error("{0}")]
    ClientLimitExceeded(String),
    /// A stream's one PutMedia connection is taken.
    #[error("{0}")]
    ConnectionLimitExceeded(String),
    /// The stream's media cannot be put in MP4 (no H.264/H.265 video track).
    #[error("{0}")]
    UnsupportedStreamMediaType(String),
    /// A track lacks its codec private data.
    #[error("{0}")]
    MissingCodecPrivateData(String),
    /// A track's codec private data does not parse.
    #[error("{0}")]
    InvalidCodecPrivateData(String),
    /// A frame cannot be read (laced blocks, times beyond MP4's fields).
    #[error("{0}")]
    InvalidMediaFrame(String),
    /// The stream keeps no data (`DataRetentionInHours` 0).
    #[error("{0}")]
    NoDataRetention(String),
    /// An operation Spate does not serve (yet): the message names it.
    #[error("{0}")]
    NotSupported(String),
    #[error("metadata failure: {0}")]
    Meta(#[from] MetaError),
    /// The fragment store failed.
    #[error("fragment store failure: {0}")]
    Store(#[from] crate::store::StoreError),
    /// An invariant of the stored state does not hold.
    #[error("internal failure: {0}")]
    Internal(String),
}

spate_wire::request_error_conversion!(VideoError);

impl VideoError {
    /// The error as AWS clients expect it on the wire, with the model's HTTP status.
    pub fn to_aws(&self) -> AwsError {
        let message = self.to_string();
        let client = |code, status| AwsError {
            status,
            ..AwsError::client(code, message.clone())
        };
        match self {
            // Unverified: the kinesisvideo model has no ValidationException; Spate answers
            // constraint violations as InvalidArgumentException with the framework's message.
            VideoError::Validation(_) => client("InvalidArgumentException", 400),
            VideoError::Serialization(_) => client("SerializationException", 400),
            VideoError::InvalidArgument(_) | VideoError::NotSupported(_) => {
                client("InvalidArgumentException", 400)
            }
            VideoError::ResourceNotFound(_) => client("ResourceNotFoundException", 404),
            VideoError::ResourceInUse(_) => client("ResourceInUseException", 400),
            VideoError::VersionMismatch(_) => client("VersionMismatchException", 400),
            VideoError::AccountStreamLimitExceeded(_) => {
                client("AccountStreamLimitExceededException", 400)
            }
            VideoError::AccountChannelLimitExceeded(_) => {
                client("AccountChannelLimitExceededException", 400)
            }
            VideoError::TagsPerResourceExceededLimit(_) => {
                client("TagsPerResourceExceededLimitException", 400)
            }
            VideoError::StreamEdgeConfigurationNotFound(_) => {
                client("StreamEdgeConfigurationNotFoundException", 404)
            }
            VideoError::ClientLimitExceeded(_) => client("ClientLimitExceededException", 400),
            VideoError::ConnectionLimitExceeded(_) => {
                client("ConnectionLimitExceededException", 400)
            }
            VideoError::UnsupportedStreamMediaType(_) => {
                client("UnsupportedStreamMediaTypeException", 400)
            }
            VideoError::MissingCodecPrivateData(_) => {
                client("MissingCodecPrivateDataException", 400)
            }
            VideoError::InvalidCodecPrivateData(_) => {
                client("InvalidCodecPrivateDataException", 400)
            }
            VideoError::InvalidMediaFrame(_) => client("InvalidMediaFrameException", 400),
            VideoError::NoDataRetention(_) => client("NoDataRetentionException", 400),
            VideoError::Meta(_) | VideoError::Store(_) | VideoError::Internal(_) => {
                AwsError::server("InternalFailure", "Internal service failure.")
            }
        }
    }

    /// Whether the server, not the caller, is at fault (worth an error-level log line).
    pub fn is_server_fault(&self) -> bool {
        matches!(
            self,
            VideoError::Meta(_) | VideoError::Store(_) | VideoError::Internal(_)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_the_model() {
        let aws = VideoError::ResourceNotFound("gone".into()).to_aws();
        assert_eq!((aws.code, aws.status), ("ResourceNotFoundException", 404));
        assert_eq!(aws.message, "gone");
        let aws = VideoError::StreamEdgeConfigurationNotFound("x".into()).to_aws();
        assert_eq!(aws.status, 404);
        let aws = VideoError::Internal("log 7".into()).to_aws();
        assert_eq!(aws.status, 500);
        assert!(!aws.message.contains("log 7"));
    }
}
