//! CreateStream: a provisioned stream with N shards, or an on-demand one, CREATING then ACTIVE.

use std::collections::BTreeMap;

use serde::Deserialize;
use spate_log::LogId;
use spate_wire::Violations;

use super::{Empty, tags};
use crate::api::Validate;
use crate::error::StreamsError;
use crate::hashing::split_hash_space;
use crate::model::{ShardMeta, StreamMeta, StreamMode, StreamStatus};
use crate::service::StreamsService;
use crate::validation::{self, StreamModeDetails};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    pub stream_name: Option<String>,
    pub shard_count: Option<i64>,
    pub stream_mode_details: Option<StreamModeDetails>,
    pub tags: Option<BTreeMap<String, String>>,
    pub warm_throughput_mi_bps: Option<i64>,
    pub max_record_size_in_ki_b: Option<i64>,
}

impl Validate for Request {
    fn validate(&self, v: &mut Violations) {
        validation::name(v, "streamName", &self.stream_name, true);
        if let Some(count) = self.shard_count {
            v.range("shardCount", count, Some(1), None);
        }
        if let Some(details) = &self.stream_mode_details {
            details.validate(v);
        }
        if let Some(tags) = &self.tags {
            tags::validate_map(v, "tags", tags);
        }
        if let Some(warm) = self.warm_throughput_mi_bps {
            v.range("warmThroughputMiBps", warm, Some(0), None);
        }
        if let Some(size) = self.max_record_size_in_ki_b {
            v.range("maxRecordSizeInKiB", size, Some(1024), Some(10240));
        }
    }
}

pub async fn handle(service: &StreamsService, request: Request) -> Result<Empty, StreamsError> {
    let name = request.stream_name.unwrap_or_default();
    let mode = StreamModeDetails::mode(request.stream_mode_details.as_ref());
    let shard_count = match (mode, request.shard_count) {
        (StreamMode::OnDemand, _) => service.config.on_demand_initial_shards,
        (StreamMode::Provisioned, Some(count)) => u32::try_from(count).map_err(|_| {
            StreamsError::LimitExceeded(format!("ShardCount {count} exceeds the shard limit."))
        })?,
        (StreamMode::Provisioned, None) => {
            return Err(StreamsError::InvalidArgument(
                "ShardCount is required for a stream in PROVISIONED mode.".to_string(),
            ));
        }
    };
    let warm = super::update_stream_warm_throughput::warm_target(
        service,
        mode,
        request.warm_throughput_mi_bps,
    )?;
    if let Some(tags) = &request.tags {
        tags::check_semantics(service, &name, tags, 0)?;
    }

    let guard = service.registry.lock().await;
    if let Some(existing) = service.registry.get(&name) {
        if existing.status_at(service.now_ms()).is_some() {
            return Err(StreamsError::ResourceInUse(format!(
                "Stream {name} under account {} already exists.",
                service.config.account_id
            )));
        }
        // A deleted stream whose removal is due but not yet done frees its name now.
        service.reap(&guard, &existing).await?;
    }
    let new = NewStream {
        name,
        mode,
        shard_count,
        tags: request.tags,
        max_record_size_kib: request.max_record_size_in_ki_b,
        warm,
    };
    create(service, &guard, new).await
}

/// A stream about to be created, as the request asked for it.
struct NewStream {
    name: String,
    mode: StreamMode,
    shard_count: u32,
    tags: Option<BTreeMap<String, String>>,
    max_record_size_kib: Option<i64>,
    warm: Option<u32>,
}

async fn create(
    service: &StreamsService,
    guard: &crate::registry::ControlGuard<'_>,
    new: NewStream,
) -> Result<Empty, StreamsError> {
    let NewStream {
        name,
        mode,
        shard_count,
        tags,
        max_record_size_kib,
        warm,
    } = new;
    let open_shards: usize = service
        .registry
        .all()
        .iter()
        .map(|s| s.open_shards().count())
        .sum();
    let limit = service.config.shard_limit as usize;
    if open_shards + shard_count as usize > limit {
        return Err(StreamsError::LimitExceeded(format!(
            "This request would exceed the shard limit for the account {} in {}. Current shard \
             count for the account: {open_shards}. Limit: {limit}. Number of additional shards \
             that would have resulted from this request: {shard_count}.",
            service.config.account_id, service.config.region
        )));
    }
    if mode == StreamMode::OnDemand {
        service.check_on_demand_limit()?;
    }

    let now = service.now_ms();
    let ids = service.registry.next_log_id(guard).await?;
    let mut shards = Vec::new();
    for (index, (start, end)) in split_hash_space(shard_count).into_iter().enumerate() {
        let index = u32::try_from(index).expect("shard count is a u32");
        shards.push(ShardMeta {
            index,
            log: ids.first + u64::from(index),
            created_ms: now,
            hash_start: start,
            hash_end: end,
            parent: None,
            adjacent_parent: None,
            closed_at_position: None,
            closed_at_ms: None,
        });
    }
    let logs: Vec<LogId> = shards.iter().map(ShardMeta::log_id).collect();
    service
        .with_log(move |log| logs.iter().try_for_each(|id| log.create_log(*id)))
        .await?;
    let create_delay = i64::try_from(service.config.create_delay_ms).unwrap_or(i64::MAX);
    let stream = StreamMeta {
        name,
        created_ms: now,
        status: StreamStatus::Creating,
        status_until_ms: Some(now.saturating_add(create_delay)),
        mode,
        retention_hours: 24,
        max_record_size_kib: max_record_size_kib
            .and_then(|size| u32::try_from(size).ok())
            .unwrap_or(1024),
        shards,
        next_shard_index: shard_count,
        tags: tags.unwrap_or_default(),
        scalings_ms: Vec::new(),
        mode_changes_ms: Vec::new(),
        settings: crate::model::StreamSettings {
            warm_throughput_mibps: warm,
            ..Default::default()
        },
    };
    service
        .registry
        .create(guard, ids, u64::from(shard_count), stream)
        .await?;
    Ok(Empty {})
}
