//! UpdateShardCount: uniform scaling to a target shard count, by splits and merges.

use serde::{Deserialize, Serialize};
use spate_wire::Violations;

use super::reshard::{self, Reason};
use crate::api::Validate;
use crate::error::StreamsError;
use crate::service::StreamsService;
use crate::validation::StreamRef;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    #[serde(flatten)]
    pub stream: StreamRef,
    pub target_shard_count: Option<i64>,
    pub scaling_type: Option<String>,
}

impl Validate for Request {
    fn validate(&self, v: &mut Violations) {
        self.stream.validate(v);
        match self.target_shard_count {
            None => v.required("targetShardCount", &self.target_shard_count),
            Some(count) => v.range("targetShardCount", count, Some(1), None),
        }
        match &self.scaling_type {
            None => v.required("scalingType", &self.scaling_type),
            Some(kind) => v.one_of("scalingType", kind, &["UNIFORM_SCALING"]),
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Response {
    pub stream_name: String,
    pub current_shard_count: usize,
    pub target_shard_count: u32,
    #[serde(rename = "StreamARN")]
    pub stream_arn: String,
}

/// Scalings a stream may make in a rolling day.
const SCALINGS_PER_DAY: usize = 10;
/// Shards one stream may reach through this API.
const MAX_SHARDS: u32 = 10_000;
use super::reshard::DAY_MS;

pub async fn handle(service: &StreamsService, request: Request) -> Result<Response, StreamsError> {
    let name = request.stream.resolve(&service.config)?;
    let target_count = request.target_shard_count.unwrap_or_default();
    let guard = service.registry.lock().await;
    let stream = service.active_stream(&name)?;
    reshard::require_provisioned(service, &stream, "UpdateShardCount")?;
    let current = stream.open_shards().count();
    let account = &service.config.account_id;
    let refuse = |why: String| {
        StreamsError::LimitExceeded(format!(
            "UpdateShardCount of stream {name} under account {account} to {target_count} \
             shards: {why}"
        ))
    };
    let target = u32::try_from(target_count)
        .ok()
        .filter(|target| *target <= MAX_SHARDS)
        .ok_or_else(|| refuse(format!("a stream can have at most {MAX_SHARDS} shards.")))?;
    if target as usize > current * 2 {
        return Err(refuse(format!(
            "it can at most double the current {current} shards."
        )));
    }
    if (target as usize) * 2 < current {
        return Err(refuse(format!(
            "it can at most halve the current {current} shards."
        )));
    }
    let now = service.now_ms();
    let recent = stream
        .scalings_ms
        .iter()
        .filter(|at| now - **at < DAY_MS)
        .count();
    if recent >= SCALINGS_PER_DAY {
        return Err(refuse(format!(
            "a stream can be scaled at most {SCALINGS_PER_DAY} times in 24 hours."
        )));
    }
    reshard::apply(service, &guard, &stream, Reason::ScalingApi, |plan| {
        plan.uniform(target)
    })
    .await?;
    Ok(Response {
        stream_name: name.clone(),
        current_shard_count: current,
        target_shard_count: target,
        stream_arn: service.config.stream_arn(&name),
    })
}
