//! The request and answer types of the store: entries, checks, operations, transactions.
//!
//! They mirror etcd's transaction model so that an etcd backend is a direct translation:
//! a [`Check`] is an etcd `Compare`, an [`Op`] is a `Put` or a single-key `DeleteRange`, and a
//! [`Txn`] is `Txn { compare, success }` with an empty failure branch.
//!
//! The validation rules ([`Txn::validate`]) and the revision rules are stated on
//! [`MetaStore`](crate::MetaStore).

use std::collections::HashSet;

use crate::MetaError;

/// A stored value and the revision of the transaction that last wrote it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The value bytes; may be empty (an empty value is present, not absent).
    pub value: Vec<u8>,
    /// The global revision of the transaction that last wrote this key (etcd's `mod_revision`).
    pub revision: u64,
}

/// A condition a transaction requires before it applies its operations.
#[derive(Clone, Debug)]
pub enum Check {
    /// The key must not exist.
    Absent(String),
    /// The key must exist (with any value, empty included).
    Present(String),
    /// The key must exist and have been last written at exactly this revision. Never holds for a
    /// revision of 0, since no write has revision 0.
    Revision(String, u64),
}

impl Check {
    /// The key this check reads.
    pub fn key(&self) -> &str {
        match self {
            Check::Absent(key) | Check::Present(key) | Check::Revision(key, _) => key,
        }
    }

    /// Whether the check holds, given the key's current revision (`None` when absent).
    pub fn holds(&self, current_revision: Option<u64>) -> bool {
        match (self, current_revision) {
            (Check::Absent(_), current) => current.is_none(),
            (Check::Present(_), current) => current.is_some(),
            (Check::Revision(_, expected), Some(current)) => *expected == current,
            (Check::Revision(_, _), None) => false,
        }
    }
}

/// A change a transaction applies when its checks hold.
#[derive(Clone, Debug)]
pub enum Op {
    /// Set the key to this value (creating it or replacing it).
    Put(String, Vec<u8>),
    /// Remove the key; removing an absent key is allowed and changes nothing.
    Delete(String),
}

impl Op {
    /// The key this operation writes.
    pub fn key(&self) -> &str {
        match self {
            Op::Put(key, _) | Op::Delete(key) => key,
        }
    }
}

/// An atomic compare-and-apply: if every check holds, every op is applied under one revision.
#[derive(Clone, Debug, Default)]
pub struct Txn {
    /// Conditions, all of which must hold.
    pub checks: Vec<Check>,
    /// Changes, applied together or not at all.
    pub ops: Vec<Op>,
}

impl Txn {
    /// An empty transaction (no checks, no ops).
    pub fn new() -> Txn {
        Txn::default()
    }

    /// Adds a condition.
    pub fn check(mut self, check: Check) -> Txn {
        self.checks.push(check);
        self
    }

    /// Adds a put of `value` at `key`.
    pub fn put(mut self, key: impl Into<String>, value: impl Into<Vec<u8>>) -> Txn {
        self.ops.push(Op::Put(key.into(), value.into()));
        self
    }

    /// Adds a delete of `key`.
    pub fn delete(mut self, key: impl Into<String>) -> Txn {
        self.ops.push(Op::Delete(key.into()));
        self
    }

    /// Rejects what no backend accepts: empty keys, and a key written by more than one op.
    ///
    /// Backends call this before looking at any data, so an invalid transaction fails the same
    /// way everywhere, whether or not its checks would hold.
    pub fn validate(&self) -> Result<(), MetaError> {
        for check in &self.checks {
            validate_key(check.key())?;
        }
        let mut written = HashSet::with_capacity(self.ops.len());
        for op in &self.ops {
            validate_key(op.key())?;
            if !written.insert(op.key()) {
                return Err(MetaError::InvalidArgument(format!(
                    "key {:?} is written more than once in one transaction",
                    op.key()
                )));
            }
        }
        Ok(())
    }
}

/// Rejects the empty key, which etcd does not accept and which no Spate record uses.
pub fn validate_key(key: &str) -> Result<(), MetaError> {
    if key.is_empty() {
        return Err(MetaError::InvalidArgument(
            "the empty key is not allowed".into(),
        ));
    }
    Ok(())
}

/// The answer to [`MetaStore::commit`](crate::MetaStore::commit).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Every check held and every op was applied (durably). `revision` is the revision the
    /// written keys now carry, or the current revision if the transaction changed nothing.
    Committed {
        /// The revision of this commit.
        revision: u64,
    },
    /// At least one check did not hold; nothing was changed.
    Conflict,
}

impl Outcome {
    /// Whether the transaction was applied.
    pub fn is_committed(&self) -> bool {
        matches!(self, Outcome::Committed { .. })
    }

    /// The commit revision, or `None` for a conflict.
    pub fn revision(&self) -> Option<u64> {
        match self {
            Outcome::Committed { revision } => Some(*revision),
            Outcome::Conflict => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_keeps_order() {
        let txn = Txn::new()
            .check(Check::Absent("a".into()))
            .put("a", b"1".to_vec())
            .delete("b");
        assert_eq!(txn.checks.len(), 1);
        assert!(matches!(&txn.ops[0], Op::Put(k, v) if k == "a" && v == b"1"));
        assert!(matches!(&txn.ops[1], Op::Delete(k) if k == "b"));
    }

    #[test]
    fn checks_hold_as_documented() {
        assert!(Check::Absent("k".into()).holds(None));
        assert!(!Check::Absent("k".into()).holds(Some(3)));
        assert!(Check::Present("k".into()).holds(Some(3)));
        assert!(!Check::Present("k".into()).holds(None));
        assert!(Check::Revision("k".into(), 3).holds(Some(3)));
        assert!(!Check::Revision("k".into(), 3).holds(Some(4)));
        assert!(!Check::Revision("k".into(), 3).holds(None));
        assert!(!Check::Revision("k".into(), 0).holds(None));
    }

    #[test]
    fn validate_rejects_empty_and_duplicate_keys() {
        assert!(Txn::new().put("a", b"".to_vec()).validate().is_ok());
        assert!(Txn::new().validate().is_ok());
        assert!(matches!(
            Txn::new().put("", b"x".to_vec()).validate(),
            Err(MetaError::InvalidArgument(_))
        ));
        assert!(matches!(
            Txn::new().check(Check::Present(String::new())).validate(),
            Err(MetaError::InvalidArgument(_))
        ));
        assert!(matches!(
            Txn::new().put("a", b"1".to_vec()).delete("a").validate(),
            Err(MetaError::InvalidArgument(_))
        ));
        // Several checks on one key are fine: they only read.
        assert!(
            Txn::new()
                .check(Check::Present("a".into()))
                .check(Check::Revision("a".into(), 1))
                .put("a", b"2".to_vec())
                .validate()
                .is_ok()
        );
    }

    #[test]
    fn outcome_helpers() {
        assert_eq!(Outcome::Committed { revision: 7 }.revision(), Some(7));
        assert!(Outcome::Committed { revision: 7 }.is_committed());
        assert_eq!(Outcome::Conflict.revision(), None);
        assert!(!Outcome::Conflict.is_committed());
    }
}
