//! Time lookups over a stream's index log (64-byte [`FragmentMeta`] per fragment).
//!
//! Server timestamps never decrease with the offset, so the server axis binary-searches the
//! index (`Log::read(index, mid, 1)` per probe), then scans forward until past the range. The
//! media offset also increases with the index position, so pagination (`after`) and the media
//! log's start (records whose fragment retention already dropped) join the same search.
//! Producer timestamps are not monotone across sessions: that axis scans from the first
//! position the pagination allows. Unverified: good enough until streams hold millions of
//! fragments; the plan's per-block `(min, max)` summaries would bound that scan.

use spate_log::{Log, LogId};

use crate::store::error::StoreError;
use crate::store::{FragmentMeta, FragmentNumber, ListQuery, StreamLogs, TimeAxis};

/// Index records read per step of a forward scan.
const SCAN_BATCH: usize = 512;

/// The index record at `position`, or the first one after it if retention dropped it;
/// `None` past the end.
fn meta_at(
    log: &Log,
    index: LogId,
    position: u64,
) -> Result<Option<(u64, FragmentMeta)>, StoreError> {
    let records = log.read(index, position, 1, usize::MAX)?;
    match records.into_iter().next() {
        Some(record) => Ok(Some((record.offset, FragmentMeta::decode(&record.value)?))),
        None => Ok(None),
    }
}

/// The first index position in `[lo, hi)` whose metadata satisfies `reached` (which must be
/// false then true along the index), or `hi`.
fn first_position(
    log: &Log,
    index: LogId,
    mut lo: u64,
    mut hi: u64,
    reached: impl Fn(&FragmentMeta) -> bool,
) -> Result<u64, StoreError> {
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        match meta_at(log, index, mid)? {
            None => hi = mid,
            // Trimmed under us: go on from the new start.
            Some((position, _)) if position != mid => lo = position.min(hi),
            Some((_, meta)) => {
                if reached(&meta) {
                    hi = mid;
                } else {
                    lo = mid + 1;
                }
            }
        }
    }
    Ok(lo)
}

/// Whether a fragment is still readable and past the pagination point.
fn live(meta: &FragmentMeta, media_start: u64, after: Option<u64>) -> bool {
    meta.media_offset >= media_start && after.is_none_or(|after| meta.media_offset > after)
}

/// What a scan does with one fragment.
enum Step {
    Take,
    Skip,
    Stop,
}

/// Calls `visit` on each live index record from `position` on, until it says stop or the
/// index ends.
fn scan(
    log: &Log,
    logs: StreamLogs,
    mut position: u64,
    media_start: u64,
    after: Option<u64>,
    mut visit: impl FnMut(&FragmentMeta) -> Step,
) -> Result<(), StoreError> {
    loop {
        let records = log.read(logs.index, position, SCAN_BATCH, usize::MAX)?;
        let Some(last) = records.last() else {
            return Ok(());
        };
        position = last.offset.saturating_add(1);
        for record in &records {
            let meta = FragmentMeta::decode(&record.value)?;
            if !live(&meta, media_start, after) {
                continue;
            }
            if let Step::Stop = visit(&meta) {
                return Ok(());
            }
        }
    }
}

/// The first index position that can hold a live fragment at or after `server_ms`
/// (`i64::MIN` for any).
fn start_position(
    log: &Log,
    logs: StreamLogs,
    media_start: u64,
    after: Option<u64>,
    server_ms: i64,
) -> Result<u64, StoreError> {
    let bounds = log.bounds(logs.index)?;
    first_position(log, logs.index, bounds.start, bounds.end, |meta| {
        live(meta, media_start, after) && meta.server_ts_ms >= server_ms
    })
}

/// See [`crate::store::FragmentStore::list`]. Both ends of the range are inclusive.
/// Unverified: AWS's ListFragments range inclusivity.
pub(crate) fn list(
    log: &Log,
    logs: StreamLogs,
    query: ListQuery,
) -> Result<Vec<(FragmentNumber, FragmentMeta)>, StoreError> {
    let mut out = Vec::new();
    if query.limit == 0 || query.start_ms > query.end_ms {
        return Ok(out);
    }
    let media_start = log.bounds(logs.media)?.start;
    let from_ms = match query.axis {
        TimeAxis::Server => query.start_ms,
        TimeAxis::Producer => i64::MIN,
    };
    let position = start_position(log, logs, media_start, query.after, from_ms)?;
    scan(log, logs, position, media_start, query.after, |meta| {
        let ts = match query.axis {
            TimeAxis::Server => meta.server_ts_ms,
            TimeAxis::Producer => meta.producer_ts_ms,
        };
        if query.axis == TimeAxis::Server && ts > query.end_ms {
            return Step::Stop;
        }
        if ts < query.start_ms || ts > query.end_ms {
            return Step::Skip;
        }
        out.push((
            FragmentNumber {
                log: logs.media.0,
                offset: meta.media_offset,
            },
            *meta,
        ));
        if out.len() >= query.limit {
            Step::Stop
        } else {
            Step::Take
        }
    })?;
    Ok(out)
}

/// See [`crate::store::FragmentStore::locate`].
pub(crate) fn locate(
    log: &Log,
    logs: StreamLogs,
    axis: TimeAxis,
    ts_ms: i64,
) -> Result<Option<u64>, StoreError> {
    let media_start = log.bounds(logs.media)?.start;
    let mut found = None;
    match axis {
        TimeAxis::Server => {
            let position = start_position(log, logs, media_start, None, ts_ms)?;
            // The fragment before the first one at or after `ts_ms` may contain it.
            if let Some(previous) = position.checked_sub(1)
                && let Some((at, meta)) = meta_at(log, logs.index, previous)?
                && at == previous
                && live(&meta, media_start, None)
                && meta
                    .server_ts_ms
                    .saturating_add(i64::from(meta.duration_ms))
                    > ts_ms
            {
                return Ok(Some(meta.media_offset));
            }
            scan(log, logs, position, media_start, None, |meta| {
                found = Some(meta.media_offset);
                Step::Stop
            })?;
        }
        TimeAxis::Producer => {
            let start = log.bounds(logs.index)?.start;
            scan(log, logs, start, media_start, None, |meta| {
                if meta.producer_end_ms() > ts_ms {
                    found = Some(meta.media_offset);
                    Step::Stop
                } else {
                    Step::Skip
                }
            })?;
        }
    }
    Ok(found)
}
