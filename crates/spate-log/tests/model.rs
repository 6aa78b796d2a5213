//! Property test: random operation sequences against the engine and an in-memory model.
//!
//! Operations: appends of batches to several logs, reads at random offsets with random limits,
//! timestamp lookups, clock moves, sealing, background maintenance, retention trims, discards, log
//! creation and deletion, clean reopens, and simulated crashes (the engine is dropped, then the
//! newest journal file gets a torn, never-acknowledged frame appended, or a torn new journal
//! file and a stray segment temp file appear, as a crash mid-write would leave them). After
//! every step the engine must agree with the model: every acknowledged record readable with the
//! same offset, timestamp, key and value, bounds matching, offsets dense, timestamps monotonic.

use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use proptest::prelude::*;
use spate_log::{
    AppendRecord, Clock, Durability, Log, LogConfig, LogError, LogId, ManualClock, StoredRecord,
};

#[derive(Clone, Debug)]
enum Torn {
    /// Nothing beyond what was acknowledged.
    Clean,
    /// A prefix of one more frame at the end of the newest journal file.
    PartialFrame { keep: usize },
    /// A new journal file whose header was cut short, and a stray segment temp file.
    PartialNewFile { keep: usize },
}

#[derive(Clone, Debug)]
enum Op {
    /// (log slot, record sizes as (key length, value length)) per batch.
    Append(Vec<(usize, Vec<(usize, usize)>)>),
    Read {
        log: usize,
        from_permille: u16,
        max_records: usize,
        max_bytes: usize,
    },
    OffsetAt {
        log: usize,
        back_ms: i64,
    },
    Advance(i64),
    Seal,
    Maintain,
    Trim {
        log: usize,
        back_ms: i64,
    },
    Discard {
        log: usize,
        at_permille: u16,
    },
    Create,
    Delete(usize),
    Reopen,
    Crash(Torn),
}

fn op() -> impl Strategy<Value = Op> {
    let record = (0usize..6, 0usize..120);
    let batch = (0usize..8, prop::collection::vec(record, 0..6));
    prop_oneof![
        6 => prop::collection::vec(batch, 1..4).prop_map(Op::Append),
        4 => (0usize..8, 0u16..1100, 0usize..8, 0usize..400).prop_map(
            |(log, from_permille, max_records, max_bytes)| Op::Read { log, from_permille, max_records, max_bytes }
        ),
        1 => (0usize..8, -500i64..5_000).prop_map(|(log, back_ms)| Op::OffsetAt { log, back_ms }),
        2 => (0i64..1_500).prop_map(Op::Advance),
        1 => Just(Op::Seal),
        1 => Just(Op::Maintain),
        1 => (0usize..8, -500i64..3_000).prop_map(|(log, back_ms)| Op::Trim { log, back_ms }),
        1 => (0usize..8, 0u16..1100).prop_map(|(log, at_permille)| Op::Discard { log, at_permille }),
        1 => Just(Op::Create),
        1 => (0usize..8).prop_map(Op::Delete),
        1 => Just(Op::Reopen),
        1 => prop_oneof![
            Just(Torn::Clean),
            (1usize..200).prop_map(|keep| Torn::PartialFrame { keep }),
            (0usize..16).prop_map(|keep| Torn::PartialNewFile { keep }),
        ].prop_map(Op::Crash),
    ]
}

/// What one log should hold.
#[derive(Debug, Default)]
struct LogModel {
    /// Every record ever acknowledged, indexed by offset (trimmed ones included).
    records: Vec<StoredRecord>,
    start: u64,
}

struct Harness {
    dir: tempfile::TempDir,
    clock: Arc<ManualClock>,
    config: LogConfig,
    log: Option<Log>,
    models: BTreeMap<LogId, LogModel>,
    next_id: u64,
    counter: u64,
}

impl Harness {
    fn new() -> Harness {
        let config = LogConfig {
            durability: Durability::Fsync,
            journal_file_bytes: 600,
            seal_bytes: 300,
            seal_age: Duration::from_secs(1),
            read_cache_bytes: 2_000,
            // Under a few seal_bytes, so appends also wait on forced sealing of the largest tails.
            max_unsealed_bytes: 700,
        };
        let mut harness = Harness {
            dir: tempfile::tempdir().expect("temp dir"),
            clock: Arc::new(ManualClock::new(1_000_000)),
            config,
            log: None,
            models: BTreeMap::new(),
            next_id: 1,
            counter: 0,
        };
        harness.open();
        for _ in 0..3 {
            harness.create();
        }
        harness
    }

    fn open(&mut self) {
        let clock: Arc<dyn Clock> = self.clock.clone();
        self.log = Some(Log::open(self.dir.path(), self.config.clone(), clock).expect("reopen"));
    }

    fn log(&self) -> &Log {
        self.log.as_ref().expect("open")
    }

    fn create(&mut self) {
        let id = LogId(self.next_id);
        self.next_id += 1;
        self.log().create_log(id).expect("create");
        self.models.insert(id, LogModel::default());
    }

    /// The live log in `slot` (modulo the number of live logs), if any.
    fn pick(&self, slot: usize) -> Option<LogId> {
        if self.models.is_empty() {
            return None;
        }
        self.models.keys().nth(slot % self.models.len()).copied()
    }

    fn value(&mut self, len: usize) -> Bytes {
        self.counter += 1;
        let mut value = format!("#{}:", self.counter).into_bytes();
        value.resize(len.max(value.len()), b'.');
        Bytes::from(value)
    }

    fn journal_files(&self) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.dir.path().join("journal"))
            .expect("list journal")
            .map(|e| e.expect("entry").path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "jnl"))
            .collect();
        files.sort();
        files
    }

    fn apply(&mut self, op: &Op) -> Result<(), TestCaseError> {
        match op {
            Op::Append(batches) => self.append(batches)?,
            Op::Read {
                log,
                from_permille,
                max_records,
                max_bytes,
            } => {
                let Some(id) = self.pick(*log) else {
                    return Ok(());
                };
                let model = &self.models[&id];
                let from = (model.records.len() as u64 + 3) * u64::from(*from_permille) / 1000;
                let got = self
                    .log()
                    .read(id, from, *max_records, *max_bytes)
                    .expect("read");
                let expected = expected_read(model, from, *max_records, *max_bytes);
                prop_assert_eq!(got, expected, "read {} from {}", id, from);
            }
            Op::OffsetAt { log, back_ms } => {
                let Some(id) = self.pick(*log) else {
                    return Ok(());
                };
                let ts = self.clock.now_ms() - back_ms;
                let model = &self.models[&id];
                let expected = model.records[model.start as usize..]
                    .iter()
                    .find(|r| r.timestamp_ms >= ts)
                    .map_or(model.records.len() as u64, |r| r.offset);
                prop_assert_eq!(
                    self.log().offset_at_or_after(id, ts).expect("lookup"),
                    expected
                );
            }
            Op::Advance(ms) => self.clock.advance(*ms),
            Op::Seal => self.log().seal_now().expect("seal"),
            Op::Maintain => self.log().run_maintenance().expect("maintenance"),
            Op::Trim { log, back_ms } => {
                let Some(id) = self.pick(*log) else {
                    return Ok(());
                };
                let cutoff = self.clock.now_ms() - back_ms;
                let dropped = self.log().trim_before(id, cutoff).expect("trim");
                let model = self.models.get_mut(&id).expect("live");
                let new_start = model.start + dropped;
                prop_assert!(new_start <= model.records.len() as u64);
                for record in &model.records[model.start as usize..new_start as usize] {
                    prop_assert!(
                        record.timestamp_ms < cutoff,
                        "trimmed a record not older than the cutoff"
                    );
                }
                model.start = new_start;
            }
            Op::Discard { log, at_permille } => {
                let Some(id) = self.pick(*log) else {
                    return Ok(());
                };
                let model = self.models.get(&id).expect("live");
                let (start, end) = (model.start, model.records.len() as u64);
                let offset = start + (end - start) * u64::from(*at_permille) / 1000;
                let dropped = self.log().discard_before(id, offset).expect("discard");
                let model = self.models.get_mut(&id).expect("live");
                let new_start = model.start + dropped;
                prop_assert!(
                    new_start <= offset.min(end).max(start),
                    "discarded past the offset asked for, or past the end"
                );
                model.start = new_start;
            }
            Op::Create => self.create(),
            Op::Delete(slot) => {
                if self.models.len() > 1 {
                    let id = self.pick(*slot).expect("live logs");
                    self.log().delete_log(id).expect("delete");
                    self.models.remove(&id);
                    prop_assert!(matches!(
                        self.log().bounds(id),
                        Err(LogError::UnknownLog(_))
                    ));
                }
            }
            Op::Reopen => {
                self.log().close().expect("close");
                self.log = None;
                self.open();
            }
            Op::Crash(torn) => {
                // Every append has returned, so nothing is in flight: dropping the handle
                // leaves the files as a killed process would.
                self.log = None;
                self.tear(torn);
                self.open();
            }
        }
        self.check_bounds()
    }

    fn append(&mut self, batches: &[(usize, Vec<(usize, usize)>)]) -> Result<(), TestCaseError> {
        let mut request = Vec::new();
        for (slot, sizes) in batches {
            let Some(id) = self.pick(*slot) else {
                return Ok(());
            };
            let mut records = Vec::new();
            for &(key_len, value_len) in sizes {
                records.push(AppendRecord {
                    key: Bytes::from(vec![b'k'; key_len]),
                    value: self.value(value_len),
                });
            }
            request.push((id, records));
        }
        let now = self.clock.now_ms();
        let results = self.log().append_blocking(request.clone()).expect("append");
        prop_assert_eq!(results.len(), request.len());
        for ((id, records), appended) in request.into_iter().zip(results) {
            prop_assert_eq!(appended.len(), records.len());
            let model = self.models.get_mut(&id).expect("live");
            for (record, appended) in records.into_iter().zip(appended) {
                prop_assert_eq!(appended.offset, model.records.len() as u64, "dense offsets");
                let previous = model.records.last().map_or(i64::MIN, |r| r.timestamp_ms);
                prop_assert_eq!(appended.timestamp_ms, now.max(previous));
                model.records.push(StoredRecord {
                    offset: appended.offset,
                    timestamp_ms: appended.timestamp_ms,
                    key: record.key,
                    value: record.value,
                });
            }
        }
        Ok(())
    }

    /// Leaves on disk what a crash in the middle of unacknowledged writes would.
    fn tear(&self, torn: &Torn) {
        match torn {
            Torn::Clean => {}
            Torn::PartialFrame { keep } => {
                let newest = self.journal_files().pop().expect("a journal file");
                let frame = unacknowledged_frame(200);
                let keep = (*keep).min(frame.len() - 1);
                // The torn write lands where the data ends: at the end of the file, or where the
                // zero fill of a preallocated file begins (every frame ends with a value byte,
                // and values are never zero bytes).
                let bytes = std::fs::read(&newest).expect("read journal");
                let data_end = bytes
                    .iter()
                    .rposition(|&byte| byte != 0)
                    .map_or(bytes.len(), |last| last + 1)
                    .max(JOURNAL_HEADER_LEN);
                let mut file = OpenOptions::new()
                    .write(true)
                    .open(&newest)
                    .expect("open journal");
                file.seek(SeekFrom::Start(data_end as u64)).expect("seek");
                file.write_all(&frame[..keep]).expect("tear");
            }
            Torn::PartialNewFile { keep } => {
                let newest = self.journal_files().pop().expect("a journal file");
                let seq: u64 = file_stem(&newest).parse().expect("numbered journal file");
                let next = newest.with_file_name(format!("{:020}.jnl", seq + 1));
                std::fs::write(&next, &b"SPATEJNL\x01\x00\x00\x00\x00\x00\x00\x00"[..*keep])
                    .expect("torn journal file");
                if let Some(id) = self.models.keys().next() {
                    let stray = self
                        .dir
                        .path()
                        .join(format!("logs/{}/00000000000000000000.tmp", id.0));
                    std::fs::write(stray, b"half a segment").expect("stray temp file");
                }
            }
        }
    }

    fn check_bounds(&self) -> Result<(), TestCaseError> {
        prop_assert_eq!(
            self.log().logs(),
            self.models.keys().copied().collect::<Vec<_>>()
        );
        for (id, model) in &self.models {
            let bounds = self.log().bounds(*id).expect("bounds");
            prop_assert_eq!(bounds.start, model.start, "start of {}", id);
            prop_assert_eq!(bounds.end, model.records.len() as u64, "end of {}", id);
            let last = model.records[model.start as usize..]
                .last()
                .map(|r| r.timestamp_ms);
            prop_assert_eq!(bounds.last_timestamp_ms, last, "last timestamp of {}", id);
        }
        Ok(())
    }

    /// Every retained record of every log, read in pages.
    fn check_everything(&self) -> Result<(), TestCaseError> {
        for (id, model) in &self.models {
            let mut next = 0;
            let mut got = Vec::new();
            loop {
                let page = self.log().read(*id, next, 7, 500).expect("read");
                let Some(last) = page.last() else { break };
                next = last.offset + 1;
                got.extend(page);
            }
            prop_assert_eq!(
                &got[..],
                &model.records[model.start as usize..],
                "contents of {}",
                id
            );
        }
        Ok(())
    }
}

fn file_stem(path: &Path) -> String {
    path.file_stem()
        .expect("file name")
        .to_string_lossy()
        .into_owned()
}

/// Length of a journal file's header (magic, version, reserved).
const JOURNAL_HEADER_LEN: usize = 16;

/// A complete journal frame (format in the `journal` module docs) that was never acknowledged.
fn unacknowledged_frame(value_len: usize) -> Vec<u8> {
    let mut payload = Vec::new();
    payload.extend_from_slice(&1u64.to_le_bytes()); // log id
    payload.extend_from_slice(&u64::MAX.to_le_bytes()); // offset
    payload.extend_from_slice(&0i64.to_le_bytes()); // timestamp
    payload.extend_from_slice(&0u32.to_le_bytes()); // key length
    payload.extend(std::iter::repeat_n(b'u', value_len));
    let mut frame = Vec::new();
    frame.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    frame.extend_from_slice(&crc32c::crc32c(&payload).to_le_bytes());
    frame.extend_from_slice(&payload);
    frame
}

fn expected_read(
    model: &LogModel,
    from: u64,
    max_records: usize,
    max_bytes: usize,
) -> Vec<StoredRecord> {
    let first = from.max(model.start) as usize;
    let mut out = Vec::new();
    let mut bytes = 0;
    for record in model.records.iter().skip(first) {
        let len = record.key.len() + record.value.len();
        if out.len() >= max_records || (!out.is_empty() && bytes + len > max_bytes) {
            break;
        }
        bytes += len;
        out.push(record.clone());
    }
    out
}

/// 40 cases keep the crate's tests fast; `PROPTEST_CASES=1000` runs a longer search.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(),
        max_shrink_iters: 2_000,
        ..ProptestConfig::default()
    })]

    #[test]
    fn engine_matches_model(ops in prop::collection::vec(op(), 1..60)) {
        let mut harness = Harness::new();
        for op in &ops {
            harness.apply(op)?;
        }
        harness.check_everything()?;
        harness.log = None;
        harness.open();
        harness.check_bounds()?;
        harness.check_everything()?;
    }
}
