//! Kinesis Data Streams semantics (being written).
