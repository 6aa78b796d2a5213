//! Resharding plans: splits, merges and uniform scaling as changes to a stream's shard list.
//!
//! A [`Resharder`] changes a copy of a [`StreamMeta`]: it closes parents and adds children with
//! their hash ranges, parent links and new log ids. It does no I/O. Closing a shard that held
//! records needs the offset after its last record, which only the log knows once writers are held
//! off; so such shards are listed in [`Plan::closing`] and the caller fills their
//! `closed_at_position` in. Shards created and closed within one plan (the short-lived shards of
//! uniform scaling) are empty and close at position 0.
//!
//! Uniform scaling reaches `N` shards of equal ranges the way AWS does, by splits and merges:
//! every open shard is split at each target boundary inside it, then the pieces within each
//! target range are merged one after another. Every shard so keeps at most two parents
//! (`ParentShardId`, `AdjacentParentShardId`), the lineage consumers rely on to read a key's
//! records in order.

use std::collections::BTreeSet;

use spate_log::LogId;

use crate::hashing::split_hash_space;
use crate::model::{ShardMeta, StreamMeta};

/// What a plan needs from storage before it can be saved.
#[derive(Debug, Default)]
pub struct Plan {
    /// Logs to create, one per new shard.
    pub new_logs: Vec<LogId>,
    /// Shards that held records and are now closed: (shard index, its log). Their
    /// `closed_at_position` must be set to the log's end while writers are held off.
    pub closing: Vec<(u32, LogId)>,
    /// How many log ids the plan took, from the first one it was given.
    pub used_log_ids: u64,
}

/// Why a resharding request cannot be planned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlanError {
    NoSuchShard(u32),
    ShardClosed(u32),
    SplitOutsideRange { start: u128, end: u128 },
    NotAdjacent(u32, u32),
}

#[derive(Debug)]
pub struct Resharder<'a> {
    stream: &'a mut StreamMeta,
    now_ms: i64,
    first_log: u64,
    next_log: u64,
    created: BTreeSet<u32>,
    plan: Plan,
}

impl<'a> Resharder<'a> {
    /// Plans changes to `stream` at `now_ms`, taking new log ids from `first_log` on.
    pub fn new(stream: &'a mut StreamMeta, now_ms: i64, first_log: u64) -> Resharder<'a> {
        Resharder {
            stream,
            now_ms,
            first_log,
            next_log: first_log,
            created: BTreeSet::new(),
            plan: Plan::default(),
        }
    }

    fn open_shard(&self, index: u32) -> Result<&ShardMeta, PlanError> {
        let shard = self
            .stream
            .shard(index)
            .ok_or(PlanError::NoSuchShard(index))?;
        if shard.is_open() {
            Ok(shard)
        } else {
            Err(PlanError::ShardClosed(index))
        }
    }

    fn add(&mut self, start: u128, end: u128, parent: u32, adjacent: Option<u32>) -> u32 {
        let index = self.stream.next_shard_index;
        self.stream.next_shard_index += 1;
        let log = self.next_log;
        self.next_log += 1;
        self.stream.shards.push(ShardMeta {
            index,
            log,
            created_ms: self.now_ms,
            hash_start: start,
            hash_end: end,
            parent: Some(parent),
            adjacent_parent: adjacent,
            closed_at_position: None,
            closed_at_ms: None,
        });
        self.created.insert(index);
        self.plan.new_logs.push(LogId(log));
        index
    }

    fn close(&mut self, index: u32) {
        let now = self.now_ms;
        let fresh = self.created.contains(&index);
        let Some(shard) = self.stream.shard_mut(index) else {
            return;
        };
        shard.closed_at_ms = Some(now);
        if fresh {
            shard.closed_at_position = Some(0);
        } else {
            // Set for real by the caller once the log's end is known; closed from now on.
            shard.closed_at_position = Some(u64::MAX);
            self.plan.closing.push((index, shard.log_id()));
        }
    }

    /// Splits an open shard in two at `new_start`: `[start, new_start - 1]` and
    /// `[new_start, end]`. AWS requires `start + 1 < new_start < end`.
    pub fn split(&mut self, index: u32, new_start: u128) -> Result<(u32, u32), PlanError> {
        let shard = self.open_shard(index)?;
        let (start, end) = (shard.hash_start, shard.hash_end);
        if new_start <= start.saturating_add(1) || new_start >= end {
            return Err(PlanError::SplitOutsideRange { start, end });
        }
        self.close(index);
        let low = self.add(start, new_start - 1, index, None);
        let high = self.add(new_start, end, index, None);
        Ok((low, high))
    }

    /// Merges two open shards whose ranges touch; the child's parent is `index`, its adjacent
    /// parent `adjacent`.
    pub fn merge(&mut self, index: u32, adjacent: u32) -> Result<u32, PlanError> {
        let first = self.open_shard(index)?;
        let second = self.open_shard(adjacent)?;
        let (low, high) = if first.hash_end.checked_add(1) == Some(second.hash_start) {
            (first.hash_start, second.hash_end)
        } else if second.hash_end.checked_add(1) == Some(first.hash_start) {
            (second.hash_start, first.hash_end)
        } else {
            return Err(PlanError::NotAdjacent(index, adjacent));
        };
        self.close(index);
        self.close(adjacent);
        Ok(self.add(low, high, index, Some(adjacent)))
    }

    /// Reshapes the open shards into `target` shards of equal ranges.
    pub fn uniform(&mut self, target: u32) -> Result<(), PlanError> {
        let ranges = split_hash_space(target);
        let boundaries: Vec<u128> = ranges.iter().skip(1).map(|(start, _)| *start).collect();
        let mut open: Vec<(u32, u128, u128)> = self
            .stream
            .open_shards()
            .map(|shard| (shard.index, shard.hash_start, shard.hash_end))
            .collect();
        open.sort_by_key(|(_, start, _)| *start);

        // Split every open shard at each target boundary strictly inside it.
        let mut pieces: Vec<(u32, u128)> = Vec::new();
        for (index, start, end) in open {
            let mut current = index;
            for boundary in boundaries.iter().filter(|b| **b > start && **b <= end) {
                let (low, high) = self.split_at_boundary(current, *boundary)?;
                pieces.push((low, self.start_of(low)));
                current = high;
            }
            pieces.push((current, self.start_of(current)));
        }

        // Merge the pieces of each target range, one after another.
        for (start, end) in ranges {
            let group: Vec<u32> = pieces
                .iter()
                .filter(|(_, piece_start)| *piece_start >= start && *piece_start <= end)
                .map(|(index, _)| *index)
                .collect();
            let mut pieces_left = group.into_iter();
            let Some(mut merged) = pieces_left.next() else {
                continue;
            };
            for next in pieces_left {
                merged = self.merge(merged, next)?;
            }
        }
        Ok(())
    }

    /// Like [`Resharder::split`], but allows a boundary one past the start, which even ranges
    /// can produce and which still leaves both halves non-empty.
    fn split_at_boundary(&mut self, index: u32, boundary: u128) -> Result<(u32, u32), PlanError> {
        let shard = self.open_shard(index)?;
        let (start, end) = (shard.hash_start, shard.hash_end);
        if boundary <= start || boundary > end {
            return Err(PlanError::SplitOutsideRange { start, end });
        }
        self.close(index);
        let low = self.add(start, boundary - 1, index, None);
        let high = self.add(boundary, end, index, None);
        Ok((low, high))
    }

    fn start_of(&self, index: u32) -> u128 {
        self.stream.shard(index).map_or(0, |shard| shard.hash_start)
    }

    /// The storage work the plan needs.
    pub fn finish(mut self) -> Plan {
        self.plan.used_log_ids = self.next_log - self.first_log;
        self.plan
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::StreamMode;

    fn stream(count: u32) -> StreamMeta {
        crate::model::testing::stream(count, StreamMode::Provisioned)
    }

    /// The open shards cover the whole key space exactly once, and every shard has at most two
    /// parents that exist.
    fn assert_well_formed(stream: &StreamMeta) {
        let mut open: Vec<&ShardMeta> = stream.open_shards().collect();
        open.sort_by_key(|shard| shard.hash_start);
        assert_eq!(open[0].hash_start, 0);
        for pair in open.windows(2) {
            assert_eq!(pair[0].hash_end + 1, pair[1].hash_start);
        }
        assert_eq!(open[open.len() - 1].hash_end, u128::MAX);
        for shard in &stream.shards {
            for parent in shard.parent.iter().chain(shard.adjacent_parent.iter()) {
                assert!(stream.shard(*parent).is_some_and(|p| !p.is_open()));
            }
        }
    }

    #[test]
    fn split_closes_the_parent_and_adds_two_children() {
        let mut meta = stream(1);
        let mut plan = Resharder::new(&mut meta, 100, 10);
        let (low, high) = plan.split(0, 1 << 127).expect("valid split");
        let plan = plan.finish();
        assert_eq!((low, high), (1, 2));
        assert_eq!(plan.closing, vec![(0, LogId(1))]);
        assert_eq!(plan.new_logs, vec![LogId(10), LogId(11)]);
        assert_eq!(plan.used_log_ids, 2);
        assert_eq!(
            meta.shard(1).map(|s| (s.hash_start, s.hash_end)),
            Some((0, (1 << 127) - 1))
        );
        assert_eq!(meta.shard(2).map(|s| s.parent), Some(Some(0)));
        assert_eq!(meta.shard(0).and_then(|s| s.closed_at_ms), Some(100));
        assert_well_formed(&meta);
    }

    #[test]
    fn split_points_must_fall_inside_the_shard() {
        let mut meta = stream(2);
        let (start, end) = (meta.shards[1].hash_start, meta.shards[1].hash_end);
        let mut plan = Resharder::new(&mut meta, 0, 10);
        for key in [start, start + 1, end, 0] {
            assert!(matches!(
                plan.split(1, key),
                Err(PlanError::SplitOutsideRange { .. })
            ));
        }
        assert!(plan.split(1, start + 2).is_ok());
        assert_eq!(plan.split(1, start + 3), Err(PlanError::ShardClosed(1)));
        assert_eq!(plan.split(9, 5), Err(PlanError::NoSuchShard(9)));
    }

    #[test]
    fn merge_needs_adjacent_open_shards() {
        let mut meta = stream(3);
        let mut plan = Resharder::new(&mut meta, 0, 10);
        assert_eq!(plan.merge(0, 2), Err(PlanError::NotAdjacent(0, 2)));
        let child = plan.merge(2, 1).expect("adjacent");
        assert_eq!(plan.merge(1, 0), Err(PlanError::ShardClosed(1)));
        plan.finish();
        let child = meta.shard(child).expect("child");
        assert_eq!((child.parent, child.adjacent_parent), (Some(2), Some(1)));
        assert_eq!(child.hash_start, meta.shards[1].hash_start);
        assert_eq!(child.hash_end, u128::MAX);
        assert_well_formed(&meta);
    }

    #[test]
    fn uniform_scaling_reaches_even_ranges_with_two_parents_at_most() {
        for (from, to) in [
            (1, 2),
            (2, 4),
            (4, 3),
            (3, 5),
            (4, 2),
            (5, 3),
            (7, 13),
            (10, 5),
            (3, 3),
        ] {
            let mut meta = stream(from);
            let mut plan = Resharder::new(&mut meta, 50, 100);
            plan.uniform(to).expect("uniform");
            let plan = plan.finish();
            assert_well_formed(&meta);
            let mut open: Vec<(u128, u128)> = meta
                .open_shards()
                .map(|s| (s.hash_start, s.hash_end))
                .collect();
            open.sort();
            assert_eq!(open, split_hash_space(to), "{from} -> {to}");
            assert_eq!(plan.new_logs.len() as u64, plan.used_log_ids);
            // Only original shards are waiting for a real end position.
            assert!(plan.closing.iter().all(|(index, _)| *index < from));
        }
    }
}
