//! Plain data types of the engine's API: log ids, records in and out, bounds.

use std::fmt;

use bytes::Bytes;

/// Identifies one log (one shard's record sequence). Chosen by the caller; never reused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LogId(pub u64);

impl fmt::Display for LogId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// One record to append.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppendRecord {
    /// Opaque key bytes (the partition key, for Kinesis).
    pub key: Bytes,
    /// Opaque value bytes.
    pub value: Bytes,
}

/// Where an appended record landed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Appended {
    /// Its offset in the log (dense: 0, 1, 2, ...).
    pub offset: u64,
    /// Its arrival timestamp, epoch milliseconds; never smaller than the previous record's.
    pub timestamp_ms: i64,
}

/// A durable record as read back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredRecord {
    /// Offset in the log.
    pub offset: u64,
    /// Arrival timestamp, epoch milliseconds.
    pub timestamp_ms: i64,
    /// Key bytes.
    pub key: Bytes,
    /// Value bytes.
    pub value: Bytes,
}

impl StoredRecord {
    /// Bytes counted against read limits and seal thresholds: key plus value.
    pub fn data_len(&self) -> usize {
        self.key.len() + self.value.len()
    }
}

/// The readable range of a log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LogBounds {
    /// First retained offset.
    pub start: u64,
    /// Next offset to be assigned among durable records; `[start, end)` is readable.
    pub end: u64,
    /// Timestamp of record `end - 1`, if it exists and is retained.
    pub last_timestamp_ms: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_id_displays_as_its_number() {
        assert_eq!(LogId(42).to_string(), "42");
        assert!(LogId(1) < LogId(2));
    }

    #[test]
    fn data_len_counts_key_and_value() {
        let record = StoredRecord {
            offset: 0,
            timestamp_ms: 0,
            key: Bytes::from_static(b"ab"),
            value: Bytes::from_static(b"cde"),
        };
        assert_eq!(record.data_len(), 5);
    }
}
