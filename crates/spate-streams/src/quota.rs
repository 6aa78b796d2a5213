//! Throughput quotas, as AWS enforces them: per-shard write and read token buckets and
//! per-operation control-plane rates.
//!
//! Each bucket refills continuously at its rate up to a capacity of one second's worth. A request
//! may take from a bucket while it holds enough tokens, or, for a single request larger than a
//! whole second's worth (a large record, a large read), while it is full; it may then go into
//! debt, so a 10 MiB read at 2 MiB/s throttles the shard's reads for about five seconds, as AWS
//! does. Reads are charged after they happen (their size is known only then) and refused while
//! the byte bucket is in debt. Time comes from the service's clock, so tests drive it.
//!
//! Quotas are on by default, so code tested against Spate meets the throttling it will meet on
//! AWS; `quotas.enabled = false` (`spate serve --quotas off`) turns them off, and per-stream
//! entries raise or lower them for one stream.

use std::collections::{BTreeMap, HashMap};

use parking_lot::Mutex;
use serde::Deserialize;
use spate_log::LogId;

/// Per-shard limits.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ShardLimits {
    /// Bytes of data and partition keys a shard accepts per second.
    pub write_bytes_per_sec: u64,
    /// Records a shard accepts per second.
    pub write_records_per_sec: u64,
    /// Bytes a shard serves to GetRecords per second.
    pub read_bytes_per_sec: u64,
    /// GetRecords calls a shard serves per second.
    pub read_calls_per_sec: u64,
}

impl Default for ShardLimits {
    fn default() -> ShardLimits {
        ShardLimits {
            write_bytes_per_sec: 1024 * 1024,
            write_records_per_sec: 1000,
            read_bytes_per_sec: 2 * 1024 * 1024,
            read_calls_per_sec: 5,
        }
    }
}

/// Quota settings.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct QuotaConfig {
    /// Whether quotas are enforced at all.
    pub enabled: bool,
    /// Limits of every shard, unless its stream has its own.
    pub shard: ShardLimits,
    /// Limits of the shards of particular streams, by stream name.
    pub streams: BTreeMap<String, ShardLimits>,
}

impl Default for QuotaConfig {
    fn default() -> QuotaConfig {
        QuotaConfig {
            enabled: true,
            shard: ShardLimits::default(),
            streams: BTreeMap::new(),
        }
    }
}

/// Calls per second AWS allows a control-plane operation (per account; ListShards per stream,
/// GetShardIterator per shard, SubscribeToShard per consumer and shard).
pub fn control_rate(operation: &str) -> Option<f64> {
    let rate = match operation {
        "AddTagsToStream"
        | "RemoveTagsFromStream"
        | "ListTagsForStream"
        | "ListStreams"
        | "CreateStream"
        | "DeleteStream"
        | "MergeShards"
        | "SplitShard"
        | "DescribeAccountSettings"
        | "UpdateAccountSettings"
        | "RegisterStreamConsumer"
        | "DeregisterStreamConsumer"
        | "ListStreamConsumers" => 5.0,
        "DescribeStream" | "UpdateShardCount" => 10.0,
        "GetShardIterator" => 5.0,
        "DescribeStreamSummary" | "DescribeStreamConsumer" => 20.0,
        "DescribeLimits" | "SubscribeToShard" => 1.0,
        "ListShards" => 1000.0,
        _ => return None,
    };
    Some(rate)
}

#[derive(Debug, Clone)]
struct Bucket {
    rate: f64,
    capacity: f64,
    tokens: f64,
    last_ms: i64,
}

impl Bucket {
    fn new(rate: f64, now_ms: i64) -> Bucket {
        Bucket {
            rate,
            capacity: rate,
            tokens: rate,
            last_ms: now_ms,
        }
    }

    fn refill(&mut self, now_ms: i64) {
        let elapsed = (now_ms - self.last_ms).max(0) as f64 / 1000.0;
        self.tokens = (self.tokens + elapsed * self.rate).min(self.capacity);
        self.last_ms = now_ms.max(self.last_ms);
    }

    /// Whether `amount` may be taken now (enough tokens, or a full bucket for an oversized one).
    fn allows(&mut self, amount: f64, now_ms: i64) -> bool {
        self.refill(now_ms);
        self.tokens >= amount || (amount > self.capacity && self.tokens >= self.capacity)
    }

    fn take(&mut self, amount: f64) {
        self.tokens -= amount;
    }
}

#[derive(Debug)]
struct ShardBuckets {
    limits: ShardLimits,
    write_bytes: Bucket,
    write_records: Bucket,
    read_bytes: Bucket,
    read_calls: Bucket,
}

impl ShardBuckets {
    fn new(limits: &ShardLimits, now_ms: i64) -> ShardBuckets {
        ShardBuckets {
            limits: limits.clone(),
            write_bytes: Bucket::new(limits.write_bytes_per_sec as f64, now_ms),
            write_records: Bucket::new(limits.write_records_per_sec as f64, now_ms),
            read_bytes: Bucket::new(limits.read_bytes_per_sec as f64, now_ms),
            read_calls: Bucket::new(limits.read_calls_per_sec as f64, now_ms),
        }
    }
}

/// The quota state of one node.
#[derive(Debug)]
pub struct Quotas {
    config: QuotaConfig,
    shards: Mutex<HashMap<LogId, ShardBuckets>>,
    control: Mutex<HashMap<String, Bucket>>,
}

impl Quotas {
    pub fn new(config: QuotaConfig) -> Quotas {
        Quotas {
            config,
            shards: Mutex::new(HashMap::new()),
            control: Mutex::new(HashMap::new()),
        }
    }

    pub fn enabled(&self) -> bool {
        self.config.enabled
    }

    fn limits(&self, stream: &str) -> &ShardLimits {
        self.config
            .streams
            .get(stream)
            .unwrap_or(&self.config.shard)
    }

    fn with_shard<T>(
        &self,
        stream: &str,
        log: LogId,
        now_ms: i64,
        work: impl FnOnce(&mut ShardBuckets) -> T,
    ) -> T {
        let limits = self.limits(stream);
        let mut shards = self.shards.lock();
        let buckets = shards
            .entry(log)
            .or_insert_with(|| ShardBuckets::new(limits, now_ms));
        if &buckets.limits != limits {
            *buckets = ShardBuckets::new(limits, now_ms);
        }
        work(buckets)
    }

    /// Takes one record of `bytes` from a shard's write allowance; `false` when throttled.
    pub fn admit_write(&self, stream: &str, log: LogId, bytes: usize, now_ms: i64) -> bool {
        if !self.config.enabled {
            return true;
        }
        self.with_shard(stream, log, now_ms, |b| {
            let bytes = bytes as f64;
            if b.write_bytes.allows(bytes, now_ms) && b.write_records.allows(1.0, now_ms) {
                b.write_bytes.take(bytes);
                b.write_records.take(1.0);
                true
            } else {
                false
            }
        })
    }

    /// Takes one GetRecords call from a shard's read allowance; `false` when throttled (too many
    /// calls, or the bytes of earlier reads not yet paid back).
    pub fn admit_read(&self, stream: &str, log: LogId, now_ms: i64) -> bool {
        if !self.config.enabled {
            return true;
        }
        self.with_shard(stream, log, now_ms, |b| {
            b.read_bytes.refill(now_ms);
            if b.read_bytes.tokens > 0.0 && b.read_calls.allows(1.0, now_ms) {
                b.read_calls.take(1.0);
                true
            } else {
                false
            }
        })
    }

    /// Charges the bytes a GetRecords call returned.
    pub fn charge_read(&self, stream: &str, log: LogId, bytes: usize, now_ms: i64) {
        if self.config.enabled {
            self.with_shard(stream, log, now_ms, |b| b.read_bytes.take(bytes as f64));
        }
    }

    /// Takes one call of a control-plane operation; `false` when over its rate. `scope` is the
    /// stream for per-stream limits (ListShards), empty for per-account ones.
    pub fn admit_control(&self, operation: &str, scope: &str, now_ms: i64) -> bool {
        let Some(rate) = control_rate(operation).filter(|_| self.config.enabled) else {
            return true;
        };
        let key = format!("{operation}/{scope}");
        let mut control = self.control.lock();
        let bucket = control
            .entry(key)
            .or_insert_with(|| Bucket::new(rate, now_ms));
        if bucket.allows(1.0, now_ms) {
            bucket.take(1.0);
            true
        } else {
            false
        }
    }

    /// Forgets a shard's buckets (its log was deleted).
    pub fn forget(&self, log: LogId) {
        self.shards.lock().remove(&log);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: usize = 1024 * 1024;

    #[test]
    fn writes_allow_a_second_of_records_then_refill() {
        let quotas = Quotas::new(QuotaConfig::default());
        let log = LogId(1);
        let admitted = (0..1500)
            .filter(|_| quotas.admit_write("s", log, 10, 0))
            .count();
        assert_eq!(admitted, 1000);
        assert!(!quotas.admit_write("s", log, 10, 0));
        let refilled = (0..1000)
            .filter(|_| quotas.admit_write("s", log, 10, 500))
            .count();
        assert_eq!(refilled, 500, "half a second refills 500 records");
    }

    #[test]
    fn write_bytes_are_limited_to_a_mib_per_second() {
        let quotas = Quotas::new(QuotaConfig::default());
        assert!(quotas.admit_write("s", LogId(1), MIB / 2, 0));
        assert!(quotas.admit_write("s", LogId(1), MIB / 2, 0));
        assert!(!quotas.admit_write("s", LogId(1), 1, 0));
        assert!(
            quotas.admit_write("s", LogId(2), MIB, 0),
            "shards have their own buckets"
        );
    }

    #[test]
    fn an_oversized_record_passes_a_full_bucket_and_leaves_a_debt() {
        let quotas = Quotas::new(QuotaConfig::default());
        assert!(quotas.admit_write("s", LogId(1), 3 * MIB, 0));
        assert!(!quotas.admit_write("s", LogId(1), 1, 1_999));
        assert!(quotas.admit_write("s", LogId(1), 1, 2_001));
    }

    #[test]
    fn reads_allow_five_calls_and_pay_back_large_responses() {
        let quotas = Quotas::new(QuotaConfig::default());
        let log = LogId(1);
        let admitted = (0..10).filter(|_| quotas.admit_read("s", log, 0)).count();
        assert_eq!(admitted, 5);
        assert!(quotas.admit_read("s", log, 1_000));
        quotas.charge_read("s", log, 10 * MIB, 1_000);
        // 10 MiB at 2 MiB/s: about four seconds of debt beyond the full bucket.
        assert!(!quotas.admit_read("s", log, 4_900));
        assert!(quotas.admit_read("s", log, 5_100));
    }

    #[test]
    fn control_plane_rates_and_switches() {
        let quotas = Quotas::new(QuotaConfig::default());
        let admitted = (0..8)
            .filter(|_| quotas.admit_control("CreateStream", "", 0))
            .count();
        assert_eq!(admitted, 5);
        assert!(
            quotas.admit_control("CreateStream", "", 200),
            "a fifth of a second refills one"
        );
        assert!(
            quotas.admit_control("PutRecord", "", 0),
            "data-plane calls have no control rate"
        );

        let off = Quotas::new(QuotaConfig {
            enabled: false,
            ..QuotaConfig::default()
        });
        assert!((0..5000).all(|_| off.admit_write("s", LogId(1), MIB, 0)));
        assert!((0..50).all(|_| off.admit_control("DescribeLimits", "", 0)));
    }

    #[test]
    fn streams_can_have_their_own_limits() {
        let mut config = QuotaConfig::default();
        config.streams.insert(
            "big".to_string(),
            ShardLimits {
                write_records_per_sec: 5000,
                ..ShardLimits::default()
            },
        );
        let quotas = Quotas::new(config);
        assert_eq!(
            (0..6000)
                .filter(|_| quotas.admit_write("big", LogId(1), 1, 0))
                .count(),
            5000
        );
        assert_eq!(
            (0..6000)
                .filter(|_| quotas.admit_write("small", LogId(2), 1, 0))
                .count(),
            1000
        );
    }
}
