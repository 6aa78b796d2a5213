//! Helpers shared by the unit tests of several modules.

use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;

use crate::{AppendRecord, Clock, Log, LogConfig, ManualClock, StoredRecord};

pub(crate) fn record(key: &str, value: &str) -> AppendRecord {
    AppendRecord {
        key: Bytes::copy_from_slice(key.as_bytes()),
        value: Bytes::copy_from_slice(value.as_bytes()),
    }
}

pub(crate) fn open(dir: &Path, config: LogConfig, clock: &Arc<ManualClock>) -> Log {
    let clock: Arc<dyn Clock> = clock.clone();
    Log::open(dir, config, clock).expect("open")
}

pub(crate) fn values(records: &[StoredRecord]) -> Vec<String> {
    records
        .iter()
        .map(|r| String::from_utf8_lossy(&r.value).into_owned())
        .collect()
}

/// Names of the files in `dir`, sorted.
pub(crate) fn file_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("list dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}
