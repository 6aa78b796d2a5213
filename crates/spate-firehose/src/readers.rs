//! Other services reading a delivery stream's records as they arrive (a Kinesis Data Analytics
//! application whose input is the delivery stream): reads of the stream's log in the clear,
//! and the retention holds that keep records in the log until every reader has them.
//!
//! A delivery stream's log normally drops records once they are delivered. A reader registers
//! a hold (`firehose/holds/<stream>/<holder>` in the metadata store: the first offset it still
//! needs), and the delivery worker then drops nothing at or after the lowest hold. A reader
//! moves its hold forward once its own position is durable, and releases it when it no longer
//! reads the stream (its application deleted). Deleting the delivery stream removes its holds.

use std::collections::BTreeMap;

use bytes::Bytes;
use spate_log::StoredRecord;
use spate_meta::Txn;

use crate::crypto::{self, DataKey};
use crate::delivery::BatchRecord;
use crate::error::FirehoseError;
use crate::service::FirehoseService;

pub(crate) const HOLD_PREFIX: &str = "firehose/holds/";

/// Bytes read from the log in one `read_log`.
const READ_BYTES: usize = 4 << 20;

/// What one read of a delivery stream's log gave.
#[derive(Debug, Clone)]
pub struct LogRead {
    /// The records from the asked offset (or from the log's start, when the asked ones are
    /// gone), in order.
    pub records: Vec<BatchRecord>,
    /// The first offset still in the log.
    pub start: u64,
    /// The offset the next record will have.
    pub end: u64,
}

/// Holds by stream name, then by holder.
pub(crate) type Holds = BTreeMap<String, BTreeMap<String, u64>>;

fn hold_key(name: &str, holder: &str) -> String {
    format!("{HOLD_PREFIX}{name}/{holder}")
}

/// Loads every stored hold.
pub(crate) async fn load_holds(meta: &dyn spate_meta::MetaStore) -> Result<Holds, FirehoseError> {
    let mut holds = Holds::new();
    for (key, entry) in meta.scan_prefix(HOLD_PREFIX).await? {
        let Some((name, holder)) = key
            .strip_prefix(HOLD_PREFIX)
            .and_then(|rest| rest.split_once('/'))
        else {
            continue;
        };
        let offset = std::str::from_utf8(&entry.value)
            .ok()
            .and_then(|text| text.parse().ok())
            .ok_or_else(|| FirehoseError::Internal(format!("stored {key}")))?;
        holds
            .entry(name.to_owned())
            .or_default()
            .insert(holder.to_owned(), offset);
    }
    Ok(holds)
}

/// The data of a stored record in the clear, opening it with the stream's data key (fetched
/// into `data_key` on the first sealed record).
pub(crate) async fn open_record(
    service: &FirehoseService,
    name: &str,
    data_key: &mut Option<DataKey>,
    record: StoredRecord,
) -> Result<Bytes, FirehoseError> {
    if !crypto::is_sealed(&record.key) {
        return Ok(record.value);
    }
    if data_key.is_none() {
        *data_key = service.data_key(name, false).await?;
    }
    let key = data_key
        .as_ref()
        .ok_or_else(|| FirehoseError::Internal("a sealed record but no data key".into()))?;
    Ok(Bytes::from(crypto::open(key, &record.key, &record.value)?))
}

impl FirehoseService {
    /// Records of delivery stream `name` from offset `from`, at most `max_records` (and about
    /// 4 MiB), in the clear. Records before the log's start are gone: the read begins there.
    pub async fn read_log(
        &self,
        name: &str,
        from: u64,
        max_records: usize,
    ) -> Result<LogRead, FirehoseError> {
        let stream = self.existing(name)?;
        let log = stream.log;
        let bounds = self.log.bounds(log)?;
        let from = from.max(bounds.start);
        let stored = if from >= bounds.end {
            Vec::new()
        } else {
            match self.log.read_resident(log, from, max_records, READ_BYTES)? {
                Some((records, _)) => records,
                None => {
                    self.with_log(move |engine| engine.read(log, from, max_records, READ_BYTES))
                        .await?
                }
            }
        };
        let mut data_key = None;
        let mut records = Vec::with_capacity(stored.len());
        for record in stored {
            let offset = record.offset;
            let arrival_ms = record.timestamp_ms;
            let data = open_record(self, name, &mut data_key, record).await?;
            records.push(BatchRecord {
                offset,
                arrival_ms,
                data,
            });
        }
        Ok(LogRead {
            records,
            start: bounds.start,
            end: bounds.end,
        })
    }

    /// Keeps the records of delivery stream `name` from `offset` on in its log for `holder`
    /// (replacing the holder's earlier hold) until it is moved or released.
    pub async fn hold_log(
        &self,
        name: &str,
        holder: &str,
        offset: u64,
    ) -> Result<(), FirehoseError> {
        self.existing(name)?;
        if self
            .holds
            .lock()
            .get(name)
            .and_then(|holds| holds.get(holder))
            == Some(&offset)
        {
            return Ok(());
        }
        self.meta
            .commit(Txn::new().put(hold_key(name, holder), offset.to_string()))
            .await?;
        self.holds
            .lock()
            .entry(name.to_owned())
            .or_default()
            .insert(holder.to_owned(), offset);
        Ok(())
    }

    /// Drops `holder`'s hold on delivery stream `name`, if it has one (the stream may be gone).
    pub async fn release_log(&self, name: &str, holder: &str) -> Result<(), FirehoseError> {
        let held = self
            .holds
            .lock()
            .get(name)
            .is_some_and(|holds| holds.contains_key(holder));
        if !held {
            return Ok(());
        }
        self.meta
            .commit(Txn::new().delete(hold_key(name, holder)))
            .await?;
        let mut holds = self.holds.lock();
        if let Some(stream_holds) = holds.get_mut(name) {
            stream_holds.remove(holder);
            if stream_holds.is_empty() {
                holds.remove(name);
            }
        }
        Ok(())
    }

    /// The lowest offset a reader still needs in stream `name`'s log, if any holds it.
    pub(crate) fn hold_floor(&self, name: &str) -> Option<u64> {
        self.holds
            .lock()
            .get(name)
            .and_then(|holds| holds.values().min().copied())
    }

    /// The metadata keys of every hold on stream `name` (to delete with the stream).
    pub(crate) fn hold_keys(&self, name: &str) -> Vec<String> {
        self.holds
            .lock()
            .get(name)
            .into_iter()
            .flat_map(|holds| holds.keys().map(|holder| hold_key(name, holder)))
            .collect()
    }
}
