//! The Data Streams service: the state every operation works on, and its upkeep.

use std::sync::Arc;
use std::time::Duration;

use spate_log::{Clock, Log, LogBounds, LogError, LogId, StoredRecord};
use spate_meta::{Check, MetaStore, Outcome, Txn};
use tracing::{info, warn};

use crate::account::AccountSettings;
use crate::autoscale::{Autoscaler, Decision};
use crate::config::StreamsConfig;
use crate::consumers::{ConsumerMeta, ConsumerRegistry};
use crate::error::StreamsError;
use crate::iterator::IteratorCodec;
use crate::kms::KeyStore;
use crate::model::{ShardMeta, StreamMeta, StreamMode, StreamStatus};
use crate::ops::reshard::Reason;
use crate::ops::subscribe_to_shard::Subscriptions;
use crate::quota::Quotas;
use crate::registry::{ControlGuard, Registry};

const ITERATOR_KEY: &str = "secrets/iterator-key";

/// Kinesis Data Streams over a log and a metadata store.
pub struct StreamsService {
    pub(crate) config: StreamsConfig,
    pub(crate) registry: Registry,
    pub(crate) consumers: ConsumerRegistry,
    pub(crate) log: Log,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) iterators: IteratorCodec,
    pub(crate) quotas: Quotas,
    pub(crate) autoscaler: Autoscaler,
    pub(crate) subscriptions: Subscriptions,
    pub(crate) keys: KeyStore,
    pub(crate) meta: Arc<dyn MetaStore>,
    /// The account settings and their stored revision; change them under the registry lock.
    pub(crate) account: parking_lot::Mutex<(AccountSettings, u64)>,
    /// Set once any stream or consumer has (or had) a resource policy; never cleared. While it
    /// is false, authorization need not look for one (`access`).
    pub(crate) resource_policies_seen: std::sync::atomic::AtomicBool,
}

impl std::fmt::Debug for StreamsService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamsService")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl StreamsService {
    /// Loads the streams, the iterator key (made on first start) and removes logs no stream owns.
    pub async fn open(
        config: StreamsConfig,
        log: Log,
        meta: Arc<dyn MetaStore>,
        clock: Arc<dyn Clock>,
    ) -> Result<Arc<StreamsService>, StreamsError> {
        let key = load_or_create_iterator_key(meta.as_ref()).await?;
        let keys = KeyStore::open(
            meta.clone(),
            &config.kms,
            &config.region,
            &config.account_id,
        )
        .await?;
        let account = crate::account::load(meta.as_ref()).await?;
        let registry = Registry::load(meta.clone()).await?;
        let consumers = ConsumerRegistry::load(meta.clone()).await?;
        let resource_policies_seen = registry
            .all()
            .iter()
            .any(|stream| stream.settings.resource_policy.is_some())
            || consumers
                .all()
                .iter()
                .any(|consumer| consumer.resource_policy.is_some());
        let service = StreamsService {
            quotas: Quotas::new(config.quotas.clone()),
            autoscaler: Autoscaler::default(),
            config,
            registry,
            consumers,
            log,
            clock,
            iterators: IteratorCodec::new(&key),
            subscriptions: Subscriptions::default(),
            keys,
            meta,
            account: parking_lot::Mutex::new(account),
            resource_policies_seen: std::sync::atomic::AtomicBool::new(resource_policies_seen),
        };
        service.remove_orphan_logs()?;
        Ok(Arc::new(service))
    }

    pub fn config(&self) -> &StreamsConfig {
        &self.config
    }

    /// Runs storage calls that may block (file I/O, fsync) off the async runtime.
    pub(crate) async fn with_log<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Log) -> Result<T, LogError> + Send + 'static,
    ) -> Result<T, StreamsError> {
        let log = self.log.clone();
        tokio::task::spawn_blocking(move || work(&log))
            .await
            .map_err(|err| StreamsError::Internal(format!("storage task failed: {err}")))?
            .map_err(StreamsError::from)
    }

    /// Reads up to `max_records` / `max_bytes` of a log from `from`, with its bounds: from memory
    /// on the calling task when the range is in the log's tail (consumers that keep up), else
    /// on a blocking thread, since segment reads may wait on the disk.
    pub(crate) async fn read_log(
        &self,
        log_id: LogId,
        from: u64,
        max_records: usize,
        max_bytes: usize,
    ) -> Result<(Vec<StoredRecord>, LogBounds), StreamsError> {
        if let Some(resident) = self
            .log
            .read_resident(log_id, from, max_records, max_bytes)?
        {
            return Ok(resident);
        }
        self.with_log(move |log| {
            Ok((
                log.read(log_id, from, max_records, max_bytes)?,
                log.bounds(log_id)?,
            ))
        })
        .await
    }

    pub(crate) fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    pub(crate) fn not_found(&self, name: &str) -> StreamsError {
        StreamsError::ResourceNotFound(format!(
            "Stream {name} under account {} not found.",
            self.config.account_id
        ))
    }

    /// The stream if it exists now (in any status but deleted).
    pub(crate) fn visible_stream(&self, name: &str) -> Result<Arc<StreamMeta>, StreamsError> {
        let now = self.now_ms();
        match self.registry.get(name) {
            Some(stream) if stream.status_at(now).is_some() => Ok(stream),
            _ => Err(self.not_found(name)),
        }
    }

    /// The stream if it takes reads and writes now: AWS answers ResourceNotFoundException while a
    /// stream is still CREATING, and keeps serving data while it is DELETING.
    pub(crate) fn data_stream(&self, name: &str) -> Result<Arc<StreamMeta>, StreamsError> {
        let stream = self.visible_stream(name)?;
        match stream.status_at(self.now_ms()) {
            Some(StreamStatus::Creating) | None => Err(self.not_found(name)),
            Some(_) => Ok(stream),
        }
    }

    /// Holds off resharding while the caller routes and appends records: resolves the stream's
    /// append gate, takes it shared, then takes the stream as it is now (see `registry::AppendGate`).
    pub(crate) async fn writable_stream(
        &self,
        name: &str,
    ) -> Result<(tokio::sync::OwnedRwLockReadGuard<()>, Arc<StreamMeta>), StreamsError> {
        let gate = self
            .registry
            .gate(name)
            .ok_or_else(|| self.not_found(name))?;
        let permit = gate.read_owned().await;
        let stream = self.data_stream(name)?;
        Ok((permit, stream))
    }

    /// The refusal of a call over a shard's throughput quota.
    pub(crate) fn throttled(&self, stream: &str, shard: &str) -> StreamsError {
        StreamsError::ProvisionedThroughputExceeded(format!(
            "Rate exceeded for shard {shard} in stream {stream} under account {}.",
            self.config.account_id
        ))
    }

    /// Refuses one more ON_DEMAND stream past the account's on-demand stream limit.
    pub(crate) fn check_on_demand_limit(&self) -> Result<(), StreamsError> {
        let on_demand = self
            .registry
            .all()
            .iter()
            .filter(|s| s.mode == StreamMode::OnDemand)
            .count();
        if on_demand >= self.config.on_demand_stream_limit as usize {
            return Err(StreamsError::LimitExceeded(format!(
                "This request would exceed the on-demand stream limit of {} for the account {}.",
                self.config.on_demand_stream_limit, self.config.account_id
            )));
        }
        Ok(())
    }

    /// The stream if its configuration may change now (ACTIVE only).
    pub(crate) fn active_stream(&self, name: &str) -> Result<Arc<StreamMeta>, StreamsError> {
        let stream = self.visible_stream(name)?;
        match stream.status_at(self.now_ms()) {
            Some(StreamStatus::Active) => Ok(stream),
            Some(status) => Err(StreamsError::ResourceInUse(format!(
                "Stream {name} under account {} not ACTIVE, instead in state {}",
                self.config.account_id,
                status.as_str()
            ))),
            None => Err(self.not_found(name)),
        }
    }

    /// The consumers of `stream` (this incarnation of it) that exist now, sorted by name.
    pub(crate) fn visible_consumers(&self, stream: &StreamMeta) -> Vec<Arc<ConsumerMeta>> {
        let now = self.now_ms();
        self.consumers
            .of_stream(&stream.name)
            .into_iter()
            .filter(|c| c.stream_created_ms == stream.created_ms && c.status_at(now).is_some())
            .collect()
    }

    /// A copy of a stream for changing, with delayed status changes that are due applied.
    pub(crate) fn settled(&self, stream: &StreamMeta) -> StreamMeta {
        let mut copy = stream.clone();
        if let Some(status) = copy.status_at(self.now_ms())
            && status != copy.status
        {
            copy.status = status;
            copy.status_until_ms = None;
        }
        copy
    }

    /// One round of upkeep: removes streams whose deletion is due and trims expired records.
    pub async fn maintain(&self) -> Result<(), StreamsError> {
        self.reap_consumers().await?;
        let now = self.now_ms();
        for stream in self.registry.all() {
            if stream.status_at(now).is_none() {
                self.finish_deletion(&stream.name, stream.created_ms)
                    .await?;
                continue;
            }
            self.expire_closed_shards(&stream.name).await?;
            if stream.mode == StreamMode::OnDemand {
                self.scale_on_demand(&stream.name).await?;
            }
            let cutoff = now - i64::from(stream.retention_hours) * 3_600_000;
            let logs: Vec<(String, LogId)> = stream
                .shards
                .iter()
                .map(|shard| (shard.shard_id(), shard.log_id()))
                .collect();
            let trimmed = self
                .with_log(move |log| {
                    let mut trimmed = Vec::new();
                    for (shard, id) in logs {
                        trimmed.push((shard, log.trim_before(id, cutoff)));
                    }
                    Ok(trimmed)
                })
                .await?;
            for (shard, result) in trimmed {
                match result {
                    Ok(0) => {}
                    Ok(dropped) => {
                        info!(stream = %stream.name, shard = %shard, dropped, "trimmed expired records")
                    }
                    Err(err) => {
                        warn!(stream = %stream.name, shard = %shard, error = %err, "retention trim failed")
                    }
                }
            }
        }
        Ok(())
    }

    fn forget_logs(&self, logs: &[LogId]) {
        for id in logs {
            self.quotas.forget(*id);
            self.autoscaler.forget(*id);
        }
    }

    /// Lets the autoscaler measure an ACTIVE on-demand stream and makes the change it decides.
    async fn scale_on_demand(&self, name: &str) -> Result<(), StreamsError> {
        let guard = self.registry.lock().await;
        let Some(stream) = self.registry.get(name) else {
            return Ok(());
        };
        if stream.mode != StreamMode::OnDemand
            || stream.status_at(self.now_ms()) != Some(StreamStatus::Active)
        {
            return Ok(());
        }
        let limits = self
            .config
            .quotas
            .streams
            .get(name)
            .unwrap_or(&self.config.quotas.shard);
        let decision = self.autoscaler.tick(
            &stream,
            limits,
            self.now_ms(),
            self.config.on_demand_scale_up_after_secs,
            self.config.on_demand_scale_down_after_secs,
            self.config.on_demand_initial_shards as usize,
        );
        let Some(decision) = decision else {
            return Ok(());
        };
        info!(stream = %name, ?decision, "on-demand scaling");
        crate::ops::reshard::apply(
            self,
            &guard,
            &stream,
            Reason::OnDemand,
            |plan| match decision {
                Decision::Split { shard, at } => plan.split(shard, at).map(|_| ()),
                Decision::Merge { shard, adjacent } => plan.merge(shard, adjacent).map(|_| ()),
            },
        )
        .await
    }

    /// Forgets closed shards closed longer ago than the retention period (no record of theirs
    /// can remain), with their logs, as AWS stops listing them.
    async fn expire_closed_shards(&self, name: &str) -> Result<(), StreamsError> {
        let now = self.now_ms();
        let expired = |stream: &StreamMeta, closed: i64| {
            now - closed > i64::from(stream.retention_hours) * 3_600_000
        };
        let due = |stream: &StreamMeta| {
            stream
                .shards
                .iter()
                .any(|s| s.closed_at_ms.is_some_and(|c| expired(stream, c)))
        };
        if !self.registry.get(name).is_some_and(|stream| due(&stream)) {
            return Ok(());
        }
        let guard = self.registry.lock().await;
        let Some(stream) = self.registry.get(name) else {
            return Ok(());
        };
        let mut updated = self.settled(&stream);
        let (gone, kept): (Vec<ShardMeta>, Vec<ShardMeta>) = updated
            .shards
            .into_iter()
            .partition(|s| s.closed_at_ms.is_some_and(|c| expired(&stream, c)));
        updated.shards = kept;
        if gone.is_empty() {
            return Ok(());
        }
        self.registry.save(&guard, updated).await?;
        drop(guard);
        let logs: Vec<LogId> = gone.iter().map(ShardMeta::log_id).collect();
        self.forget_logs(&logs);
        self.with_log(move |log| logs.iter().try_for_each(|id| log.delete_log(*id)))
            .await?;
        info!(stream = %name, shards = gone.len(), "expired closed shards");
        Ok(())
    }

    /// Runs [`StreamsService::maintain`] every `period` until the task is dropped.
    pub async fn maintenance_loop(self: Arc<Self>, period: Duration) {
        let mut ticker = tokio::time::interval(period);
        loop {
            ticker.tick().await;
            if let Err(err) = self.maintain().await {
                warn!(error = %err, "stream maintenance failed");
            }
        }
    }

    /// Forgets a deleted stream and drops its logs, if it is still the same stream.
    pub(crate) async fn finish_deletion(
        &self,
        name: &str,
        created_ms: i64,
    ) -> Result<(), StreamsError> {
        let guard = self.registry.lock().await;
        match self.registry.get(name) {
            Some(stream) if stream.created_ms == created_ms => self.reap(&guard, &stream).await,
            _ => Ok(()),
        }
    }

    /// Removes a stream whose deletion is due, with its logs.
    pub(crate) async fn reap(
        &self,
        guard: &ControlGuard<'_>,
        stream: &StreamMeta,
    ) -> Result<(), StreamsError> {
        if stream.status_at(self.now_ms()).is_some() {
            return Ok(());
        }
        self.registry.remove(guard, &stream.name).await?;
        let logs: Vec<LogId> = stream.shards.iter().map(|shard| shard.log_id()).collect();
        self.forget_logs(&logs);
        self.with_log(move |log| logs.iter().try_for_each(|id| log.delete_log(*id)))
            .await?;
        info!(stream = %stream.name, "stream deleted");
        Ok(())
    }

    /// Removes consumers whose deregistration is due and consumers of streams that are gone.
    async fn reap_consumers(&self) -> Result<(), StreamsError> {
        let now = self.now_ms();
        let due = |consumer: &ConsumerMeta| {
            let stream_alive = self.registry.get(&consumer.stream).is_some_and(|stream| {
                stream.created_ms == consumer.stream_created_ms && stream.status_at(now).is_some()
            });
            !stream_alive || consumer.status_at(now).is_none()
        };
        if !self.consumers.all().iter().any(|c| due(c)) {
            return Ok(());
        }
        let guard = self.registry.lock().await;
        for consumer in self.consumers.all() {
            if due(&consumer) {
                self.consumers
                    .remove(&guard, &consumer.stream, &consumer.name)
                    .await?;
                info!(stream = %consumer.stream, consumer = %consumer.name, "consumer removed");
            }
        }
        Ok(())
    }

    fn remove_orphan_logs(&self) -> Result<(), StreamsError> {
        let owned: std::collections::BTreeSet<LogId> = self
            .registry
            .all()
            .iter()
            .flat_map(|stream| stream.shards.iter().map(|shard| shard.log_id()))
            .collect();
        for id in self.log.logs() {
            if !owned.contains(&id) {
                info!(log = %id, "removing a log no stream owns");
                self.log.delete_log(id)?;
            }
        }
        Ok(())
    }
}

async fn load_or_create_iterator_key(meta: &dyn MetaStore) -> Result<[u8; 32], StreamsError> {
    if let Some(entry) = meta.get(ITERATOR_KEY).await? {
        return entry
            .value
            .as_slice()
            .try_into()
            .map_err(|_| StreamsError::Internal("stored iterator key is not 32 bytes".into()));
    }
    let key: [u8; 32] = rand::random();
    let txn = Txn::new()
        .check(Check::Absent(ITERATOR_KEY.to_string()))
        .put(ITERATOR_KEY, key.to_vec());
    match meta.commit(txn).await? {
        Outcome::Committed { .. } => Ok(key),
        // Another node made the key first: use theirs.
        Outcome::Conflict => Box::pin(load_or_create_iterator_key(meta)).await,
    }
}
