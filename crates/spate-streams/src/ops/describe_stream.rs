//! DescribeStream: the stream and a page of its shards.

use serde::{Deserialize, Serialize};
use spate_wire::Violations;

use crate::api::Validate;
use crate::error::StreamsError;
use crate::service::StreamsService;
use crate::shapes::{EnhancedMetrics, Shard, StreamModeDetails};
use crate::validation::{self, StreamRef};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    #[serde(flatten)]
    pub stream: StreamRef,
    pub limit: Option<i64>,
    pub exclusive_start_shard_id: Option<String>,
}

impl Validate for Request {
    fn validate(&self, v: &mut Violations) {
        self.stream.validate(v);
        if let Some(limit) = self.limit {
            v.range("limit", limit, Some(1), Some(10_000));
        }
        validation::name(
            v,
            "exclusiveStartShardId",
            &self.exclusive_start_shard_id,
            false,
        );
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct StreamDescription {
    pub stream_name: String,
    #[serde(rename = "StreamARN")]
    pub stream_arn: String,
    pub stream_status: &'static str,
    pub stream_mode_details: StreamModeDetails,
    pub shards: Vec<Shard>,
    pub has_more_shards: bool,
    pub retention_period_hours: u32,
    #[serde(with = "spate_wire::codec::timestamp")]
    pub stream_creation_timestamp: i64,
    pub enhanced_monitoring: Vec<EnhancedMetrics>,
    pub encryption_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Response {
    pub stream_description: StreamDescription,
}

/// DescribeStream returns at most this many shards per call.
const MAX_SHARDS_PER_PAGE: usize = 100;

pub async fn handle(service: &StreamsService, request: Request) -> Result<Response, StreamsError> {
    let name = request.stream.resolve(&service.config)?;
    let stream = service.visible_stream(&name)?;
    let status = stream
        .status_at(service.now_ms())
        .ok_or_else(|| service.not_found(&name))?;
    let limit = usize::try_from(request.limit.unwrap_or(100))
        .unwrap_or(1)
        .min(MAX_SHARDS_PER_PAGE);
    let after = request.exclusive_start_shard_id.unwrap_or_default();
    let remaining: Vec<_> = stream
        .shards
        .iter()
        .filter(|shard| shard.shard_id().as_str() > after.as_str())
        .collect();
    let shards = remaining
        .iter()
        .take(limit)
        .map(|shard| Shard::describe(shard))
        .collect();
    Ok(Response {
        stream_description: StreamDescription {
            stream_name: stream.name.clone(),
            stream_arn: service.config.stream_arn(&stream.name),
            stream_status: status.as_str(),
            stream_mode_details: StreamModeDetails::of(&stream),
            shards,
            has_more_shards: remaining.len() > limit,
            retention_period_hours: stream.retention_hours,
            stream_creation_timestamp: stream.created_ms,
            enhanced_monitoring: vec![EnhancedMetrics {
                shard_level_metrics: stream.settings.shard_level_metrics.clone(),
            }],
            encryption_type: stream.encryption_type(),
            key_id: stream.key_id(),
        },
    })
}
