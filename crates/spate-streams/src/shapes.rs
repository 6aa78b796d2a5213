//! Output shapes several operations share (botocore model kinesis/2013-12-02).

use serde::Serialize;

use crate::model::{ShardMeta, StreamMeta, StreamStatus};

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct HashKeyRange {
    pub starting_hash_key: String,
    pub ending_hash_key: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SequenceNumberRange {
    pub starting_sequence_number: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ending_sequence_number: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Shard {
    pub shard_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_shard_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub adjacent_parent_shard_id: Option<String>,
    pub hash_key_range: HashKeyRange,
    pub sequence_number_range: SequenceNumberRange,
}

impl Shard {
    pub fn describe(shard: &ShardMeta) -> Shard {
        Shard {
            shard_id: shard.shard_id(),
            parent_shard_id: shard.parent.map(crate::model::shard_id),
            adjacent_parent_shard_id: shard.adjacent_parent.map(crate::model::shard_id),
            hash_key_range: HashKeyRange {
                starting_hash_key: shard.hash_start.to_string(),
                ending_hash_key: shard.hash_end.to_string(),
            },
            sequence_number_range: SequenceNumberRange {
                starting_sequence_number: shard.starting_sequence_number(),
                // At least the number of the shard's last record: its position, stamped with the
                // closing time, which is no earlier than that record's arrival.
                ending_sequence_number: shard.closed_at_position.map(|end| {
                    let closed_ms = shard.closed_at_ms.unwrap_or(shard.created_ms);
                    shard.sequence_number(end.saturating_sub(1), closed_ms)
                }),
            },
        }
    }
}

/// A shard made from the one a reader finished, as GetRecords and SubscribeToShard report it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ChildShard {
    pub shard_id: String,
    pub parent_shards: Vec<String>,
    pub hash_key_range: HashKeyRange,
}

impl ChildShard {
    /// The children of `parent` in `stream`.
    pub fn of(stream: &StreamMeta, parent: u32) -> Vec<ChildShard> {
        stream
            .children_of(parent)
            .map(|child| ChildShard {
                shard_id: child.shard_id(),
                parent_shards: child
                    .parent
                    .into_iter()
                    .chain(child.adjacent_parent)
                    .map(crate::model::shard_id)
                    .collect(),
                hash_key_range: HashKeyRange {
                    starting_hash_key: child.hash_start.to_string(),
                    ending_hash_key: child.hash_end.to_string(),
                },
            })
            .collect()
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct StreamModeDetails {
    pub stream_mode: &'static str,
}

impl StreamModeDetails {
    pub fn of(stream: &StreamMeta) -> StreamModeDetails {
        StreamModeDetails {
            stream_mode: stream.mode.as_str(),
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EnhancedMetrics {
    pub shard_level_metrics: Vec<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    pub key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct WarmThroughput {
    #[serde(rename = "TargetMiBps")]
    pub target_mibps: u32,
    #[serde(rename = "CurrentMiBps")]
    pub current_mibps: u32,
}

impl WarmThroughput {
    /// The warm throughput of a stream that has one; the target is current once it is ACTIVE.
    pub fn of(stream: &StreamMeta, status: StreamStatus) -> Option<WarmThroughput> {
        let target = stream.settings.warm_throughput_mibps?;
        let current = match status {
            StreamStatus::Updating => stream.settings.previous_warm_throughput_mibps.unwrap_or(0),
            _ => target,
        };
        Some(WarmThroughput {
            target_mibps: target,
            current_mibps: current,
        })
    }
}
