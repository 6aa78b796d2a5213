//! On-demand scaling: hot shards of ON_DEMAND streams are split where their traffic divides,
//! and long-cold neighbours are merged back, with the lineage consumers follow.
//!
//! The write path tells the [`Autoscaler`] what each shard was asked to take (records, bytes,
//! and a sample of the hash keys, before quotas decide; demand, not what got through). Each
//! maintenance tick turns those counts into rates against the shard's write limits. A shard
//! that ran at `HOT_FRACTION` of a limit or more for `scale_up_after_secs` in a row is split at
//! the median of its sampled hash keys, so a skewed key space is divided where the load is, not
//! in the middle of the range. Two adjacent shards both under `COLD_FRACTION` of both limits
//! for `scale_down_after_secs` are merged, down to the stream's initial shard count. One change
//! per stream per tick; AWS does not show these in the stream status, and neither does Spate.

use std::collections::{HashMap, VecDeque};

use parking_lot::Mutex;
use spate_log::LogId;

use crate::model::StreamMeta;
use crate::quota::ShardLimits;

/// A shard is hot at this fraction of its write limit (records or bytes).
pub const HOT_FRACTION: f64 = 0.8;
/// A shard is cold under this fraction of both write limits.
pub const COLD_FRACTION: f64 = 0.1;
/// Hash keys kept per shard to find where its traffic divides.
const SAMPLE: usize = 256;

/// What one tick decided for a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Split { shard: u32, at: u128 },
    Merge { shard: u32, adjacent: u32 },
}

#[derive(Debug, Default)]
struct Meter {
    records: u64,
    bytes: u64,
    sample: VecDeque<u128>,
    hot_ticks: u32,
    cold_ticks: u32,
}

#[derive(Debug, Default)]
pub struct Autoscaler {
    meters: Mutex<HashMap<LogId, Meter>>,
    last_tick: Mutex<HashMap<String, i64>>,
}

impl Autoscaler {
    /// Counts writes asked of a shard: `records` records of `bytes` in all, with their hash keys.
    pub fn record(&self, log: LogId, records: u64, bytes: u64, hashes: impl Iterator<Item = u128>) {
        let mut meters = self.meters.lock();
        let meter = meters.entry(log).or_default();
        meter.records += records;
        meter.bytes += bytes;
        for hash in hashes {
            if meter.sample.len() == SAMPLE {
                meter.sample.pop_front();
            }
            meter.sample.push_back(hash);
        }
    }

    /// Forgets a shard's meter (its log is gone).
    pub fn forget(&self, log: LogId) {
        self.meters.lock().remove(&log);
    }

    /// Measures every open shard of `stream` since the last tick and decides one change, if any.
    pub fn tick(
        &self,
        stream: &StreamMeta,
        limits: &ShardLimits,
        now_ms: i64,
        up_after_secs: u32,
        down_after_secs: u32,
        min_shards: usize,
    ) -> Option<Decision> {
        let elapsed_ms = {
            let mut last = self.last_tick.lock();
            let previous = last.insert(stream.name.clone(), now_ms);
            now_ms - previous.unwrap_or(now_ms)
        };
        if elapsed_ms <= 0 {
            return None;
        }
        let seconds = elapsed_ms as f64 / 1000.0;
        let ticks_for = |secs: u32| ((f64::from(secs) / seconds).ceil() as u32).max(1);
        let mut meters = self.meters.lock();
        let mut open: Vec<_> = stream.open_shards().collect();
        open.sort_by_key(|shard| shard.hash_start);
        let mut hot = None;
        for shard in &open {
            let meter = meters.entry(shard.log_id()).or_default();
            let records =
                meter.records as f64 / seconds / limits.write_records_per_sec.max(1) as f64;
            let bytes = meter.bytes as f64 / seconds / limits.write_bytes_per_sec.max(1) as f64;
            let load = records.max(bytes);
            meter.records = 0;
            meter.bytes = 0;
            meter.hot_ticks = if load >= HOT_FRACTION {
                meter.hot_ticks + 1
            } else {
                0
            };
            meter.cold_ticks = if load < COLD_FRACTION {
                meter.cold_ticks + 1
            } else {
                0
            };
            if hot.is_none() && meter.hot_ticks >= ticks_for(up_after_secs) {
                hot = Some((
                    shard.index,
                    split_point(&meter.sample, shard.hash_start, shard.hash_end),
                ));
            }
        }
        if let Some((shard, Some(at))) = hot {
            if let Some(meter) = open
                .iter()
                .find(|s| s.index == shard)
                .and_then(|s| meters.get_mut(&s.log_id()))
            {
                meter.hot_ticks = 0;
            }
            return Some(Decision::Split { shard, at });
        }
        if open.len() <= min_shards {
            return None;
        }
        let cold = |index: usize| {
            meters
                .get(&open[index].log_id())
                .is_some_and(|m| m.cold_ticks >= ticks_for(down_after_secs))
        };
        (0..open.len().saturating_sub(1))
            .find(|i| cold(*i) && cold(i + 1))
            .map(|i| Decision::Merge {
                shard: open[i].index,
                adjacent: open[i + 1].index,
            })
    }
}

/// Where to split a shard so its sampled traffic divides in two: the median sampled hash key,
/// moved inside the range a split allows (`start + 1 < at < end`), or the middle of the range
/// when the sample cannot divide it (one hot key).
fn split_point(sample: &VecDeque<u128>, start: u128, end: u128) -> Option<u128> {
    if end.saturating_sub(start) < 3 {
        return None;
    }
    let valid = |at: u128| at > start + 1 && at < end;
    let mut keys: Vec<u128> = sample
        .iter()
        .copied()
        .filter(|k| *k >= start && *k <= end)
        .collect();
    keys.sort_unstable();
    let median = keys
        .get(keys.len() / 2)
        .copied()
        .filter(|m| valid(*m) && keys.first() != keys.last());
    Some(median.unwrap_or(start + (end - start) / 2))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::StreamMode;

    fn stream(count: u32) -> StreamMeta {
        crate::model::testing::stream(count, StreamMode::OnDemand)
    }

    #[test]
    fn a_shard_hot_for_long_enough_is_split_where_its_keys_divide() {
        let scaler = Autoscaler::default();
        let meta = stream(2);
        let limits = ShardLimits::default();
        assert_eq!(scaler.tick(&meta, &limits, 0, 2, 300, 1), None);
        let keys = |base: u128| (0..100u128).map(move |i| base + i * 1000);
        for second in 1..=2 {
            // 900 records a second into shard 0, on keys around 10^30.
            scaler.record(
                LogId(1),
                900,
                9_000,
                keys(1_000_000_000_000_000_000_000_000_000),
            );
            let decision = scaler.tick(&meta, &limits, second * 1000, 2, 300, 1);
            if second == 1 {
                assert_eq!(decision, None, "one hot second is not enough");
            } else {
                let Some(Decision::Split { shard, at }) = decision else {
                    panic!("{decision:?}")
                };
                assert_eq!(shard, 0);
                assert_eq!(at, 1_000_000_000_000_000_000_000_000_000 + 50 * 1000);
            }
        }
    }

    #[test]
    fn one_hot_key_splits_the_range_in_the_middle() {
        assert_eq!(split_point(&VecDeque::from(vec![7; 10]), 0, 100), Some(50));
        assert_eq!(split_point(&VecDeque::new(), 0, 100), Some(50));
        assert_eq!(split_point(&VecDeque::new(), 0, 2), None);
    }

    #[test]
    fn cold_neighbours_merge_down_to_the_minimum() {
        let scaler = Autoscaler::default();
        let meta = stream(3);
        let limits = ShardLimits::default();
        scaler.tick(&meta, &limits, 0, 2, 3, 2);
        let mut decision = None;
        for second in 1..=3 {
            scaler.record(LogId(3), 500, 500, std::iter::empty());
            decision = scaler.tick(&meta, &limits, second * 1000, 2, 3, 2);
        }
        assert_eq!(
            decision,
            Some(Decision::Merge {
                shard: 0,
                adjacent: 1
            })
        );
        let scaler = Autoscaler::default();
        scaler.tick(&meta, &limits, 0, 2, 1, 3);
        assert_eq!(
            scaler.tick(&meta, &limits, 5000, 2, 1, 3),
            None,
            "already at the minimum"
        );
    }
}
