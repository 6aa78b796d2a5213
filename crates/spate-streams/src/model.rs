//! The persisted state of a stream and its shards, and what follows from it at a given time.
//!
//! A stream is stored as one JSON document under `streams/<name>` in the metadata store. Status
//! changes that AWS performs after a delay (CREATING -> ACTIVE, UPDATING -> ACTIVE, DELETING ->
//! gone) are stored as the status plus the time the change completes, and [`StreamMeta::status_at`]
//! derives the status a caller sees now; a background task removes deleted streams for good.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use spate_log::LogId;

use crate::sequence::{SequenceNumber, SequenceText};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StreamStatus {
    Creating,
    Active,
    Updating,
    Deleting,
}

impl StreamStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            StreamStatus::Creating => "CREATING",
            StreamStatus::Active => "ACTIVE",
            StreamStatus::Updating => "UPDATING",
            StreamStatus::Deleting => "DELETING",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StreamMode {
    Provisioned,
    OnDemand,
}

impl StreamMode {
    pub fn as_str(self) -> &'static str {
        match self {
            StreamMode::Provisioned => "PROVISIONED",
            StreamMode::OnDemand => "ON_DEMAND",
        }
    }
}

/// A shard: its place in the hash key space and the log holding its records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardMeta {
    /// The number in `shardId-%012d`, from the stream's shard counter.
    pub index: u32,
    pub log: u64,
    pub created_ms: i64,
    pub hash_start: u128,
    pub hash_end: u128,
    pub parent: Option<u32>,
    pub adjacent_parent: Option<u32>,
    /// Set when the shard was closed by resharding: the offset after its last record.
    pub closed_at_position: Option<u64>,
    /// When the shard was closed by resharding.
    #[serde(default)]
    pub closed_at_ms: Option<i64>,
}

impl ShardMeta {
    pub fn shard_id(&self) -> String {
        shard_id(self.index)
    }

    /// [`ShardMeta::shard_id`] without allocating.
    pub fn shard_id_text(&self) -> ShardIdText {
        ShardIdText::new(self.index)
    }

    pub fn log_id(&self) -> LogId {
        LogId(self.log)
    }

    pub fn is_open(&self) -> bool {
        self.closed_at_position.is_none()
    }

    /// Whether the shard took writes at `at_ms`: created by then and not yet closed.
    pub fn is_open_at(&self, at_ms: i64) -> bool {
        self.created_ms <= at_ms && self.closed_at_ms.is_none_or(|closed| closed > at_ms)
    }

    /// The sequence number of the record at `position` that arrived at `arrival_ms`.
    pub fn sequence_number(&self, position: u64, arrival_ms: i64) -> String {
        self.sequence_text(position, arrival_ms)
            .as_str()
            .to_string()
    }

    /// [`ShardMeta::sequence_number`] without allocating.
    pub fn sequence_text(&self, position: u64, arrival_ms: i64) -> SequenceText {
        SequenceNumber {
            shard_created_secs: secs(self.created_ms),
            shard_index: self.index,
            position,
            arrival_secs: secs(arrival_ms),
        }
        .text()
    }

    /// The first sequence number the shard can hold, reported as `StartingSequenceNumber`.
    pub fn starting_sequence_number(&self) -> String {
        self.sequence_number(0, self.created_ms)
    }

    pub fn created_secs(&self) -> u64 {
        secs(self.created_ms)
    }
}

fn secs(millis: i64) -> u64 {
    u64::try_from(millis.max(0) / 1000).unwrap_or(0)
}

/// `shardId-` and a 12-digit zero-padded index.
pub fn shard_id(index: u32) -> String {
    ShardIdText::new(index).as_str().to_string()
}

/// A shard id (`shardId-%012d`) held inline: serialises as a string without allocating.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ShardIdText([u8; SHARD_ID_LEN]);

const SHARD_ID_PREFIX: &[u8] = b"shardId-";
/// The prefix and 12 digits; a `u32` index has at most 10.
const SHARD_ID_LEN: usize = SHARD_ID_PREFIX.len() + 12;

impl ShardIdText {
    pub fn new(index: u32) -> ShardIdText {
        let mut text = [b'0'; SHARD_ID_LEN];
        text[..SHARD_ID_PREFIX.len()].copy_from_slice(SHARD_ID_PREFIX);
        let mut rest = index;
        for digit in text[SHARD_ID_PREFIX.len()..].iter_mut().rev() {
            *digit = b'0' + (rest % 10) as u8;
            rest /= 10;
        }
        ShardIdText(text)
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII is ever written, so this never falls back.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl std::fmt::Debug for ShardIdText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.as_str())
    }
}

impl serde::Serialize for ShardIdText {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// The index in a shard id, if it has the `shardId-%012d` form.
pub fn parse_shard_id(text: &str) -> Option<u32> {
    let digits = text.strip_prefix("shardId-")?;
    if digits.len() != 12 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Everything stored about a stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamMeta {
    pub name: String,
    pub created_ms: i64,
    pub status: StreamStatus,
    /// When a CREATING or UPDATING stream becomes ACTIVE, or a DELETING stream is gone.
    pub status_until_ms: Option<i64>,
    pub mode: StreamMode,
    pub retention_hours: u32,
    pub max_record_size_kib: u32,
    pub shards: Vec<ShardMeta>,
    pub next_shard_index: u32,
    pub tags: BTreeMap<String, String>,
    /// When UpdateShardCount scaled the stream, for its limit of ten scalings a day.
    #[serde(default)]
    pub scalings_ms: Vec<i64>,
    /// When UpdateStreamMode changed the capacity mode, for its limit of two changes a day.
    #[serde(default)]
    pub mode_changes_ms: Vec<i64>,
    /// Encryption, monitoring, policy and warm throughput; absent in streams stored before them.
    #[serde(default)]
    pub settings: StreamSettings,
}

/// Server-side encryption of a stream: the key as the caller named it and the key it resolved to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Encryption {
    /// The `KeyId` given to StartStreamEncryption, returned as is by DescribeStream.
    pub key_id: String,
    /// The key store's id of the key (a UUID).
    pub key: String,
}

/// The shard-level metrics EnableEnhancedMonitoring can turn on, in AWS's order.
pub const SHARD_LEVEL_METRICS: [&str; 7] = [
    "IncomingBytes",
    "IncomingRecords",
    "OutgoingBytes",
    "OutgoingRecords",
    "WriteProvisionedThroughputExceeded",
    "ReadProvisionedThroughputExceeded",
    "IteratorAgeMilliseconds",
];

/// Stream settings changed by their own operations after creation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct StreamSettings {
    /// Set while server-side encryption is on.
    pub encryption: Option<Encryption>,
    /// Enabled shard-level metrics, each one of [`SHARD_LEVEL_METRICS`], in that order.
    pub shard_level_metrics: Vec<String>,
    /// The resource policy attached to the stream, exactly as given.
    pub resource_policy: Option<String>,
    /// Warm throughput of an on-demand stream: the target in MiB/s...
    pub warm_throughput_mibps: Option<u32>,
    /// ... and the value before the last update, current while the stream is UPDATING.
    pub previous_warm_throughput_mibps: Option<u32>,
    /// When Start/StopStreamEncryption changed the key, for their limit of 25 a day.
    pub encryption_changes_ms: Vec<i64>,
}

impl StreamMeta {
    /// The status a caller sees at `now_ms`; `None` once a deletion has completed.
    pub fn status_at(&self, now_ms: i64) -> Option<StreamStatus> {
        let due = self.status_until_ms.is_some_and(|until| now_ms >= until);
        match self.status {
            StreamStatus::Creating | StreamStatus::Updating if due => Some(StreamStatus::Active),
            StreamStatus::Deleting if due => None,
            status => Some(status),
        }
    }

    pub fn shard(&self, index: u32) -> Option<&ShardMeta> {
        self.shards.iter().find(|shard| shard.index == index)
    }

    pub fn shard_mut(&mut self, index: u32) -> Option<&mut ShardMeta> {
        self.shards.iter_mut().find(|shard| shard.index == index)
    }

    /// The shards made from `index` by a split or a merge.
    pub fn children_of(&self, index: u32) -> impl Iterator<Item = &ShardMeta> {
        self.shards.iter().filter(move |shard| {
            shard.parent == Some(index) || shard.adjacent_parent == Some(index)
        })
    }

    pub fn open_shards(&self) -> impl Iterator<Item = &ShardMeta> {
        self.shards.iter().filter(|shard| shard.is_open())
    }

    /// The open shard whose hash range holds `hash_key`.
    pub fn shard_for_hash(&self, hash_key: u128) -> Option<&ShardMeta> {
        self.open_shards()
            .find(|shard| shard.hash_start <= hash_key && hash_key <= shard.hash_end)
    }

    pub fn max_record_bytes(&self) -> usize {
        self.max_record_size_kib as usize * 1024
    }

    /// `EncryptionType` as DescribeStream and DescribeStreamSummary report it.
    pub fn encryption_type(&self) -> &'static str {
        if self.settings.encryption.is_some() {
            crate::sse::KMS
        } else {
            crate::sse::NONE
        }
    }

    /// `KeyId` as DescribeStream and DescribeStreamSummary report it: the key as it was named.
    pub fn key_id(&self) -> Option<String> {
        self.settings
            .encryption
            .as_ref()
            .map(|encryption| encryption.key_id.clone())
    }
}

/// Streams for the unit tests of the modules that work on them.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    /// An ACTIVE stream `s` created at 0 whose `count` shards split the key space evenly, shard
    /// i on log i + 1.
    pub fn stream(count: u32, mode: StreamMode) -> StreamMeta {
        let shards = crate::hashing::split_hash_space(count)
            .into_iter()
            .zip(0u32..)
            .map(|((start, end), index)| shard(index, None, None, (start, end)))
            .collect();
        StreamMeta {
            name: "s".into(),
            created_ms: 0,
            status: StreamStatus::Active,
            status_until_ms: None,
            mode,
            retention_hours: 24,
            max_record_size_kib: 1024,
            shards,
            next_shard_index: count,
            tags: BTreeMap::new(),
            scalings_ms: Vec::new(),
            mode_changes_ms: Vec::new(),
            settings: StreamSettings::default(),
        }
    }

    /// An open shard created at 0 on log `index + 1`, with the given parents and hash range.
    pub fn shard(
        index: u32,
        parent: Option<u32>,
        adjacent: Option<u32>,
        range: (u128, u128),
    ) -> ShardMeta {
        ShardMeta {
            index,
            log: u64::from(index) + 1,
            created_ms: 0,
            hash_start: range.0,
            hash_end: range.1,
            parent,
            adjacent_parent: adjacent,
            closed_at_position: None,
            closed_at_ms: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(status: StreamStatus, until: Option<i64>) -> StreamMeta {
        StreamMeta {
            name: "s".into(),
            created_ms: 0,
            status,
            status_until_ms: until,
            mode: StreamMode::Provisioned,
            retention_hours: 24,
            max_record_size_kib: 1024,
            shards: Vec::new(),
            next_shard_index: 0,
            tags: BTreeMap::new(),
            scalings_ms: Vec::new(),
            mode_changes_ms: Vec::new(),
            settings: StreamSettings::default(),
        }
    }

    #[test]
    fn delayed_statuses_complete_on_time() {
        let creating = stream(StreamStatus::Creating, Some(500));
        assert_eq!(creating.status_at(499), Some(StreamStatus::Creating));
        assert_eq!(creating.status_at(500), Some(StreamStatus::Active));
        let deleting = stream(StreamStatus::Deleting, Some(500));
        assert_eq!(deleting.status_at(499), Some(StreamStatus::Deleting));
        assert_eq!(deleting.status_at(500), None);
        assert_eq!(
            stream(StreamStatus::Active, None).status_at(10),
            Some(StreamStatus::Active)
        );
    }

    #[test]
    fn shard_ids_round_trip() {
        assert_eq!(shard_id(0), "shardId-000000000000");
        assert_eq!(shard_id(u32::MAX), "shardId-004294967295");
        assert_eq!(parse_shard_id("shardId-000000000042"), Some(42));
        assert_eq!(parse_shard_id("shardId-42"), None);
        assert_eq!(parse_shard_id("shard-000000000042"), None);
    }
}
