//! GetRecords: records from an iterator's position, at most 10,000 and 10 MiB per call.

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use spate_wire::Violations;

use super::get_shard_iterator::find_shard;
use crate::api::Validate;
use crate::error::StreamsError;
use crate::iterator::{ITERATOR_LIFETIME_MS, IteratorState};
use crate::service::StreamsService;
use crate::shapes::ChildShard;
use crate::sse;
use crate::validation;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    pub shard_iterator: Option<String>,
    pub limit: Option<i64>,
    #[serde(rename = "StreamARN")]
    pub stream_arn: Option<String>,
}

/// Records one GetRecords call returns at most.
pub const MAX_RECORDS: i64 = 10_000;
/// Bytes of data one GetRecords call returns at most (beyond the first record).
pub const MAX_BYTES: usize = 10 * 1024 * 1024;

impl Validate for Request {
    fn validate(&self, v: &mut Violations) {
        match &self.shard_iterator {
            None => v.required("shardIterator", &self.shard_iterator),
            Some(token) => v.string_length("shardIterator", token, 1, 512),
        }
        if let Some(limit) = self.limit {
            v.range("limit", limit, Some(1), Some(MAX_RECORDS));
        }
        validation::stream_arn(v, "streamARN", &self.stream_arn);
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Record {
    pub sequence_number: String,
    #[serde(with = "spate_wire::codec::timestamp")]
    pub approximate_arrival_timestamp: i64,
    #[serde(with = "spate_wire::codec::blob")]
    pub data: Bytes,
    pub partition_key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encryption_type: Option<&'static str>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Response {
    pub records: Vec<Record>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_shard_iterator: Option<String>,
    pub millis_behind_latest: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub child_shards: Option<Vec<ChildShard>>,
}

pub async fn handle(service: &StreamsService, request: Request) -> Result<Response, StreamsError> {
    let token = request.shard_iterator.unwrap_or_default();
    let state = service
        .iterators
        .open(&token)
        .ok_or_else(|| StreamsError::InvalidArgument("Invalid ShardIterator.".to_string()))?;
    let now = service.now_ms();
    if now - state.issued_ms > ITERATOR_LIFETIME_MS {
        return Err(StreamsError::ExpiredIterator(format!(
            "Iterator expired. The iterator was created at time {} while right now it is {now} \
             which is further in the future than the tolerated delay of {ITERATOR_LIFETIME_MS} \
             milliseconds.",
            state.issued_ms
        )));
    }
    if let Some(arn) = &request.stream_arn {
        let named = validation::resolve_stream_name(&service.config, None, Some(arn))?;
        if named != state.stream_name {
            return Err(StreamsError::InvalidArgument(format!(
                "StreamARN {arn} does not name the stream of the shard iterator."
            )));
        }
    }
    let stream = service.data_stream(&state.stream_name)?;
    if stream.created_ms != state.stream_created_ms {
        return Err(service.not_found(&state.stream_name));
    }
    let shard = find_shard(service, &stream, &crate::model::shard_id(state.shard_index))?;
    let limit = usize::try_from(request.limit.unwrap_or(MAX_RECORDS)).unwrap_or(1);
    let log_id = shard.log_id();
    if !service.quotas.admit_read(&stream.name, log_id, now) {
        return Err(service.throttled(&stream.name, &shard.shard_id()));
    }
    let position = state.position;
    let (stored, bounds) = service.read_log(log_id, position, limit, MAX_BYTES).await?;

    let bytes: usize = stored.iter().map(|r| r.key.len() + r.value.len()).sum();
    service.quotas.charge_read(&stream.name, log_id, bytes, now);
    let next_position = stored
        .last()
        .map_or(position.max(bounds.start), |r| r.offset + 1);
    let millis_behind_latest = match (stored.last(), bounds.last_timestamp_ms) {
        (Some(last), Some(newest)) if next_position < bounds.end => {
            (newest - last.timestamp_ms).max(0)
        }
        _ => 0,
    };
    // A closed shard read to its end hands the reader on to its children, and ends.
    let finished = shard
        .closed_at_position
        .is_some_and(|end| next_position >= end);
    let records = service
        .open_records(stored)
        .await?
        .into_iter()
        .map(|record| Record {
            sequence_number: shard.sequence_number(record.offset, record.timestamp_ms),
            approximate_arrival_timestamp: record.timestamp_ms,
            data: record.data,
            partition_key: record.partition_key,
            encryption_type: record.encrypted.then_some(sse::KMS),
        })
        .collect();
    if finished {
        return Ok(Response {
            records,
            next_shard_iterator: None,
            millis_behind_latest: 0,
            child_shards: Some(ChildShard::of(&stream, shard.index)),
        });
    }
    let next = service.iterators.seal(&IteratorState {
        position: next_position,
        issued_ms: now,
        ..state
    });
    Ok(Response {
        records,
        next_shard_iterator: Some(next),
        millis_behind_latest,
        child_shards: None,
    })
}
