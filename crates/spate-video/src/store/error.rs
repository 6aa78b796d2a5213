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
    /// The fragment's metadata names a media offset already taken: nothing was written.
    #[error("media offset {offset} is already taken (the media log ends at {end})")]
    OffsetTaken {
        /// The offset the metadata carried.
        offset: u64,
        /// The media log's end.
        end: u64,
    },
    /// A chunk longer than `u32::MAX` bytes.
    #[error("chunk of {0} bytes is too large")]
    ChunkTooLarge(usize),
    /// A blocking storage task did not finish.
    #[error("storage task failed: {0}")]
    Task(String),
}
