//! AWS wire protocols without I/O.
//!
//! This crate owns what every Spate service shares on the wire and nothing that touches a socket
//! or a disk: recognising an awsJson1.1 call from its `X-Amz-Target` header ([`target`]), the two
//! body encodings of that protocol family, awsJson 1.1 and the CBOR the Java SDKs send for Kinesis
//! ([`Codec`], [`body`]), the error shape AWS clients parse (`__type` + `message` in the body,
//! `x-amzn-ErrorType` header, [`error`]), the framework's validation messages
//! (`N validation error(s) detected: ...`, [`validate`]), and the member encodings that differ
//! between JSON and CBOR (epoch-second timestamps and base64 blobs in JSON, tag-1
//! epoch-millisecond timestamps and byte strings in CBOR, [`codec`]), and the event-stream framing
//! of streaming responses ([`eventstream`]), Signature Version 4 ([`sigv4`]) and the IAM policy
//! grammar Spate evaluates ([`policy`]). Service crates build typed requests and responses on
//! top of it; the server crate puts the bytes on the wire.

pub mod arena;
pub mod body;
pub mod codec;
pub mod error;
pub mod eventstream;
pub mod policy;
pub mod sigv4;
pub mod target;
pub mod validate;

pub use body::{Codec, DecodeError, EncodeError};
pub use error::{AwsError, Fault};
pub use target::{Target, TargetError};
pub use validate::Violations;

/// Content type of awsJson 1.1 requests and responses.
pub const AWS_JSON_1_1: &str = "application/x-amz-json-1.1";

/// Content type of AWS CBOR 1.1 requests and responses (the Java SDKs' default for Kinesis).
pub const AWS_CBOR_1_1: &str = "application/x-amz-cbor-1.1";

/// Largest request body Spate reads for an awsJson or CBOR call: a 10 MiB PutRecords payload
/// grows by a third when base64-encoded in JSON, plus framing and partition keys. CBOR carries
/// blobs as raw byte strings, so its bodies are smaller than their JSON equivalents.
pub const MAX_JSON_BODY_BYTES: usize = 16 * 1024 * 1024;
