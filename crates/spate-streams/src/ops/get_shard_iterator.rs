//! GetShardIterator: a sealed position in a shard, by sequence number, time, oldest or newest.

use serde::{Deserialize, Serialize};
use spate_wire::Violations;

use crate::api::Validate;
use crate::error::StreamsError;
use crate::iterator::IteratorState;
use crate::model::{ShardMeta, StreamMeta, parse_shard_id};
use crate::sequence::SequenceNumber;
use crate::service::StreamsService;
use crate::validation::{self, StreamRef};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    #[serde(flatten)]
    pub stream: StreamRef,
    pub shard_id: Option<String>,
    pub shard_iterator_type: Option<String>,
    pub starting_sequence_number: Option<String>,
    #[serde(default, with = "spate_wire::codec::opt_timestamp")]
    pub timestamp: Option<i64>,
}

pub const ITERATOR_TYPES: [&str; 5] = [
    "AT_SEQUENCE_NUMBER",
    "AFTER_SEQUENCE_NUMBER",
    "TRIM_HORIZON",
    "LATEST",
    "AT_TIMESTAMP",
];

impl Validate for Request {
    fn validate(&self, v: &mut Violations) {
        self.stream.validate(v);
        validation::name(v, "shardId", &self.shard_id, true);
        match &self.shard_iterator_type {
            None => v.required("shardIteratorType", &self.shard_iterator_type),
            Some(kind) => v.one_of("shardIteratorType", kind, &ITERATOR_TYPES),
        }
        validation::sequence_number(v, "startingSequenceNumber", &self.starting_sequence_number);
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Response {
    pub shard_iterator: String,
}

pub(crate) fn find_shard<'a>(
    service: &StreamsService,
    stream: &'a StreamMeta,
    shard_id: &str,
) -> Result<&'a ShardMeta, StreamsError> {
    parse_shard_id(shard_id)
        .and_then(|index| stream.shard(index))
        .ok_or_else(|| {
            StreamsError::ResourceNotFound(format!(
                "Shard {shard_id} in stream {} under account {} does not exist",
                stream.name, service.config.account_id
            ))
        })
}

/// The log position a sequence number names in `shard`, checking that it belongs there.
fn position_of(
    service: &StreamsService,
    stream: &StreamMeta,
    shard: &ShardMeta,
    text: &str,
) -> Result<u64, StreamsError> {
    let account = &service.config.account_id;
    let invalid = || {
        StreamsError::InvalidArgument(format!(
            "StartingSequenceNumber {text} used in GetShardIterator on shard {} in stream {} \
             under account {account} is invalid.",
            shard.shard_id(),
            stream.name
        ))
    };
    let number = SequenceNumber::decode(text).ok_or_else(invalid)?;
    if number.shard_index != shard.index {
        return Err(StreamsError::InvalidArgument(format!(
            "Invalid StartingSequenceNumber. It encodes {}, while it was used in a call to a \
             shard with {}",
            crate::model::shard_id(number.shard_index),
            shard.shard_id()
        )));
    }
    if number.shard_created_secs != shard.created_secs() {
        return Err(StreamsError::InvalidArgument(format!(
            "StartingSequenceNumber {text} used in GetShardIterator on shard {} in stream {} \
             under account {account} is invalid because it did not come from this stream.",
            shard.shard_id(),
            stream.name
        )));
    }
    Ok(number.position)
}

pub async fn handle(service: &StreamsService, request: Request) -> Result<Response, StreamsError> {
    let name = request.stream.resolve(&service.config)?;
    let stream = service.data_stream(&name)?;
    let shard = find_shard(
        service,
        &stream,
        request.shard_id.as_deref().unwrap_or_default(),
    )?;
    // AWS allows five GetShardIterator calls a second per open shard.
    if !service
        .quotas
        .admit_control("GetShardIterator", &shard.log.to_string(), service.now_ms())
    {
        return Err(service.throttled(&name, &shard.shard_id()));
    }
    let kind = request.shard_iterator_type.as_deref().unwrap_or_default();
    let sequence = request.starting_sequence_number.as_deref();
    let mismatch = |with: &str| {
        StreamsError::InvalidArgument(format!(
            "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and \
             StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. \
             Request specified {kind} and {with}StartingSequenceNumber."
        ))
    };
    let log = shard.log_id();
    let position = match (kind, sequence) {
        ("AT_SEQUENCE_NUMBER" | "AFTER_SEQUENCE_NUMBER", None) => return Err(mismatch("no ")),
        ("TRIM_HORIZON" | "LATEST", Some(_)) => return Err(mismatch("also a ")),
        ("AT_SEQUENCE_NUMBER", Some(text)) => position_of(service, &stream, shard, text)?,
        ("AFTER_SEQUENCE_NUMBER", Some(text)) => {
            position_of(service, &stream, shard, text)?.saturating_add(1)
        }
        ("TRIM_HORIZON", None) => service.log.bounds(log)?.start,
        ("LATEST", None) => service.log.bounds(log)?.end,
        ("AT_TIMESTAMP", _) => {
            let timestamp = request.timestamp.ok_or_else(|| {
                StreamsError::InvalidArgument(
                    "Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. \
                     Current request has no timestamp parameter."
                        .to_string(),
                )
            })?;
            service
                .with_log(move |l| l.offset_at_or_after(log, timestamp))
                .await?
        }
        (other, _) => {
            return Err(StreamsError::InvalidArgument(format!(
                "Unknown ShardIteratorType {other}."
            )));
        }
    };
    let token = service.iterators.seal(&IteratorState {
        stream_name: stream.name.clone(),
        stream_created_ms: stream.created_ms,
        shard_index: shard.index,
        position,
        issued_ms: service.now_ms(),
    });
    Ok(Response {
        shard_iterator: token,
    })
}
