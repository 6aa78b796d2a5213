//! Background sealing: turning logs' in-memory tails into segment files, and deleting journal
//! files whose records are all sealed.
//!
//! The sealer thread wakes when the writer sees a tail pass `seal_bytes`, and on a timer to
//! seal tails whose oldest record is older than `seal_age` (by record timestamp, against the
//! engine's [`Clock`](crate::Clock)). A tail is sealed whole, in segments of at most
//! `seal_bytes` each. A segment is durable (file and directory fsynced) before its records
//! leave memory. When more than [`JOURNAL_FILES_BEFORE_FORCED_SEAL`] journal files exist, logs
//! holding records in the oldest one are sealed whatever their size or age, so an idle log
//! cannot pin old journal files forever. When the tails of all logs together hold
//! `max_unsealed_bytes` or more (appends then wait, see `Log::append`), the largest tails are
//! sealed whatever their size or age until they hold less than half of it. Journal files older than every log's oldest unsealed
//! record (and older than the writer's current file) are then deleted.
//!
//! Sealing failures are logged and retried: the records stay safe in the journal meanwhile.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::engine::Shared;
use crate::fsutil::{PageCache, numbered_name, sync_dir, write_atomically_with};
use crate::journal::journal_path;
use crate::recovery::JOURNAL_DIR;
use crate::segment::{SEGMENT_EXT, Segment, encode_into};
use crate::state::LogState;
use crate::{LogConfig, LogError, StoredRecord};

/// Journal files tolerated before logs pinning the oldest one are sealed early.
pub(crate) const JOURNAL_FILES_BEFORE_FORCED_SEAL: usize = 4;

/// Tells the sealer thread to work now, or to stop.
#[derive(Debug, Default)]
pub(crate) struct SealerSignal {
    pub(crate) wake: bool,
    pub(crate) stop: bool,
}

/// Buffers reused from one seal to the next (they keep the capacity of the largest segment
/// sealed so far: `seal_bytes` plus one record at most).
#[derive(Debug, Default)]
pub(crate) struct SealScratch {
    /// The segment file being built.
    encoded: Vec<u8>,
    /// The tail records going into it.
    records: Vec<StoredRecord>,
}

/// Which tails a maintenance pass seals.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SealMode {
    /// Those past `seal_bytes` or `seal_age` (and those pinning old journal files).
    Due,
    /// Every non-empty tail.
    All,
}

fn tick(config: &LogConfig) -> Duration {
    (config.seal_age / 4).clamp(Duration::from_millis(10), Duration::from_secs(1))
}

/// The sealer thread's body.
pub(crate) fn run(shared: Arc<Shared>) {
    let tick = tick(&shared.config);
    loop {
        {
            let mut signal = shared.sealer_signal.lock();
            if !signal.wake && !signal.stop {
                shared.sealer_ready.wait_for(&mut signal, tick);
            }
            if signal.stop {
                return;
            }
            signal.wake = false;
        }
        if let Err(err) = maintain(&shared, SealMode::Due) {
            tracing::warn!(error = %err, "background sealing failed; will retry");
        }
    }
}

/// One maintenance pass: seal what `mode` asks for, then delete unneeded journal files.
pub(crate) fn maintain(shared: &Shared, mode: SealMode) -> Result<(), LogError> {
    let now = shared.clock.now_ms();
    let seal_bytes = shared.config.seal_bytes;
    let seal_age_ms = i64::try_from(shared.config.seal_age.as_millis()).unwrap_or(i64::MAX);
    let logs: Vec<Arc<LogState>> = shared.logs.read().values().cloned().collect();
    for state in &logs {
        let due = {
            let inner = state.inner.lock();
            match mode {
                SealMode::All => !inner.tail.is_empty(),
                SealMode::Due => {
                    inner.tail_bytes >= seal_bytes
                        || inner.tail.front().is_some_and(|oldest| {
                            now.saturating_sub(oldest.record.timestamp_ms) >= seal_age_ms
                        })
                }
            }
        };
        if due {
            seal_log(shared, state)?;
        }
    }

    if shared.over_unsealed_limit() {
        seal_largest_tails(shared, &logs)?;
    }

    let (file_count, oldest_file) = {
        let files = shared.journal_files.lock();
        (files.len(), files.first().copied())
    };
    if file_count > JOURNAL_FILES_BEFORE_FORCED_SEAL
        && let Some(oldest_file) = oldest_file
    {
        for state in &logs {
            let pins = state
                .inner
                .lock()
                .oldest_journal_seq()
                .is_some_and(|seq| seq <= oldest_file);
            if pins {
                seal_log(shared, state)?;
            }
        }
    }
    delete_sealed_journal_files(shared)
}

/// Seals the largest tails first until all tails together hold less than half of
/// `max_unsealed_bytes`, so appenders waiting on the limit go on and do not stop again at once.
fn seal_largest_tails(shared: &Shared, logs: &[Arc<LogState>]) -> Result<(), LogError> {
    let mut by_size: Vec<(u64, &Arc<LogState>)> = Vec::with_capacity(logs.len());
    for state in logs {
        let tail_bytes = state.inner.lock().tail_bytes;
        if tail_bytes > 0 {
            by_size.push((tail_bytes, state));
        }
    }
    by_size.sort_unstable_by_key(|entry| std::cmp::Reverse(entry.0));
    let target = shared.config.max_unsealed_bytes / 2;
    for (_, state) in by_size {
        if shared.unsealed_bytes() < target {
            break;
        }
        seal_log(shared, state)?;
    }
    Ok(())
}

/// Seals the log's whole current tail into segments of at most `seal_bytes`.
pub(crate) fn seal_log(shared: &Shared, state: &LogState) -> Result<(), LogError> {
    let mut scratch = shared.maintenance.lock();
    let SealScratch { encoded, records } = &mut *scratch;
    let seal_bytes = shared.config.seal_bytes;
    let target = state.inner.lock().end();
    loop {
        records.clear();
        {
            let inner = state.inner.lock();
            if inner.deleted || inner.sealed_end >= target {
                return Ok(());
            }
            let wanted = inner.tail_index(target);
            let mut bytes = 0u64;
            for tail_record in inner.tail.iter().take(wanted) {
                let len = tail_record.record.data_len() as u64;
                if !records.is_empty() && bytes + len > seal_bytes {
                    break;
                }
                bytes += len;
                records.push(tail_record.record.clone());
            }
        }
        let summary = encode_into(state.id, records, encoded);
        let path = state
            .dir
            .join(numbered_name(summary.base_offset, SEGMENT_EXT));
        write_atomically_with(&path, encoded, PageCache::Drop)?;
        let segment = Arc::new(Segment::new(path, summary));
        {
            let mut inner = state.inner.lock();
            debug_assert_eq!(
                inner.sealed_end, summary.base_offset,
                "seals are serialized"
            );
            let sealed_count = records.len();
            // The records now live in the segment; let go of their data.
            records.clear();
            let mut sealed_bytes = 0;
            for _ in 0..sealed_count {
                let sealed = inner
                    .tail
                    .pop_front()
                    .expect("only the sealer removes tail records");
                sealed_bytes += sealed.record.data_len() as u64;
            }
            inner.tail_bytes -= sealed_bytes;
            inner.sealed_end = segment.end();
            inner.segments.push_back(segment);
            drop(inner);
            shared.remove_unsealed(sealed_bytes);
        }
        shared
            .counters
            .segments_sealed
            .fetch_add(1, Ordering::Relaxed);
    }
}

/// Deletes journal files that hold no unsealed record of a live log.
fn delete_sealed_journal_files(shared: &Shared) -> Result<(), LogError> {
    let _maintenance = shared.maintenance.lock();
    // Read the writer's file first: records not yet in any tail are in it or a later one.
    let mut keep_from = shared.current_journal.load(Ordering::Acquire);
    for state in shared.logs.read().values() {
        if let Some(seq) = state.inner.lock().oldest_journal_seq() {
            keep_from = keep_from.min(seq);
        }
    }
    let doomed: Vec<u64> = shared
        .journal_files
        .lock()
        .range(..keep_from)
        .copied()
        .collect();
    if doomed.is_empty() {
        return Ok(());
    }
    let journal_dir = shared.dir.join(JOURNAL_DIR);
    for seq in &doomed {
        let path = journal_path(&journal_dir, *seq);
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => return Err(LogError::io(|| format!("removing {}", path.display()))(err)),
        }
        shared.journal_files.lock().remove(seq);
    }
    sync_dir(&journal_dir)?;
    shared
        .counters
        .journal_files_deleted
        .fetch_add(doomed.len() as u64, Ordering::Relaxed);
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::testutil::{file_names, open, record, values};
    use crate::{LogConfig, LogError, LogId, ManualClock};

    use super::*;

    fn config() -> LogConfig {
        LogConfig {
            seal_bytes: 100,
            seal_age: Duration::from_secs(60),
            ..LogConfig::default()
        }
    }

    #[test]
    fn sealed_records_read_the_same_before_and_after_reopen() -> Result<(), LogError> {
        let dir = tempfile::tempdir().expect("temp dir");
        let clock = Arc::new(ManualClock::new(1_000));
        let log = open(dir.path(), config(), &clock);
        log.create_log(LogId(1))?;
        let mut expected = Vec::new();
        for i in 0..30 {
            clock.advance(10);
            let value = format!("value-{i:03}-{}", "x".repeat(i));
            log.append_blocking(vec![(LogId(1), vec![record("k", &value)])])?;
            expected.push(value);
            if i % 7 == 6 {
                log.seal_now()?;
            }
        }
        let before = log.read(LogId(1), 0, 1000, 1 << 20)?;
        assert_eq!(values(&before), expected);
        assert!(log.stats().segments_sealed >= 4);
        // Reads starting inside a segment, across segments and into the tail.
        for from in [0, 3, 6, 7, 13, 27, 29] {
            assert_eq!(
                log.read(LogId(1), from, 1000, 1 << 20)?,
                before[from as usize..],
                "from {from}"
            );
        }
        assert_eq!(log.read(LogId(1), 5, 4, 1 << 20)?, before[5..9]);
        drop(log);
        let log = open(dir.path(), config(), &clock);
        assert_eq!(log.read(LogId(1), 0, 1000, 1 << 20)?, before);
        assert_eq!(log.bounds(LogId(1))?.end, 30);
        assert_eq!(
            log.bounds(LogId(1))?.last_timestamp_ms,
            Some(before[29].timestamp_ms)
        );
        log.seal_now()?;
        drop(log);
        let log = open(dir.path(), config(), &clock);
        assert_eq!(log.read(LogId(1), 0, 1000, 1 << 20)?, before);
        let next = log.append_blocking(vec![(LogId(1), vec![record("k", "next")])])?;
        assert_eq!(next[0][0].offset, 30);
        Ok(())
    }

    #[test]
    fn tails_seal_by_size_and_by_age() -> Result<(), LogError> {
        let dir = tempfile::tempdir().expect("temp dir");
        let clock = Arc::new(ManualClock::new(1_000));
        let log = open(dir.path(), config(), &clock);
        log.create_log(LogId(1))?;
        log.create_log(LogId(2))?;
        let big = (0..5).map(|_| record("k", &"v".repeat(30))).collect();
        log.append_blocking(vec![(LogId(1), big), (LogId(2), vec![record("k", "v")])])?;
        log.run_maintenance()?;
        let segments = file_names(&dir.path().join("logs/1"));
        assert_eq!(
            segments,
            vec![
                "00000000000000000000.seg".to_owned(),
                "00000000000000000003.seg".to_owned()
            ],
            "165 bytes in segments of at most 100"
        );
        assert!(
            file_names(&dir.path().join("logs/2")).is_empty(),
            "small and young"
        );
        clock.advance(59_999);
        log.run_maintenance()?;
        assert!(file_names(&dir.path().join("logs/2")).is_empty());
        clock.advance(1);
        log.run_maintenance()?;
        assert_eq!(
            file_names(&dir.path().join("logs/2")),
            vec!["00000000000000000000.seg".to_owned()]
        );
        assert_eq!(values(&log.read(LogId(2), 0, 10, 100)?), vec!["v"]);
        Ok(())
    }

    #[test]
    fn idle_logs_do_not_pin_journal_files_forever() -> Result<(), LogError> {
        let dir = tempfile::tempdir().expect("temp dir");
        let clock = Arc::new(ManualClock::new(1_000));
        let config = LogConfig {
            journal_file_bytes: 256,
            seal_bytes: 1 << 20,
            ..config()
        };
        let log = open(dir.path(), config.clone(), &clock);
        log.create_log(LogId(1))?;
        log.create_log(LogId(2))?;
        log.append_blocking(vec![(LogId(1), vec![record("idle", "one record")])])?;
        for i in 0..40 {
            let value = format!("busy-{i}-{}", "x".repeat(100));
            log.append_blocking(vec![(LogId(2), vec![record("k", &value)])])?;
        }
        assert!(log.stats().journal_files > 10);
        log.run_maintenance()?;
        let stats = log.stats();
        assert!(stats.journal_files <= 2, "{stats:?}");
        assert!(stats.journal_files_deleted > 10);
        let journal_files = file_names(&dir.path().join("journal"))
            .into_iter()
            .filter(|name| name.ends_with(".jnl"))
            .count();
        assert_eq!(journal_files as u64, stats.journal_files);
        assert_eq!(values(&log.read(LogId(1), 0, 10, 100)?), vec!["one record"]);
        drop(log);
        let log = open(dir.path(), config, &clock);
        assert_eq!(values(&log.read(LogId(1), 0, 10, 100)?), vec!["one record"]);
        assert_eq!(log.read(LogId(2), 0, 100, 1 << 20)?.len(), 40);
        Ok(())
    }

    #[test]
    fn the_read_cache_stays_within_its_bound() -> Result<(), LogError> {
        let dir = tempfile::tempdir().expect("temp dir");
        let clock = Arc::new(ManualClock::new(1_000));
        let config = LogConfig {
            seal_bytes: 64 << 10,
            read_cache_bytes: 200 << 10,
            ..config()
        };
        let log = open(dir.path(), config, &clock);
        log.create_log(LogId(1))?;
        let value = "v".repeat(1000);
        for _ in 0..20 {
            let batch = (0..50).map(|_| record("k", &value)).collect();
            log.append_blocking(vec![(LogId(1), batch)])?;
        }
        log.seal_now()?;
        for round in 0..2 {
            let mut next = 0;
            loop {
                let got = log.read(LogId(1), next, 100, 1 << 20)?;
                let Some(last) = got.last() else { break };
                next = last.offset + 1;
                assert!(log.stats().cache_bytes <= 200 << 10, "round {round}");
            }
            assert_eq!(next, 1000);
        }
        assert!(log.stats().cache_misses > 0);
        Ok(())
    }

    #[test]
    fn deleting_a_sealed_log_removes_its_files() -> Result<(), LogError> {
        let dir = tempfile::tempdir().expect("temp dir");
        let clock = Arc::new(ManualClock::new(1_000));
        let log = open(dir.path(), config(), &clock);
        log.create_log(LogId(1))?;
        log.create_log(LogId(2))?;
        log.append_blocking(vec![(LogId(1), vec![record("k", "a")])])?;
        log.seal_now()?;
        log.append_blocking(vec![(LogId(1), vec![record("k", "b")])])?;
        log.delete_log(LogId(1))?;
        assert_eq!(file_names(&dir.path().join("logs")), vec!["2".to_owned()]);
        log.seal_now()?;
        drop(log);
        let log = open(dir.path(), config(), &clock);
        assert_eq!(log.logs(), vec![LogId(2)]);
        Ok(())
    }

    #[test]
    fn tails_of_many_logs_stay_under_the_unsealed_bound() -> Result<(), LogError> {
        let dir = tempfile::tempdir().expect("temp dir");
        let clock = Arc::new(ManualClock::new(1_000));
        // No tail reaches seal_bytes and the clock never moves: only the bound makes seals.
        let config = LogConfig {
            seal_bytes: 1 << 20,
            max_unsealed_bytes: 10 << 10,
            ..config()
        };
        let log = open(dir.path(), config, &clock);
        let logs: Vec<LogId> = (1..=20).map(LogId).collect();
        for id in &logs {
            log.create_log(*id)?;
        }
        let value = "v".repeat(1023);
        for i in 0..400 {
            let id = logs[i % logs.len()];
            log.append_blocking(vec![(id, vec![record("k", &value)])])?;
            let unsealed = log.stats().unsealed_bytes;
            // One append may pass the bound; the next one waits for sealing.
            assert!(unsealed <= (10 << 10) + 1024, "{unsealed} bytes unsealed");
        }
        assert!(log.stats().segments_sealed > 0);
        for id in &logs {
            let records = log.read(*id, 0, 1000, 1 << 20)?;
            assert_eq!(records.len(), 20, "{id:?}");
            assert!(values(&records).iter().all(|v| *v == value));
        }
        log.seal_now()?;
        assert_eq!(log.stats().unsealed_bytes, 0);
        // Deleting a log gives back its unsealed bytes too.
        log.append_blocking(vec![(LogId(1), vec![record("k", &value)])])?;
        assert_eq!(log.stats().unsealed_bytes, 1024);
        log.delete_log(LogId(1))?;
        assert_eq!(log.stats().unsealed_bytes, 0);
        Ok(())
    }
}
