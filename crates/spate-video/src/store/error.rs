//! Errors of the fragment store.

use spate_log::LogError;

/// Everything that can go wrong in the fragment store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The storage engine failed.
    #[error(transparent)]
    Log(#[from] LogError),
    /// Stored bytes do not decode.
    #[error("corrupt video store data: {0}")]
    Corrupt(String),
    /// The media log assigned another offset than the fragment's metadata named: the
    /// caller's `next_number` was stale (another writer, or a lost append).
    #[error("fragment stored at media offset {got}, expected {expected}")]
    OffsetMismatch {
        /// The offset the metadata carried.
        expected: u64,
        /// The offset the log assigned.
        got: u64,
    },
    /// A chunk longer than `u32::MAX` bytes.
    #[error("chunk of {0} bytes is too large")]
    ChunkTooLarge(usize),
    /// A blocking storage task did not finish.
    #[error("storage task failed: {0}")]
    Task(String),
}
