//! Firehose: delivery streams that take records (`PutRecord`, `PutRecordBatch`), keep them
//! durably in a Spate log, and deliver them in buffered, compressed batches to a destination,
//! advancing a durable checkpoint only once the destination has confirmed.
//!
//! Layout: `api` (the operation table of `Firehose_20150804`), `ops/` (one module per
//! operation), `model` (a delivery stream as stored), `settings` (each destination's
//! configuration and description: S3 there, the HTTP endpoint, Splunk, OpenSearch and Redshift
//! in `settings/`), `service` (streams, log, workers), `delivery/` (the worker that buffers and
//! delivers), `destination/` (where batches go: S3 objects, HTTP endpoint requests, Splunk HEC,
//! OpenSearch `_bulk`, Redshift as COPY into PostgreSQL through an intermediate bucket, with
//! retries and the S3 error output), `compress` (GZIP, ZIP,
//! Snappy, Hadoop-Snappy), `keys` (S3 object keys and prefix expressions), `crypto`
//! (server-side encryption of held records), `processing/` (record processors and dynamic
//! partitioning of the S3 destinations), `convert/` (JSON records to Parquet or ORC with a Glue
//! table's columns).

pub mod api;
pub mod compress;
pub mod config;
pub mod convert;
mod crypto;
pub mod delivery;
pub mod destination;
pub mod error;
pub mod keys;
pub mod model;
pub mod ops;
pub mod processing;
pub mod readers;
pub mod service;
pub mod settings;
pub mod source;

pub use api::{SIGNING_NAME, TARGET_PREFIX};
pub use config::FirehoseConfig;
pub use error::FirehoseError;
pub use service::FirehoseService;
pub use source::KinesisApi;
