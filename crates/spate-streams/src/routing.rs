//! Where a new record goes and whether it fits: the shared core of PutRecord and PutRecords.

use bytes::Bytes;
use spate_log::{AppendRecord, LogId};
use spate_wire::codec::Text;

use crate::error::StreamsError;
use crate::hashing::{parse_hash_key, partition_key_hash};
use crate::model::{ShardMeta, StreamMeta};

/// One record ready to append: its shard and its stored form.
#[derive(Debug)]
pub struct Routed<'a> {
    pub shard: &'a ShardMeta,
    pub hash_key: u128,
    pub record: AppendRecord,
}

/// Picks the open shard for a record and checks it against the stream's record size limit
/// (data plus partition key, as AWS counts it). `data_path` names the data member in messages;
/// it is only called for one. The partition key and data become the stored record as they are,
/// without a copy.
pub fn route<'a>(
    stream: &'a StreamMeta,
    partition_key: Text,
    explicit_hash_key: Option<&str>,
    data: Bytes,
    data_path: impl FnOnce() -> String,
) -> Result<Routed<'a>, StreamsError> {
    let limit = stream.max_record_bytes();
    if data.len() > limit {
        return Err(StreamsError::ValidationMessage(format!(
            "1 validation error detected: Value 'java.nio.HeapByteBuffer[pos=0 lim={len} cap={len}]' \
             at '{path}' failed to satisfy constraint: Member must have length less than or equal \
             to {limit}",
            len = data.len(),
            path = data_path(),
        )));
    }
    if data.len() + partition_key.len() > limit {
        return Err(StreamsError::ValidationMessage(format!(
            "The record's data and partition key ({} bytes) exceed the maximum record size of \
             {limit} bytes of stream {}.",
            data.len() + partition_key.len(),
            stream.name
        )));
    }
    let hash_key = match explicit_hash_key {
        Some(text) => parse_hash_key(text).ok_or_else(|| {
            StreamsError::InvalidArgument(format!(
                "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, \
                 340282366920938463463374607431768211455]. Specified value was {text}"
            ))
        })?,
        None => partition_key_hash(partition_key.bytes()),
    };
    let shard = stream.shard_for_hash(hash_key).ok_or_else(|| {
        StreamsError::Internal(format!(
            "no open shard of stream {} covers hash key {hash_key}",
            stream.name
        ))
    })?;
    Ok(Routed {
        shard,
        hash_key,
        record: AppendRecord {
            key: partition_key.into_bytes(),
            value: data,
        },
    })
}

/// Records to append, one batch per log, as `Log::append` takes them.
pub type Batches = Vec<(LogId, Vec<AppendRecord>)>;

/// Where each routed record sits in [`Batches`]: (batch index, index within the batch).
pub type Places = Vec<(usize, usize)>;

/// Groups routed records into one append batch per log, remembering where each record went.
pub fn batch(routed: Vec<Routed<'_>>) -> (Batches, Places) {
    let mut batches: Batches = Vec::new();
    let mut places = Vec::with_capacity(routed.len());
    for item in routed {
        let log = item.shard.log_id();
        let batch_index = match batches.iter().position(|(id, _)| *id == log) {
            Some(index) => index,
            None => {
                batches.push((log, Vec::new()));
                batches.len() - 1
            }
        };
        let records = &mut batches[batch_index].1;
        places.push((batch_index, records.len()));
        records.push(item.record);
    }
    (batches, places)
}
