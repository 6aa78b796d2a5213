//! An application's checkpoint: what a restart (or `kill -9`) needs to continue without losing
//! or double-counting a window.
//!
//! One metadata-store value under `analytics/checkpoints/<application>`, JSON:
//! `{"sequence", "rowtime_ms", "snapshot" (base64 of the engine's bytes, absent before the
//! first), "inputs": {input id: {"start", "after": {shard: sequence number}, "finished",
//! "next_offset" (of a delivery stream input)}},
//! "pending": [{"output", "records": [base64...]}]}`. It is written in ONE transaction before
//! the pending records are delivered, so the engine state, the input positions and the output
//! that state produced always agree: after a crash the pipeline is rebuilt from the snapshot,
//! reading resumes after the positions, and the pending records are delivered again (at least
//! once, as AWS documents for outputs). Once delivered, a small mark under
//! `analytics/checkpoints/<application>/delivered` (the checkpoint's sequence) says so, unless a
//! newer checkpoint comes first.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use spate_meta::{MetaStore, Txn};

use super::RuntimeError;

pub(crate) const CHECKPOINT_PREFIX: &str = "analytics/checkpoints/";

/// Where reading a shard with no position begins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum StartAt {
    /// The oldest record kept (`TRIM_HORIZON`).
    TrimHorizon,
    /// Records that arrived from this time on (`NOW`: the time of StartApplication).
    Timestamp(i64),
}

/// Where reading one input's stream stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputPosition {
    pub start: StartAt,
    /// Sequence number of the last record read, by shard id.
    #[serde(default)]
    pub after: BTreeMap<String, String>,
    /// Shards read to their end.
    #[serde(default)]
    pub finished: Vec<String>,
    /// For a delivery stream input: the offset of the next record to read, once one was read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_offset: Option<u64>,
}

impl InputPosition {
    pub fn new(start: StartAt) -> InputPosition {
        InputPosition {
            start,
            after: BTreeMap::new(),
            finished: Vec::new(),
            next_offset: None,
        }
    }
}

/// Serialized records of one output, not yet known to be delivered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pending {
    /// The output's id (`1.1`...).
    pub output: String,
    #[serde(with = "base64_list")]
    pub records: Vec<Vec<u8>>,
}

/// The checkpoint of one application.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Counts up with every checkpoint written.
    pub sequence: u64,
    /// The last ROWTIME given out: ROWTIME never goes back, even across a restart.
    pub rowtime_ms: i64,
    #[serde(
        default,
        with = "base64_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub snapshot: Option<Vec<u8>>,
    /// By input id.
    #[serde(default)]
    pub inputs: BTreeMap<String, InputPosition>,
    #[serde(default)]
    pub pending: Vec<Pending>,
}

fn key(application: &str) -> String {
    format!("{CHECKPOINT_PREFIX}{application}")
}

fn delivered_key(application: &str) -> String {
    format!("{CHECKPOINT_PREFIX}{application}/delivered")
}

/// The application's checkpoint, its pending records dropped if they were marked delivered.
pub async fn load(
    meta: &dyn MetaStore,
    application: &str,
) -> Result<Option<Checkpoint>, RuntimeError> {
    let Some(entry) = meta.get(&key(application)).await? else {
        return Ok(None);
    };
    let mut checkpoint: Checkpoint = serde_json::from_slice(&entry.value)
        .map_err(|err| RuntimeError::Internal(format!("stored {}: {err}", key(application))))?;
    if let Some(mark) = meta.get(&delivered_key(application)).await? {
        let delivered: u64 = serde_json::from_slice(&mark.value).map_err(|err| {
            RuntimeError::Internal(format!("stored {}: {err}", delivered_key(application)))
        })?;
        if delivered >= checkpoint.sequence {
            checkpoint.pending.clear();
        }
    }
    Ok(Some(checkpoint))
}

/// Writes the checkpoint (one transaction), replacing any earlier one and its mark.
pub async fn store(
    meta: &dyn MetaStore,
    application: &str,
    checkpoint: &Checkpoint,
) -> Result<(), RuntimeError> {
    let value = serde_json::to_vec(checkpoint)
        .map_err(|err| RuntimeError::Internal(format!("encoding a checkpoint: {err}")))?;
    meta.commit(
        Txn::new()
            .put(key(application), value)
            .delete(delivered_key(application)),
    )
    .await?;
    Ok(())
}

/// Marks the pending records of checkpoint `sequence` delivered.
pub async fn mark_delivered(
    meta: &dyn MetaStore,
    application: &str,
    sequence: u64,
) -> Result<(), RuntimeError> {
    let value = serde_json::to_vec(&sequence)
        .map_err(|err| RuntimeError::Internal(format!("encoding a mark: {err}")))?;
    meta.commit(Txn::new().put(delivered_key(application), value))
        .await?;
    Ok(())
}

/// Removes the checkpoint (the application is deleted).
pub async fn remove(meta: &dyn MetaStore, application: &str) -> Result<(), RuntimeError> {
    meta.commit(
        Txn::new()
            .delete(key(application))
            .delete(delivered_key(application)),
    )
    .await?;
    Ok(())
}

mod base64_list {
    use base64::Engine;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(records: &[Vec<u8>], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(
            records
                .iter()
                .map(|record| base64::engine::general_purpose::STANDARD.encode(record)),
        )
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<Vec<u8>>, D::Error> {
        let texts = Vec::<String>::deserialize(deserializer)?;
        texts
            .iter()
            .map(|text| {
                base64::engine::general_purpose::STANDARD
                    .decode(text)
                    .map_err(serde::de::Error::custom)
            })
            .collect()
    }
}

mod base64_option {
    use base64::Engine;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(
        bytes: &Option<Vec<u8>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match bytes {
            Some(bytes) => {
                serializer.serialize_some(&base64::engine::general_purpose::STANDARD.encode(bytes))
            }
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Vec<u8>>, D::Error> {
        match Option::<String>::deserialize(deserializer)? {
            None => Ok(None),
            Some(text) => base64::engine::general_purpose::STANDARD
                .decode(text)
                .map(Some)
                .map_err(serde::de::Error::custom),
        }
    }
}

#[cfg(test)]
mod tests {
    use spate_meta::MemoryStore;

    use super::*;

    fn sample(sequence: u64) -> Checkpoint {
        let mut inputs = BTreeMap::new();
        let mut position = InputPosition::new(StartAt::Timestamp(5));
        position
            .after
            .insert("shardId-000000000000".into(), "49".into());
        position.finished.push("shardId-000000000001".into());
        inputs.insert("1.1".into(), position);
        Checkpoint {
            sequence,
            rowtime_ms: 1_000,
            snapshot: Some(vec![0, 1, 255]),
            inputs,
            pending: vec![Pending {
                output: "1.1".into(),
                records: vec![b"{\"A\":1}".to_vec(), Vec::new()],
            }],
        }
    }

    #[tokio::test]
    async fn a_checkpoint_round_trips_and_a_mark_drops_its_pending_records() {
        let meta = MemoryStore::new();
        assert_eq!(load(&meta, "app").await.expect("loaded"), None);
        store(&meta, "app", &sample(1)).await.expect("stored");
        assert_eq!(load(&meta, "app").await.expect("loaded"), Some(sample(1)));

        mark_delivered(&meta, "app", 1).await.expect("marked");
        let loaded = load(&meta, "app").await.expect("loaded").expect("present");
        assert!(loaded.pending.is_empty());
        assert_eq!(loaded.snapshot, Some(vec![0, 1, 255]));

        // A newer checkpoint's pending records are not covered by the older mark.
        store(&meta, "app", &sample(2)).await.expect("stored");
        assert_eq!(load(&meta, "app").await.expect("loaded"), Some(sample(2)));
        remove(&meta, "app").await.expect("removed");
        assert_eq!(load(&meta, "app").await.expect("loaded"), None);
    }
}
