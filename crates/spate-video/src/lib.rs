//! Kinesis Video Streams: video streams and signaling channels, served on the `kinesisvideo`
//! rest-json API (`POST /createStream`, ...), authenticated with the signing name
//! `kinesisvideo`.
//!
//! Layout: `api` (the path → operation table, including the data-plane and WebRTC paths that
//! answer an error naming their operation until they are built), `ops/` (one module per
//! control-plane operation; the four edge-agent operations share `ops/edge`), `model`
//! (streams and channels as stored, their status over time), `service` (the account's streams
//! and channels, written through to the metadata store), `config` (`[video]`), `error`
//! (`VideoError` and its mapping to AWS error types and statuses).
//!
//! Fragments: `store` keeps each stream's fragments in two `spate-log` logs (media and
//! index) with fragment numbers and time lookups; `tokens` seals NextTokens and session
//! tokens. Still to come (see the plan in the repository's notes): wiring the store into the
//! service, and the streaming entry points the server calls (PutMedia, GetMedia,
//! ListFragments, HLS/DASH, clips, images) over the `spate-mkv` crate.

pub mod api;
pub mod config;
pub mod error;
pub mod images;
pub mod ingest;
pub mod model;
pub mod mp4_errors;
pub mod ops;
pub mod service;
pub mod store;
pub mod tokens;

pub use api::SIGNING_NAME;
pub use config::VideoConfig;
pub use error::VideoError;
pub use service::{Call, VideoService};
