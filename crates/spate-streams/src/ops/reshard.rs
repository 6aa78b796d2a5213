//! The storage side of resharding, shared by SplitShard, MergeShards and UpdateShardCount:
//! plan on a copy of the stream, create the new logs, then, with writers held off by the
//! stream's append gate, take the closing shards' ends and publish the new shard list.

use crate::error::StreamsError;
use crate::model::{StreamMeta, StreamMode, StreamStatus, shard_id};
use crate::registry::ControlGuard;
use crate::resharding::{PlanError, Resharder};
use crate::service::StreamsService;

/// The refusal AWS gives resharding calls on an on-demand stream.
pub fn require_provisioned(
    service: &StreamsService,
    stream: &StreamMeta,
    operation: &str,
) -> Result<(), StreamsError> {
    if stream.mode == StreamMode::OnDemand {
        return Err(StreamsError::ValidationMessage(format!(
            "{operation} is not supported for stream {} under account {}: it is in ON_DEMAND \
             capacity mode, and {operation} is only supported for PROVISIONED streams.",
            stream.name, service.config.account_id
        )));
    }
    Ok(())
}

/// The AWS error for a plan that cannot be made.
pub fn plan_error(service: &StreamsService, stream: &str, err: PlanError) -> StreamsError {
    let account = &service.config.account_id;
    match err {
        PlanError::NoSuchShard(index) => StreamsError::ResourceNotFound(format!(
            "Could not find shard {} in stream {stream} under account {account}.",
            shard_id(index)
        )),
        PlanError::ShardClosed(index) => StreamsError::ResourceInUse(format!(
            "Shard {} in stream {stream} under account {account} has already been merged or \
             split, and thus is not eligible for merging or splitting.",
            shard_id(index)
        )),
        PlanError::SplitOutsideRange { start, end } => StreamsError::InvalidArgument(format!(
            "NewStartingHashKey used in SplitShard() in stream {stream} under account {account} \
             is not both greater than one plus the shard's StartingHashKey {start} and less \
             than the shard's EndingHashKey {end}."
        )),
        PlanError::NotAdjacent(a, b) => StreamsError::InvalidArgument(format!(
            "Shards {} and {} in stream {stream} under account {account} are not an adjacent \
             pair of shards eligible for merging",
            shard_id(a),
            shard_id(b)
        )),
    }
}

pub const DAY_MS: i64 = 24 * 3_600_000;

/// Who asked for a change, which decides what else it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// SplitShard or MergeShards: the stream goes UPDATING for the configured delay.
    Api,
    /// UpdateShardCount: UPDATING too, and counted against its daily limit.
    ScalingApi,
    /// On-demand scaling: invisible in the stream's status, as on AWS.
    OnDemand,
}

/// Plans `change` on `stream`, then makes it real; reads and writes continue throughout.
pub async fn apply<R>(
    service: &StreamsService,
    guard: &ControlGuard<'_>,
    stream: &StreamMeta,
    reason: Reason,
    change: impl FnOnce(&mut Resharder<'_>) -> Result<R, PlanError>,
) -> Result<R, StreamsError> {
    let now = service.now_ms();
    let ids = service.registry.next_log_id(guard).await?;
    let mut updated = service.settled(stream);
    let mut resharder = Resharder::new(&mut updated, now, ids.first);
    let outcome = change(&mut resharder).map_err(|err| plan_error(service, &stream.name, err))?;
    let plan = resharder.finish();

    let open_elsewhere: usize = service
        .registry
        .all()
        .iter()
        .filter(|other| other.name != stream.name)
        .map(|other| other.open_shards().count())
        .sum();
    let open_after = open_elsewhere + updated.open_shards().count();
    let limit = service.config.shard_limit as usize;
    if open_after > limit {
        return Err(StreamsError::LimitExceeded(format!(
            "This request would exceed the shard limit for the account {} in {}. Current shard \
             count for the account: {}. Limit: {limit}.",
            service.config.account_id,
            service.config.region,
            open_elsewhere + stream.open_shards().count()
        )));
    }

    let new_logs = plan.new_logs.clone();
    service
        .with_log(move |log| new_logs.iter().try_for_each(|id| log.create_log(*id)))
        .await?;
    let delay = i64::try_from(service.config.update_delay_ms).unwrap_or(i64::MAX);
    if reason == Reason::ScalingApi {
        updated.scalings_ms.retain(|at| now - *at < DAY_MS);
        updated.scalings_ms.push(now);
    }
    if reason != Reason::OnDemand {
        updated.status = StreamStatus::Updating;
        updated.status_until_ms = Some(now.saturating_add(delay));
    }

    let gate = service
        .registry
        .gate(&stream.name)
        .ok_or_else(|| service.not_found(&stream.name))?;
    let _writers_held_off = gate.write().await;
    for (index, log) in &plan.closing {
        let end = service.log.bounds(*log)?.end;
        let shard = updated
            .shard_mut(*index)
            .ok_or_else(|| StreamsError::Internal(format!("planned shard {index} vanished")))?;
        shard.closed_at_position = Some(end);
    }
    debug_assert!(
        updated
            .shards
            .iter()
            .all(|s| s.closed_at_position != Some(u64::MAX))
    );
    service
        .registry
        .save_with_log_ids(guard, updated, Some((ids, plan.used_log_ids)))
        .await?;
    Ok(outcome)
}
