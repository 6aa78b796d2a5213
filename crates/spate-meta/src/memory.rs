//! [`MemoryStore`]: the metadata store in memory, with exactly the semantics of the durable
//! backends (it passes the same [`conformance`](crate::conformance) suite), for fast unit tests
//! of the crates built on [`MetaStore`].
//!
//! All state sits behind one mutex, taken for the duration of a single call and never across an
//! `.await`; each call is a few map operations, so it does not block the runtime noticeably.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::Arc;

use parking_lot::Mutex;

use crate::{Entry, MetaError, MetaStore, Op, Outcome, Txn, validate_key};

/// An in-memory [`MetaStore`]. Clones share the same data, so a test can hand one clone to the
/// code under test and inspect or "restart" with another.
#[derive(Clone, Debug, Default)]
pub struct MemoryStore {
    state: Arc<Mutex<State>>,
}

#[derive(Debug, Default)]
struct State {
    entries: BTreeMap<String, Entry>,
    revision: u64,
}

impl MemoryStore {
    /// An empty store at revision 0.
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }
}

#[async_trait::async_trait]
impl MetaStore for MemoryStore {
    async fn get(&self, key: &str) -> Result<Option<Entry>, MetaError> {
        validate_key(key)?;
        Ok(self.state.lock().entries.get(key).cloned())
    }

    async fn scan_prefix(&self, prefix: &str) -> Result<Vec<(String, Entry)>, MetaError> {
        let state = self.state.lock();
        let mut found = Vec::new();
        let from: Bound<&str> = Bound::Included(prefix);
        for (key, entry) in state.entries.range::<str, _>((from, Bound::Unbounded)) {
            if !key.starts_with(prefix) {
                break;
            }
            found.push((key.clone(), entry.clone()));
        }
        Ok(found)
    }

    async fn commit(&self, txn: Txn) -> Result<Outcome, MetaError> {
        txn.validate()?;
        let mut state = self.state.lock();
        for check in &txn.checks {
            let current = state.entries.get(check.key()).map(|entry| entry.revision);
            if !check.holds(current) {
                return Ok(Outcome::Conflict);
            }
        }
        let changes_something = txn.ops.iter().any(|op| match op {
            Op::Put(..) => true,
            Op::Delete(key) => state.entries.contains_key(key),
        });
        if !changes_something {
            return Ok(Outcome::Committed {
                revision: state.revision,
            });
        }
        let revision = state.revision + 1;
        for op in txn.ops {
            match op {
                Op::Put(key, value) => {
                    state.entries.insert(key, Entry { value, revision });
                }
                Op::Delete(key) => {
                    state.entries.remove(&key);
                }
            }
        }
        state.revision = revision;
        Ok(Outcome::Committed { revision })
    }

    async fn revision(&self) -> Result<u64, MetaError> {
        Ok(self.state.lock().revision)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conformance;

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn memory_store_passes_conformance() {
        conformance::run_all(MemoryStore::new).await;
    }

    #[tokio::test]
    async fn clones_share_data() -> Result<(), MetaError> {
        let first = MemoryStore::new();
        let second = first.clone();
        first.commit(Txn::new().put("k", b"v".to_vec())).await?;
        let entry = second.get("k").await?;
        assert_eq!(
            entry,
            Some(Entry {
                value: b"v".to_vec(),
                revision: 1
            })
        );
        assert_eq!(second.revision().await?, 1);
        Ok(())
    }
}
