//! The streams of this node: an in-memory map written through to the metadata store.
//!
//! Reads (every data-plane call) take a snapshot `Arc<StreamMeta>` from the map under a short
//! lock. Control-plane changes are serialised by [`Registry::lock`], committed to the metadata
//! store first (with a revision check, so a later multi-node backend cannot lose an update), and
//! only then published in the map. Log ids come from a counter in the same transaction that
//! creates the stream, so they are never reused.

use std::collections::BTreeMap;
use std::sync::Arc;

use parking_lot::RwLock;
use spate_meta::{Check, MetaStore, Outcome, Txn};
use tokio::sync::{Mutex, MutexGuard};

use crate::error::StreamsError;
use crate::model::StreamMeta;

const STREAM_PREFIX: &str = "streams/";
const LOG_COUNTER_KEY: &str = "counters/next-log-id";

#[derive(Debug, Clone)]
struct Stored {
    stream: Arc<StreamMeta>,
    revision: u64,
    gate: AppendGate,
}

/// Writers of a stream hold it shared while they route and append; resharding holds it
/// exclusively for the moment it reads the closing shards' ends and publishes the new shard
/// list, so no record lands on a shard after its end was taken.
pub type AppendGate = Arc<tokio::sync::RwLock<()>>;

/// Log ids reserved for a new stream: `first` and up, valid while `check` holds.
#[derive(Debug)]
pub struct LogIds {
    pub first: u64,
    check: Check,
}

/// Proof that the caller holds the control-plane lock.
#[derive(Debug)]
pub struct ControlGuard<'a>(#[allow(dead_code)] MutexGuard<'a, ()>);

#[derive(Debug)]
pub struct Registry {
    meta: Arc<dyn MetaStore>,
    streams: RwLock<BTreeMap<String, Stored>>,
    control: Mutex<()>,
}

fn stream_key(name: &str) -> String {
    format!("{STREAM_PREFIX}{name}")
}

impl Registry {
    /// Loads every stream from the metadata store.
    pub async fn load(meta: Arc<dyn MetaStore>) -> Result<Registry, StreamsError> {
        let mut streams = BTreeMap::new();
        for (key, entry) in meta.scan_prefix(STREAM_PREFIX).await? {
            let stream: StreamMeta = serde_json::from_slice(&entry.value).map_err(|err| {
                StreamsError::Internal(format!("stored stream {key} is unreadable: {err}"))
            })?;
            streams.insert(
                stream.name.clone(),
                Stored {
                    stream: Arc::new(stream),
                    revision: entry.revision,
                    gate: AppendGate::default(),
                },
            );
        }
        Ok(Registry {
            meta,
            streams: RwLock::new(streams),
            control: Mutex::new(()),
        })
    }

    /// Serialises control-plane changes; hold it across read-modify-write.
    pub async fn lock(&self) -> ControlGuard<'_> {
        ControlGuard(self.control.lock().await)
    }

    pub fn get(&self, name: &str) -> Option<Arc<StreamMeta>> {
        self.streams
            .read()
            .get(name)
            .map(|stored| stored.stream.clone())
    }

    /// The append gate of a stream, if it exists.
    pub fn gate(&self, name: &str) -> Option<AppendGate> {
        self.streams
            .read()
            .get(name)
            .map(|stored| stored.gate.clone())
    }

    /// Every stream, sorted by name.
    pub fn all(&self) -> Vec<Arc<StreamMeta>> {
        self.streams
            .read()
            .values()
            .map(|stored| stored.stream.clone())
            .collect()
    }

    /// The next free log id, and the check that keeps it free until [`Registry::create`].
    pub async fn next_log_id(&self, _guard: &ControlGuard<'_>) -> Result<LogIds, StreamsError> {
        match self.meta.get(LOG_COUNTER_KEY).await? {
            Some(entry) => {
                let text = String::from_utf8_lossy(&entry.value);
                let first = text.parse::<u64>().map_err(|err| {
                    StreamsError::Internal(format!("log id counter {text:?} is unreadable: {err}"))
                })?;
                Ok(LogIds {
                    first,
                    check: Check::Revision(LOG_COUNTER_KEY.to_string(), entry.revision),
                })
            }
            None => Ok(LogIds {
                first: 1,
                check: Check::Absent(LOG_COUNTER_KEY.to_string()),
            }),
        }
    }

    /// Stores a new stream and advances the log id counter past the `used` ids it took, in one
    /// transaction. Logs created before a failed commit are orphans, which the service removes
    /// at its next start.
    pub async fn create(
        &self,
        _guard: &ControlGuard<'_>,
        ids: LogIds,
        used: u64,
        stream: StreamMeta,
    ) -> Result<Arc<StreamMeta>, StreamsError> {
        let key = stream_key(&stream.name);
        let txn = Txn::new()
            .check(ids.check)
            .check(Check::Absent(key.clone()))
            .put(LOG_COUNTER_KEY, (ids.first + used).to_string().into_bytes())
            .put(key, encode(&stream)?);
        let revision = committed(self.meta.commit(txn).await?, &stream.name)?;
        let stream = Arc::new(stream);
        self.streams.write().insert(
            stream.name.clone(),
            Stored {
                stream: stream.clone(),
                revision,
                gate: AppendGate::default(),
            },
        );
        Ok(stream)
    }

    /// Replaces a stored stream.
    pub async fn save(
        &self,
        guard: &ControlGuard<'_>,
        stream: StreamMeta,
    ) -> Result<Arc<StreamMeta>, StreamsError> {
        self.save_with_log_ids(guard, stream, None).await
    }

    /// Replaces a stored stream that took `used` new log ids from `ids` (resharding), advancing
    /// the log id counter in the same transaction.
    pub async fn save_with_log_ids(
        &self,
        _guard: &ControlGuard<'_>,
        stream: StreamMeta,
        ids: Option<(LogIds, u64)>,
    ) -> Result<Arc<StreamMeta>, StreamsError> {
        let previous = self.stored(&stream.name)?;
        let key = stream_key(&stream.name);
        let mut txn = Txn::new()
            .check(Check::Revision(key.clone(), previous.revision))
            .put(key, encode(&stream)?);
        if let Some((ids, used)) = ids {
            txn = txn
                .check(ids.check)
                .put(LOG_COUNTER_KEY, (ids.first + used).to_string().into_bytes());
        }
        let revision = committed(self.meta.commit(txn).await?, &stream.name)?;
        let stream = Arc::new(stream);
        let stored = Stored {
            stream: stream.clone(),
            revision,
            gate: previous.gate,
        };
        self.streams.write().insert(stream.name.clone(), stored);
        Ok(stream)
    }

    /// Forgets a stream.
    pub async fn remove(&self, _guard: &ControlGuard<'_>, name: &str) -> Result<(), StreamsError> {
        let previous = self.stored(name)?;
        let key = stream_key(name);
        let txn = Txn::new()
            .check(Check::Revision(key.clone(), previous.revision))
            .delete(key);
        committed(self.meta.commit(txn).await?, name)?;
        self.streams.write().remove(name);
        Ok(())
    }

    fn stored(&self, name: &str) -> Result<Stored, StreamsError> {
        self.streams
            .read()
            .get(name)
            .cloned()
            .ok_or_else(|| StreamsError::Internal(format!("stream {name} vanished under the lock")))
    }
}

fn encode(stream: &StreamMeta) -> Result<Vec<u8>, StreamsError> {
    serde_json::to_vec(stream).map_err(|err| {
        StreamsError::Internal(format!("stream {} does not encode: {err}", stream.name))
    })
}

fn committed(outcome: Outcome, name: &str) -> Result<u64, StreamsError> {
    match outcome {
        Outcome::Committed { revision } => Ok(revision),
        Outcome::Conflict => Err(StreamsError::Internal(format!(
            "stream {name} was changed by another writer"
        ))),
    }
}
