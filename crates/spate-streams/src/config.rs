//! Settings of the Data Streams service.

use serde::Deserialize;

use crate::kms::KmsConfig;
use crate::quota::QuotaConfig;

/// How the Data Streams service behaves; defaults mirror AWS where AWS defines a value.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StreamsConfig {
    /// Region named in ARNs.
    pub region: String,
    /// Twelve-digit account id named in ARNs and messages.
    pub account_id: String,
    /// How long a new stream stays CREATING before it becomes ACTIVE.
    pub create_delay_ms: u64,
    /// How long a deleted stream stays DELETING before it is gone.
    pub delete_delay_ms: u64,
    /// How long an updated stream stays UPDATING before it is ACTIVE again.
    pub update_delay_ms: u64,
    /// How long a new consumer stays CREATING before it becomes ACTIVE.
    pub consumer_create_delay_ms: u64,
    /// How long a deregistered consumer stays DELETING before it is gone.
    pub consumer_delete_delay_ms: u64,
    /// How often SubscribeToShard sends an event when there are no records (AWS: about 5 s).
    pub subscription_heartbeat_ms: u64,
    /// How long one SubscribeToShard call streams before the server ends it (AWS: 5 minutes).
    pub subscription_lifetime_ms: u64,
    /// Shards an account may have open, as reported by DescribeLimits.
    pub shard_limit: u32,
    /// On-demand streams an account may have, as reported by DescribeLimits.
    pub on_demand_stream_limit: u32,
    /// Shards an on-demand stream starts with (AWS: 4 MiB/s of write capacity).
    pub on_demand_initial_shards: u32,
    /// Seconds a shard of an on-demand stream must run hot before it is split.
    pub on_demand_scale_up_after_secs: u32,
    /// Seconds two neighbouring shards of an on-demand stream must run cold before they merge.
    pub on_demand_scale_down_after_secs: u32,
    /// Throughput quotas (per-shard and control-plane rates).
    pub quotas: QuotaConfig,
    /// Keys of the stand-in for KMS. Not part of `[streams]`: the server fills it from its
    /// top-level `[kms]` section.
    #[serde(skip)]
    pub kms: KmsConfig,
}

impl Default for StreamsConfig {
    fn default() -> StreamsConfig {
        StreamsConfig {
            region: "us-east-1".to_string(),
            account_id: "000000000000".to_string(),
            create_delay_ms: 500,
            delete_delay_ms: 500,
            update_delay_ms: 500,
            consumer_create_delay_ms: 500,
            consumer_delete_delay_ms: 500,
            subscription_heartbeat_ms: 5_000,
            subscription_lifetime_ms: 300_000,
            shard_limit: 20_000,
            on_demand_stream_limit: 50,
            on_demand_initial_shards: 4,
            on_demand_scale_up_after_secs: 5,
            on_demand_scale_down_after_secs: 3600,
            quotas: QuotaConfig::default(),
            kms: KmsConfig::default(),
        }
    }
}

impl StreamsConfig {
    /// The ARN of a stream of this account and region.
    pub fn stream_arn(&self, name: &str) -> String {
        format!(
            "arn:aws:kinesis:{}:{}:stream/{}",
            self.region, self.account_id, name
        )
    }
}
