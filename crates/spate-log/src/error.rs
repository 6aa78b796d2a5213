//! Errors of the storage engine, with a classifier for callers that retry.

use std::path::PathBuf;

use crate::LogId;

/// Everything that can go wrong in the storage engine.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// The log does not exist (never created, or deleted).
    #[error("unknown log {0}")]
    UnknownLog(LogId),
    /// A record's key plus value exceeds [`MAX_RECORD_BYTES`](crate::MAX_RECORD_BYTES).
    #[error("record of {size} bytes exceeds the limit of {max} bytes")]
    RecordTooLarge {
        /// Key plus value bytes of the offending record.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// An operating-system I/O call failed.
    #[error("i/o error while {context}: {source}")]
    Io {
        /// What the engine was doing, with the path involved.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// Bytes on disk do not decode or fail their checksum where a torn write cannot explain it.
    #[error("corrupt data in {}: {reason}", path.display())]
    Corrupt {
        /// The file holding the bad bytes.
        path: PathBuf,
        /// What is wrong with them.
        reason: String,
    },
    /// The engine was closed (explicitly or by dropping the last handle).
    #[error("the log engine is closed")]
    Closed,
    /// A journal write or fsync failed earlier; the engine accepts no more appends (fail-stop).
    /// Restarting the process runs recovery and clears this state.
    #[error("the log engine stopped accepting appends after a failed journal write: {reason}")]
    Poisoned {
        /// The failure that poisoned the engine.
        reason: String,
    },
}

impl LogError {
    /// Whether retrying the same call later may succeed without operator action.
    pub fn is_retryable(&self) -> bool {
        match self {
            LogError::Io { .. } => true,
            LogError::UnknownLog(_) => false,
            LogError::RecordTooLarge { .. } => false,
            LogError::Corrupt { .. } => false,
            LogError::Closed => false,
            LogError::Poisoned { .. } => false,
        }
    }

    /// Builds a closure that wraps an `io::Error` with a description of the operation.
    pub(crate) fn io(context: impl FnOnce() -> String) -> impl FnOnce(std::io::Error) -> LogError {
        move |source| LogError::Io {
            context: context(),
            source,
        }
    }

    pub(crate) fn corrupt(path: impl Into<PathBuf>, reason: impl Into<String>) -> LogError {
        LogError::Corrupt {
            path: path.into(),
            reason: reason.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_io_errors_are_retryable() {
        let io = LogError::io(|| "reading x".to_owned())(std::io::Error::other("boom"));
        assert!(io.is_retryable());
        assert!(!LogError::UnknownLog(LogId(3)).is_retryable());
        assert!(!LogError::Closed.is_retryable());
        assert!(!LogError::Poisoned { reason: "x".into() }.is_retryable());
        assert!(!LogError::corrupt("/a", "bad crc").is_retryable());
        assert_eq!(
            io.to_string(),
            "i/o error while reading x: boom",
            "context comes first"
        );
    }
}
