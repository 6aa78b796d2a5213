//! Firehose: delivery streams that take records (`PutRecord`, `PutRecordBatch`, or a Kinesis
//! data stream), keep them durably in a Spate log, and deliver them in buffered, processed and
//! compressed batches to a destination, advancing a durable checkpoint only once the destination
//! has confirmed.
//!
//! Layout: `api` (the operation table of `Firehose_20150804`), `ops/` (one module per operation),
//! `model` (delivery stream metadata as stored), `compress` (GZIP, ZIP, Snappy, Hadoop-Snappy),
//! `keys` (S3 object keys and prefix expressions), `destination/` (where batches go).

pub mod compress;
pub mod keys;
