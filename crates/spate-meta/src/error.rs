//! The one error type of the metadata layer.
//!
//! Every backend maps its own failures into [`MetaError`]; callers decide what to do with
//! [`MetaError::is_retryable`] and never need to know which backend is underneath. A
//! [`Conflict`](crate::Outcome::Conflict) is not an error: it is the normal answer of a
//! transaction whose checks did not hold.

use std::path::PathBuf;

/// A failure of the metadata store (not a failed check: that is [`Outcome::Conflict`](crate::Outcome::Conflict)).
#[derive(thiserror::Error, Debug)]
pub enum MetaError {
    /// Reading or writing the store's storage failed.
    #[error("metadata store I/O failed: {0}")]
    Io(#[from] std::io::Error),

    /// The stored data does not decode: a record is malformed or the file was damaged outside the
    /// store. An operator must act; retrying cannot help.
    #[error("metadata store is corrupt: {0}")]
    Corrupt(String),

    /// The store's file is already held by another open handle (this process or another one).
    #[error("metadata store at {} is already open elsewhere", path.display())]
    AlreadyOpen {
        /// The file that could not be locked.
        path: PathBuf,
    },

    /// The store has been shut down, or the runtime serving it is shutting down.
    #[error("metadata store is closed")]
    Closed,

    /// The request is malformed (empty key, the same key written twice in one transaction).
    /// A bug in the caller; the same request always fails the same way.
    #[error("invalid metadata request: {0}")]
    InvalidArgument(String),

    /// The backend cannot serve right now but is expected to recover (a networked backend lost
    /// its connection or is electing a leader). The embedded backends never return it.
    ///
    /// After this error from [`commit`](crate::MetaStore::commit) the transaction may or may not
    /// have been applied; a retry must be guarded by checks that make a second application fail.
    #[error("metadata store is temporarily unavailable: {0}")]
    Unavailable(String),

    /// Any other failure reported by the backend.
    #[error("metadata backend failed: {0}")]
    Backend(String),
}

impl MetaError {
    /// Whether the same request may succeed if sent again after a pause.
    ///
    /// I/O errors are not retryable: the embedded backend refuses all further writes after one
    /// (the file must be reopened), so a retry in place would only fail again.
    pub fn is_retryable(&self) -> bool {
        match self {
            MetaError::Unavailable(_) => true,
            MetaError::Io(_)
            | MetaError::Corrupt(_)
            | MetaError::AlreadyOpen { .. }
            | MetaError::Closed
            | MetaError::InvalidArgument(_)
            | MetaError::Backend(_) => false,
        }
    }

    /// Maps the failure of a `spawn_blocking` task that ran a store operation.
    pub(crate) fn from_join(err: tokio::task::JoinError) -> MetaError {
        if err.is_cancelled() {
            MetaError::Closed
        } else {
            MetaError::Backend(format!("metadata store task panicked: {err}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_unavailable_is_retryable() {
        assert!(MetaError::Unavailable("leader election".into()).is_retryable());
        assert!(!MetaError::Io(std::io::Error::other("disk")).is_retryable());
        assert!(!MetaError::Corrupt("bad record".into()).is_retryable());
        assert!(!MetaError::Closed.is_retryable());
        assert!(!MetaError::InvalidArgument("empty key".into()).is_retryable());
        assert!(!MetaError::Backend("other".into()).is_retryable());
        assert!(
            !MetaError::AlreadyOpen {
                path: PathBuf::from("/x")
            }
            .is_retryable()
        );
    }

    #[test]
    fn messages_name_the_cause() {
        let err = MetaError::AlreadyOpen {
            path: PathBuf::from("/data/meta.redb"),
        };
        assert_eq!(
            err.to_string(),
            "metadata store at /data/meta.redb is already open elsewhere"
        );
    }
}
