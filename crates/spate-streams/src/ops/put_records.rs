//! PutRecords: up to 500 records in one call and one group commit; results in request order.

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use spate_wire::Violations;

use super::put_record::MAX_DATA_BYTES;
use crate::api::Validate;
use crate::error::StreamsError;
use crate::routing;
use crate::service::StreamsService;
use crate::sse;
use crate::validation::{self, StreamRef};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Entry {
    #[serde(default, with = "spate_wire::codec::opt_blob")]
    pub data: Option<Bytes>,
    pub explicit_hash_key: Option<String>,
    pub partition_key: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    pub records: Option<Vec<Entry>>,
    #[serde(flatten)]
    pub stream: StreamRef,
}

/// Records one PutRecords call may carry.
pub const MAX_RECORDS: usize = 500;
/// Bytes of data and partition keys one PutRecords call may carry.
pub const MAX_REQUEST_BYTES: usize = 10 * 1024 * 1024;

impl Validate for Request {
    fn validate(&self, v: &mut Violations) {
        match &self.records {
            None => v.required("records", &self.records),
            Some(records) => {
                v.collection_length("records", "[...]", records.len(), 1, MAX_RECORDS);
                for (index, entry) in records.iter().enumerate() {
                    let path = |member: &str| format!("records.{}.member.{member}", index + 1);
                    match &entry.data {
                        None => v.required(&path("data"), &entry.data),
                        Some(data) if data.len() > MAX_DATA_BYTES => v.push(
                            &format!(
                                "'java.nio.HeapByteBuffer[pos=0 lim={0} cap={0}]'",
                                data.len()
                            ),
                            &path("data"),
                            &format!(
                                "Member must have length less than or equal to {MAX_DATA_BYTES}"
                            ),
                        ),
                        Some(_) => {}
                    }
                    validation::hash_key(v, &path("explicitHashKey"), &entry.explicit_hash_key);
                    match &entry.partition_key {
                        None => v.required(&path("partitionKey"), &entry.partition_key),
                        Some(key) => v.string_length(&path("partitionKey"), key, 1, 256),
                    }
                }
            }
        }
        self.stream.validate(v);
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ResultEntry {
    pub sequence_number: String,
    pub shard_id: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Response {
    pub failed_record_count: usize,
    pub records: Vec<ResultEntry>,
    pub encryption_type: &'static str,
}

pub async fn handle(service: &StreamsService, request: Request) -> Result<Response, StreamsError> {
    let name = request.stream.resolve(&service.config)?;
    let stream = service.data_stream(&name)?;
    let entries = request.records.unwrap_or_default();
    let total: usize = entries
        .iter()
        .map(|e| {
            e.data.as_ref().map_or(0, Bytes::len) + e.partition_key.as_ref().map_or(0, String::len)
        })
        .sum();
    if total > MAX_REQUEST_BYTES {
        return Err(StreamsError::InvalidArgument(format!(
            "Records size exceeds {} MB limit",
            MAX_REQUEST_BYTES / (1024 * 1024)
        )));
    }
    let mut routed = Vec::with_capacity(entries.len());
    for (index, entry) in entries.into_iter().enumerate() {
        routed.push(routing::route(
            &stream,
            entry.partition_key.as_deref().unwrap_or_default(),
            entry.explicit_hash_key.as_deref(),
            entry.data.unwrap_or_default(),
            &format!("records.{}.member.data", index + 1),
        )?);
    }
    let shards: Vec<_> = routed.iter().map(|item| item.shard).collect();
    let (batches, places) = routing::batch(routed);
    let sealer = service.sealer(&stream).await?;
    let batches = match &sealer {
        Some(sealer) => sealer.seal_batches(batches).await?,
        None => batches,
    };
    let appended = service.log.append(batches).await?;
    let mut results = Vec::with_capacity(places.len());
    for (shard, (batch, position)) in shards.into_iter().zip(places) {
        let record = appended
            .get(batch)
            .and_then(|records| records.get(position))
            .ok_or_else(|| StreamsError::Internal("the log acknowledged too few records".into()))?;
        results.push(ResultEntry {
            sequence_number: shard.sequence_number(record.offset, record.timestamp_ms),
            shard_id: shard.shard_id(),
        });
    }
    Ok(Response {
        failed_record_count: 0,
        records: results,
        encryption_type: sse::encryption_type(&sealer),
    })
}
