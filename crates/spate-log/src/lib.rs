//! Spate's storage engine: per-shard logs of records with dense offsets, stored durably on
//! local disk. It knows nothing of HTTP, AWS shapes or SQL.
//!
//! How a record travels, and which module owns each step:
//! - [`Log::append`] assigns offsets and timestamps and queues the records (`engine`); one
//!   writer thread commits everything queued as a group: one `write()` and one fsync to the
//!   node-wide **journal** (`writer`, format in `journal`), then publishes the records to their
//!   logs' **in-memory tails** (`state`) and wakes the appenders. Records are readable only once
//!   durable.
//! - A sealer thread (`sealer`) turns tails into immutable per-log **segment** files (format in
//!   `segment`) by size or age, then deletes journal files whose records are all sealed.
//!   Reads of sealed offsets go through a bounded **cache** of segment indexes and record
//!   chunks (`cache`).
//! - **Retention** (`retention`) deletes whole segment files and records the new start.
//! - **Recovery** (`recovery`) at open loads segments, replays the journal and truncates a torn
//!   tail by checksum.
//!
//! On-disk layout under the engine directory: `journal/<seq>.jnl`, `logs/<id>/<base>.seg`,
//! `logs/<id>/retention`. Every format is versioned, CRC32C-checksummed, documented in its
//! module and pinned by a fixture in `tests/fixtures/`.
//!
//! What stays resident: per log, a few counters, its watch channel, one small metadata struct
//! per segment file (path, base offset, count, first/last timestamp, index position; no file
//! handle, no data), and its tail of durable unsealed records (sealed past `seal_bytes` or
//! `seal_age`). Engine-wide: the tails of all logs together (bounded by `max_unsealed_bytes`;
//! appenders wait beyond it while the sealer seals the largest tails), the read cache (bounded
//! by `read_cache_bytes`; a read caches only the chunk it stops in, so scans do not fill it),
//! the commit queue (bounded to 64 MiB of records; appenders wait beyond that), the writer's
//! group buffer (the size of one group, at most the queue) and the set of journal file
//! numbers. Retained data on disk does not grow memory.
//!
//! Time comes only through [`Clock`], so tests drive timestamps and age-based sealing with a
//! [`ManualClock`].

mod cache;
mod clock;
mod config;
mod engine;
mod error;
mod frame;
mod fsutil;
mod journal;
mod recovery;
mod retention;
mod sealer;
mod segment;
mod state;
#[cfg(test)]
mod testutil;
mod types;
mod writer;

pub use clock::{Clock, ManualClock, SystemClock};
pub use config::{Durability, LogConfig};
#[doc(hidden)]
pub use engine::EngineStats;
pub use engine::{Log, MAX_RECORD_BYTES};
pub use error::LogError;
pub use types::{AppendRecord, Appended, LogBounds, LogId, StoredRecord};
