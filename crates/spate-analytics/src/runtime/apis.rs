//! The other services of the account that the runtime reads from and writes to, called in
//! process with the JSON bodies of their wire APIs: Data Streams (inputs, discovery and
//! outputs) and Firehose (inputs and outputs); the S3-compatible object store reference data is read
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

    /// Records of delivery stream `name` as they arrived, from offset `from` (or the oldest
    /// still kept), at most `max_records`: how an input of the delivery stream
    /// (`KinesisFirehoseInput`) reads it. Firehose has no wire operation for this.
    async fn read_log(
        &self,
        name: &str,
        from: u64,
        max_records: usize,
    ) -> Result<DeliveryLogRead, AwsError> {
        let _ = (from, max_records);
        Err(no_log_reads(name))
    }

    /// Keeps delivery stream `name`'s records from offset `offset` on for `holder` until the
    /// hold moves or is released, although they are delivered.
    async fn hold_log(&self, name: &str, holder: &str, offset: u64) -> Result<(), AwsError> {
        let _ = (holder, offset);
        Err(no_log_reads(name))
    }

    /// Drops `holder`'s hold on delivery stream `name`.
    async fn release_log(&self, name: &str, holder: &str) -> Result<(), AwsError> {
        let _ = (name, holder);
        Ok(())
    }
}

fn no_log_reads(name: &str) -> AwsError {
    AwsError::client(
        "UnsupportedOperationException",
        format!("This Firehose does not let applications read delivery stream {name}."),
    )
}

/// What one read of a delivery stream gave.
#[derive(Debug, Clone, Default)]
pub struct DeliveryLogRead {
    /// Records in arrival order.
    pub records: Vec<DeliveryLogRecord>,
    /// The offset the next record to arrive will have.
    pub end: u64,
}

/// One record of a delivery stream.
#[derive(Debug, Clone)]
pub struct DeliveryLogRecord {
    /// Its place in the delivery stream: counts up by one per record.
    pub offset: u64,
    /// When it arrived, epoch milliseconds.
    pub arrival_ms: i64,
    pub data: Vec<u8>,
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
