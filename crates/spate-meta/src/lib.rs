//! Spate's metadata store: the control-plane state (streams, shards, tags, counters) behind one
//! transactional key-value trait, [`MetaStore`], with its backends.
//!
//! The trait is shaped like etcd, because etcd is the scale-out backend (DESIGN.md section 7):
//! a sorted space of string keys mapping to byte values, one global revision counter that every
//! changing transaction advances, each key remembering the revision that last wrote it, and
//! atomic multi-key transactions guarded by [`Check`]s. Read-modify-write is done optimistically:
//! read an [`Entry`], then commit with [`Check::Revision`] on what was read, and retry on
//! [`Outcome::Conflict`].
//!
//! Backends:
//! - [`RedbStore`]: the embedded single-node default, one redb file, every commit fsynced.
//! - [`MemoryStore`]: the same semantics in memory, for fast tests of the crates above.
//!
//! [`conformance`] is the one test suite every backend must pass.

pub mod conformance;
mod error;
mod memory;
mod redb_store;
mod txn;

pub use error::MetaError;
pub use memory::MemoryStore;
pub use redb_store::RedbStore;
pub use txn::{Check, Entry, Op, Outcome, Txn, validate_key};

/// A transactional, revisioned, sorted key-value store.
///
/// Keys are non-empty strings ordered by their UTF-8 bytes (the order etcd uses); values are
/// arbitrary bytes, the empty value included. Reads see only committed transactions, each one
/// whole.
///
/// Revisions, as in etcd:
/// - one global counter; a store where nothing was ever committed is at revision 0;
/// - a committed transaction that changes at least one key takes the next revision, and every
///   key it writes carries that revision ([`Entry::revision`]);
/// - a transaction that changes nothing (only checks, or only deletes of absent keys) commits
///   without taking a revision and reports the current one;
/// - a conflict or a rejected request takes no revision.
///
/// Requests are validated the same way by every backend ([`Txn::validate`], [`validate_key`]):
/// keys are non-empty and a transaction writes each key at most once.
#[async_trait::async_trait]
pub trait MetaStore: Send + Sync + std::fmt::Debug + 'static {
    /// The value and revision of `key`, or `None` if it does not exist.
    async fn get(&self, key: &str) -> Result<Option<Entry>, MetaError>;

    /// All keys starting with prefix, in ascending key order.
    ///
    /// The result is one consistent snapshot. The empty prefix returns every key.
    async fn scan_prefix(&self, prefix: &str) -> Result<Vec<(String, Entry)>, MetaError>;

    /// Atomically: if every check holds, apply every op under one new revision and return
    /// Committed; otherwise change nothing and return Conflict.
    /// Durable (fsynced) before it returns Committed.
    ///
    /// An invalid transaction (see [`Txn::validate`]) fails with
    /// [`MetaError::InvalidArgument`] and changes nothing.
    async fn commit(&self, txn: Txn) -> Result<Outcome, MetaError>;

    /// The current global revision (0 for a fresh store).
    async fn revision(&self) -> Result<u64, MetaError>;
}
