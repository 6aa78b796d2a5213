//! PutRecord: one record, acknowledged once durable, with its shard and sequence number.

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use spate_wire::Violations;
use spate_wire::codec::Text;

use crate::api::Validate;
use crate::error::StreamsError;
use crate::model::{ShardIdText, StreamMode};
use crate::routing;
use crate::sequence::{SequenceNumber, SequenceText};
use crate::service::StreamsService;
use crate::sse;
use crate::validation::{self, StreamRef};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    #[serde(flatten)]
    pub stream: StreamRef,
    #[serde(default, with = "spate_wire::codec::opt_blob")]
    pub data: Option<Bytes>,
    pub partition_key: Option<Text>,
    pub explicit_hash_key: Option<String>,
    pub sequence_number_for_ordering: Option<String>,
}

/// The model's limit on a record's data (10 MiB); a stream's own limit may be lower.
pub const MAX_DATA_BYTES: usize = 10 * 1024 * 1024;

impl Validate for Request {
    fn validate(&self, v: &mut Violations) {
        self.stream.validate(v);
        match &self.data {
            None => v.required("data", &self.data),
            Some(data) if data.len() > MAX_DATA_BYTES => v.push(
                &format!(
                    "'java.nio.HeapByteBuffer[pos=0 lim={0} cap={0}]'",
                    data.len()
                ),
                "data",
                &format!("Member must have length less than or equal to {MAX_DATA_BYTES}"),
            ),
            Some(_) => {}
        }
        match &self.partition_key {
            None => v.required("partitionKey", &self.partition_key),
            Some(key) => v.string_length("partitionKey", key.as_str(), 1, 256),
        }
        validation::hash_key(v, "explicitHashKey", &self.explicit_hash_key);
        validation::sequence_number(
            v,
            "sequenceNumberForOrdering",
            &self.sequence_number_for_ordering,
        );
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Response {
    pub shard_id: ShardIdText,
    pub sequence_number: SequenceText,
    pub encryption_type: &'static str,
}

pub async fn handle(service: &StreamsService, request: Request) -> Result<Response, StreamsError> {
    let name = request.stream.resolve(&service.config)?;
    let (_writing, stream) = service.writable_stream(&name).await?;
    if let Some(ordering) = &request.sequence_number_for_ordering
        && ordering != "0"
        && SequenceNumber::decode(ordering).is_none()
    {
        return Err(StreamsError::InvalidArgument(format!(
            "ExclusiveMinimumSequenceNumber {ordering} used in PutRecord on stream {name} under \
             account {} is invalid.",
            service.config.account_id
        )));
    }
    let routed = routing::route(
        &stream,
        request.partition_key.unwrap_or_default(),
        request.explicit_hash_key.as_deref(),
        request.data.unwrap_or_default(),
        || "data".to_string(),
    )?;
    let shard = routed.shard;
    let bytes = routed.record.key.len() + routed.record.value.len();
    if stream.mode == StreamMode::OnDemand {
        let hash = std::iter::once(routed.hash_key);
        service
            .autoscaler
            .record(shard.log_id(), 1, bytes as u64, hash);
    }
    if !service
        .quotas
        .admit_write(&name, shard.log_id(), bytes, service.now_ms())
    {
        return Err(service.throttled(&name, &shard.shard_id()));
    }
    let sealer = service.sealer(&stream).await?;
    let batches = vec![(shard.log_id(), vec![routed.record])];
    let batches = match &sealer {
        Some(sealer) => sealer.seal_batches(batches).await?,
        None => batches,
    };
    let mut appended = service.log.append(batches).await?;
    let record = appended
        .pop()
        .and_then(|mut batch| batch.pop())
        .ok_or_else(|| StreamsError::Internal("the log acknowledged no record".to_string()))?;
    Ok(Response {
        shard_id: shard.shard_id_text(),
        sequence_number: shard.sequence_text(record.offset, record.timestamp_ms),
        encryption_type: sse::encryption_type(&sealer),
    })
}
