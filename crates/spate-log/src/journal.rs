//! The node-wide journal: where every append lands first, in arrival order across all logs.
//!
//! This module owns the journal's on-disk format, the writer that appends groups of frames to
//! the current file (rolling to a new one past `journal_file_bytes`), and the decoder recovery
//! uses. Group commit itself (queueing, one fsync per group, waking appenders) lives in
//! `writer`.
//!
//! # Format, version 2
//!
//! Files are `<dir>/journal/<seq: 20 digits>.jnl`, `seq` increasing by one per roll. Each file:
//!
//! ```text
//! header  : magic "SPATEJNL" (8 bytes) | version u32 LE = 2 | reserved u32 LE = 0
//! frame*  : payload_len u32 LE | crc32c(payload) u32 LE | payload
//! payload : log_id u64 LE | offset u64 LE | timestamp_ms i64 LE | key_len u32 LE | key | value
//! zeros*  : the rest of a preallocated file
//! ```
//!
//! The value runs to the end of the payload. Frames appear in commit order; within one log,
//! offsets are consecutive across the whole journal. A file is only ever appended to, and only
//! the newest file can end with a torn frame: recovery truncates it at the first bad frame.
//! A file is deleted once every record in it is sealed into a segment or belongs to a deleted log.
//!
//! Version 2 adds the zero fill. Under load, files are preallocated: a spare file, its header
//! written and the rest zero-filled and fsynced, is prepared on a helper thread while the current
//! file fills, and renamed into place at the roll. An fdatasync that only overwrites blocks
//! already written costs half as much as one that extends the file, since it need not write the
//! inode's new size (bench/RESULTS.md). A frame header of eight zero bytes therefore ends a
//! version 2 file's data: no frame has an empty payload. Version 1 files (never zero-filled) are
//! still read.

use std::fs::{File, OpenOptions};
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;

use bytes::Bytes;

use crate::frame::{FrameRead, Reader, begin_frame, finish_frame, read_frame};
use crate::fsutil::{numbered_name, sync_dir};
use crate::{Durability, LogError, LogId, StoredRecord};

/// First bytes of every journal file.
pub(crate) const JOURNAL_MAGIC: [u8; 8] = *b"SPATEJNL";
/// The format version this code writes.
pub(crate) const JOURNAL_VERSION: u32 = 2;
/// The first version, without zero fill, still read.
const JOURNAL_VERSION_1: u32 = 1;
/// Size of the file header.
pub(crate) const JOURNAL_HEADER_LEN: usize = 16;
/// File name extension of journal files.
pub(crate) const JOURNAL_EXT: &str = "jnl";
/// Name, in the journal directory, of the zero-filled file prepared for the next roll. Recovery
/// removes one left by a crash.
pub(crate) const SPARE_NAME: &str = "next.spare";
/// Fixed part of a frame payload: log id, offset, timestamp, key length.
const PAYLOAD_FIXED_LEN: usize = 8 + 8 + 8 + 4;
/// Bytes a record costs in the journal besides its key and value.
pub(crate) const FRAME_OVERHEAD: usize = crate::frame::FRAME_HEADER_LEN + PAYLOAD_FIXED_LEN;

/// The path of journal file `seq` in `journal_dir`.
pub(crate) fn journal_path(journal_dir: &Path, seq: u64) -> PathBuf {
    journal_dir.join(numbered_name(seq, JOURNAL_EXT))
}

/// Appends a file header to `buf`.
pub(crate) fn encode_header(buf: &mut Vec<u8>) {
    buf.extend_from_slice(&JOURNAL_MAGIC);
    buf.extend_from_slice(&JOURNAL_VERSION.to_le_bytes());
    buf.extend_from_slice(&0u32.to_le_bytes());
}

/// Appends one record's frame to `buf`.
pub(crate) fn encode_frame(buf: &mut Vec<u8>, log: LogId, record: &StoredRecord) {
    let start = begin_frame(buf);
    buf.extend_from_slice(&log.0.to_le_bytes());
    buf.extend_from_slice(&record.offset.to_le_bytes());
    buf.extend_from_slice(&record.timestamp_ms.to_le_bytes());
    let key_len = u32::try_from(record.key.len()).expect("keys are far below 4 GiB");
    buf.extend_from_slice(&key_len.to_le_bytes());
    buf.extend_from_slice(&record.key);
    buf.extend_from_slice(&record.value);
    finish_frame(buf, start);
}

/// Decodes a frame payload. Key and value are copied so the file buffer can be freed.
pub(crate) fn decode_payload(payload: &[u8]) -> Option<(LogId, StoredRecord)> {
    let mut reader = Reader::new(payload);
    let log = LogId(reader.u64()?);
    let offset = reader.u64()?;
    let timestamp_ms = reader.i64()?;
    let key_len = reader.u32()? as usize;
    let key = Bytes::copy_from_slice(reader.bytes(key_len)?);
    let value = Bytes::copy_from_slice(reader.rest());
    Some((
        log,
        StoredRecord {
            offset,
            timestamp_ms,
            key,
            value,
        },
    ))
}

/// What a journal file holds, as far as it decodes.
#[derive(Debug)]
pub(crate) struct ScannedJournal {
    /// Records of every valid frame, in file order.
    pub(crate) entries: Vec<(LogId, StoredRecord)>,
    /// Length of the valid prefix (header plus complete, valid frames).
    pub(crate) valid_len: u64,
    /// Why decoding stopped before the end of the file, if it did.
    pub(crate) bad_frame: Option<String>,
}

/// Decodes a whole journal file. `Err` means the header itself is missing or wrong.
pub(crate) fn scan(bytes: &[u8]) -> Result<ScannedJournal, String> {
    let mut reader = Reader::new(bytes);
    let magic: Option<[u8; 8]> = reader.array();
    if magic != Some(JOURNAL_MAGIC) {
        return Err("missing journal magic".to_owned());
    }
    let zero_filled = match reader.u32() {
        Some(JOURNAL_VERSION) => true,
        Some(JOURNAL_VERSION_1) => false,
        Some(other) => return Err(format!("unsupported journal version {other}")),
        None => return Err("truncated journal header".to_owned()),
    };
    if reader.u32().is_none() {
        return Err("truncated journal header".to_owned());
    }
    let mut entries = Vec::new();
    let mut pos = JOURNAL_HEADER_LEN;
    loop {
        if zero_filled && starts_zero_fill(&bytes[pos..]) {
            return Ok(ScannedJournal {
                entries,
                valid_len: pos as u64,
                bad_frame: None,
            });
        }
        match read_frame(bytes, pos) {
            FrameRead::End => {
                return Ok(ScannedJournal {
                    entries,
                    valid_len: pos as u64,
                    bad_frame: None,
                });
            }
            FrameRead::Frame { payload, next } => match decode_payload(payload) {
                Some(entry) => {
                    entries.push(entry);
                    pos = next;
                }
                None => {
                    return Ok(ScannedJournal {
                        entries,
                        valid_len: pos as u64,
                        bad_frame: Some(format!("undecodable payload in frame at {pos}")),
                    });
                }
            },
            FrameRead::Bad(reason) => {
                return Ok(ScannedJournal {
                    entries,
                    valid_len: pos as u64,
                    bad_frame: Some(reason),
                });
            }
        }
    }
}

/// Whether `rest`, the bytes where the next frame would start, begin with the zero fill: a
/// whole frame header of zeros, or fewer bytes than a header, all zero.
fn starts_zero_fill(rest: &[u8]) -> bool {
    let head = &rest[..rest.len().min(crate::frame::FRAME_HEADER_LEN)];
    !head.is_empty() && head.iter().all(|&byte| byte == 0)
}

/// Appends groups of encoded frames to the current journal file, rolling past a size.
#[derive(Debug)]
pub(crate) struct JournalWriter {
    journal_dir: PathBuf,
    seq: u64,
    file: File,
    len: u64,
    roll_bytes: u64,
    durability: Durability,
    /// The next file, being zero-filled on a helper thread (fsync durability only).
    spare: Option<JoinHandle<std::io::Result<File>>>,
}

impl Drop for JournalWriter {
    fn drop(&mut self) {
        // The helper thread finishes in well under a second; waiting keeps it from writing into
        // a directory its engine has let go of.
        if let Some(spare) = self.spare.take() {
            let _ = spare.join();
        }
    }
}

/// Writes `journal_dir/next.spare`: a header, zeros up to `file_bytes`, fsynced, positioned
/// after the header.
fn prepare_spare(journal_dir: &Path, file_bytes: u64) -> std::io::Result<File> {
    const SPARE_SYNC_BYTES: usize = 1 << 20;
    static ZEROS: [u8; 64 * 1024] = [0; 64 * 1024];
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(journal_dir.join(SPARE_NAME))?;
    let mut header = Vec::with_capacity(JOURNAL_HEADER_LEN);
    encode_header(&mut header);
    file.write_all(&header)?;
    let mut left = file_bytes.saturating_sub(JOURNAL_HEADER_LEN as u64);
    let mut unsynced = 0;
    while left > 0 {
        let chunk = left.min(ZEROS.len() as u64) as usize;
        file.write_all(&ZEROS[..chunk])?;
        left -= chunk as u64;
        unsynced += chunk;
        // Written back a little at a time: one large writeback would queue ahead of the
        // current file's fsyncs on the device and delay every acknowledgement behind it.
        if unsynced >= SPARE_SYNC_BYTES {
            file.sync_data()?;
            unsynced = 0;
        }
    }
    file.sync_all()?;
    file.seek(SeekFrom::Start(JOURNAL_HEADER_LEN as u64))?;
    Ok(file)
}

impl JournalWriter {
    /// Creates journal file `seq` (header written and, like its directory entry, fsynced).
    pub(crate) fn create(
        journal_dir: &Path,
        seq: u64,
        roll_bytes: u64,
        durability: Durability,
    ) -> Result<JournalWriter, LogError> {
        let path = journal_path(journal_dir, seq);
        let create = || -> std::io::Result<File> {
            let mut file = OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)?;
            let mut header = Vec::with_capacity(JOURNAL_HEADER_LEN);
            encode_header(&mut header);
            file.write_all(&header)?;
            file.sync_all()?;
            Ok(file)
        };
        let file = create().map_err(LogError::io(|| format!("creating {}", path.display())))?;
        sync_dir(journal_dir)?;
        Ok(JournalWriter {
            journal_dir: journal_dir.to_owned(),
            seq,
            file,
            len: JOURNAL_HEADER_LEN as u64,
            roll_bytes,
            durability,
            spare: None,
        })
    }

    /// Makes the prepared spare journal file `seq`; None if there was no spare or preparing it
    /// failed (then the caller creates the file the plain way).
    fn take_spare(&mut self, seq: u64) -> Result<Option<JournalWriter>, LogError> {
        let Some(spare) = self.spare.take() else {
            return Ok(None);
        };
        let file = match spare.join() {
            Ok(Ok(file)) => file,
            Ok(Err(err)) => {
                tracing::warn!(error = %err, "preparing a zero-filled journal file failed; creating a plain one");
                return Ok(None);
            }
            Err(_) => {
                tracing::warn!("the journal preallocation thread panicked; creating a plain file");
                return Ok(None);
            }
        };
        let path = journal_path(&self.journal_dir, seq);
        std::fs::rename(self.journal_dir.join(SPARE_NAME), &path).map_err(LogError::io(|| {
            format!("renaming the spare to {}", path.display())
        }))?;
        sync_dir(&self.journal_dir)?;
        Ok(Some(JournalWriter {
            journal_dir: self.journal_dir.clone(),
            seq,
            file,
            len: JOURNAL_HEADER_LEN as u64,
            roll_bytes: self.roll_bytes,
            durability: self.durability,
            spare: None,
        }))
    }

    /// Once the current file is a quarter full, starts zero-filling the next one (fsync
    /// durability only: without fsyncs there is nothing to gain).
    fn prepare_spare_if_due(&mut self) {
        if self.spare.is_some()
            || self.durability != Durability::Fsync
            || self.len < self.roll_bytes / 4
        {
            return;
        }
        let journal_dir = self.journal_dir.clone();
        let file_bytes = self.roll_bytes;
        let spawned = std::thread::Builder::new()
            .name("spate-journal-prealloc".to_owned())
            .spawn(move || prepare_spare(&journal_dir, file_bytes));
        match spawned {
            Ok(handle) => self.spare = Some(handle),
            Err(err) => {
                tracing::warn!(error = %err, "cannot start the journal preallocation thread");
            }
        }
    }

    /// Sequence number of the file the next write goes to.
    pub(crate) fn seq(&self) -> u64 {
        self.seq
    }

    /// Starts a new file if the current one is past the roll size. Returns the new sequence
    /// number if it rolled. Everything written so far was already made durable by `write`.
    pub(crate) fn roll_if_full(&mut self) -> Result<Option<u64>, LogError> {
        if self.len < self.roll_bytes {
            return Ok(None);
        }
        if self.durability == Durability::Os {
            self.sync()?;
        }
        let next = match self.take_spare(self.seq + 1)? {
            Some(next) => next,
            None => JournalWriter::create(
                &self.journal_dir,
                self.seq + 1,
                self.roll_bytes,
                self.durability,
            )?,
        };
        *self = next;
        Ok(Some(self.seq))
    }

    /// Writes `bytes` at the end of the current file; with `Durability::Fsync` also fdatasyncs.
    /// Returns whether it synced.
    pub(crate) fn write(&mut self, bytes: &[u8]) -> Result<bool, LogError> {
        let path = || {
            journal_path(&self.journal_dir, self.seq)
                .display()
                .to_string()
        };
        self.file
            .write_all(bytes)
            .map_err(LogError::io(|| format!("writing {}", path())))?;
        self.len += bytes.len() as u64;
        if self.durability == Durability::Fsync {
            self.sync()?;
            self.prepare_spare_if_due();
            return Ok(true);
        }
        Ok(false)
    }

    /// Fdatasyncs the current file.
    pub(crate) fn sync(&mut self) -> Result<(), LogError> {
        let path = journal_path(&self.journal_dir, self.seq);
        self.file
            .sync_data()
            .map_err(LogError::io(|| format!("fsyncing {}", path.display())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(offset: u64, key: &'static [u8], value: &'static [u8]) -> StoredRecord {
        StoredRecord {
            offset,
            timestamp_ms: 1_700_000_000_000 + offset as i64,
            key: Bytes::from_static(key),
            value: Bytes::from_static(value),
        }
    }

    fn file_with(records: &[(LogId, StoredRecord)]) -> Vec<u8> {
        let mut buf = Vec::new();
        encode_header(&mut buf);
        for (log, record) in records {
            encode_frame(&mut buf, *log, record);
        }
        buf
    }

    #[test]
    fn frames_round_trip() {
        let records = vec![
            (LogId(1), record(0, b"k", b"value")),
            (LogId(2), record(0, b"", b"")),
            (LogId(1), record(1, b"key two", b"v")),
        ];
        let bytes = file_with(&records);
        let scanned = scan(&bytes).expect("valid header");
        assert_eq!(scanned.entries, records);
        assert_eq!(scanned.valid_len, bytes.len() as u64);
        assert_eq!(scanned.bad_frame, None);
        let frame_len = FRAME_OVERHEAD + 1 + 5;
        assert_eq!(JOURNAL_HEADER_LEN + frame_len, {
            let mut one = Vec::new();
            encode_header(&mut one);
            encode_frame(&mut one, LogId(1), &records[0].1);
            one.len()
        });
    }

    #[test]
    fn a_torn_last_frame_keeps_every_complete_one() {
        let records = vec![
            (LogId(1), record(0, b"a", b"first")),
            (LogId(1), record(1, b"b", b"second")),
        ];
        let bytes = file_with(&records);
        let first_end = file_with(&records[..1]).len();
        for cut in first_end + 1..bytes.len() {
            let scanned = scan(&bytes[..cut]).expect("valid header");
            assert_eq!(scanned.entries, records[..1].to_vec(), "cut at {cut}");
            assert_eq!(scanned.valid_len, first_end as u64);
            assert!(scanned.bad_frame.is_some());
        }
    }

    #[test]
    fn a_corrupted_crc_stops_the_scan() {
        let records = vec![
            (LogId(1), record(0, b"a", b"first")),
            (LogId(1), record(1, b"b", b"second")),
        ];
        let mut bytes = file_with(&records);
        let first_end = file_with(&records[..1]).len();
        bytes[first_end + 4] ^= 1; // the second frame's checksum
        let scanned = scan(&bytes).expect("valid header");
        assert_eq!(scanned.entries.len(), 1);
        assert!(
            scanned
                .bad_frame
                .as_deref()
                .is_some_and(|r| r.contains("checksum"))
        );
    }

    #[test]
    fn bad_headers_are_rejected() {
        assert!(scan(b"").is_err());
        assert!(scan(b"SPATEJN").is_err());
        let mut wrong_version = Vec::new();
        wrong_version.extend_from_slice(&JOURNAL_MAGIC);
        wrong_version.extend_from_slice(&9u32.to_le_bytes());
        wrong_version.extend_from_slice(&0u32.to_le_bytes());
        assert!(scan(&wrong_version).is_err_and(|e| e.contains("version 9")));
    }

    #[test]
    fn a_frame_too_short_for_its_fields_is_bad() {
        let mut bytes = Vec::new();
        encode_header(&mut bytes);
        let start = begin_frame(&mut bytes);
        bytes.extend_from_slice(&[0; 10]);
        finish_frame(&mut bytes, start);
        let scanned = scan(&bytes).expect("valid header");
        assert!(scanned.entries.is_empty());
        assert_eq!(scanned.valid_len, JOURNAL_HEADER_LEN as u64);
        assert!(scanned.bad_frame.is_some());
    }

    #[test]
    fn format_fixture_decodes_to_the_expected_records() {
        let records = crate::testutil::journal_fixture_records();
        let fresh = file_with(&records);
        let bytes = crate::testutil::fixture("journal-v2.jnl", &fresh);
        let scanned = scan(&bytes).expect("valid header");
        assert_eq!(scanned.entries, records);
        assert_eq!(scanned.bad_frame, None);
        assert_eq!(
            bytes, fresh,
            "the journal encoding changed: bump JOURNAL_VERSION"
        );
    }

    #[test]
    fn version_1_files_are_still_read() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/journal-v1.jnl");
        let bytes = std::fs::read(path).expect("fixture");
        let scanned = scan(&bytes).expect("valid header");
        assert_eq!(scanned.entries, crate::testutil::journal_fixture_records());
        assert_eq!(scanned.bad_frame, None);
        // Version 1 has no zero fill: zeros after its frames are a torn write.
        let mut padded = bytes.clone();
        padded.extend_from_slice(&[0; 64]);
        assert!(scan(&padded).expect("valid header").bad_frame.is_some());
    }

    #[test]
    fn a_zero_filled_tail_ends_the_data_cleanly() {
        let records = vec![
            (LogId(1), record(0, b"a", b"first")),
            (LogId(1), record(1, b"b", b"second")),
        ];
        let data = file_with(&records);
        for zeros in [1, 7, 8, 9, 4096] {
            let mut bytes = data.clone();
            bytes.resize(data.len() + zeros, 0);
            let scanned = scan(&bytes).expect("valid header");
            assert_eq!(scanned.entries, records, "{zeros} zeros");
            assert_eq!(scanned.valid_len, data.len() as u64);
            assert_eq!(scanned.bad_frame, None);
        }
        // A frame torn inside the zero fill is still a torn frame.
        let mut torn = file_with(&records[..1]);
        let first_end = torn.len();
        torn.extend_from_slice(&data[first_end..first_end + 12]);
        torn.resize(torn.len() + 4096, 0);
        let scanned = scan(&torn).expect("valid header");
        assert_eq!(scanned.entries, records[..1].to_vec());
        assert_eq!(scanned.valid_len, first_end as u64);
        assert!(scanned.bad_frame.is_some());
    }

    #[test]
    fn writer_rolls_past_the_size_limit() -> Result<(), LogError> {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut writer = JournalWriter::create(dir.path(), 7, 64, Durability::Os)?;
        assert_eq!(writer.roll_if_full()?, None);
        let mut buf = Vec::new();
        encode_frame(&mut buf, LogId(1), &record(0, b"k", &[7; 60]));
        assert!(!writer.write(&buf)?);
        assert_eq!(writer.roll_if_full()?, Some(8));
        assert_eq!(writer.seq(), 8);
        let old = std::fs::read(journal_path(dir.path(), 7)).expect("read old file");
        assert_eq!(scan(&old).expect("header").entries.len(), 1);
        let new = std::fs::read(journal_path(dir.path(), 8)).expect("read new file");
        assert_eq!(
            new.len(),
            JOURNAL_HEADER_LEN,
            "no preallocation without fsyncs"
        );
        Ok(())
    }

    #[test]
    fn with_fsyncs_the_writer_rolls_into_a_zero_filled_file() -> Result<(), LogError> {
        let dir = tempfile::tempdir().expect("temp dir");
        let roll_bytes = 4096;
        let mut writer = JournalWriter::create(dir.path(), 7, roll_bytes, Durability::Fsync)?;
        let mut written = Vec::new();
        let mut offset = 0;
        // Into file 9, and far enough in it that the spare for file 10 gets under way.
        while writer.seq() < 9 || writer.len < roll_bytes / 2 {
            let mut buf = Vec::new();
            let entry = (LogId(1), record(offset, b"k", &[7; 300]));
            encode_frame(&mut buf, entry.0, &entry.1);
            writer.roll_if_full()?;
            assert!(writer.write(&buf)?);
            written.push((writer.seq(), entry));
            offset += 1;
        }
        drop(writer);
        for seq in [8, 9] {
            let bytes = std::fs::read(journal_path(dir.path(), seq)).expect("read file");
            // Preallocated to the roll size; the write that crossed it extended the file.
            assert!(
                bytes.len() as u64 >= roll_bytes,
                "file {seq} was preallocated"
            );
            let scanned = scan(&bytes).expect("header");
            let expected: Vec<_> = written
                .iter()
                .filter(|(in_seq, _)| *in_seq == seq)
                .map(|(_, entry)| entry.clone())
                .collect();
            assert!(!expected.is_empty());
            assert_eq!(scanned.entries, expected, "file {seq}");
            assert_eq!(scanned.bad_frame, None);
        }
        // The spare for file 10 was under way; it is complete, and recovery would remove it.
        let spare = std::fs::read(dir.path().join(SPARE_NAME)).expect("spare written");
        assert_eq!(spare.len() as u64, roll_bytes);
        assert!(scan(&spare).expect("header").entries.is_empty());
        Ok(())
    }
}
