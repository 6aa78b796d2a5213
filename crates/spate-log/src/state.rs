//! Per-log in-memory state: offset assignment, the in-memory tail of durable unsealed records,
//! the list of sealed segments, and the watch channel that wakes tail readers.
//!
//! Resident per log: a few counters, segment metadata (one small struct per segment file, no
//! data), and the tail. The tail holds only records that are durable but not yet sealed: it is
//! sealed past `seal_bytes` or `seal_age`, and all tails together are bounded by
//! `max_unsealed_bytes` (see `sealer`).

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::Arc;

use parking_lot::Mutex;
use tokio::sync::watch;

use crate::segment::Segment;
use crate::{LogBounds, LogId, StoredRecord};

/// A durable, not yet sealed record, with the journal file that holds it.
#[derive(Clone, Debug)]
pub(crate) struct TailRecord {
    pub(crate) record: StoredRecord,
    pub(crate) journal_seq: u64,
}

/// One log's state; shared by appenders, the writer, the sealer and readers.
#[derive(Debug)]
pub(crate) struct LogState {
    pub(crate) id: LogId,
    /// `<dir>/logs/<id>`, holding the log's segment files.
    pub(crate) dir: PathBuf,
    pub(crate) inner: Mutex<LogInner>,
    end_tx: watch::Sender<u64>,
}

/// The mutable part of a log's state.
#[derive(Debug)]
pub(crate) struct LogInner {
    /// Set when the log is deleted; pending appends are then dropped on publish.
    pub(crate) deleted: bool,
    /// Next offset to hand out at enqueue (counts records not yet durable).
    pub(crate) next_offset: u64,
    /// Largest timestamp handed out at enqueue; `i64::MIN` if none.
    pub(crate) last_assigned_ts: i64,
    /// First retained offset.
    pub(crate) start: u64,
    /// Sealed segments, oldest first, covering `[start, sealed_end)` without gaps.
    pub(crate) segments: VecDeque<Arc<Segment>>,
    /// End of the sealed part.
    pub(crate) sealed_end: u64,
    /// Durable unsealed records `[sealed_end, end)`.
    pub(crate) tail: VecDeque<TailRecord>,
    /// Key + value bytes in `tail`.
    pub(crate) tail_bytes: u64,
}

impl LogInner {
    /// The state of a freshly created log.
    pub(crate) fn empty() -> LogInner {
        LogInner {
            deleted: false,
            next_offset: 0,
            last_assigned_ts: i64::MIN,
            start: 0,
            segments: VecDeque::new(),
            sealed_end: 0,
            tail: VecDeque::new(),
            tail_bytes: 0,
        }
    }

    /// Drops all data (the log was deleted).
    pub(crate) fn clear_data(&mut self) {
        self.tail.clear();
        self.tail_bytes = 0;
        self.segments.clear();
    }

    /// Next offset among durable records.
    pub(crate) fn end(&self) -> u64 {
        self.sealed_end + self.tail.len() as u64
    }

    /// Timestamp of record `end - 1`, if retained.
    pub(crate) fn last_timestamp_ms(&self) -> Option<i64> {
        match self.tail.back() {
            Some(last) => Some(last.record.timestamp_ms),
            None => self.segments.back().map(|s| s.summary().last_ts),
        }
    }

    /// The sealed segment holding `offset`, if it is in `[start, sealed_end)`.
    pub(crate) fn segment_for(&self, offset: u64) -> Option<Arc<Segment>> {
        let index = self.segments.partition_point(|s| s.end() <= offset);
        self.segments
            .get(index)
            .filter(|s| s.base_offset() <= offset)
            .cloned()
    }

    pub(crate) fn bounds(&self) -> LogBounds {
        LogBounds {
            start: self.start,
            end: self.end(),
            last_timestamp_ms: self.last_timestamp_ms(),
        }
    }

    /// Journal file holding the oldest unsealed record, if any.
    pub(crate) fn oldest_journal_seq(&self) -> Option<u64> {
        self.tail.front().map(|t| t.journal_seq)
    }

    /// Copies tail records from offset `from` (in the tail: `sealed_end <= from < end`) into
    /// `out` while `limits` admit them.
    pub(crate) fn read_tail(
        &self,
        from: u64,
        limits: &mut ReadLimits,
        out: &mut Vec<StoredRecord>,
    ) {
        for tail_record in self.tail.range(self.tail_index(from)..) {
            if !limits.admit(tail_record.record.data_len()) {
                break;
            }
            out.push(tail_record.record.clone());
        }
    }

    /// Appends durable records to the tail; they must continue the log densely.
    pub(crate) fn push_tail(&mut self, records: impl IntoIterator<Item = StoredRecord>, seq: u64) {
        for record in records {
            debug_assert_eq!(record.offset, self.end(), "tail offsets are dense");
            self.tail_bytes += record.data_len() as u64;
            self.tail.push_back(TailRecord {
                record,
                journal_seq: seq,
            });
        }
    }

    /// Index into `tail` of offset `offset` (which must be in `[sealed_end, end)`).
    pub(crate) fn tail_index(&self, offset: u64) -> usize {
        usize::try_from(offset - self.sealed_end).expect("tail length fits in memory")
    }
}

impl LogState {
    pub(crate) fn new(id: LogId, dir: PathBuf, inner: LogInner) -> LogState {
        let (end_tx, _) = watch::channel(inner.end());
        LogState {
            id,
            dir,
            inner: Mutex::new(inner),
            end_tx,
        }
    }

    /// A receiver of the durable end.
    pub(crate) fn subscribe(&self) -> watch::Receiver<u64> {
        self.end_tx.subscribe()
    }

    /// Tells tail readers about a new durable end.
    pub(crate) fn publish_end(&self, end: u64) {
        self.end_tx.send_replace(end);
    }
}

/// Counts records against a read's limits.
#[derive(Debug)]
pub(crate) struct ReadLimits {
    max_records: usize,
    max_bytes: usize,
    records: usize,
    bytes: usize,
    /// Set once a record was refused: the read must stop there, even if a later, smaller
    /// record would fit.
    refused: bool,
}

impl ReadLimits {
    pub(crate) fn new(max_records: usize, max_bytes: usize) -> ReadLimits {
        ReadLimits {
            max_records,
            max_bytes,
            records: 0,
            bytes: 0,
            refused: false,
        }
    }

    /// Whether no further record can be taken, whatever its size.
    pub(crate) fn full(&self) -> bool {
        self.refused
            || self.records >= self.max_records
            || (self.records > 0 && self.bytes >= self.max_bytes)
    }

    /// Takes a record of `len` bytes if the limits allow; the first record is always taken.
    pub(crate) fn admit(&mut self, len: usize) -> bool {
        if self.refused
            || self.records >= self.max_records
            || (self.records > 0 && self.bytes.saturating_add(len) > self.max_bytes)
        {
            self.refused = true;
            return false;
        }
        self.records += 1;
        self.bytes = self.bytes.saturating_add(len);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn record(offset: u64, len: usize) -> StoredRecord {
        StoredRecord {
            offset,
            timestamp_ms: offset as i64,
            key: Bytes::new(),
            value: Bytes::from(vec![0; len]),
        }
    }

    #[test]
    fn limits_take_at_least_one_record() {
        let mut limits = ReadLimits::new(10, 5);
        assert!(limits.admit(100));
        assert!(!limits.admit(1));
        assert!(limits.full());
    }

    #[test]
    fn limits_stay_closed_after_a_refusal() {
        let mut limits = ReadLimits::new(10, 10);
        assert!(limits.admit(0));
        assert!(!limits.admit(11));
        assert!(limits.full(), "a smaller later record must not be taken");
        assert!(!limits.admit(0));
    }

    #[test]
    fn limits_stop_before_exceeding_bytes() {
        let mut limits = ReadLimits::new(10, 10);
        assert!(limits.admit(4));
        assert!(limits.admit(6));
        assert!(!limits.admit(1));
        let mut limits = ReadLimits::new(2, 1000);
        assert!(limits.admit(1));
        assert!(limits.admit(1));
        assert!(!limits.admit(1));
        let mut none = ReadLimits::new(0, 1000);
        assert!(none.full());
        assert!(!none.admit(1));
    }

    #[test]
    fn tail_tracks_end_bytes_and_journal_files() {
        let mut inner = LogInner {
            deleted: false,
            next_offset: 3,
            last_assigned_ts: 0,
            start: 0,
            segments: VecDeque::new(),
            sealed_end: 0,
            tail: VecDeque::new(),
            tail_bytes: 0,
        };
        assert_eq!(inner.oldest_journal_seq(), None);
        inner.push_tail([record(0, 3), record(1, 4)], 5);
        inner.push_tail([record(2, 5)], 6);
        assert_eq!(inner.end(), 3);
        assert_eq!(inner.tail_bytes, 12);
        assert_eq!(inner.oldest_journal_seq(), Some(5));
        assert_eq!(inner.last_timestamp_ms(), Some(2));
        assert_eq!(inner.tail_index(2), 2);
    }
}
