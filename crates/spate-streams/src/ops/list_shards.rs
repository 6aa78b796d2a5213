//! ListShards: a page of shards, optionally filtered by lineage position (ShardFilter).

use serde::{Deserialize, Serialize};
use spate_wire::Violations;

use super::paging;
use crate::api::Validate;
use crate::error::StreamsError;
use crate::model::{ShardMeta, StreamMeta, StreamStatus};
use crate::service::StreamsService;
use crate::shapes::Shard;
use crate::validation::{self, StreamRef};

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ShardFilter {
    #[serde(rename = "Type")]
    pub kind: Option<String>,
    pub shard_id: Option<String>,
    #[serde(default, with = "spate_wire::codec::opt_timestamp")]
    pub timestamp: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    #[serde(flatten)]
    pub stream: StreamRef,
    pub next_token: Option<String>,
    pub exclusive_start_shard_id: Option<String>,
    pub max_results: Option<i64>,
    #[serde(default, with = "spate_wire::codec::opt_timestamp")]
    pub stream_creation_timestamp: Option<i64>,
    pub shard_filter: Option<ShardFilter>,
}

const FILTER_TYPES: [&str; 6] = [
    "AFTER_SHARD_ID",
    "AT_TRIM_HORIZON",
    "FROM_TRIM_HORIZON",
    "AT_LATEST",
    "AT_TIMESTAMP",
    "FROM_TIMESTAMP",
];

impl Validate for Request {
    fn validate(&self, v: &mut Violations) {
        self.stream.validate(v);
        if let Some(token) = &self.next_token {
            v.string_length("nextToken", token, 1, 1_048_576);
        }
        validation::name(
            v,
            "exclusiveStartShardId",
            &self.exclusive_start_shard_id,
            false,
        );
        if let Some(max) = self.max_results {
            v.range("maxResults", max, Some(1), Some(10_000));
        }
        if let Some(filter) = &self.shard_filter {
            match &filter.kind {
                None => v.required("shardFilter.type", &filter.kind),
                Some(kind) => v.one_of("shardFilter.type", kind, &FILTER_TYPES),
            }
            validation::name(v, "shardFilter.shardId", &filter.shard_id, false);
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Response {
    pub shards: Vec<Shard>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// Where the next page of a listing starts.
#[derive(Debug, Serialize, Deserialize)]
struct Cursor {
    stream: String,
    created_ms: i64,
    after: String,
    filter: Option<ShardFilter>,
}

/// ListShards returns at most this many shards per call.
const MAX_SHARDS_PER_PAGE: usize = 1000;

pub async fn handle(service: &StreamsService, request: Request) -> Result<Response, StreamsError> {
    let now = service.now_ms();
    let cursor = match &request.next_token {
        Some(token) => {
            let conflicting = [
                ("StreamName", request.stream.stream_name.is_some()),
                ("StreamARN", request.stream.stream_arn.is_some()),
                (
                    "ExclusiveStartShardId",
                    request.exclusive_start_shard_id.is_some(),
                ),
                (
                    "StreamCreationTimestamp",
                    request.stream_creation_timestamp.is_some(),
                ),
            ];
            if let Some((member, _)) = conflicting.iter().find(|(_, given)| *given) {
                return Err(StreamsError::InvalidArgument(format!(
                    "NextToken and {member} cannot be provided together."
                )));
            }
            paging::redeem::<Cursor>(token, now)?
        }
        None => {
            if request.shard_filter.is_some() && request.exclusive_start_shard_id.is_some() {
                return Err(StreamsError::InvalidArgument(
                    "ShardFilter and ExclusiveStartShardId cannot be provided together."
                        .to_string(),
                ));
            }
            let stream = request.stream.resolve(&service.config)?;
            Cursor {
                stream,
                created_ms: i64::MIN,
                after: request.exclusive_start_shard_id.clone().unwrap_or_default(),
                filter: request.shard_filter.clone(),
            }
        }
    };
    let stream = service.visible_stream(&cursor.stream)?;
    if !service
        .quotas
        .admit_control("ListShards", &stream.name, now)
    {
        return Err(StreamsError::LimitExceeded(format!(
            "Rate exceeded for ListShards on stream {} under account {}.",
            stream.name, service.config.account_id
        )));
    }
    if let Some(created) = request.stream_creation_timestamp
        && created != stream.created_ms
        && created / 1000 != stream.created_ms / 1000
    {
        return Err(service.not_found(&cursor.stream));
    }
    if cursor.created_ms != i64::MIN && cursor.created_ms != stream.created_ms {
        return Err(service.not_found(&cursor.stream));
    }
    if stream.status_at(now) == Some(StreamStatus::Creating) {
        return Err(StreamsError::ResourceInUse(format!(
            "Stream {} under account {} is in state CREATING.",
            stream.name, service.config.account_id
        )));
    }
    let selected = select(
        &stream,
        cursor.filter.as_ref(),
        service.log_start_ms(&stream),
    )?;
    let remaining: Vec<&ShardMeta> = selected
        .into_iter()
        .filter(|shard| shard.shard_id().as_str() > cursor.after.as_str())
        .collect();
    let limit = usize::try_from(request.max_results.unwrap_or(1000))
        .unwrap_or(1)
        .min(MAX_SHARDS_PER_PAGE);
    let page: Vec<&ShardMeta> = remaining.iter().take(limit).copied().collect();
    let next_token = match page.last() {
        Some(last) if remaining.len() > limit => Some(paging::issue(
            &Cursor {
                stream: stream.name.clone(),
                created_ms: stream.created_ms,
                after: last.shard_id(),
                filter: cursor.filter.clone(),
            },
            now,
        )),
        _ => None,
    };
    Ok(Response {
        shards: page.into_iter().map(Shard::describe).collect(),
        next_token,
    })
}

/// The shards a filter selects, by lineage: a shard is open at time t when it was created by
/// then and not yet closed (see `ShardMeta::is_open_at`); times before the stream existed mean
/// its creation.
fn select<'a>(
    stream: &'a StreamMeta,
    filter: Option<&ShardFilter>,
    trim_horizon_ms: i64,
) -> Result<Vec<&'a ShardMeta>, StreamsError> {
    let all = stream.shards.iter();
    let Some(filter) = filter else {
        return Ok(all.collect());
    };
    let at = |time: i64| time.max(stream.created_ms);
    let not_closed_by = |shard: &ShardMeta, time: i64| shard.closed_at_ms.is_none_or(|c| c > time);
    let selected = match filter.kind.as_deref().unwrap_or_default() {
        "AFTER_SHARD_ID" => {
            let after = filter.shard_id.clone().ok_or_else(|| {
                StreamsError::InvalidArgument(
                    "ShardFilter of type AFTER_SHARD_ID requires a ShardId.".to_string(),
                )
            })?;
            all.filter(|shard| shard.shard_id() > after).collect()
        }
        "AT_LATEST" => all.filter(|shard| shard.is_open()).collect(),
        "AT_TRIM_HORIZON" => all
            .filter(|shard| shard.is_open_at(at(trim_horizon_ms)))
            .collect(),
        "FROM_TRIM_HORIZON" => all
            .filter(|shard| not_closed_by(shard, at(trim_horizon_ms)))
            .collect(),
        kind @ ("AT_TIMESTAMP" | "FROM_TIMESTAMP") => {
            let time = filter.timestamp.ok_or_else(|| {
                StreamsError::InvalidArgument(format!(
                    "ShardFilter of type {kind} requires a Timestamp."
                ))
            })?;
            if kind == "AT_TIMESTAMP" {
                all.filter(|shard| shard.is_open_at(at(time))).collect()
            } else {
                all.filter(|shard| not_closed_by(shard, at(time))).collect()
            }
        }
        other => {
            return Err(StreamsError::InvalidArgument(format!(
                "Unknown ShardFilter type {other}."
            )));
        }
    };
    Ok(selected)
}

impl StreamsService {
    /// The time of the stream's trim horizon: records older than retention are gone.
    fn log_start_ms(&self, stream: &StreamMeta) -> i64 {
        self.now_ms() - i64::from(stream.retention_hours) * 3_600_000
    }
}
