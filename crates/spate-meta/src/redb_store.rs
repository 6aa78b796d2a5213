//! [`RedbStore`]: the embedded, single-node metadata backend, one redb file.
//!
//! # On-disk format (format version 1)
//!
//! Two redb tables:
//! - `kv` (`&str` -> `&[u8]`): one row per key. The row value is the key's revision as 8 bytes
//!   little-endian, followed by the value bytes (possibly none). A row shorter than 8 bytes is
//!   reported as [`MetaError::Corrupt`].
//! - `meta` (`&str` -> `u64`): `format` = 1, and `revision` = the global revision (0 when nothing
//!   has been committed). Both are written when the file is first created; a file that has `kv`
//!   rows but no `format`, or another `format`, is refused.
//!
//! # Durability and threads
//!
//! Every changing commit is a redb write transaction with [`Durability::Immediate`]: it is on disk
//! (fsynced) when [`MetaStore::commit`] returns. Checks are evaluated inside the same write
//! transaction, and redb runs one write transaction at a time, so check-then-apply is atomic.
//! Reads run in redb read transactions, each one a consistent snapshot.
//!
//! All redb calls block, so they run on tokio's blocking pool (`spawn_blocking`). Writers first
//! queue on an async mutex, so a burst of commits waits on the runtime rather than parking one
//! blocking thread each inside redb's writer lock.
//!
//! The file is opened with an integrity check, so a file damaged outside redb fails to open with
//! [`MetaError::Corrupt`] instead of risking a panic later; metadata files are small, so the check
//! is cheap.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use redb::{
    Database, DatabaseError, Durability, ReadableDatabase, ReadableTable, ReadableTableMetadata,
    TableDefinition, WriteTransaction,
};

use crate::{Entry, MetaError, MetaStore, Op, Outcome, Txn, validate_key};

/// Key -> (revision, value); see the module doc for the row layout.
const KV: TableDefinition<&str, &[u8]> = TableDefinition::new("kv");
/// Store-wide counters: the format version and the global revision.
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
const FORMAT_KEY: &str = "format";
const REVISION_KEY: &str = "revision";
const FORMAT_VERSION: u64 = 1;
/// Bytes of the revision prefix of a `kv` row.
const REVISION_BYTES: usize = 8;
/// redb's page cache cap. Metadata is small; redb's 1 GiB default is meant for data stores.
const CACHE_BYTES: usize = 64 * 1024 * 1024;

/// The embedded [`MetaStore`]: one redb file, every commit durable.
pub struct RedbStore {
    db: Arc<Database>,
    path: PathBuf,
    /// Serializes commits on the async side; see the module doc.
    writer: tokio::sync::Mutex<()>,
}

impl fmt::Debug for RedbStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedbStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl RedbStore {
    /// Opens the store at `path`, creating the file if absent (its directory must exist).
    ///
    /// Blocks on disk I/O (and an integrity check of the file): call it at startup or from
    /// `spawn_blocking`. Fails with [`MetaError::AlreadyOpen`] if another handle has the file.
    pub fn open(path: &Path) -> Result<RedbStore, MetaError> {
        let mut builder = Database::builder();
        builder
            .set_cache_size(CACHE_BYTES)
            .set_check_integrity_on_open(true);
        let db = builder.create(path).map_err(|err| match err {
            DatabaseError::DatabaseAlreadyOpen | DatabaseError::LockProtocolMismatch => {
                MetaError::AlreadyOpen {
                    path: path.to_path_buf(),
                }
            }
            other => redb_error(other),
        })?;
        let revision = initialize(&db)?;
        tracing::debug!(path = %path.display(), revision, "opened metadata store");
        Ok(RedbStore {
            db: Arc::new(db),
            path: path.to_path_buf(),
            writer: tokio::sync::Mutex::new(()),
        })
    }

    /// The file this store lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `work` against the database on the blocking pool.
    async fn blocking<T, F>(&self, work: F) -> Result<T, MetaError>
    where
        T: Send + 'static,
        F: FnOnce(&Database) -> Result<T, MetaError> + Send + 'static,
    {
        let db = Arc::clone(&self.db);
        tokio::task::spawn_blocking(move || work(&db))
            .await
            .map_err(MetaError::from_join)?
    }
}

#[async_trait::async_trait]
impl MetaStore for RedbStore {
    async fn get(&self, key: &str) -> Result<Option<Entry>, MetaError> {
        validate_key(key)?;
        let key = key.to_owned();
        self.blocking(move |db| {
            let read = db.begin_read().map_err(redb_error)?;
            let kv = read.open_table(KV).map_err(redb_error)?;
            let row = kv.get(key.as_str()).map_err(redb_error)?;
            match row {
                None => Ok(None),
                Some(row) => decode_row(&key, row.value()).map(Some),
            }
        })
        .await
    }

    async fn scan_prefix(&self, prefix: &str) -> Result<Vec<(String, Entry)>, MetaError> {
        let prefix = prefix.to_owned();
        self.blocking(move |db| {
            let read = db.begin_read().map_err(redb_error)?;
            let kv = read.open_table(KV).map_err(redb_error)?;
            let mut found = Vec::new();
            for row in kv.range(prefix.as_str()..).map_err(redb_error)? {
                let (key, value) = row.map_err(redb_error)?;
                let key = key.value();
                if !key.starts_with(prefix.as_str()) {
                    break;
                }
                let entry = decode_row(key, value.value())?;
                found.push((key.to_owned(), entry));
            }
            Ok(found)
        })
        .await
    }

    async fn commit(&self, txn: Txn) -> Result<Outcome, MetaError> {
        txn.validate()?;
        let _writer = self.writer.lock().await;
        self.blocking(move |db| commit_blocking(db, txn)).await
    }

    async fn revision(&self) -> Result<u64, MetaError> {
        self.blocking(|db| {
            let read = db.begin_read().map_err(redb_error)?;
            let meta = read.open_table(META).map_err(redb_error)?;
            read_revision(&meta)
        })
        .await
    }
}

/// Creates the tables and the format marker in a new file, or checks them in an existing one.
/// Returns the current revision.
fn initialize(db: &Database) -> Result<u64, MetaError> {
    let mut write = db.begin_write().map_err(redb_error)?;
    write
        .set_durability(Durability::Immediate)
        .map_err(redb_error)?;
    let (revision, created) = {
        let kv = write.open_table(KV).map_err(redb_error)?;
        let mut meta = write.open_table(META).map_err(redb_error)?;
        let format = meta.get(FORMAT_KEY).map_err(redb_error)?.map(|v| v.value());
        match format {
            Some(FORMAT_VERSION) => (read_revision(&meta)?, false),
            Some(other) => {
                return Err(MetaError::Corrupt(format!(
                    "unsupported metadata format version {other} (this build reads {FORMAT_VERSION})"
                )));
            }
            None => {
                if !kv.is_empty().map_err(redb_error)? {
                    return Err(MetaError::Corrupt(
                        "metadata file has records but no format marker".into(),
                    ));
                }
                meta.insert(FORMAT_KEY, FORMAT_VERSION)
                    .map_err(redb_error)?;
                meta.insert(REVISION_KEY, 0).map_err(redb_error)?;
                (0, true)
            }
        }
    };
    if created {
        write.commit().map_err(redb_error)?;
    } else {
        write.abort().map_err(redb_error)?;
    }
    Ok(revision)
}

/// Evaluates the checks and applies the ops in one redb write transaction.
fn commit_blocking(db: &Database, txn: Txn) -> Result<Outcome, MetaError> {
    let mut write = db.begin_write().map_err(redb_error)?;
    write
        .set_durability(Durability::Immediate)
        .map_err(redb_error)?;
    let applied = apply(&write, txn)?;
    match applied {
        Applied::Changed { revision } => {
            write.commit().map_err(redb_error)?;
            Ok(Outcome::Committed { revision })
        }
        Applied::Unchanged { revision } => {
            write.abort().map_err(redb_error)?;
            Ok(Outcome::Committed { revision })
        }
        Applied::Conflict => {
            write.abort().map_err(redb_error)?;
            Ok(Outcome::Conflict)
        }
    }
}

/// What [`apply`] did inside the (not yet committed) write transaction.
enum Applied {
    /// At least one key changed, under this new revision: commit.
    Changed { revision: u64 },
    /// The checks held but nothing changed: abort, and report the current revision.
    Unchanged { revision: u64 },
    /// A check failed before anything was written: abort.
    Conflict,
}

fn apply(write: &WriteTransaction, txn: Txn) -> Result<Applied, MetaError> {
    let mut kv = write.open_table(KV).map_err(redb_error)?;
    let mut meta = write.open_table(META).map_err(redb_error)?;
    let current = read_revision(&meta)?;

    for check in &txn.checks {
        let row = kv.get(check.key()).map_err(redb_error)?;
        let found = match row {
            None => None,
            Some(row) => Some(decode_revision(check.key(), row.value())?),
        };
        if !check.holds(found) {
            return Ok(Applied::Conflict);
        }
    }

    let next = current
        .checked_add(1)
        .ok_or_else(|| MetaError::Corrupt(format!("revision counter {current} cannot advance")))?;
    let mut changed = false;
    for op in txn.ops {
        match op {
            Op::Put(key, value) => {
                let row = encode_row(next, &value);
                kv.insert(key.as_str(), row.as_slice())
                    .map_err(redb_error)?;
                changed = true;
            }
            Op::Delete(key) => {
                let removed = kv.remove(key.as_str()).map_err(redb_error)?;
                changed |= removed.is_some();
            }
        }
    }
    if !changed {
        return Ok(Applied::Unchanged { revision: current });
    }
    meta.insert(REVISION_KEY, next).map_err(redb_error)?;
    Ok(Applied::Changed { revision: next })
}

fn read_revision(meta: &impl ReadableTable<&'static str, u64>) -> Result<u64, MetaError> {
    let revision = meta.get(REVISION_KEY).map_err(redb_error)?;
    match revision {
        Some(revision) => Ok(revision.value()),
        None => Err(MetaError::Corrupt("the revision counter is missing".into())),
    }
}

fn encode_row(revision: u64, value: &[u8]) -> Vec<u8> {
    let mut row = Vec::with_capacity(REVISION_BYTES + value.len());
    row.extend_from_slice(&revision.to_le_bytes());
    row.extend_from_slice(value);
    row
}

/// Splits a `kv` row into its revision and its value bytes.
fn split_row<'row>(key: &str, row: &'row [u8]) -> Result<(u64, &'row [u8]), MetaError> {
    let Some((revision, value)) = row.split_first_chunk::<REVISION_BYTES>() else {
        return Err(MetaError::Corrupt(format!(
            "record of key {key:?} is {} bytes, shorter than its revision",
            row.len()
        )));
    };
    Ok((u64::from_le_bytes(*revision), value))
}

fn decode_revision(key: &str, row: &[u8]) -> Result<u64, MetaError> {
    split_row(key, row).map(|(revision, _)| revision)
}

fn decode_row(key: &str, row: &[u8]) -> Result<Entry, MetaError> {
    let (revision, value) = split_row(key, row)?;
    Ok(Entry {
        value: value.to_vec(),
        revision,
    })
}

/// Maps any redb failure into the store's error.
fn redb_error(err: impl Into<redb::Error>) -> MetaError {
    match err.into() {
        redb::Error::Io(err) => MetaError::Io(err),
        redb::Error::Corrupted(reason) => MetaError::Corrupt(reason),
        redb::Error::DatabaseClosed => MetaError::Closed,
        redb::Error::TableDoesNotExist(table) => {
            MetaError::Corrupt(format!("table {table:?} is missing"))
        }
        other => MetaError::Backend(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::{Check, conformance};

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn redb_store_passes_conformance() -> TestResult {
        let dir = tempfile::tempdir()?;
        let opened = AtomicUsize::new(0);
        let make = || {
            let n = opened.fetch_add(1, Ordering::Relaxed);
            RedbStore::open(&dir.path().join(format!("meta-{n}.redb")))
                .expect("a new file in a fresh temporary directory opens")
        };
        conformance::run_all(make).await;
        Ok(())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn reopen_keeps_values_revisions_and_counter() -> TestResult {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("meta.redb");

        let store = RedbStore::open(&path)?;
        let first = store
            .commit(Txn::new().put("s/a", b"1".to_vec()).put("s/b", Vec::new()))
            .await?;
        let second = store
            .commit(
                Txn::new()
                    .put("s/c", vec![7u8; 100_000])
                    .put("gone", b"x".to_vec()),
            )
            .await?;
        store.commit(Txn::new().delete("gone")).await?;
        let before = store.scan_prefix("").await?;
        let revision_before = store.revision().await?;
        assert_eq!(first, Outcome::Committed { revision: 1 });
        assert_eq!(second, Outcome::Committed { revision: 2 });
        assert_eq!(revision_before, 3);
        drop(store);

        let store = RedbStore::open(&path)?;
        assert_eq!(store.scan_prefix("").await?, before);
        assert_eq!(store.revision().await?, revision_before);
        assert_eq!(store.get("gone").await?, None);
        assert_eq!(
            store.get("s/a").await?,
            Some(Entry {
                value: b"1".to_vec(),
                revision: 1
            })
        );
        // The counter continues where it stopped, and checks see the reloaded revisions.
        let next = store
            .commit(
                Txn::new()
                    .check(Check::Revision("s/a".into(), 1))
                    .put("s/a", b"2".to_vec()),
            )
            .await?;
        assert_eq!(next, Outcome::Committed { revision: 4 });
        Ok(())
    }

    #[tokio::test]
    async fn a_second_open_of_the_same_file_is_refused() -> TestResult {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("meta.redb");
        let _store = RedbStore::open(&path)?;
        let again = RedbStore::open(&path);
        assert!(
            matches!(&again, Err(MetaError::AlreadyOpen { path: p }) if *p == path),
            "{again:?}"
        );
        Ok(())
    }

    #[test]
    fn a_file_that_is_not_a_database_fails_to_open() -> TestResult {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("meta.redb");
        std::fs::write(&path, vec![0xA5u8; 64 * 1024])?;
        let opened = RedbStore::open(&path);
        assert!(opened.is_err(), "{opened:?}");
        Ok(())
    }

    #[test]
    fn a_missing_directory_is_an_io_error() {
        let opened = RedbStore::open(Path::new("/nonexistent-spate-dir/meta.redb"));
        assert!(matches!(opened, Err(MetaError::Io(_))), "{opened:?}");
    }

    #[tokio::test]
    async fn a_truncated_record_is_reported_as_corrupt() -> TestResult {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("meta.redb");
        drop(RedbStore::open(&path)?);
        {
            // Write a row too short to hold a revision, behind the store's back.
            let db = Database::create(&path)?;
            let write = db.begin_write()?;
            write
                .open_table(KV)?
                .insert("bad", [1u8, 2, 3].as_slice())?;
            write.commit()?;
        }
        let store = RedbStore::open(&path)?;
        assert!(matches!(store.get("bad").await, Err(MetaError::Corrupt(_))));
        assert!(matches!(
            store.scan_prefix("").await,
            Err(MetaError::Corrupt(_))
        ));
        let checked = store
            .commit(Txn::new().check(Check::Present("bad".into())))
            .await;
        assert!(matches!(checked, Err(MetaError::Corrupt(_))), "{checked:?}");
        // A put replaces the row without reading it, which repairs the key.
        store.commit(Txn::new().put("bad", b"ok".to_vec())).await?;
        assert_eq!(
            store.get("bad").await?.map(|entry| entry.value),
            Some(b"ok".to_vec())
        );
        Ok(())
    }

    #[test]
    fn an_unknown_format_version_is_refused() -> TestResult {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("meta.redb");
        drop(RedbStore::open(&path)?);
        {
            let db = Database::create(&path)?;
            let write = db.begin_write()?;
            write.open_table(META)?.insert(FORMAT_KEY, 99)?;
            write.commit()?;
        }
        let opened = RedbStore::open(&path);
        assert!(matches!(opened, Err(MetaError::Corrupt(_))), "{opened:?}");
        Ok(())
    }

    #[test]
    fn rows_round_trip() -> Result<(), MetaError> {
        let row = encode_row(42, b"value");
        assert_eq!(row.len(), REVISION_BYTES + 5);
        assert_eq!(
            decode_row("k", &row)?,
            Entry {
                value: b"value".to_vec(),
                revision: 42
            }
        );
        let empty = decode_row("k", &encode_row(u64::MAX, b""))?;
        assert_eq!(empty.revision, u64::MAX);
        assert!(empty.value.is_empty());
        assert!(matches!(
            decode_row("k", &[0u8; 7]),
            Err(MetaError::Corrupt(_))
        ));
        Ok(())
    }
}
