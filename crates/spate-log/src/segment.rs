//! Sealed segments: immutable per-log files of consecutive records, with a sparse index, and
//! the code that writes, opens and reads them through the read cache.
//!
//! # Format, version 1
//!
//! Files are `<dir>/logs/<log id>/<base_offset: 20 digits>.seg`, written to a `.tmp` name,
//! fsynced, renamed and the directory fsynced, so a `.seg` file is always complete. All
//! integers little-endian.
//!
//! ```text
//! header  (32 bytes): magic "SPATESEG" | version u32 = 1 | reserved u32 = 0
//!                     | log_id u64 | base_offset u64
//! records           : one frame per record, offsets base_offset, base_offset + 1, ...
//!                     payload_len u32 | crc32c(payload) u32 | payload
//!                     payload = offset u64 | timestamp_ms i64 | key_len u32 | key | value
//! index             : index_count entries of 20 bytes, one per chunk of records (a new chunk
//!                     starts once the previous one holds >= 64 KiB of frames):
//!                     rel_offset u32 (offset - base_offset of the chunk's first record)
//!                     | pos u64 (file position of its frame) | timestamp_ms i64 (its timestamp)
//!                     Offsets and timestamps both ascend, so the same entries serve as the
//!                     sparse offset index and the sparse timestamp index.
//! trailer (64 bytes): index_pos u64 | index_count u32 | record_count u32 | first_ts i64
//!                     | last_ts i64 | base_offset u64 | data_bytes u64 (sum of key+value)
//!                     | index_crc u32 (crc32c of the index bytes) | trailer_crc u32 (crc32c of
//!                     the preceding 52 trailer bytes) | magic "SPATEEND"
//! ```
//!
//! Resident per segment: a [`Segment`] (path, base offset, count, first/last timestamp, index
//! position); the index and record chunks are loaded on demand into the engine's bounded
//! [`Cache`], and the file is opened only for those loads.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;

use crate::cache::Cache;
use crate::frame::{FrameRead, Reader, begin_frame, finish_frame, read_frame};
use crate::state::ReadLimits;
use crate::{LogError, LogId, StoredRecord};

/// First bytes of every segment file.
pub(crate) const SEGMENT_MAGIC: [u8; 8] = *b"SPATESEG";
/// Last bytes of every segment file.
const TRAILER_MAGIC: [u8; 8] = *b"SPATEEND";
/// The format version this code writes and reads.
pub(crate) const SEGMENT_VERSION: u32 = 1;
/// File name extension of segment files.
pub(crate) const SEGMENT_EXT: &str = "seg";
const HEADER_LEN: usize = 32;
const TRAILER_LEN: usize = 64;
const TRAILER_CRC_COVERS: usize = 52;
const INDEX_ENTRY_LEN: usize = 20;
/// A chunk (the unit of indexing, reading and caching) closes once it holds this many bytes.
const CHUNK_TARGET_BYTES: usize = 64 * 1024;
/// Bookkeeping bytes charged per cached record besides its data.
const CACHED_RECORD_OVERHEAD: u64 = std::mem::size_of::<StoredRecord>() as u64;

/// One sparse index entry: where a chunk of records starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct IndexEntry {
    pub(crate) rel_offset: u32,
    pub(crate) pos: u64,
    pub(crate) timestamp_ms: i64,
}

/// What the read cache holds for segments.
#[derive(Clone, Debug)]
pub(crate) enum Block {
    Index(Arc<[IndexEntry]>),
    Chunk(Arc<[StoredRecord]>),
}

/// Cache key: segment uid and chunk number (`INDEX_BLOCK` for the index).
pub(crate) type BlockKey = (u64, u32);
/// The engine's read cache.
pub(crate) type BlockCache = Cache<BlockKey, Block>;
const INDEX_BLOCK: u32 = u32::MAX;

/// Everything the trailer says about a segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Summary {
    pub(crate) base_offset: u64,
    pub(crate) record_count: u32,
    pub(crate) first_ts: i64,
    pub(crate) last_ts: i64,
    pub(crate) data_bytes: u64,
    index_pos: u64,
    index_count: u32,
    index_crc: u32,
}

/// Encodes a segment file holding `records` (non-empty, consecutive offsets).
#[cfg(test)]
pub(crate) fn encode(log: LogId, records: &[StoredRecord]) -> (Vec<u8>, Summary) {
    let mut buf = Vec::new();
    let summary = encode_into(log, records, &mut buf);
    (buf, summary)
}

/// [`encode`] into `buf` (cleared first), so the sealer can reuse one buffer: a fresh 4 MiB
/// buffer per segment costs a page fault and a zeroed page per 4 KiB.
pub(crate) fn encode_into(log: LogId, records: &[StoredRecord], buf: &mut Vec<u8>) -> Summary {
    let first = records.first().expect("segments hold at least one record");
    let last = records.last().expect("segments hold at least one record");
    let base_offset = first.offset;
    buf.clear();
    buf.reserve(
        HEADER_LEN + records.iter().map(|r| r.data_len() + 32).sum::<usize>() + TRAILER_LEN,
    );
    buf.extend_from_slice(&SEGMENT_MAGIC);
    buf.extend_from_slice(&SEGMENT_VERSION.to_le_bytes());
    buf.extend_from_slice(&0u32.to_le_bytes());
    buf.extend_from_slice(&log.0.to_le_bytes());
    buf.extend_from_slice(&base_offset.to_le_bytes());

    let mut index = Vec::new();
    let mut chunk_start = usize::MAX;
    let mut data_bytes = 0u64;
    for (i, record) in records.iter().enumerate() {
        debug_assert_eq!(record.offset, base_offset + i as u64, "dense offsets");
        let pos = buf.len();
        if chunk_start == usize::MAX || pos - chunk_start >= CHUNK_TARGET_BYTES {
            chunk_start = pos;
            index.push(IndexEntry {
                rel_offset: u32::try_from(i).expect("segments hold fewer than 2^32 records"),
                pos: pos as u64,
                timestamp_ms: record.timestamp_ms,
            });
        }
        let start = begin_frame(buf);
        buf.extend_from_slice(&record.offset.to_le_bytes());
        buf.extend_from_slice(&record.timestamp_ms.to_le_bytes());
        let key_len = u32::try_from(record.key.len()).expect("keys are far below 4 GiB");
        buf.extend_from_slice(&key_len.to_le_bytes());
        buf.extend_from_slice(&record.key);
        buf.extend_from_slice(&record.value);
        finish_frame(buf, start);
        data_bytes += record.data_len() as u64;
    }

    let index_pos = buf.len() as u64;
    for entry in &index {
        buf.extend_from_slice(&entry.rel_offset.to_le_bytes());
        buf.extend_from_slice(&entry.pos.to_le_bytes());
        buf.extend_from_slice(&entry.timestamp_ms.to_le_bytes());
    }
    let summary = Summary {
        base_offset,
        record_count: u32::try_from(records.len()).expect("segments hold fewer than 2^32 records"),
        first_ts: first.timestamp_ms,
        last_ts: last.timestamp_ms,
        data_bytes,
        index_pos,
        index_count: u32::try_from(index.len()).expect("fewer chunks than records"),
        index_crc: crc32c::crc32c(&buf[index_pos as usize..]),
    };
    let trailer_start = buf.len();
    buf.extend_from_slice(&summary.index_pos.to_le_bytes());
    buf.extend_from_slice(&summary.index_count.to_le_bytes());
    buf.extend_from_slice(&summary.record_count.to_le_bytes());
    buf.extend_from_slice(&summary.first_ts.to_le_bytes());
    buf.extend_from_slice(&summary.last_ts.to_le_bytes());
    buf.extend_from_slice(&summary.base_offset.to_le_bytes());
    buf.extend_from_slice(&summary.data_bytes.to_le_bytes());
    buf.extend_from_slice(&summary.index_crc.to_le_bytes());
    let trailer_crc = crc32c::crc32c(&buf[trailer_start..]);
    buf.extend_from_slice(&trailer_crc.to_le_bytes());
    buf.extend_from_slice(&TRAILER_MAGIC);
    debug_assert_eq!(buf.len() - trailer_start, TRAILER_LEN);
    summary
}

/// Checks header and trailer of a segment file of `file_len` bytes written for `log`.
fn decode_summary(
    header: &[u8],
    trailer: &[u8],
    file_len: u64,
    log: LogId,
) -> Result<Summary, String> {
    let mut reader = Reader::new(header);
    if reader.array::<8>() != Some(SEGMENT_MAGIC) {
        return Err("missing segment magic".to_owned());
    }
    match reader.u32() {
        Some(SEGMENT_VERSION) => {}
        other => return Err(format!("unsupported segment version {other:?}")),
    }
    let _reserved = reader.u32();
    let header_log = reader.u64();
    let header_base = reader.u64();
    if header_log != Some(log.0) {
        return Err(format!("segment of log {header_log:?} in log {log}"));
    }
    if trailer.len() != TRAILER_LEN || trailer[TRAILER_LEN - 8..] != TRAILER_MAGIC {
        return Err("missing segment trailer magic".to_owned());
    }
    let covered = &trailer[..TRAILER_CRC_COVERS];
    let mut reader = Reader::new(trailer);
    let parsed = (|| {
        let index_pos = reader.u64()?;
        let index_count = reader.u32()?;
        let record_count = reader.u32()?;
        let first_ts = reader.i64()?;
        let last_ts = reader.i64()?;
        let base_offset = reader.u64()?;
        let data_bytes = reader.u64()?;
        let index_crc = reader.u32()?;
        let trailer_crc = reader.u32()?;
        Some((
            Summary {
                base_offset,
                record_count,
                first_ts,
                last_ts,
                data_bytes,
                index_pos,
                index_count,
                index_crc,
            },
            trailer_crc,
        ))
    })();
    let Some((summary, trailer_crc)) = parsed else {
        return Err("truncated segment trailer".to_owned());
    };
    if crc32c::crc32c(covered) != trailer_crc {
        return Err("segment trailer checksum mismatch".to_owned());
    }
    if Some(summary.base_offset) != header_base {
        return Err("header and trailer disagree on the base offset".to_owned());
    }
    let expected_len = summary.index_pos
        + u64::from(summary.index_count) * INDEX_ENTRY_LEN as u64
        + TRAILER_LEN as u64;
    if expected_len != file_len
        || summary.index_pos < HEADER_LEN as u64
        || summary.record_count == 0
        || summary.index_count == 0
    {
        return Err("segment layout does not add up".to_owned());
    }
    Ok(summary)
}

/// Decodes and checks an index block.
fn decode_index(bytes: &[u8], summary: &Summary) -> Result<Vec<IndexEntry>, String> {
    if crc32c::crc32c(bytes) != summary.index_crc {
        return Err("segment index checksum mismatch".to_owned());
    }
    let mut reader = Reader::new(bytes);
    let mut entries = Vec::with_capacity(summary.index_count as usize);
    for _ in 0..summary.index_count {
        let entry = (|| {
            Some(IndexEntry {
                rel_offset: reader.u32()?,
                pos: reader.u64()?,
                timestamp_ms: reader.i64()?,
            })
        })()
        .ok_or("truncated segment index")?;
        let ascending = entries.last().is_none_or(|prev: &IndexEntry| {
            prev.rel_offset < entry.rel_offset && prev.pos < entry.pos
        });
        if !ascending || entry.rel_offset >= summary.record_count || entry.pos >= summary.index_pos
        {
            return Err("segment index entries out of order".to_owned());
        }
        entries.push(entry);
    }
    if entries.first().map(|e| (e.rel_offset, e.pos)) != Some((0, HEADER_LEN as u64)) {
        return Err("segment index does not start at the first record".to_owned());
    }
    Ok(entries)
}

/// Decodes a chunk of `count` frames starting at offset `first_offset`; keys and values are
/// slices of `bytes` (no copy).
fn decode_chunk(bytes: &Bytes, first_offset: u64, count: u64) -> Result<Vec<StoredRecord>, String> {
    let mut records = Vec::with_capacity(count as usize);
    let mut pos = 0;
    loop {
        match read_frame(bytes, pos) {
            FrameRead::End => break,
            FrameRead::Bad(reason) => return Err(reason),
            FrameRead::Frame { payload, next } => {
                let payload_start = pos + crate::frame::FRAME_HEADER_LEN;
                let mut reader = Reader::new(payload);
                let fields = (|| Some((reader.u64()?, reader.i64()?, reader.u32()? as usize)))();
                let Some((offset, timestamp_ms, key_len)) = fields else {
                    return Err(format!("undecodable record at chunk position {pos}"));
                };
                let key_start = payload_start + 20;
                if key_start + key_len > next {
                    return Err(format!("key runs past its frame at chunk position {pos}"));
                }
                if offset != first_offset + records.len() as u64 {
                    return Err(format!("record offset {offset} out of sequence"));
                }
                records.push(StoredRecord {
                    offset,
                    timestamp_ms,
                    key: bytes.slice(key_start..key_start + key_len),
                    value: bytes.slice(key_start + key_len..next),
                });
                pos = next;
            }
        }
    }
    if records.len() as u64 != count {
        return Err(format!(
            "chunk holds {} records, index says {count}",
            records.len()
        ));
    }
    Ok(records)
}

/// Hands out cache identities for segments.
static NEXT_UID: AtomicU64 = AtomicU64::new(0);

/// The resident metadata of one sealed segment.
#[derive(Debug)]
pub(crate) struct Segment {
    uid: u64,
    path: PathBuf,
    summary: Summary,
}

/// A chunk's records, as [`Segment::load_chunk`] found them.
struct LoadedChunk {
    key: BlockKey,
    records: Arc<[StoredRecord]>,
    /// The weight to cache them under, if they came from the file (None: already cached).
    from_file_weight: Option<u64>,
}

impl LoadedChunk {
    /// Caches the records if they came from the file.
    fn keep(&self, cache: &BlockCache) {
        if let Some(weight) = self.from_file_weight {
            cache.insert(self.key, Block::Chunk(Arc::clone(&self.records)), weight);
        }
    }
}

impl Segment {
    /// A segment just written from `summary`.
    pub(crate) fn new(path: PathBuf, summary: Summary) -> Segment {
        Segment {
            uid: NEXT_UID.fetch_add(1, Ordering::Relaxed),
            path,
            summary,
        }
    }

    /// Opens an existing segment file of `log`, checking header and trailer.
    pub(crate) fn open(path: &Path, log: LogId) -> Result<Segment, LogError> {
        let context = || format!("reading {}", path.display());
        let file = File::open(path).map_err(LogError::io(context))?;
        let file_len = file.metadata().map_err(LogError::io(context))?.len();
        if file_len < (HEADER_LEN + TRAILER_LEN) as u64 {
            return Err(LogError::corrupt(path, "segment file too short"));
        }
        let mut header = [0u8; HEADER_LEN];
        let mut trailer = [0u8; TRAILER_LEN];
        file.read_exact_at(&mut header, 0)
            .and_then(|()| file.read_exact_at(&mut trailer, file_len - TRAILER_LEN as u64))
            .map_err(LogError::io(context))?;
        let summary = decode_summary(&header, &trailer, file_len, log)
            .map_err(|reason| LogError::corrupt(path, reason))?;
        Ok(Segment::new(path.to_owned(), summary))
    }

    pub(crate) fn summary(&self) -> &Summary {
        &self.summary
    }

    pub(crate) fn base_offset(&self) -> u64 {
        self.summary.base_offset
    }

    /// One past the last offset.
    pub(crate) fn end(&self) -> u64 {
        self.summary.base_offset + u64::from(self.summary.record_count)
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    fn read_bytes(&self, pos: u64, len: u64) -> Result<Vec<u8>, LogError> {
        let context = || format!("reading {}", self.path.display());
        let file = File::open(&self.path).map_err(LogError::io(context))?;
        let mut buf = vec![0u8; usize::try_from(len).expect("segment blocks fit in memory")];
        file.read_exact_at(&mut buf, pos)
            .map_err(LogError::io(context))?;
        Ok(buf)
    }

    /// The sparse index, from the cache or the file.
    fn index(&self, cache: &BlockCache) -> Result<Arc<[IndexEntry]>, LogError> {
        if let Some(Block::Index(index)) = cache.get(&(self.uid, INDEX_BLOCK)) {
            return Ok(index);
        }
        let len = u64::from(self.summary.index_count) * INDEX_ENTRY_LEN as u64;
        let bytes = self.read_bytes(self.summary.index_pos, len)?;
        let index: Arc<[IndexEntry]> = decode_index(&bytes, &self.summary)
            .map_err(|reason| LogError::corrupt(&self.path, reason))?
            .into();
        cache.insert(
            (self.uid, INDEX_BLOCK),
            Block::Index(Arc::clone(&index)),
            len + 64,
        );
        Ok(index)
    }

    /// The records of chunk `chunk`, from the cache or the file; cached if read from the file.
    fn chunk(
        &self,
        cache: &BlockCache,
        index: &[IndexEntry],
        chunk: usize,
    ) -> Result<Arc<[StoredRecord]>, LogError> {
        let loaded = self.load_chunk(cache, index, chunk)?;
        loaded.keep(cache);
        Ok(loaded.records)
    }

    /// The records of chunk `chunk`, from the cache or the file, without caching them.
    fn load_chunk(
        &self,
        cache: &BlockCache,
        index: &[IndexEntry],
        chunk: usize,
    ) -> Result<LoadedChunk, LogError> {
        let key = (
            self.uid,
            u32::try_from(chunk).expect("chunk numbers fit in u32"),
        );
        if let Some(Block::Chunk(records)) = cache.get(&key) {
            return Ok(LoadedChunk {
                key,
                records,
                from_file_weight: None,
            });
        }
        let entry = index[chunk];
        let (end_pos, end_rel) = match index.get(chunk + 1) {
            Some(next) => (next.pos, next.rel_offset),
            None => (self.summary.index_pos, self.summary.record_count),
        };
        let bytes = Bytes::from(self.read_bytes(entry.pos, end_pos - entry.pos)?);
        let count = u64::from(end_rel - entry.rel_offset);
        let first_offset = self.summary.base_offset + u64::from(entry.rel_offset);
        let records: Arc<[StoredRecord]> = decode_chunk(&bytes, first_offset, count)
            .map_err(|reason| LogError::corrupt(&self.path, reason))?
            .into();
        Ok(LoadedChunk {
            key,
            records,
            from_file_weight: Some(bytes.len() as u64 + count * CACHED_RECORD_OVERHEAD),
        })
    }

    /// Appends to `out` the records from offset `from` (inside this segment) onward, as far as
    /// `limits` allow.
    ///
    /// Scan-resistant: of the chunks read from the file, only the one the read stops in is
    /// cached, since the reader's next call resumes there. Chunks read through are not: a
    /// consumer catching up from far behind (10 MiB per GetRecords) would otherwise flush the
    /// whole cache on every call and keep it full of data nobody reads again.
    pub(crate) fn read(
        &self,
        cache: &BlockCache,
        from: u64,
        limits: &mut ReadLimits,
        out: &mut Vec<StoredRecord>,
    ) -> Result<(), LogError> {
        debug_assert!(from >= self.base_offset() && from < self.end());
        let index = self.index(cache)?;
        let rel = from - self.base_offset();
        let mut chunk = index.partition_point(|e| u64::from(e.rel_offset) <= rel) - 1;
        let mut skip = usize::try_from(rel - u64::from(index[chunk].rel_offset))
            .expect("chunk lengths fit in memory");
        while chunk < index.len() {
            let loaded = self.load_chunk(cache, &index, chunk)?;
            for record in loaded.records.iter().skip(skip) {
                if !limits.admit(record.data_len()) {
                    loaded.keep(cache);
                    return Ok(());
                }
                out.push(record.clone());
            }
            skip = 0;
            chunk += 1;
        }
        Ok(())
    }

    /// The first offset whose timestamp is >= `timestamp_ms`; the caller guarantees one exists
    /// here (`last_ts >= timestamp_ms`).
    pub(crate) fn offset_at_or_after(
        &self,
        cache: &BlockCache,
        timestamp_ms: i64,
    ) -> Result<u64, LogError> {
        if self.summary.first_ts >= timestamp_ms {
            return Ok(self.base_offset());
        }
        let index = self.index(cache)?;
        // Chunks starting before the target: the answer is in the last of them, or it is the
        // first record of the next chunk.
        let later = index.partition_point(|e| e.timestamp_ms < timestamp_ms);
        let chunk = later.saturating_sub(1);
        let records = self.chunk(cache, &index, chunk)?;
        for record in records.iter() {
            if record.timestamp_ms >= timestamp_ms {
                return Ok(record.offset);
            }
        }
        match index.get(chunk + 1) {
            Some(next) => Ok(self.base_offset() + u64::from(next.rel_offset)),
            None => Ok(self.end()),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn records(base: u64, count: u64, value_len: usize) -> Vec<StoredRecord> {
        (base..base + count)
            .map(|offset| StoredRecord {
                offset,
                timestamp_ms: 1_000 + (offset as i64 / 3) * 10,
                key: Bytes::from(format!("key-{offset}")),
                value: Bytes::from(vec![(offset % 251) as u8; value_len]),
            })
            .collect()
    }

    fn write(dir: &Path, log: LogId, records: &[StoredRecord]) -> Segment {
        let (bytes, summary) = encode(log, records);
        let path = dir.join(crate::fsutil::numbered_name(
            summary.base_offset,
            SEGMENT_EXT,
        ));
        std::fs::write(&path, bytes).expect("write segment");
        let opened = Segment::open(&path, log).expect("open segment");
        assert_eq!(opened.summary, summary);
        opened
    }

    fn read_all(segment: &Segment, cache: &BlockCache, from: u64) -> Vec<StoredRecord> {
        let mut limits = ReadLimits::new(usize::MAX, usize::MAX);
        let mut out = Vec::new();
        segment
            .read(cache, from, &mut limits, &mut out)
            .expect("read");
        out
    }

    #[test]
    fn build_and_read_back_across_many_chunks() {
        let dir = tempfile::tempdir().expect("temp dir");
        let input = records(500, 300, 1000); // ~300 KiB: several chunks
        let segment = write(dir.path(), LogId(7), &input);
        assert_eq!(segment.base_offset(), 500);
        assert_eq!(segment.end(), 800);
        let cache = BlockCache::new(1 << 20);
        let index = segment.index(&cache).expect("index");
        assert!(index.len() > 3, "{} chunks", index.len());
        assert_eq!(read_all(&segment, &cache, 500), input);
        for from in [501, 563, 564, 700, 799] {
            assert_eq!(
                read_all(&segment, &cache, from),
                input[(from - 500) as usize..]
            );
        }
        let mut limits = ReadLimits::new(5, usize::MAX);
        let mut out = Vec::new();
        segment
            .read(&cache, 600, &mut limits, &mut out)
            .expect("read");
        assert_eq!(out, input[100..105]);
    }

    #[test]
    fn timestamp_lookup_inside_a_segment() {
        let dir = tempfile::tempdir().expect("temp dir");
        let input = records(0, 300, 1000);
        let segment = write(dir.path(), LogId(1), &input);
        let cache = BlockCache::new(1 << 20);
        for ts in [0, 1_000, 1_001, 1_010, 1_500, 1_990] {
            let expected = input
                .iter()
                .find(|r| r.timestamp_ms >= ts)
                .expect("exists")
                .offset;
            assert_eq!(
                segment.offset_at_or_after(&cache, ts).expect("lookup"),
                expected
            );
        }
    }

    #[test]
    fn reads_survive_a_tiny_cache() {
        let dir = tempfile::tempdir().expect("temp dir");
        let input = records(0, 200, 1000);
        let segment = write(dir.path(), LogId(1), &input);
        let cache = BlockCache::new(1);
        assert_eq!(read_all(&segment, &cache, 0), input);
        assert_eq!(cache.weight(), 0);
    }

    #[test]
    fn format_fixture_decodes_to_the_expected_records() {
        let records = crate::testutil::segment_fixture_records();
        let (fresh, _) = encode(LogId(7), &records);
        let bytes = crate::testutil::fixture("segment-v1.seg", &fresh);
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("00000000000000000040.seg");
        std::fs::write(&path, &bytes).expect("copy fixture");
        let segment = Segment::open(&path, LogId(7)).expect("open fixture");
        assert_eq!(segment.base_offset(), 40);
        assert_eq!(segment.end(), 43);
        assert_eq!(segment.summary().first_ts, 1_699_999_999_990);
        assert_eq!(segment.summary().last_ts, 1_699_999_999_999);
        let cache = BlockCache::new(1 << 20);
        assert_eq!(read_all(&segment, &cache, 40), records);
        assert_eq!(
            bytes, fresh,
            "the segment encoding changed: bump SEGMENT_VERSION"
        );
    }

    #[test]
    fn damaged_files_are_reported_corrupt() {
        let dir = tempfile::tempdir().expect("temp dir");
        let input = records(0, 10, 10);
        let (bytes, _) = encode(LogId(1), &input);
        let path = dir.path().join("x.seg");
        std::fs::write(&path, &bytes).expect("write");
        assert!(matches!(
            Segment::open(&path, LogId(2)),
            Err(LogError::Corrupt { .. })
        ));

        let mut trailer_damaged = bytes.clone();
        let at = trailer_damaged.len() - 20;
        trailer_damaged[at] ^= 1;
        std::fs::write(&path, &trailer_damaged).expect("write");
        assert!(matches!(
            Segment::open(&path, LogId(1)),
            Err(LogError::Corrupt { .. })
        ));

        let mut record_damaged = bytes.clone();
        record_damaged[HEADER_LEN + 30] ^= 1;
        std::fs::write(&path, &record_damaged).expect("write");
        let segment = Segment::open(&path, LogId(1)).expect("trailer intact");
        let mut out = Vec::new();
        let result = segment.read(
            &BlockCache::new(1 << 20),
            0,
            &mut ReadLimits::new(10, 1 << 20),
            &mut out,
        );
        assert!(
            matches!(result, Err(LogError::Corrupt { .. })),
            "{result:?}"
        );

        std::fs::write(&path, &bytes[..bytes.len() - 1]).expect("write");
        assert!(matches!(
            Segment::open(&path, LogId(1)),
            Err(LogError::Corrupt { .. })
        ));
    }

    #[test]
    fn a_read_caches_only_the_chunk_it_stops_in() {
        let dir = tempfile::tempdir().expect("temp dir");
        let input = records(0, 300, 1000); // ~300 KiB: several chunks
        let segment = write(dir.path(), LogId(1), &input);
        let cache = BlockCache::new(1 << 20);
        let index = segment.index(&cache).expect("index");
        assert!(index.len() > 3, "{} chunks", index.len());
        let index_weight = cache.weight();

        // Read through to the end: no chunk is kept.
        assert_eq!(read_all(&segment, &cache, 0), input);
        assert_eq!(cache.weight(), index_weight);

        // Stop in the middle: the chunk holding the next record is kept, and only it.
        let mut limits = ReadLimits::new(150, usize::MAX);
        let mut out = Vec::new();
        segment
            .read(&cache, 0, &mut limits, &mut out)
            .expect("read");
        assert_eq!(out, input[..150]);
        let chunk_weight = cache.weight() - index_weight;
        assert!(
            chunk_weight > 0 && chunk_weight < 100 * 1024,
            "{chunk_weight} bytes of chunks cached"
        );
        let (hits_before, _) = cache.hit_counts();
        let mut out = Vec::new();
        segment
            .read(&cache, 150, &mut ReadLimits::new(1, usize::MAX), &mut out)
            .expect("read");
        assert_eq!(out, input[150..151]);
        // The index and the resumed chunk both came from the cache.
        assert_eq!(cache.hit_counts().0, hits_before + 2);
    }
}
