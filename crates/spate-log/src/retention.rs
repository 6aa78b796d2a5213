//! Retention: dropping whole sealed segments by age, and the small per-log file that remembers
//! where a log starts once its oldest segments are gone.
//!
//! # `retention` file format, version 1
//!
//! `<dir>/logs/<log id>/retention`, 36 bytes, replaced atomically (temp file, fsync, rename,
//! directory fsync):
//!
//! ```text
//! magic "SPATERET" | version u32 LE = 1 | reserved u32 LE = 0 | start u64 LE
//! | last_trimmed_ts i64 LE | crc32c of the preceding 32 bytes, u32 LE
//! ```
//!
//! `start` is the first retained offset; `last_trimmed_ts` the newest timestamp dropped, which
//! keeps timestamps monotonic even when every record was trimmed. The file is written before
//! segment files are removed, so recovery deletes any segment lying wholly below `start`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::engine::Shared;
use crate::frame::Reader;
use crate::fsutil::{sync_dir, write_atomically};
use crate::state::LogState;
use crate::{LogError, LogId};

const RETENTION_MAGIC: [u8; 8] = *b"SPATERET";
const RETENTION_VERSION: u32 = 1;
const RETENTION_LEN: usize = 36;
/// Name of the retention file in a log directory.
pub(crate) const RETENTION_FILE: &str = "retention";

/// Contents of a log's retention file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RetentionMark {
    pub(crate) start: u64,
    pub(crate) last_trimmed_ts: i64,
}

pub(crate) fn encode_mark(mark: RetentionMark) -> Vec<u8> {
    let mut buf = Vec::with_capacity(RETENTION_LEN);
    buf.extend_from_slice(&RETENTION_MAGIC);
    buf.extend_from_slice(&RETENTION_VERSION.to_le_bytes());
    buf.extend_from_slice(&0u32.to_le_bytes());
    buf.extend_from_slice(&mark.start.to_le_bytes());
    buf.extend_from_slice(&mark.last_trimmed_ts.to_le_bytes());
    let crc = crc32c::crc32c(&buf);
    buf.extend_from_slice(&crc.to_le_bytes());
    buf
}

pub(crate) fn decode_mark(bytes: &[u8]) -> Result<RetentionMark, String> {
    if bytes.len() != RETENTION_LEN {
        return Err(format!("retention file has {} bytes", bytes.len()));
    }
    let (covered, crc) = bytes.split_at(RETENTION_LEN - 4);
    if crc32c::crc32c(covered).to_le_bytes() != crc {
        return Err("retention file checksum mismatch".to_owned());
    }
    let mut reader = Reader::new(covered);
    if reader.array::<8>() != Some(RETENTION_MAGIC) {
        return Err("missing retention magic".to_owned());
    }
    if reader.u32() != Some(RETENTION_VERSION) {
        return Err("unsupported retention file version".to_owned());
    }
    let _reserved = reader.u32();
    match (reader.u64(), reader.i64()) {
        (Some(start), Some(last_trimmed_ts)) => Ok(RetentionMark {
            start,
            last_trimmed_ts,
        }),
        _ => Err("truncated retention file".to_owned()),
    }
}

/// Reads a log directory's retention file, if it has one.
pub(crate) fn read_mark(log_dir: &Path) -> Result<Option<RetentionMark>, LogError> {
    let path = log_dir.join(RETENTION_FILE);
    match std::fs::read(&path) {
        Ok(bytes) => decode_mark(&bytes)
            .map(Some)
            .map_err(|reason| LogError::corrupt(&path, reason)),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(LogError::io(|| format!("reading {}", path.display()))(err)),
    }
}

/// Drops the log's oldest sealed segments whose newest record is older than `cutoff_ms`.
/// Returns how many records were dropped.
pub(crate) fn trim_before(shared: &Shared, id: LogId, cutoff_ms: i64) -> Result<u64, LogError> {
    let _maintenance = shared.maintenance.lock();
    let state: Arc<LogState> = shared.state(id)?;
    let (old_start, doomed): (u64, Vec<PathBuf>) = {
        let inner = state.inner.lock();
        let doomed = inner
            .segments
            .iter()
            .take_while(|s| s.summary().last_ts < cutoff_ms)
            .map(|s| s.path().to_owned())
            .collect();
        (inner.start, doomed)
    };
    if doomed.is_empty() {
        return Ok(0);
    }
    let (new_start, last_trimmed_ts) = {
        let inner = state.inner.lock();
        let last = &inner.segments[doomed.len() - 1];
        (last.end(), last.summary().last_ts)
    };
    write_mark(&state, new_start, last_trimmed_ts)?;
    {
        let mut inner = state.inner.lock();
        inner.segments.drain(..doomed.len());
        inner.start = new_start;
    }
    remove_segment_files(&state, &doomed)?;
    Ok(new_start - old_start)
}

/// See [`crate::Log::discard_before`]. Holds the maintenance lock, as sealing does, so no seal
/// runs meanwhile: the records it takes from the tail are the sealer's otherwise.
pub(crate) fn discard_before(shared: &Shared, id: LogId, offset: u64) -> Result<u64, LogError> {
    let _maintenance = shared.maintenance.lock();
    let state: Arc<LogState> = shared.state(id)?;
    let (old_start, doomed, new_start, last_trimmed_ts) = {
        let inner = state.inner.lock();
        let offset = offset.min(inner.end());
        let doomed: Vec<PathBuf> = inner
            .segments
            .iter()
            .take_while(|segment| segment.end() <= offset)
            .map(|segment| segment.path().to_owned())
            .collect();
        let (new_start, last_trimmed_ts) = if offset > inner.sealed_end {
            let last = &inner.tail[inner.tail_index(offset - 1)];
            (offset, last.record.timestamp_ms)
        } else if let Some(count) = doomed.len().checked_sub(1) {
            let last = &inner.segments[count];
            (last.end(), last.summary().last_ts)
        } else {
            return Ok(0);
        };
        (inner.start, doomed, new_start, last_trimmed_ts)
    };
    if new_start <= old_start {
        return Ok(0);
    }
    // The mark first: recovery then skips the dropped segments and journal records.
    write_mark(&state, new_start, last_trimmed_ts)?;
    let dropped_unsealed = {
        let mut inner = state.inner.lock();
        inner.segments.drain(..doomed.len());
        let mut dropped = 0u64;
        while inner
            .tail
            .front()
            .is_some_and(|oldest| oldest.record.offset < new_start)
        {
            if let Some(oldest) = inner.tail.pop_front() {
                dropped += oldest.record.data_len() as u64;
            }
        }
        inner.tail_bytes -= dropped;
        inner.sealed_end = inner.sealed_end.max(new_start);
        inner.start = new_start;
        dropped
    };
    shared.remove_unsealed(dropped_unsealed);
    remove_segment_files(&state, &doomed)?;
    Ok(new_start - old_start)
}

/// Makes `start` (and the newest timestamp dropped) the log's durable retention mark.
fn write_mark(state: &LogState, start: u64, last_trimmed_ts: i64) -> Result<(), LogError> {
    write_atomically(
        &state.dir.join(RETENTION_FILE),
        &encode_mark(RetentionMark {
            start,
            last_trimmed_ts,
        }),
    )
}

/// Removes the files of segments already dropped from the log's state, durably.
fn remove_segment_files(state: &LogState, doomed: &[PathBuf]) -> Result<(), LogError> {
    if doomed.is_empty() {
        return Ok(());
    }
    // Readers holding a dropped segment may still be reading it; Unix keeps unlinked files
    // readable while open, and a reader that finds it gone restarts from the new start.
    for path in doomed {
        if let Err(err) = std::fs::remove_file(path) {
            tracing::warn!(path = %path.display(), error = %err, "could not remove a dropped segment");
        }
    }
    sync_dir(&state.dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_round_trip_and_reject_damage() {
        let mark = RetentionMark {
            start: 1234,
            last_trimmed_ts: -5,
        };
        let bytes = encode_mark(mark);
        assert_eq!(bytes.len(), RETENTION_LEN);
        assert_eq!(decode_mark(&bytes), Ok(mark));
        let mut damaged = bytes.clone();
        damaged[17] ^= 1;
        assert!(decode_mark(&damaged).is_err());
        assert!(decode_mark(&bytes[..35]).is_err());
    }

    #[test]
    fn format_fixture_decodes() {
        let mark = RetentionMark {
            start: 40,
            last_trimmed_ts: 1_699_999_999_000,
        };
        let fresh = encode_mark(mark);
        let bytes = crate::testutil::fixture("retention-v1", &fresh);
        assert_eq!(decode_mark(&bytes), Ok(mark));
        assert_eq!(
            bytes, fresh,
            "the retention encoding changed: bump RETENTION_VERSION"
        );
    }

    #[test]
    fn missing_mark_is_none() -> Result<(), LogError> {
        let dir = tempfile::tempdir().expect("temp dir");
        assert_eq!(read_mark(dir.path())?, None);
        let mark = RetentionMark {
            start: 9,
            last_trimmed_ts: 99,
        };
        write_atomically(&dir.path().join(RETENTION_FILE), &encode_mark(mark))?;
        assert_eq!(read_mark(dir.path())?, Some(mark));
        Ok(())
    }
}

#[cfg(test)]
mod engine_tests {
    use std::sync::Arc;

    use crate::testutil::{file_names, open, record, values};
    use crate::{LogBounds, LogConfig, LogError, LogId, ManualClock};

    #[test]
    fn trim_drops_whole_old_segments_and_survives_reopen() -> Result<(), LogError> {
        let dir = tempfile::tempdir().expect("temp dir");
        let clock = Arc::new(ManualClock::new(1_000));
        let log = open(dir.path(), LogConfig::default(), &clock);
        log.create_log(LogId(1))?;
        // Segments: [0,2) at ts 1000, [2,4) at ts 2000, tail [4,5) at 3000.
        for ts in [1_000, 2_000] {
            clock.set(ts);
            log.append_blocking(vec![(LogId(1), vec![record("k", "a"), record("k", "b")])])?;
            log.seal_now()?;
        }
        clock.set(3_000);
        log.append_blocking(vec![(LogId(1), vec![record("k", "c")])])?;

        assert_eq!(
            log.trim_before(LogId(1), 1_000)?,
            0,
            "nothing strictly older"
        );
        assert_eq!(log.trim_before(LogId(1), 1_001)?, 2);
        assert_eq!(log.bounds(LogId(1))?.start, 2);
        assert_eq!(log.read(LogId(1), 0, 10, 100)?[0].offset, 2);
        assert_eq!(log.offset_at_or_after(LogId(1), 0)?, 2);
        assert_eq!(log.trim_before(LogId(1), i64::MAX)?, 2, "never the tail");
        assert_eq!(
            log.bounds(LogId(1))?,
            LogBounds {
                start: 4,
                end: 5,
                last_timestamp_ms: Some(3_000)
            }
        );
        assert_eq!(file_names(&dir.path().join("logs/1")), vec!["retention"]);
        drop(log);

        let log = open(dir.path(), LogConfig::default(), &clock);
        assert_eq!(log.bounds(LogId(1))?.start, 4);
        assert_eq!(values(&log.read(LogId(1), 0, 10, 100)?), vec!["c"]);
        log.seal_now()?;
        assert_eq!(log.trim_before(LogId(1), i64::MAX)?, 1);
        drop(log);

        // Everything trimmed: offsets and timestamps still continue.
        let log = open(dir.path(), LogConfig::default(), &clock);
        assert_eq!(
            log.bounds(LogId(1))?,
            LogBounds {
                start: 5,
                end: 5,
                last_timestamp_ms: None
            }
        );
        assert!(log.read(LogId(1), 0, 10, 100)?.is_empty());
        assert_eq!(log.offset_at_or_after(LogId(1), 0)?, 5);
        clock.set(0);
        let next = log.append_blocking(vec![(LogId(1), vec![record("k", "d")])])?;
        assert_eq!(next[0][0].offset, 5);
        assert_eq!(next[0][0].timestamp_ms, 3_000);
        Ok(())
    }

    #[test]
    fn discard_drops_segments_and_tail_records_for_good() -> Result<(), LogError> {
        let dir = tempfile::tempdir().expect("temp dir");
        let clock = Arc::new(ManualClock::new(1_000));
        let log = open(dir.path(), LogConfig::default(), &clock);
        log.create_log(LogId(1))?;
        // Segment [0,2), tail [2,5).
        log.append_blocking(vec![(LogId(1), vec![record("k", "a"), record("k", "b")])])?;
        log.seal_now()?;
        clock.set(2_000);
        let tail: Vec<_> = ["c", "d", "e"].iter().map(|v| record("k", v)).collect();
        log.append_blocking(vec![(LogId(1), tail)])?;
        let unsealed = log.stats().unsealed_bytes;

        assert_eq!(log.discard_before(LogId(1), 1)?, 0, "not inside a segment");
        assert_eq!(log.discard_before(LogId(1), 4)?, 4);
        assert_eq!(log.bounds(LogId(1))?.start, 4);
        assert_eq!(values(&log.read(LogId(1), 0, 10, 100)?), vec!["e"]);
        assert_eq!(
            log.stats().unsealed_bytes,
            unsealed / 3,
            "two of three tail records"
        );
        assert_eq!(file_names(&dir.path().join("logs/1")), vec!["retention"]);
        assert_eq!(log.discard_before(LogId(1), 3)?, 0, "never backwards");
        drop(log);

        // The journal still holds c and d: recovery must not bring them back.
        let log = open(dir.path(), LogConfig::default(), &clock);
        assert_eq!(log.bounds(LogId(1))?.start, 4);
        assert_eq!(values(&log.read(LogId(1), 0, 10, 100)?), vec!["e"]);
        let next = log.append_blocking(vec![(LogId(1), vec![record("k", "f")])])?;
        assert_eq!(next[0][0].offset, 5);
        log.seal_now()?;
        assert_eq!(values(&log.read(LogId(1), 4, 10, 100)?), vec!["e", "f"]);
        assert_eq!(
            log.discard_before(LogId(1), 100)?,
            2,
            "up to the end, no further"
        );
        assert_eq!(log.bounds(LogId(1))?.start, 6);
        drop(log);

        let log = open(dir.path(), LogConfig::default(), &clock);
        assert_eq!(log.bounds(LogId(1))?.start, 6);
        assert!(log.read(LogId(1), 0, 10, 100)?.is_empty());
        Ok(())
    }

    #[test]
    fn discarded_tail_records_do_not_pin_journal_files() -> Result<(), LogError> {
        let dir = tempfile::tempdir().expect("temp dir");
        let clock = Arc::new(ManualClock::new(1_000));
        let config = LogConfig {
            journal_file_bytes: 256,
            seal_bytes: 1 << 30,
            ..LogConfig::default()
        };
        let log = open(dir.path(), config, &clock);
        log.create_log(LogId(1))?;
        for round in 0..40 {
            let value = format!("{round:0>64}");
            log.append_blocking(vec![(LogId(1), vec![record("k", &value)])])?;
        }
        assert!(log.stats().journal_files > 10);
        assert_eq!(log.discard_before(LogId(1), 40)?, 40);
        log.run_maintenance()?;
        let stats = log.stats();
        assert!(stats.journal_files <= 2, "{stats:?}");
        assert_eq!(stats.segments_sealed, 0, "nothing was written twice");
        assert_eq!(stats.unsealed_bytes, 0);
        Ok(())
    }

    #[test]
    fn offset_at_or_after_spans_segments_and_tail() -> Result<(), LogError> {
        let dir = tempfile::tempdir().expect("temp dir");
        let clock = Arc::new(ManualClock::new(0));
        let log = open(dir.path(), LogConfig::default(), &clock);
        log.create_log(LogId(1))?;
        for round in 0..4 {
            clock.set(100 * (round + 1));
            log.append_blocking(vec![(LogId(1), vec![record("k", "a"), record("k", "b")])])?;
            if round < 3 {
                log.seal_now()?;
            }
        }
        // Timestamps 100,100 | 200,200 | 300,300 | tail 400,400.
        for (ts, expected) in [
            (0, 0),
            (100, 0),
            (150, 2),
            (200, 2),
            (300, 4),
            (301, 6),
            (400, 6),
            (401, 8),
        ] {
            assert_eq!(log.offset_at_or_after(LogId(1), ts)?, expected, "ts {ts}");
        }
        Ok(())
    }
}
