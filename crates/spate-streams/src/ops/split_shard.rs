//! SplitShard: one open shard becomes two, at a hash key inside its range.

use serde::Deserialize;
use spate_wire::Violations;

use super::Empty;
use super::reshard::{self, Reason};
use crate::api::Validate;
use crate::error::StreamsError;
use crate::hashing::parse_hash_key;
use crate::model::parse_shard_id;
use crate::service::StreamsService;
use crate::validation::{self, StreamRef};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    #[serde(flatten)]
    pub stream: StreamRef,
    pub shard_to_split: Option<String>,
    pub new_starting_hash_key: Option<String>,
}

impl Validate for Request {
    fn validate(&self, v: &mut Violations) {
        self.stream.validate(v);
        validation::name(v, "shardToSplit", &self.shard_to_split, true);
        match &self.new_starting_hash_key {
            None => v.required("newStartingHashKey", &self.new_starting_hash_key),
            Some(_) => validation::hash_key(v, "newStartingHashKey", &self.new_starting_hash_key),
        }
    }
}

pub async fn handle(service: &StreamsService, request: Request) -> Result<Empty, StreamsError> {
    let name = request.stream.resolve(&service.config)?;
    let shard = request.shard_to_split.unwrap_or_default();
    let key_text = request.new_starting_hash_key.unwrap_or_default();
    let guard = service.registry.lock().await;
    let stream = service.active_stream(&name)?;
    reshard::require_provisioned(service, &stream, "SplitShard")?;
    let index = parse_shard_id(&shard).ok_or_else(|| {
        StreamsError::ResourceNotFound(format!(
            "Could not find shard {shard} in stream {name} under account {}.",
            service.config.account_id
        ))
    })?;
    let key = parse_hash_key(&key_text).ok_or_else(|| {
        StreamsError::InvalidArgument(format!(
            "NewStartingHashKey {key_text} used in SplitShard() on shard {shard} in stream \
             {name} under account {} is not a hash key in [0, 2^128 - 1].",
            service.config.account_id
        ))
    })?;
    reshard::apply(service, &guard, &stream, Reason::Api, |plan| {
        plan.split(index, key)
    })
    .await?;
    Ok(Empty {})
}
