//! Kinesis Video Streams: video streams and signaling channels (the `kinesisvideo` control
//! plane), media ingest (PutMedia), reading back (GetMedia, GetMediaForFragmentList,
//! ListFragments) and playback (HLS and DASH sessions), all rest-json, authenticated with the
//! signing name `kinesisvideo`.
//!
//! Layout:
//! - `api`: the path → operation table; WebRTC paths and what is not built yet answer an
//!   error naming their operation. `Reply` is a JSON body or a streamed media body.
//! - `ops/`: one module per operation (the four edge-agent operations share `ops/edge`, the two
//!   streaming-session operations `ops/streaming_session`).
//! - `model` (streams and channels as stored, their status over time), `service` (the
//!   account's streams and channels, written through to the metadata store; maintenance),
//!   `config` (`[video]`), `error` (`VideoError` and its mapping to AWS error types), and
//!   `mp4_errors` (muxing failures as AWS exceptions).
//! - `store/`: each stream's fragments in two `spate-log` logs (media and index) of the
//!   account's `video-log/` engine, with fragment numbers and time lookups.
//! - `ingest/`: PutMedia sessions (split, check, number, store, acknowledge).
//! - `media/`: GetMedia and GetMediaForFragmentList bodies, produced by a task per call.
//! - `playback/`: HLS and DASH sessions (sealed session tokens, playlists, manifests) and the
//!   players' GETs, with fMP4 segments muxed on request by `spate-mp4`.
//! - `tokens` (sealed NextTokens and session tokens) under the account's key (`token_key`).
//!
//! MKV parsing and writing is the `spate-mkv` crate; MP4 muxing the `spate-mp4` crate.

pub mod api;
pub mod config;
pub mod error;
pub mod images;
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
