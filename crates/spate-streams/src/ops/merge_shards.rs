//! MergeShards: two open shards with touching hash ranges become one.

use serde::Deserialize;
use spate_wire::Violations;

use super::Empty;
use super::reshard::{self, Reason};
use crate::api::Validate;
use crate::error::StreamsError;
use crate::model::parse_shard_id;
use crate::service::StreamsService;
use crate::validation::{self, StreamRef};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    #[serde(flatten)]
    pub stream: StreamRef,
    pub shard_to_merge: Option<String>,
    pub adjacent_shard_to_merge: Option<String>,
}

impl Validate for Request {
    fn validate(&self, v: &mut Violations) {
        self.stream.validate(v);
        validation::name(v, "shardToMerge", &self.shard_to_merge, true);
        validation::name(
            v,
            "adjacentShardToMerge",
            &self.adjacent_shard_to_merge,
            true,
        );
    }
}

pub async fn handle(service: &StreamsService, request: Request) -> Result<Empty, StreamsError> {
    let name = request.stream.resolve(&service.config)?;
    let guard = service.registry.lock().await;
    let stream = service.active_stream(&name)?;
    reshard::require_provisioned(service, &stream, "MergeShards")?;
    let find = |id: &str| {
        parse_shard_id(id)
            .filter(|index| stream.shard(*index).is_some())
            .ok_or_else(|| {
                StreamsError::ResourceNotFound(format!(
                    "Could not find shard {id} in stream {name} under account {}.",
                    service.config.account_id
                ))
            })
    };
    let first = find(request.shard_to_merge.as_deref().unwrap_or_default())?;
    let second = find(
        request
            .adjacent_shard_to_merge
            .as_deref()
            .unwrap_or_default(),
    )?;
    reshard::apply(service, &guard, &stream, Reason::Api, |plan| {
        plan.merge(first, second)
    })
    .await?;
    Ok(Empty {})
}
