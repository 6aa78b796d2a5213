//! Spate's Matroska (MKV) library for Kinesis Video Streams, pure code (no I/O, no clock).
//!
//! - PutMedia ingest: [`Splitter`] takes the body in arbitrary slices and emits [`Event`]s
//!   (segment header, cluster start/end, producer Tags); every refusal is a [`MkvError`] whose
//!   [`MkvError::ack_error`] is the ERROR acknowledgement's id and code. Modules: `vint` and
//!   `ebml` (EBML integers and elements), `ids`, `header` (Info/Tracks), `cluster` (blocks,
//!   validation, the stored rewrite), `timing` (producer timestamps, fragment order).
//! - Storage: [`StoredChunk`] is a fragment's stored value, format v1 (`chunk`).
//! - Playback: [`emit_chunk`]/[`emit_error`] write GetMedia's output with the
//!   `AWS_KINESISVIDEO_*` tags (`emit`, `tags`); [`samples()`] gives PTS/DTS/duration per frame for
//!   MP4 muxing (`samples`); [`Merger`] turns GetMedia output back into one playable MKV
//!   (`merge`, for `spate video get`).
//!
//! Untrusted input: sizes are bounded by [`SplitterConfig`], arithmetic on input values is
//! checked, and no allocation is sized from a length field before its bytes have arrived.

pub mod chunk;
pub mod cluster;
pub mod ebml;
pub mod emit;
pub mod error;
pub mod header;
pub mod ids;
pub mod merge;
pub mod samples;
pub mod splitter;
pub mod tags;
pub mod timing;
pub mod vint;

pub use chunk::StoredChunk;
pub use cluster::{BlockRef, RawCluster};
pub use emit::{ChunkTags, emit_chunk, emit_error};
pub use error::{AckError, MkvError};
pub use header::{MediaHeader, TrackInfo, TrackKind};
pub use merge::Merger;
pub use samples::{Sample, samples};
pub use splitter::{Event, Splitter, SplitterConfig};
pub use timing::{FragmentTimes, TimecodeType, check_order, fragment_times, producer_timestamp_ms};
