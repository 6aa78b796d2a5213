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

/// Reads a checked-in format fixture from `tests/fixtures/`. With the environment variable
/// `SPATE_REGENERATE_FIXTURES` set, first (re)writes it from `fresh` — do that only for a
/// deliberate format change, together with a version bump.
pub(crate) fn fixture(name: &str, fresh: &[u8]) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    if std::env::var_os("SPATE_REGENERATE_FIXTURES").is_some() {
        std::fs::create_dir_all(path.parent().expect("fixtures dir")).expect("create fixtures dir");
        std::fs::write(&path, fresh).expect("write fixture");
    }
    std::fs::read(&path).unwrap_or_else(|err| panic!("fixture {}: {err}", path.display()))
}

fn stored(
    offset: u64,
    timestamp_ms: i64,
    key: &'static [u8],
    value: &'static [u8],
) -> StoredRecord {
    StoredRecord {
        offset,
        timestamp_ms,
        key: Bytes::from_static(key),
        value: Bytes::from_static(value),
    }
}

/// The records in `tests/fixtures/journal-v1.jnl`, in file order.
pub(crate) fn journal_fixture_records() -> Vec<(crate::LogId, StoredRecord)> {
    use crate::LogId;
    vec![
        (LogId(7), stored(43, 1_700_000_000_000, b"k1", b"hello")),
        (LogId(9), stored(0, 1_700_000_000_000, b"", b"")),
        (
            LogId(7),
            stored(44, 1_700_000_000_005, b"key-3", &[0, 1, 2, 255]),
        ),
    ]
}

/// The records in `tests/fixtures/segment-v1.seg` (log 7, base offset 40).
pub(crate) fn segment_fixture_records() -> Vec<StoredRecord> {
    vec![
        stored(40, 1_699_999_999_990, b"a", b"first"),
        stored(41, 1_699_999_999_995, b"", b""),
        stored(
            42,
            1_699_999_999_999,
            b"partition-key",
            &[0xde, 0xad, 0xbe, 0xef],
        ),
    ]
}
