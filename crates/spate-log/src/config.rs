//! Engine settings: durability mode, journal roll size, sealing thresholds, memory bounds.

use std::time::Duration;

/// When an append is acknowledged.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Durability {
    /// After the journal bytes are fsynced (`fdatasync`). One fsync covers a whole commit group.
    #[default]
    Fsync,
    /// After the journal bytes are handed to the OS with `write()`; a machine crash may lose
    /// acknowledged records, a process crash does not.
    Os,
}

/// Settings of one engine instance.
#[derive(Clone, Debug)]
pub struct LogConfig {
    /// When appends are acknowledged.
    pub durability: Durability,
    /// The journal rolls to a new file once the current one is larger than this.
    pub journal_file_bytes: u64,
    /// A log's in-memory tail is sealed into a segment file once it holds this many bytes.
    pub seal_bytes: u64,
    /// ... or once its oldest unsealed record is older than this.
    pub seal_age: Duration,
    /// Upper bound on segment data and indexes cached in memory for reads.
    pub read_cache_bytes: u64,
    /// Upper bound on durable but unsealed records held in memory, all logs together. At or
    /// above it, appends wait and the sealer seals the largest tails whatever their size or
    /// age; so appends run no faster than sealing can follow, and memory stays bounded.
    pub max_unsealed_bytes: u64,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            durability: Durability::Fsync,
            journal_file_bytes: 64 * 1024 * 1024,
            seal_bytes: 4 * 1024 * 1024,
            seal_age: Duration::from_secs(60),
            read_cache_bytes: 64 * 1024 * 1024,
            max_unsealed_bytes: 64 * 1024 * 1024,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_documented_values() {
        let config = LogConfig::default();
        assert_eq!(config.durability, Durability::Fsync);
        assert_eq!(config.journal_file_bytes, 64 << 20);
        assert_eq!(config.seal_bytes, 4 << 20);
        assert_eq!(config.seal_age, Duration::from_secs(60));
        assert_eq!(config.read_cache_bytes, 64 << 20);
        assert_eq!(config.max_unsealed_bytes, 64 << 20);
    }
}
