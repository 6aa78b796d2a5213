//! Enhanced fan-out consumers: their stored state and the registry that keeps them.
//!
//! A consumer is stored as its own JSON document under `consumers/<stream>/<name>` in the
//! metadata store, apart from the stream document, so consumer changes never rewrite the stream.
//! The consumer remembers the creation time of the stream it was registered on: a consumer left
//! behind by a deleted stream never shows up on a new stream of the same name, and the upkeep
//! task removes it. Like streams, delayed status changes (CREATING -> ACTIVE, DELETING -> gone)
//! are stored as a status plus the time the change completes, and [`ConsumerMeta::status_at`]
//! derives what a caller sees now.
//!
//! Changes are made under the streams' control lock ([`crate::registry::Registry::lock`]), so a
//! stream and its consumers change consistently (DeleteStream with `EnforceConsumerDeletion`).

use std::collections::BTreeMap;
use std::sync::Arc;

use parking_lot::RwLock;
use serde::{Deserialize, Serialize};
use spate_meta::{Check, MetaStore, Outcome, Txn};

use crate::config::StreamsConfig;
use crate::error::StreamsError;
use crate::registry::ControlGuard;

const CONSUMER_PREFIX: &str = "consumers/";

/// Consumers one stream may have (AWS: 20 for provisioned and on-demand standard streams).
pub const MAX_CONSUMERS_PER_STREAM: usize = 20;
/// Consumers of one stream that may be CREATING at once.
pub const MAX_CREATING_CONSUMERS: usize = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ConsumerStatus {
    Creating,
    Active,
    Deleting,
}

impl ConsumerStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ConsumerStatus::Creating => "CREATING",
            ConsumerStatus::Active => "ACTIVE",
            ConsumerStatus::Deleting => "DELETING",
        }
    }
}

/// Everything stored about a consumer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsumerMeta {
    pub stream: String,
    /// Creation time of the stream the consumer was registered on.
    pub stream_created_ms: i64,
    pub name: String,
    pub created_ms: i64,
    pub status: ConsumerStatus,
    /// When a CREATING consumer becomes ACTIVE, or a DELETING one is gone.
    pub status_until_ms: Option<i64>,
    pub tags: BTreeMap<String, String>,
    /// The resource policy attached to the consumer, exactly as given.
    #[serde(default)]
    pub resource_policy: Option<String>,
}

impl ConsumerMeta {
    /// The status a caller sees at `now_ms`; `None` once a deregistration has completed.
    pub fn status_at(&self, now_ms: i64) -> Option<ConsumerStatus> {
        let due = self.status_until_ms.is_some_and(|until| now_ms >= until);
        match self.status {
            ConsumerStatus::Creating if due => Some(ConsumerStatus::Active),
            ConsumerStatus::Deleting if due => None,
            status => Some(status),
        }
    }

    /// Creation time in whole seconds, as the ARN carries it.
    pub fn created_secs(&self) -> i64 {
        self.created_ms.div_euclid(1000)
    }

    /// `<stream ARN>/consumer/<name>:<creation epoch seconds>`.
    pub fn arn(&self, config: &StreamsConfig) -> String {
        consumer_arn(config, &self.stream, &self.name, self.created_secs())
    }
}

pub fn consumer_arn(config: &StreamsConfig, stream: &str, name: &str, created_secs: i64) -> String {
    format!(
        "{}/consumer/{name}:{created_secs}",
        config.stream_arn(stream)
    )
}

/// The parts of a consumer ARN: stream ARN, consumer name, creation seconds.
pub fn split_consumer_arn(arn: &str) -> Option<(&str, &str, i64)> {
    let (stream_arn, rest) = arn.rsplit_once("/consumer/")?;
    let (name, secs) = rest.rsplit_once(':')?;
    if !crate::validation::is_name(name) || secs.is_empty() {
        return None;
    }
    if !secs.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((stream_arn, name, secs.parse().ok()?))
}

#[derive(Debug, Clone)]
struct Stored {
    consumer: Arc<ConsumerMeta>,
    revision: u64,
}

fn key(stream: &str, name: &str) -> String {
    format!("{CONSUMER_PREFIX}{stream}/{name}")
}

/// The consumers of this node: an in-memory map written through to the metadata store.
#[derive(Debug)]
pub struct ConsumerRegistry {
    meta: Arc<dyn MetaStore>,
    /// Keyed by (stream name, consumer name).
    consumers: RwLock<BTreeMap<(String, String), Stored>>,
}

impl ConsumerRegistry {
    /// Loads every consumer from the metadata store.
    pub async fn load(meta: Arc<dyn MetaStore>) -> Result<ConsumerRegistry, StreamsError> {
        let mut consumers = BTreeMap::new();
        for (key, entry) in meta.scan_prefix(CONSUMER_PREFIX).await? {
            let consumer: ConsumerMeta = serde_json::from_slice(&entry.value).map_err(|err| {
                StreamsError::Internal(format!("stored consumer {key} is unreadable: {err}"))
            })?;
            consumers.insert(
                (consumer.stream.clone(), consumer.name.clone()),
                Stored {
                    consumer: Arc::new(consumer),
                    revision: entry.revision,
                },
            );
        }
        Ok(ConsumerRegistry {
            meta,
            consumers: RwLock::new(consumers),
        })
    }

    pub fn get(&self, stream: &str, name: &str) -> Option<Arc<ConsumerMeta>> {
        self.consumers
            .read()
            .get(&(stream.to_string(), name.to_string()))
            .map(|stored| stored.consumer.clone())
    }

    /// Every stored consumer of `stream` (of any incarnation), sorted by name.
    pub fn of_stream(&self, stream: &str) -> Vec<Arc<ConsumerMeta>> {
        self.consumers
            .read()
            .range((stream.to_string(), String::new())..)
            .take_while(|((owner, _), _)| owner == stream)
            .map(|(_, stored)| stored.consumer.clone())
            .collect()
    }

    pub fn all(&self) -> Vec<Arc<ConsumerMeta>> {
        self.consumers
            .read()
            .values()
            .map(|stored| stored.consumer.clone())
            .collect()
    }

    /// Stores a consumer, new or changed.
    pub async fn save(
        &self,
        _guard: &ControlGuard<'_>,
        consumer: ConsumerMeta,
    ) -> Result<Arc<ConsumerMeta>, StreamsError> {
        let map_key = (consumer.stream.clone(), consumer.name.clone());
        let key = key(&consumer.stream, &consumer.name);
        let check = match self.consumers.read().get(&map_key) {
            Some(previous) => Check::Revision(key.clone(), previous.revision),
            None => Check::Absent(key.clone()),
        };
        let value = serde_json::to_vec(&consumer).map_err(|err| {
            StreamsError::Internal(format!("consumer {} does not encode: {err}", consumer.name))
        })?;
        let txn = Txn::new().check(check).put(key, value);
        let revision = committed(self.meta.commit(txn).await?, &consumer.name)?;
        let consumer = Arc::new(consumer);
        self.consumers.write().insert(
            map_key,
            Stored {
                consumer: consumer.clone(),
                revision,
            },
        );
        Ok(consumer)
    }

    /// Forgets a consumer.
    pub async fn remove(
        &self,
        _guard: &ControlGuard<'_>,
        stream: &str,
        name: &str,
    ) -> Result<(), StreamsError> {
        let map_key = (stream.to_string(), name.to_string());
        let Some(previous) = self.consumers.read().get(&map_key).cloned() else {
            return Ok(());
        };
        let key = key(stream, name);
        let txn = Txn::new()
            .check(Check::Revision(key.clone(), previous.revision))
            .delete(key);
        committed(self.meta.commit(txn).await?, name)?;
        self.consumers.write().remove(&map_key);
        Ok(())
    }
}

fn committed(outcome: Outcome, name: &str) -> Result<u64, StreamsError> {
    match outcome {
        Outcome::Committed { revision } => Ok(revision),
        Outcome::Conflict => Err(StreamsError::Internal(format!(
            "consumer {name} was changed by another writer"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn consumer(status: ConsumerStatus, until: Option<i64>) -> ConsumerMeta {
        ConsumerMeta {
            stream: "s".into(),
            stream_created_ms: 0,
            name: "c".into(),
            created_ms: 1_700_000_000_123,
            status,
            status_until_ms: until,
            tags: BTreeMap::new(),
            resource_policy: None,
        }
    }

    #[test]
    fn delayed_statuses_complete_on_time() {
        let creating = consumer(ConsumerStatus::Creating, Some(500));
        assert_eq!(creating.status_at(499), Some(ConsumerStatus::Creating));
        assert_eq!(creating.status_at(500), Some(ConsumerStatus::Active));
        let deleting = consumer(ConsumerStatus::Deleting, Some(500));
        assert_eq!(deleting.status_at(499), Some(ConsumerStatus::Deleting));
        assert_eq!(deleting.status_at(500), None);
    }

    #[test]
    fn arns_round_trip() {
        let config = StreamsConfig::default();
        let arn = consumer(ConsumerStatus::Active, None).arn(&config);
        assert_eq!(
            arn,
            "arn:aws:kinesis:us-east-1:000000000000:stream/s/consumer/c:1700000000"
        );
        let (stream_arn, name, secs) = split_consumer_arn(&arn).expect("valid");
        assert_eq!(stream_arn, config.stream_arn("s"));
        assert_eq!((name, secs), ("c", 1_700_000_000));
        assert!(split_consumer_arn(&config.stream_arn("s")).is_none());
        assert!(split_consumer_arn(&format!("{}/consumer/c:x", config.stream_arn("s"))).is_none());
    }
}
