//! The other services of the account that the runtime reads from and writes to, called in
//! process with the JSON bodies of their wire APIs: Data Streams (inputs, discovery and
//! outputs) and Firehose (outputs); the S3-compatible object store reference data is read
//! from; and the functions Lambda outputs invoke. The server implements them over its services; this crate needs nothing of them but
//! their contracts.

use serde_json::Value;
use spate_wire::AwsError;

/// The Data Streams API of the account an application lives in.
#[async_trait::async_trait]
pub trait StreamsApi: Send + Sync + std::fmt::Debug {
    /// Runs a Data Streams operation (`ListShards`, `GetRecords`, `PutRecords`...) with a JSON
    /// body: the JSON answer, or AWS's error.
    async fn call(&self, operation: &str, body: Value) -> Result<Value, AwsError>;
}

/// The Firehose API of the account an application lives in.
#[async_trait::async_trait]
pub trait FirehoseApi: Send + Sync + std::fmt::Debug {
    /// Runs a Firehose operation (`PutRecordBatch`) with a JSON body: the JSON answer, or AWS's
    /// error.
    async fn call(&self, operation: &str, body: Value) -> Result<Value, AwsError>;
}

/// The S3-compatible object store of the account (reference data, and DiscoverInputSchema's
/// `S3Configuration`).
#[async_trait::async_trait]
pub trait ObjectsApi: Send + Sync + std::fmt::Debug {
    /// The whole object `key` of `bucket`, or AWS's error.
    async fn get_object(&self, bucket: &str, key: &str) -> Result<Vec<u8>, AwsError>;
}

/// The functions Lambda outputs invoke (Spate maps Lambda ARNs to URLs or local commands).
#[async_trait::async_trait]
pub trait LambdaApi: Send + Sync + std::fmt::Debug {
    /// Whether `function_arn` can be invoked: an error that says why not.
    fn check(&self, function_arn: &str) -> Result<(), AwsError>;

    /// Invokes `function_arn` with `event`: its response body, or AWS's error.
    async fn invoke(&self, function_arn: &str, event: &[u8]) -> Result<Vec<u8>, AwsError>;
}
