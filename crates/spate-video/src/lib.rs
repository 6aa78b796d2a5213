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
//! tokens; `media` reads fragments back as the `video/webm` bodies of GetMedia (following
//! live data) and GetMediaForFragmentList, over the `spate-mkv` crate (`ops/get_media`,
//! `ops/get_media_for_fragment_list`; `ops/list_fragments` lists them by time). Still to come
//! (see the plan in the repository's notes): PutMedia, HLS/DASH, clips, images.

pub mod api;
pub mod config;
pub mod error;
pub mod ingest;
pub mod media;
pub mod model;
mod mp4_errors;
pub mod ops;
pub mod playback;
pub mod service;
pub mod store;
mod token_key;
pub mod tokens;

pub use api::SIGNING_NAME;
pub use config::VideoConfig;
pub use error::VideoError;
pub use service::{Call, VideoService};
