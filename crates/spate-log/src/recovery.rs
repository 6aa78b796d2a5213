//! Opening an engine directory: loading each log's sealed state and replaying the journal.
//!
//! Order of work: create `journal/` and `logs/` if absent; finish interrupted log deletions
//! (`logs/<id>.deleted`); load every `logs/<id>/` (its segments define the sealed end); then
//! read journal files in sequence order, verifying every frame. In the newest file the first
//! bad frame is taken for a torn write and the file is truncated there; in any older file it is
//! corruption. A zero-filled spare file left by a crash is removed. Records of logs whose directory is gone (deleted) and records already covered by
//! segments are skipped; every other record must continue its log densely.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, OpenOptions};
use std::path::Path;
use std::sync::Arc;

use crate::fsutil::{create_dir_all, list_dir, parse_numbered, sync_dir};
use crate::journal::{JOURNAL_EXT, JOURNAL_HEADER_LEN, SPARE_NAME, scan};
use crate::retention::read_mark;
use crate::segment::{SEGMENT_EXT, Segment};
use crate::state::{LogInner, LogState};
use crate::{LogError, LogId};

/// Directory under the engine directory holding journal files.
pub(crate) const JOURNAL_DIR: &str = "journal";
/// Directory under the engine directory holding one directory per log.
pub(crate) const LOGS_DIR: &str = "logs";
/// Suffix of a log directory being deleted.
pub(crate) const DELETED_SUFFIX: &str = ".deleted";

/// What recovery hands to the engine.
#[derive(Debug)]
pub(crate) struct Recovered {
    pub(crate) logs: BTreeMap<LogId, Arc<LogState>>,
    /// Journal files still on disk.
    pub(crate) journal_files: BTreeSet<u64>,
    /// Sequence number for the journal file the writer starts.
    pub(crate) next_journal_seq: u64,
}

/// Brings `dir` to a consistent state and loads it.
pub(crate) fn recover(dir: &Path) -> Result<Recovered, LogError> {
    let journal_dir = dir.join(JOURNAL_DIR);
    let logs_dir = dir.join(LOGS_DIR);
    create_dir_all(&journal_dir)?;
    create_dir_all(&logs_dir)?;

    let mut logs = BTreeMap::new();
    for (name, path) in list_dir(&logs_dir)? {
        if name.ends_with(DELETED_SUFFIX) {
            fs::remove_dir_all(&path)
                .map_err(LogError::io(|| format!("removing {}", path.display())))?;
            continue;
        }
        let Ok(id) = name.parse::<u64>() else {
            tracing::warn!(path = %path.display(), "ignoring unexpected entry in logs directory");
            continue;
        };
        if !path.is_dir() {
            continue;
        }
        logs.insert(LogId(id), load_log(LogId(id), &path)?);
    }

    let mut journal_files = BTreeSet::new();
    for (name, path) in list_dir(&journal_dir)? {
        if name == SPARE_NAME {
            remove(&path)?; // a preallocated file the writer had not yet put to use
            continue;
        }
        match parse_numbered(&name, JOURNAL_EXT) {
            Some(seq) => {
                journal_files.insert(seq);
            }
            None => {
                tracing::warn!(path = %path.display(), "ignoring unexpected entry in journal directory")
            }
        }
    }
    let newest = journal_files.last().copied();
    let mut kept = BTreeSet::new();
    for &seq in &journal_files {
        let path = crate::journal::journal_path(&journal_dir, seq);
        let is_newest = Some(seq) == newest;
        if replay_file(&path, seq, is_newest, &mut logs)? {
            kept.insert(seq);
        }
    }

    let logs = logs
        .into_iter()
        .map(|(id, mut inner)| {
            inner.next_offset = inner.end();
            if let Some(ts) = inner.last_timestamp_ms() {
                inner.last_assigned_ts = inner.last_assigned_ts.max(ts);
            }
            let state = LogState::new(id, logs_dir.join(id.0.to_string()), inner);
            (id, Arc::new(state))
        })
        .collect();
    Ok(Recovered {
        logs,
        journal_files: kept,
        next_journal_seq: newest.map_or(0, |seq| seq + 1),
    })
}

/// Loads the sealed state of one log directory: its retention mark and segments. Leftover
/// temporary files and segments wholly below the retention mark are removed.
fn load_log(id: LogId, dir: &Path) -> Result<LogInner, LogError> {
    let mark = read_mark(dir)?;
    let mut inner = LogInner::empty();
    if let Some(mark) = mark {
        inner.start = mark.start;
        inner.sealed_end = mark.start;
        inner.last_assigned_ts = mark.last_trimmed_ts;
    }
    let mut removed = false;
    for (name, path) in list_dir(dir)? {
        if name.ends_with(".tmp") {
            remove(&path)?;
            removed = true;
            continue;
        }
        let Some(base) = parse_numbered(&name, SEGMENT_EXT) else {
            continue;
        };
        let segment = Segment::open(&path, id)?;
        if segment.base_offset() != base {
            return Err(LogError::corrupt(
                &path,
                "file name and header disagree on the base offset",
            ));
        }
        if segment.end() <= inner.start {
            remove(&path)?; // trimmed, but the removal did not complete
            removed = true;
            continue;
        }
        if base != inner.sealed_end {
            return Err(LogError::corrupt(
                &path,
                format!(
                    "log {id}: segment starts at {base}, expected {}",
                    inner.sealed_end
                ),
            ));
        }
        inner.sealed_end = segment.end();
        inner.segments.push_back(Arc::new(segment));
    }
    if removed {
        sync_dir(dir)?;
    }
    Ok(inner)
}

fn remove(path: &Path) -> Result<(), LogError> {
    fs::remove_file(path).map_err(LogError::io(|| format!("removing {}", path.display())))
}

/// Replays one journal file into the logs' tails. Returns false if the file was removed
/// (a newest file whose header never made it to disk).
fn replay_file(
    path: &Path,
    seq: u64,
    is_newest: bool,
    logs: &mut BTreeMap<LogId, LogInner>,
) -> Result<bool, LogError> {
    let bytes = fs::read(path).map_err(LogError::io(|| format!("reading {}", path.display())))?;
    let scanned = match scan(&bytes) {
        Ok(scanned) => scanned,
        Err(reason) if is_newest && bytes.len() <= JOURNAL_HEADER_LEN => {
            tracing::warn!(path = %path.display(), reason, "removing journal file torn while being created");
            fs::remove_file(path)
                .map_err(LogError::io(|| format!("removing {}", path.display())))?;
            let parent = path.parent().expect("journal files live in a directory");
            sync_dir(parent)?;
            return Ok(false);
        }
        Err(reason) => return Err(LogError::corrupt(path, reason)),
    };
    if let Some(reason) = scanned.bad_frame {
        if !is_newest {
            return Err(LogError::corrupt(
                path,
                format!("{reason} (not the newest journal file, so not a torn write)"),
            ));
        }
        tracing::warn!(
            path = %path.display(),
            reason,
            valid_len = scanned.valid_len,
            "truncating torn journal tail"
        );
        let truncate = || -> std::io::Result<()> {
            let file = OpenOptions::new().write(true).open(path)?;
            file.set_len(scanned.valid_len)?;
            file.sync_all()
        };
        truncate().map_err(LogError::io(|| format!("truncating {}", path.display())))?;
    }
    for (log, record) in scanned.entries {
        let Some(inner) = logs.get_mut(&log) else {
            continue; // a deleted log
        };
        if record.offset < inner.sealed_end {
            continue; // already sealed into a segment
        }
        if record.offset != inner.end() {
            return Err(LogError::corrupt(
                path,
                format!(
                    "log {log}: record offset {} where {} was expected",
                    record.offset,
                    inner.end()
                ),
            ));
        }
        inner.push_tail([record], seq);
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use crate::testutil::{journal_fixture_records, segment_fixture_records};
    use crate::{LogBounds, LogConfig, ManualClock, StoredRecord};

    use super::*;

    /// A whole engine directory assembled from the checked-in fixtures opens and reads back.
    #[test]
    fn an_engine_directory_built_from_fixtures_recovers() -> Result<(), LogError> {
        let dir = tempfile::tempdir().expect("temp dir");
        let read_fixture = |name: &str| {
            let path = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures")
                .join(name);
            std::fs::read(path).expect("fixture")
        };
        let log7 = dir.path().join("logs/7");
        std::fs::create_dir_all(&log7).expect("mkdir");
        std::fs::create_dir_all(dir.path().join("logs/9")).expect("mkdir");
        std::fs::create_dir_all(dir.path().join("journal")).expect("mkdir");
        std::fs::write(log7.join("retention"), read_fixture("retention-v1")).expect("copy");
        std::fs::write(
            log7.join("00000000000000000040.seg"),
            read_fixture("segment-v1.seg"),
        )
        .expect("copy");
        std::fs::write(
            dir.path().join("journal/00000000000000000000.jnl"),
            read_fixture("journal-v1.jnl"),
        )
        .expect("copy");

        let clock = Arc::new(ManualClock::new(0));
        let log = crate::testutil::open(dir.path(), LogConfig::default(), &clock);
        let mut expected: Vec<StoredRecord> = segment_fixture_records();
        let journal = journal_fixture_records();
        expected.extend(
            journal
                .iter()
                .filter(|(id, _)| *id == LogId(7))
                .map(|(_, r)| r.clone()),
        );
        assert_eq!(log.read(LogId(7), 0, 100, 1 << 20)?, expected);
        assert_eq!(
            log.bounds(LogId(7))?,
            LogBounds {
                start: 40,
                end: 45,
                last_timestamp_ms: Some(1_700_000_000_005)
            }
        );
        assert_eq!(
            log.read(LogId(9), 0, 100, 1 << 20)?,
            vec![journal[1].1.clone()]
        );
        Ok(())
    }
}
