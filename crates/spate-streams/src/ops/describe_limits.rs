//! DescribeLimits: the account's shard and on-demand stream limits and current use.

use serde::{Deserialize, Serialize};
use spate_wire::Violations;

use crate::api::Validate;
use crate::error::StreamsError;
use crate::model::StreamMode;
use crate::service::StreamsService;

#[derive(Debug, Deserialize)]
pub struct Request {}

impl Validate for Request {
    fn validate(&self, _v: &mut Violations) {}
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Response {
    pub shard_limit: u32,
    pub open_shard_count: usize,
    pub on_demand_stream_count: usize,
    pub on_demand_stream_count_limit: u32,
}

pub async fn handle(service: &StreamsService, _request: Request) -> Result<Response, StreamsError> {
    let now = service.now_ms();
    let streams: Vec<_> = service
        .registry
        .all()
        .into_iter()
        .filter(|s| s.status_at(now).is_some())
        .collect();
    Ok(Response {
        shard_limit: service.config.shard_limit,
        open_shard_count: streams.iter().map(|s| s.open_shards().count()).sum(),
        on_demand_stream_count: streams
            .iter()
            .filter(|s| s.mode == StreamMode::OnDemand)
            .count(),
        on_demand_stream_count_limit: service.config.on_demand_stream_limit,
    })
}
