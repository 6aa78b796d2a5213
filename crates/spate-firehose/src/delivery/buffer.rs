//! What the worker knows of the records waiting past its checkpoint: how many bytes, from
//! which arrival time, and where a buffer of the configured size ends. Records are counted
//! once as they arrive, not re-read on every wake-up.

use std::ops::Range;

use spate_log::StoredRecord;

/// The records from a checkpoint on, counted up to one buffer's worth.
#[derive(Debug, Clone)]
pub(crate) struct Scan {
    /// The buffer's first offset.
    from: u64,
    /// The first offset not counted yet.
    scanned_to: u64,
    /// Data bytes counted.
    bytes: u64,
    /// Arrival time of the first record counted.
    oldest_ms: Option<i64>,
}

impl Scan {
    pub(crate) fn new(checkpoint: u64) -> Scan {
        Scan {
            from: checkpoint,
            scanned_to: checkpoint,
            bytes: 0,
            oldest_ms: None,
        }
    }

    pub(crate) fn from(&self) -> u64 {
        self.from
    }

    pub(crate) fn scanned_to(&self) -> u64 {
        self.scanned_to
    }

    pub(crate) fn oldest_ms(&self) -> Option<i64> {
        self.oldest_ms
    }

    /// Whether the counted records fill a buffer of `size_limit` bytes.
    pub(crate) fn is_full(&self, size_limit: u64) -> bool {
        self.bytes >= size_limit
    }

    /// Counts `records` (consecutive from `scanned_to`) until the buffer is full, and says
    /// which of them it counted.
    pub(crate) fn add(&mut self, records: &[StoredRecord], size_limit: u64) -> Range<usize> {
        let mut counted = 0..0;
        for (index, record) in records.iter().enumerate() {
            if self.is_full(size_limit) {
                break;
            }
            if record.offset < self.scanned_to {
                continue;
            }
            if counted.is_empty() {
                counted = index..index;
            }
            counted.end = index + 1;
            self.oldest_ms.get_or_insert(record.timestamp_ms);
            self.bytes += record.value.len() as u64;
            self.scanned_to = record.offset + 1;
        }
        counted
    }

    /// The end (exclusive) of the buffer to write now.
    pub(crate) fn cut(&self) -> u64 {
        self.scanned_to
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;

    fn record(offset: u64, timestamp_ms: i64, len: usize) -> StoredRecord {
        StoredRecord {
            offset,
            timestamp_ms,
            key: Bytes::new(),
            value: Bytes::from(vec![b'x'; len]),
        }
    }

    #[test]
    fn a_buffer_ends_at_the_record_that_fills_it() {
        let mut scan = Scan::new(10);
        let records: Vec<_> = (10..20).map(|o| record(o, 1000 + o as i64, 100)).collect();
        assert_eq!(scan.add(&records[..3], 250), 0..3);
        assert_eq!(scan.oldest_ms(), Some(1010));
        assert!(scan.is_full(250));
        assert_eq!(scan.cut(), 13);
        assert!(scan.add(&records[3..], 250).is_empty());
        assert_eq!(scan.cut(), 13, "a full buffer takes no more records");
    }

    #[test]
    fn records_already_counted_are_not_counted_twice() {
        let mut scan = Scan::new(0);
        let records: Vec<_> = (0..4).map(|o| record(o, 5, 10)).collect();
        assert_eq!(scan.add(&records[..2], 1000), 0..2);
        assert_eq!(scan.add(&records, 1000), 2..4, "only the new ones");
        assert_eq!((scan.cut(), scan.bytes), (4, 40));
        assert!(!scan.is_full(1000));
    }
}
