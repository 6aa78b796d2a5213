//! Kinesis Data Streams semantics over Spate's log and metadata store.
//!
//! This crate owns what a Data Streams operation means: typed requests and responses (one module
//! per operation under [`ops`]), their validation with AWS's messages, stream and shard metadata
//! ([`model`], persisted through [`registry`]), the hash key space ([`hashing`]), sequence numbers
//! ([`sequence`]), shard iterators ([`iterator`]), and encryption at rest: a key store standing in
//! for KMS ([`kms`]) and the stored form of records ([`envelope`]). Records live in `spate-log`, one log per
//! shard; metadata lives in `spate-meta`. It knows nothing of HTTP: the server hands it an
//! operation name, a body and its encoding, awsJson or CBOR ([`StreamsService::handle`]), and gets
//! a body in the same encoding or an error back.

pub mod access;
pub mod account;
pub mod api;
pub mod autoscale;
pub mod config;
pub mod consumers;
pub mod envelope;
pub mod error;
pub mod hashing;
pub mod iterator;
pub mod kms;
pub mod model;
pub mod ops;
pub mod quota;
pub mod registry;
pub mod resharding;
pub mod routing;
pub mod sequence;
pub mod service;
pub mod shapes;
pub mod sse;
pub mod validation;

pub use api::TARGET_PREFIX;
pub use config::StreamsConfig;
pub use error::StreamsError;
pub use service::StreamsService;
