//! Rebuilding index records lost with a torn tail (plan §2.2).
//!
//! Media and index records of a fragment are committed in one journal frame group, media
//! first, so a crash can leave the index behind the media log, never ahead. At open, the
//! fragments past the last index record's `media_offset` get their index records again, from
//! the media records' keys (the same 64 bytes).

use bytes::Bytes;
use spate_log::{AppendRecord, Log};

use crate::store::StreamLogs;
use crate::store::error::StoreError;
use crate::store::meta::FragmentMeta;

/// Media records read per step.
const BATCH: usize = 256;
/// Media keys are metadata only; values are not needed but `read` returns them, so read
/// batches stop at about this many bytes.
const BATCH_BYTES: usize = 16 << 20;

/// The metadata of media records the index lacks, in order. Blocking.
pub(crate) fn missing(log: &Log, logs: StreamLogs) -> Result<Vec<Bytes>, StoreError> {
    let media = log.bounds(logs.media)?;
    let index = log.bounds(logs.index)?;
    let mut next = media.start;
    if let Some(last) = index.end.checked_sub(1).filter(|&last| last >= index.start) {
        let records = log.read(logs.index, last, 1, usize::MAX)?;
        if let Some(record) = records.first() {
            let meta = FragmentMeta::decode(&record.value)?;
            next = next.max(meta.media_offset.saturating_add(1));
        }
    }
    let mut out = Vec::new();
    while next < media.end {
        let records = log.read(logs.media, next, BATCH, BATCH_BYTES)?;
        let Some(last) = records.last() else {
            break;
        };
        next = last.offset.saturating_add(1);
        for record in records {
            let meta = FragmentMeta::decode(&record.key)?;
            if meta.media_offset != record.offset {
                return Err(StoreError::Corrupt(format!(
                    "media record {} names offset {}",
                    record.offset, meta.media_offset
                )));
            }
            out.push(record.key);
        }
    }
    Ok(out)
}

/// Appends the index records `missing` returned, in one append. Returns how many.
pub(crate) async fn append_missing(
    log: &Log,
    logs: StreamLogs,
    missing: Vec<Bytes>,
) -> Result<u64, StoreError> {
    let count = missing.len() as u64;
    if count == 0 {
        return Ok(0);
    }
    let records = missing
        .into_iter()
        .map(|meta| AppendRecord {
            key: Bytes::new(),
            value: meta,
        })
        .collect();
    log.append(vec![(logs.index, records)]).await?;
    tracing::warn!(
        media_log = %logs.media,
        rebuilt = count,
        "rebuilt index records lost with a torn tail"
    );
    Ok(count)
}
