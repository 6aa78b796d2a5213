//! GetShardIterator: a sealed position in a shard, by sequence number, time, oldest or newest.

use serde::{Deserialize, Serialize};
use spate_wire::Violations;

use super::position::resolve_position;
use crate::api::Validate;
use crate::error::StreamsError;
use crate::iterator::IteratorState;
use crate::model::{ShardMeta, StreamMeta, parse_shard_id};
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
    let position = resolve_position(
        service,
        &stream,
        shard,
        kind,
        request.starting_sequence_number.as_deref(),
        request.timestamp,
    )
    .await?;
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
