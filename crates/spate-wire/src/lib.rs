//! AWS wire protocols without I/O.
//!
//! This crate owns what every Spate service shares on the wire and nothing that touches a socket
//! or a disk: recognising an awsJson1.1 call from its `X-Amz-Target` header ([`target`]), the
//! error shape AWS clients parse (`__type` + `message` in the body, `x-amzn-ErrorType` header,
//! [`error`]), the framework's validation messages (`N validation error(s) detected: ...`,
//! [`validate`]), and the member encodings of awsJson (epoch-second timestamps and base64 blobs,
//! [`codec`]), and the event-stream framing of streaming responses ([`eventstream`]). Service crates build typed requests and responses on top of it; the server crate
//! puts the bytes on the wire.

pub mod codec;
pub mod error;
pub mod eventstream;
pub mod target;
pub mod validate;

pub use error::{AwsError, Fault};
pub use target::{Target, TargetError};
pub use validate::Violations;

/// Content type of awsJson 1.1 requests and responses.
pub const AWS_JSON_1_1: &str = "application/x-amz-json-1.1";

/// Largest request body Spate reads for an awsJson call: a 10 MiB PutRecords payload grows by a
/// third when base64-encoded, plus JSON framing and partition keys.
pub const MAX_JSON_BODY_BYTES: usize = 16 * 1024 * 1024;
