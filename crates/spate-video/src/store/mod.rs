//! The fragment store: each stream's fragments in two spate-log logs (plan §2.2).
//!
//! - **media**: one record per fragment, key = the 64-byte [`FragmentMeta`], value = the
//!   stored chunk.
//! - **index**: one record per fragment, empty key, value = the same 64 bytes; small, so time
//!   lookups binary-search it without touching chunks.
//!
//! Both records go in one [`Log::append`] (one journal write, one fsync); the journal keeps
//! commit order, so a torn tail can only lose the index record of the last fragments, which
//! [`FragmentStore::recover`] rebuilds from the media keys. Index records carry
//! `media_offset`; lookups never assume index and media offsets are equal.
//!
//! Submodules: `number` (fragment numbers), `meta` (the 64-byte encoding), `index` (time
//! lookups over the index log), `recovery` (index behind media), `error`.
//!
//! Reads (`get`, `list`, `locate`, `recover`) may touch segment files: the async methods run
//! them on the blocking pool.

mod error;
mod index;
mod meta;
mod number;
mod recovery;

use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use spate_log::{AppendRecord, Clock, Log, LogConfig, LogError, LogId};
use tokio::sync::watch;

pub use error::StoreError;
pub use meta::{FLAG_DISCONTINUITY, FLAG_KEY_FRAME, FragmentMeta, META_LEN};
pub use number::{FragmentNumber, ParseFragmentNumberError};

/// The two logs of one stream. Ids are allocated by the caller (the service's `video/log-id`
/// counter) and never reused: the journal may still hold a deleted log's records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct StreamLogs {
    /// One record per fragment: key = metadata, value = chunk.
    pub media: LogId,
    /// One record per fragment: value = metadata.
    pub index: LogId,
}

/// Which timestamp a time range selects on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeAxis {
    /// The producer's timestamps; not monotone across sessions.
    Producer,
    /// Arrival at the server; monotone in offset.
    Server,
}

/// A listing request: fragments whose timestamp on `axis` lies in `[start_ms, end_ms]`, with
/// a media offset past `after`, at most `limit`, in offset order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ListQuery {
    /// The timestamp the range applies to.
    pub axis: TimeAxis,
    /// Inclusive start, epoch ms.
    pub start_ms: i64,
    /// Inclusive end, epoch ms.
    pub end_ms: i64,
    /// Only fragments with a media offset greater than this (pagination).
    pub after: Option<u64>,
    /// At most this many fragments.
    pub limit: usize,
}

/// Fragments of every stream of one account, over one storage engine.
#[derive(Clone, Debug)]
pub struct FragmentStore {
    log: Log,
}

impl FragmentStore {
    /// Opens (creating if absent) the engine in `dir`.
    pub fn open(
        dir: &Path,
        config: LogConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<FragmentStore, StoreError> {
        Ok(FragmentStore::with_log(Log::open(dir, config, clock)?))
    }

    /// A store over an engine already open.
    pub fn with_log(log: Log) -> FragmentStore {
        FragmentStore { log }
    }

    /// The engine, for maintenance (sealing) and tests.
    pub fn log(&self) -> &Log {
        &self.log
    }

    /// Creates the stream's two logs; creating existing logs does nothing.
    pub fn create(&self, logs: StreamLogs) -> Result<(), StoreError> {
        self.log.create_log(logs.media)?;
        self.log.create_log(logs.index)?;
        Ok(())
    }

    /// Deletes the stream's logs and their data; missing logs are not an error.
    pub fn delete(&self, logs: StreamLogs) -> Result<(), StoreError> {
        self.delete_log(logs.media)?;
        self.delete_log(logs.index)
    }

    /// Deletes one log and its data (a log no stream owns); a missing log is not an error.
    pub fn delete_log(&self, id: LogId) -> Result<(), StoreError> {
        match self.log.delete_log(id) {
            Ok(()) | Err(LogError::UnknownLog(_)) => Ok(()),
            Err(err) => Err(err.into()),
        }
    }

    /// The number the next appended fragment will get (with no append in flight).
    pub fn next_number(&self, logs: StreamLogs) -> Result<FragmentNumber, StoreError> {
        let end = self.log.bounds(logs.media)?.end;
        Ok(FragmentNumber {
            log: logs.media.0,
            offset: end,
        })
    }

    /// Stores one fragment: its media and index records in one append (one fsync). `meta`
    /// must carry the media offset the fragment will get (from [`Self::next_number`] plus
    /// appends in flight); a mismatch is an error, never a silent renumbering. `chunk_bytes`
    /// is set from `chunk`.
    pub async fn append(
        &self,
        logs: StreamLogs,
        meta: FragmentMeta,
        chunk: Bytes,
    ) -> Result<FragmentNumber, StoreError> {
        let chunk_bytes =
            u32::try_from(chunk.len()).map_err(|_| StoreError::ChunkTooLarge(chunk.len()))?;
        let meta = FragmentMeta {
            chunk_bytes,
            ..meta
        };
        // Offsets below the end are taken: refuse before writing a record that names the
        // wrong offset. (Past the end is legitimate while other appends are in flight; the
        // check after the append covers that case.)
        let end = self.log.bounds(logs.media)?.end;
        if meta.media_offset < end {
            return Err(StoreError::OffsetTaken {
                offset: meta.media_offset,
                end,
            });
        }
        let encoded = Bytes::copy_from_slice(&meta.encode());
        let appended = self
            .log
            .append(vec![
                (
                    logs.media,
                    vec![AppendRecord {
                        key: encoded.clone(),
                        value: chunk,
                    }],
                ),
                (
                    logs.index,
                    vec![AppendRecord {
                        key: Bytes::new(),
                        value: encoded,
                    }],
                ),
            ])
            .await?;
        let got = appended
            .first()
            .and_then(|records| records.first())
            .map(|record| record.offset)
            .ok_or_else(|| StoreError::Task("append returned no offset".to_owned()))?;
        if got != meta.media_offset {
            return Err(StoreError::OffsetMismatch {
                expected: meta.media_offset,
                got,
            });
        }
        Ok(FragmentNumber {
            log: logs.media.0,
            offset: got,
        })
    }

    /// The fragment's metadata and chunk; `None` when the number names another stream's log,
    /// a trimmed fragment or one not yet written.
    pub async fn get(
        &self,
        logs: StreamLogs,
        number: FragmentNumber,
    ) -> Result<Option<(FragmentMeta, Bytes)>, StoreError> {
        if number.log != logs.media.0 {
            return Ok(None);
        }
        self.blocking(move |store| store.get_blocking(logs.media, number.offset))
            .await
    }

    fn get_blocking(
        &self,
        media: LogId,
        offset: u64,
    ) -> Result<Option<(FragmentMeta, Bytes)>, StoreError> {
        let records = self.log.read(media, offset, 1, usize::MAX)?;
        let Some(record) = records.into_iter().next() else {
            return Ok(None);
        };
        if record.offset != offset {
            return Ok(None); // trimmed: the read started at the log's start
        }
        let meta = FragmentMeta::decode(&record.key)?;
        if meta.media_offset != offset {
            return Err(StoreError::Corrupt(format!(
                "media record {offset} names offset {}",
                meta.media_offset
            )));
        }
        Ok(Some((meta, record.value)))
    }

    /// Fragments selected by `query` (see [`ListQuery`]), with their numbers.
    pub async fn list(
        &self,
        logs: StreamLogs,
        query: ListQuery,
    ) -> Result<Vec<(FragmentNumber, FragmentMeta)>, StoreError> {
        self.blocking(move |store| index::list(&store.log, logs, query))
            .await
    }

    /// The media offset of the first fragment whose timestamp on `axis` is at or after
    /// `ts_ms` (producer axis: whose producer end is after `ts_ms`, i.e. containing-or-next);
    /// `None` when there is none.
    pub async fn locate(
        &self,
        logs: StreamLogs,
        axis: TimeAxis,
        ts_ms: i64,
    ) -> Result<Option<u64>, StoreError> {
        self.blocking(move |store| index::locate(&store.log, logs, axis, ts_ms))
            .await
    }

    /// The readable media offsets `[start, end)`.
    pub fn bounds(&self, logs: StreamLogs) -> Result<(u64, u64), StoreError> {
        let bounds = self.log.bounds(logs.media)?;
        Ok((bounds.start, bounds.end))
    }

    /// A receiver of the media log's durable end, updated after each append.
    pub fn watch(&self, logs: StreamLogs) -> Result<watch::Receiver<u64>, StoreError> {
        Ok(self.log.watch_end(logs.media)?)
    }

    /// Retention: drops whole sealed segments of both logs older than `cutoff_ms` (by arrival
    /// time). Index records whose media offset is below the media start are skipped by
    /// readers. Returns the media records dropped.
    pub fn trim(&self, logs: StreamLogs, cutoff_ms: i64) -> Result<u64, StoreError> {
        let dropped = self.log.trim_before(logs.media, cutoff_ms)?;
        self.log.trim_before(logs.index, cutoff_ms)?;
        Ok(dropped)
    }

    /// Rebuilds index records the media log has and the index lacks (a torn tail); call at
    /// open, before the stream takes appends. Returns how many were rebuilt.
    pub async fn recover(&self, logs: StreamLogs) -> Result<u64, StoreError> {
        let store = self.clone();
        let missing = tokio::task::spawn_blocking(move || recovery::missing(&store.log, logs))
            .await
            .map_err(|err| StoreError::Task(err.to_string()))??;
        recovery::append_missing(&self.log, logs, missing).await
    }

    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&FragmentStore) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let store = self.clone();
        tokio::task::spawn_blocking(move || work(&store))
            .await
            .map_err(|err| StoreError::Task(err.to_string()))?
    }
}
