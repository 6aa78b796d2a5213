//! SubscribeToShard: records of one shard pushed to an ACTIVE consumer over an event stream.
//!
//! Validation (consumer, shard, starting position, a second subscription within 5 s) happens
//! before anything is streamed, so its errors are ordinary HTTP error responses. Then a task of
//! its own feeds a bounded channel with event-stream messages: first `initial-response`, then
//! `SubscribeToShardEvent`s. The task sleeps on the shard log's durable end
//! ([`spate_log::Log::watch_end`]), which the write path advances after each group commit, so a
//! record is pushed as soon as it is durable, without polling. With nothing to send it sends an
//! empty event every `subscription_heartbeat_ms`. It ends after `subscription_lifetime_ms`; at
//! the end of a closed shard (a last event with `ChildShards` and no
//! `ContinuationSequenceNumber`); when the consumer is deregistered or the stream deleted (a
//! `ResourceNotFoundException` event); when a newer subscription takes over (a
//! `ResourceInUseException` event); when the server shuts down; or when the client goes away
//! (the channel closes).
//!
//! `ContinuationSequenceNumber` is the sequence number of the last record delivered (or of the
//! record before the starting position), so a client resumes with `AFTER_SEQUENCE_NUMBER`.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::sse::OpenedRecord;
use bytes::Bytes;
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use spate_wire::{Codec, Violations, eventstream};
use tokio::sync::{Notify, mpsc};
use tokio::time::Instant;
use tracing::{debug, warn};

use super::get_records::{MAX_BYTES, MAX_RECORDS, Record};
use super::get_shard_iterator::{ITERATOR_TYPES, find_shard};
use super::position::resolve_position;
use crate::api::Validate;
use crate::consumers::{ConsumerStatus, split_consumer_arn};
use crate::error::StreamsError;
use crate::model::ShardMeta;
use crate::service::StreamsService;
use crate::shapes::ChildShard;
use crate::validation;

/// A new subscription for the same consumer and shard is refused for this long.
const TAKEOVER_AFTER_MS: i64 = 5_000;
/// Event-stream messages buffered for a slow client before the task waits.
const CHANNEL_DEPTH: usize = 4;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StartingPosition {
    #[serde(rename = "Type")]
    pub kind: Option<String>,
    pub sequence_number: Option<String>,
    #[serde(default, with = "spate_wire::codec::opt_timestamp")]
    pub timestamp: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    #[serde(rename = "ConsumerARN")]
    pub consumer_arn: Option<String>,
    pub shard_id: Option<String>,
    pub starting_position: Option<StartingPosition>,
}

impl Validate for Request {
    fn validate(&self, v: &mut Violations) {
        validation::consumer_arn(v, "consumerARN", &self.consumer_arn, true);
        validation::name(v, "shardId", &self.shard_id, true);
        match &self.starting_position {
            None => v.required("startingPosition", &self.starting_position),
            Some(position) => {
                match &position.kind {
                    None => v.required("startingPosition.type", &position.kind),
                    Some(kind) => v.one_of("startingPosition.type", kind, &ITERATOR_TYPES),
                }
                validation::sequence_number(
                    v,
                    "startingPosition.sequenceNumber",
                    &position.sequence_number,
                );
            }
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct Event {
    records: Vec<Record>,
    #[serde(skip_serializing_if = "Option::is_none")]
    continuation_sequence_number: Option<String>,
    millis_behind_latest: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    child_shards: Option<Vec<ChildShard>>,
}

/// The open subscriptions, one per consumer and shard.
#[derive(Debug)]
pub struct Subscriptions {
    next_id: AtomicU64,
    open: Mutex<HashMap<(String, u32), Open>>,
    /// Becomes true when the server shuts down: every subscription ends.
    closing: tokio::sync::watch::Sender<bool>,
}

impl Default for Subscriptions {
    fn default() -> Subscriptions {
        Subscriptions {
            next_id: AtomicU64::new(0),
            open: Mutex::new(HashMap::new()),
            closing: tokio::sync::watch::channel(false).0,
        }
    }
}

impl StreamsService {
    /// Ends every subscription, now and from now on, so a graceful shutdown does not wait for
    /// them to run out their lifetime.
    pub fn end_subscriptions(&self) {
        self.subscriptions.closing.send_replace(true);
    }
}

#[derive(Debug, Clone)]
struct Open {
    id: u64,
    started_ms: i64,
    taken_over: Arc<Notify>,
}

/// A running subscription: the event-stream messages to write, in order; `None` at the end.
#[derive(Debug)]
pub struct Subscription {
    events: mpsc::Receiver<Bytes>,
}

impl Subscription {
    pub async fn next(&mut self) -> Option<Bytes> {
        self.events.recv().await
    }
}

pub async fn handle(
    service: &Arc<StreamsService>,
    request: Request,
    codec: Codec,
) -> Result<Subscription, StreamsError> {
    let arn = request.consumer_arn.unwrap_or_default();
    let not_found = || {
        StreamsError::ResourceNotFound(format!(
            "Consumer {arn} under account {} not found.",
            service.config.account_id
        ))
    };
    let (stream_arn, consumer_name, created_secs) =
        split_consumer_arn(&arn).ok_or_else(not_found)?;
    let stream_name = validation::resolve_stream_name(&service.config, None, Some(stream_arn))?;
    let stream = service.data_stream(&stream_name)?;
    let consumer = service
        .visible_consumers(&stream)
        .into_iter()
        .find(|c| c.name == consumer_name && c.created_secs() == created_secs)
        .ok_or_else(not_found)?;
    match consumer.status_at(service.now_ms()) {
        Some(ConsumerStatus::Active) => {}
        Some(status) => {
            return Err(StreamsError::ResourceInUse(format!(
                "Consumer {arn} under account {} is not ACTIVE, instead in state {}.",
                service.config.account_id,
                status.as_str()
            )));
        }
        None => return Err(not_found()),
    }
    let shard = find_shard(
        service,
        &stream,
        request.shard_id.as_deref().unwrap_or_default(),
    )?
    .clone();
    let start = request
        .starting_position
        .expect("validation requires StartingPosition");
    let position = resolve_position(
        service,
        &stream,
        &shard,
        start.kind.as_deref().unwrap_or_default(),
        start.sequence_number.as_deref(),
        start.timestamp,
    )
    .await?;
    let end_watch = service.log.watch_end(shard.log_id())?;

    let key = (arn.clone(), shard.index);
    let now = service.now_ms();

    let open = {
        let mut open = service.subscriptions.open.lock();
        if let Some(existing) = open.get(&key)
            && now - existing.started_ms < TAKEOVER_AFTER_MS
        {
            return Err(StreamsError::ResourceInUse(format!(
                "Another active subscription exists for consumer {arn} on shard {}.",
                shard.shard_id()
            )));
        }
        // One call a second per consumer and shard, checked after the more specific refusal.
        let scope = format!("{arn}/{}", shard.index);
        if !service
            .quotas
            .admit_control("SubscribeToShard", &scope, now)
        {
            return Err(StreamsError::LimitExceeded(format!(
                "Rate exceeded for SubscribeToShard by consumer {arn} on shard {}: one call a \
                 second is allowed.",
                shard.shard_id()
            )));
        }
        let fresh = Open {
            id: service
                .subscriptions
                .next_id
                .fetch_add(1, Ordering::Relaxed),
            started_ms: now,
            taken_over: Arc::new(Notify::new()),
        };
        if let Some(previous) = open.insert(key.clone(), fresh.clone()) {
            previous.taken_over.notify_one();
        }
        fresh
    };

    let (sender, events) = mpsc::channel(CHANNEL_DEPTH);
    let closing = service.subscriptions.closing.subscribe();
    let pusher = Pusher {
        service: service.clone(),
        stream_name: stream.name.clone(),
        shard,
        position,
        last_timestamp_ms: None,
        end_watch,
        sender,
        consumer_name: consumer.name.clone(),
        consumer_created_ms: consumer.created_ms,
        arn,
        codec,
    };
    let service = service.clone();
    tokio::spawn(async move {
        let id = open.id;
        pusher.run(open.taken_over, closing).await;
        let mut open = service.subscriptions.open.lock();
        if open.get(&key).is_some_and(|current| current.id == id) {
            open.remove(&key);
        }
    });
    Ok(Subscription { events })
}

/// The task behind one subscription.
struct Pusher {
    service: Arc<StreamsService>,
    stream_name: String,
    shard: ShardMeta,
    position: u64,
    last_timestamp_ms: Option<i64>,
    end_watch: tokio::sync::watch::Receiver<u64>,
    sender: mpsc::Sender<Bytes>,
    arn: String,
    consumer_name: String,
    consumer_created_ms: i64,
    /// The request's encoding, which every event payload uses too (JSON, or CBOR for the Java
    /// SDKs and so the KCL).
    codec: Codec,
}

enum Step {
    Continue,
    Stop,
}

impl Pusher {
    async fn run(
        mut self,
        taken_over: Arc<Notify>,
        mut closing: tokio::sync::watch::Receiver<bool>,
    ) {
        let config = &self.service.config;
        let heartbeat = Duration::from_millis(config.subscription_heartbeat_ms.max(1));
        let deadline = Instant::now() + Duration::from_millis(config.subscription_lifetime_ms);
        let Some(empty) = self.encode(&serde_json::Map::new()) else {
            return;
        };
        let initial =
            eventstream::json_event("initial-response", self.codec.content_type(), &empty);
        if self.sender.send(initial).await.is_err() {
            return;
        }
        let mut next_heartbeat = Instant::now() + heartbeat;
        loop {
            if Instant::now() >= deadline {
                debug!(consumer = %self.arn, "subscription lifetime over");
                return;
            }
            if *closing.borrow_and_update() {
                debug!(consumer = %self.arn, "subscription ended by shutdown");
                return;
            }
            // Mark the current end seen before reading, so an append after the read wakes us.
            self.end_watch.borrow_and_update();
            match self.push_available().await {
                Ok(Some(Step::Continue)) => {
                    next_heartbeat = Instant::now() + heartbeat;
                    continue;
                }
                Ok(Some(Step::Stop)) => return,
                Ok(None) => {}
                Err(err) => {
                    self.fail(&err).await;
                    return;
                }
            }
            tokio::select! {
                changed = self.end_watch.changed() => {
                    if changed.is_err() {
                        // The log is gone: the stream was deleted.
                        let err = self.service.not_found(&self.stream_name);
                        self.fail(&err).await;
                        return;
                    }
                }
                () = tokio::time::sleep_until(next_heartbeat) => {
                    let event = self.event(Vec::new(), 0);
                    if !self.send(&event).await {
                        return;
                    }
                    next_heartbeat = Instant::now() + heartbeat;
                }
                () = tokio::time::sleep_until(deadline) => {}
                () = taken_over.notified() => {
                    let err = StreamsError::ResourceInUse(format!(
                        "A newer subscription for consumer {} took over shard {}.",
                        self.arn,
                        self.shard.shard_id()
                    ));
                    self.fail(&err).await;
                    return;
                }
                () = self.sender.closed() => return,
                _ = closing.changed() => {}
            }
        }
    }

    /// Sends the records durable past the position: `Some(Continue)` if any were sent,
    /// `Some(Stop)` at the end of a closed shard or when the client is gone, `None` if there was
    /// nothing to send.
    async fn push_available(&mut self) -> Result<Option<Step>, StreamsError> {
        let log_id = self.shard.log_id();
        let position = self.position;
        let (stored, bounds) = self
            .service
            .read_log(log_id, position, MAX_RECORDS as usize, MAX_BYTES)
            .await?;
        if self.last_timestamp_ms.is_none() && self.position == bounds.end {
            self.last_timestamp_ms = bounds.last_timestamp_ms;
        }
        if let Some(last) = stored.last() {
            let behind = match bounds.last_timestamp_ms {
                Some(newest) if last.offset + 1 < bounds.end => (newest - last.timestamp_ms).max(0),
                _ => 0,
            };
            self.position = last.offset + 1;
            self.last_timestamp_ms = Some(last.timestamp_ms);
            let opened = self.service.open_records(stored).await?;
            let records = opened.into_iter().map(|r| self.record(r)).collect();
            let event = self.event(records, behind);
            return Ok(Some(if self.send(&event).await {
                Step::Continue
            } else {
                Step::Stop
            }));
        }
        self.position = self.position.max(bounds.start);
        // The consumer may have been deregistered, and the shard closed by resharding, since the
        // subscription started.
        let stream = self.service.data_stream(&self.stream_name)?;
        let consumer_active = self.service.visible_consumers(&stream).iter().any(|c| {
            c.created_ms == self.consumer_created_ms
                && c.name == self.consumer_name
                && c.status_at(self.service.now_ms()) == Some(ConsumerStatus::Active)
        });
        if !consumer_active {
            return Err(StreamsError::ResourceNotFound(format!(
                "Consumer {} under account {} not found.",
                self.arn, self.service.config.account_id
            )));
        }
        if let Some(current) = stream.shard(self.shard.index) {
            self.shard = current.clone();
        }
        if let Some(end) = self.shard.closed_at_position
            && self.position >= end
        {
            let event = Event {
                records: Vec::new(),
                continuation_sequence_number: None,
                millis_behind_latest: 0,
                child_shards: Some(ChildShard::of(&stream, self.shard.index)),
            };
            self.send(&event).await;
            return Ok(Some(Step::Stop));
        }
        Ok(None)
    }

    fn record(&self, record: OpenedRecord) -> Record {
        Record {
            sequence_number: self
                .shard
                .sequence_number(record.offset, record.timestamp_ms),
            approximate_arrival_timestamp: record.timestamp_ms,
            data: record.data,
            partition_key: record.partition_key,
            encryption_type: record.encrypted.then_some(crate::sse::KMS),
        }
    }

    /// An event carrying `records`, continuing after the last record delivered.
    fn event(&self, records: Vec<Record>, millis_behind_latest: i64) -> Event {
        let continuation = match self.position.checked_sub(1) {
            Some(last) => self.shard.sequence_number(
                last,
                self.last_timestamp_ms
                    .unwrap_or_else(|| self.service.now_ms()),
            ),
            None => self.shard.starting_sequence_number(),
        };
        Event {
            records,
            continuation_sequence_number: Some(continuation),
            millis_behind_latest,
            child_shards: None,
        }
    }

    /// Sends an event; false when the client has gone away.
    async fn send(&self, event: &Event) -> bool {
        let Some(payload) = self.encode(event) else {
            return false;
        };
        let content_type = self.codec.content_type();
        let message = eventstream::json_event("SubscribeToShardEvent", content_type, &payload);
        self.sender.send(message).await.is_ok()
    }

    /// An event payload in the subscription's encoding.
    fn encode<T: Serialize>(&self, payload: &T) -> Option<Vec<u8>> {
        match self.codec.encode(payload) {
            Ok(bytes) => Some(bytes),
            Err(err) => {
                warn!(error = %err, "subscription event does not encode");
                None
            }
        }
    }

    /// Ends the stream with an exception event, the way AWS reports errors mid-stream.
    async fn fail(&self, err: &StreamsError) {
        if err.is_server_fault() {
            warn!(consumer = %self.arn, error = %err, "subscription failed");
        }
        let aws = err.to_aws();
        let Some(payload) = self.encode(&serde_json::json!({ "message": aws.message })) else {
            return;
        };
        let message = eventstream::exception(aws.code, self.codec.content_type(), &payload);
        let _ = self.sender.send(message).await;
    }
}

/// The shards whose parent or adjacent parent is shard `index`.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::StreamMode;
    use crate::model::testing::{self, shard};

    #[test]
    fn child_shards_follow_both_parents() {
        // 0 was split into 2 and 3; 3 and 1 were merged into 4.
        let mut stream = testing::stream(2, StreamMode::Provisioned);
        stream.shards = vec![
            shard(0, None, None, (0, 99)),
            shard(1, None, None, (100, 199)),
            shard(2, Some(0), None, (0, 49)),
            shard(3, Some(0), None, (50, 99)),
            shard(4, Some(3), Some(1), (50, 199)),
        ];
        stream.next_shard_index = 5;
        let of_zero: Vec<String> = ChildShard::of(&stream, 0)
            .into_iter()
            .map(|c| c.shard_id)
            .collect();
        assert_eq!(of_zero, ["shardId-000000000002", "shardId-000000000003"]);
        let of_one = ChildShard::of(&stream, 1);
        assert_eq!(of_one.len(), 1);
        assert_eq!(of_one[0].shard_id, "shardId-000000000004");
        assert_eq!(
            of_one[0].parent_shards,
            ["shardId-000000000003", "shardId-000000000001"]
        );
        assert_eq!(of_one[0].hash_key_range.starting_hash_key, "50");
        assert!(ChildShard::of(&stream, 4).is_empty());
    }
}
