//! PutRecords: up to 500 records in one call and one group commit; results in request order.

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use spate_wire::Violations;
use spate_wire::codec::Text;

use super::put_record::MAX_DATA_BYTES;
use crate::api::Validate;
use crate::error::StreamsError;
use crate::model::{ShardIdText, StreamMode};
use crate::routing;
use crate::sequence::SequenceText;
use crate::service::StreamsService;
use crate::sse;
use crate::validation::{self, StreamRef};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Entry {
    #[serde(default, with = "spate_wire::codec::opt_blob")]
    pub data: Option<Bytes>,
    pub explicit_hash_key: Option<String>,
    pub partition_key: Option<Text>,
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
                    // Paths are formatted only for members that have something to check or
                    // report: this runs for every record of every call.
                    if entry.explicit_hash_key.is_some() {
                        validation::hash_key(v, &path("explicitHashKey"), &entry.explicit_hash_key);
                    }
                    match &entry.partition_key {
                        None => v.required(&path("partitionKey"), &entry.partition_key),
                        // Up to 256 bytes is up to 256 characters: no need to count them.
                        Some(key) if (1..=256).contains(&key.len()) => {}
                        Some(key) => v.string_length(&path("partitionKey"), key.as_str(), 1, 256),
                    }
                }
            }
        }
        self.stream.validate(v);
    }
}

/// One entry's outcome: a sequence number and shard, or an error code and message.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ResultEntry {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sequence_number: Option<SequenceText>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shard_id: Option<ShardIdText>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
}

impl ResultEntry {
    fn stored(shard_id: ShardIdText, sequence_number: SequenceText) -> ResultEntry {
        ResultEntry {
            sequence_number: Some(sequence_number),
            shard_id: Some(shard_id),
            error_code: None,
            error_message: None,
        }
    }

    fn failed(code: &'static str, message: String) -> ResultEntry {
        ResultEntry {
            sequence_number: None,
            shard_id: None,
            error_code: Some(code),
            error_message: Some(message),
        }
    }
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
    let (_writing, stream) = service.writable_stream(&name).await?;
    let entries = request.records.unwrap_or_default();
    let total: usize = entries
        .iter()
        .map(|e| {
            e.data.as_ref().map_or(0, Bytes::len) + e.partition_key.as_ref().map_or(0, Text::len)
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
            entry.partition_key.unwrap_or_default(),
            entry.explicit_hash_key.as_deref(),
            entry.data.unwrap_or_default(),
            || format!("records.{}.member.data", index + 1),
        )?);
    }
    // Entries over their shard's write quota fail on their own, as on AWS; the rest are
    // appended in one group commit.
    let now = service.now_ms();
    if stream.mode == StreamMode::OnDemand {
        record_demand(service, &routed);
    }
    let mut admitted = Vec::with_capacity(routed.len());
    let mut slots = Vec::with_capacity(routed.len());
    for item in routed {
        let bytes = item.record.key.len() + item.record.value.len();
        if service
            .quotas
            .admit_write(&name, item.shard.log_id(), bytes, now)
        {
            slots.push(Ok(item.shard));
            admitted.push(item);
        } else {
            slots.push(Err(item.shard.shard_id()));
        }
    }
    let (batches, places) = routing::batch(admitted);
    let sealer = service.sealer(&stream).await?;
    let batches = match &sealer {
        Some(sealer) if !batches.is_empty() => sealer.seal_batches(batches).await?,
        _ => batches,
    };
    let appended = if batches.is_empty() {
        Vec::new()
    } else {
        service.log.append(batches).await?
    };
    let mut places = places.into_iter();
    let mut results = Vec::with_capacity(slots.len());
    let mut failed = 0;
    for slot in slots {
        match slot {
            Ok(shard) => {
                let (batch, position) = places.next().ok_or_else(|| {
                    StreamsError::Internal("an admitted record has no place".to_string())
                })?;
                let record = appended
                    .get(batch)
                    .and_then(|records| records.get(position))
                    .ok_or_else(|| {
                        StreamsError::Internal("the log acknowledged too few records".into())
                    })?;
                results.push(ResultEntry::stored(
                    shard.shard_id_text(),
                    shard.sequence_text(record.offset, record.timestamp_ms),
                ));
            }
            Err(shard_id) => {
                failed += 1;
                let message = service.throttled(&name, &shard_id).to_string();
                results.push(ResultEntry::failed(
                    "ProvisionedThroughputExceededException",
                    message,
                ));
            }
        }
    }
    Ok(Response {
        failed_record_count: failed,
        records: results,
        encryption_type: sse::encryption_type(&sealer),
    })
}

/// Tells the autoscaler what each shard of an on-demand stream was asked to take.
fn record_demand(service: &StreamsService, routed: &[routing::Routed<'_>]) {
    let mut demand: std::collections::BTreeMap<spate_log::LogId, (u64, u64, Vec<u128>)> =
        std::collections::BTreeMap::new();
    for item in routed {
        let entry = demand.entry(item.shard.log_id()).or_default();
        entry.0 += 1;
        entry.1 += (item.record.key.len() + item.record.value.len()) as u64;
        entry.2.push(item.hash_key);
    }
    for (log, (records, bytes, hashes)) in demand {
        service
            .autoscaler
            .record(log, records, bytes, hashes.into_iter());
    }
}
