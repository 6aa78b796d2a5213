//! Spate's storage engine: per-shard logs of records with dense offsets, stored durably on
//! local disk.
//!
//! Every append lands first in a node-wide **journal** (`journal`), written by one thread with
//! **group commit** (`writer`): many concurrent appends cost one `write()` and one fsync. Once
//! durable, records join their log's **in-memory tail** (`state`), from which recent reads are
//! served. Recovery at open (`recovery`) replays the journal, truncating a torn tail by checksum.
//!
//! Resident memory per log: a few counters, the in-memory tail (durable records not yet sealed),
//! and a small metadata struct per sealed segment.
//!
//! Time comes only through [`Clock`]; all disk formats are documented in their modules and
//! checksummed with CRC32C.

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
pub use engine::Log;
pub use error::LogError;
pub use types::{AppendRecord, Appended, LogBounds, LogId, StoredRecord};
