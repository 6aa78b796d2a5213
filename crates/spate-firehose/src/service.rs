//! The Firehose service: the delivery streams of one account, their records' log, and one
//! delivery worker per stream.
//!
//! Stream metadata is held in memory and written through to the metadata store (under
//! `firehose/streams/<name>`) before it is published; control-plane changes are serialized by
//! one async lock. Each stream's records live in a log of its own in the service's storage
//! engine; the worker's checkpoint (the first offset not yet delivered) is stored under
//! `firehose/checkpoints/<name>` and advances only after the destination confirmed a batch.

use std::collections::BTreeMap;
use std::sync::Arc;

use parking_lot::Mutex;
use spate_log::{Clock, Log, LogError, LogId};
use spate_meta::{MetaStore, Txn};
use tracing::{info, warn};

use crate::config::FirehoseConfig;
use crate::crypto::{DataKey, KEY_PREFIX};
use crate::delivery::{self, Worker};
use crate::destination::s3::S3Stores;
use crate::error::FirehoseError;
use crate::model::DeliveryStreamMeta;
use crate::model::StreamType;
use crate::source::{self, KinesisApi, Reader, SOURCE_PREFIX};

pub(crate) const STREAM_PREFIX: &str = "firehose/streams/";
pub(crate) const CHECKPOINT_PREFIX: &str = "firehose/checkpoints/";
const NEXT_LOG_KEY: &str = "firehose/next-log-id";

/// Firehose over a log and a metadata store.
pub struct FirehoseService {
    pub(crate) config: FirehoseConfig,
    pub(crate) log: Log,
    pub(crate) meta: Arc<dyn MetaStore>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) streams: Mutex<BTreeMap<String, Arc<DeliveryStreamMeta>>>,
    /// Serializes control-plane changes (create, delete, update, tags, encryption).
    pub(crate) control: tokio::sync::Mutex<()>,
    pub(crate) workers: Mutex<BTreeMap<String, Worker>>,
    pub(crate) s3: S3Stores,
    /// The HTTP client of the HTTP endpoint, Splunk and OpenSearch destinations.
    pub(crate) http: crate::destination::HttpClient,
    /// Data keys of streams with encryption on (or once on), loaded on first use.
    pub(crate) data_keys: Mutex<BTreeMap<String, DataKey>>,
    /// The account's Data Streams, for streams whose source is a Kinesis stream; `None` when
    /// the service runs without them (then such streams are refused).
    pub(crate) kinesis: Option<Arc<dyn KinesisApi>>,
    /// The source readers of streams fed by a Kinesis stream.
    pub(crate) readers: Mutex<BTreeMap<String, Reader>>,
    /// The processors and conversions of S3 destinations, built once per settings.
    pub(crate) prepared: crate::destination::prepared::PreparedCache,
    /// Other services' retention holds on the streams' logs (`readers`).
    pub(crate) holds: Mutex<crate::readers::Holds>,
}

impl std::fmt::Debug for FirehoseService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FirehoseService")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl FirehoseService {
    /// Invokes the function a Lambda ARN is mapped to in `[firehose.lambda]` (a URL or a local
    /// command) with `event`, for other services of the account (Kinesis Data Analytics'
    /// Lambda outputs): its response body.
    pub async fn invoke_lambda(&self, arn: &str, event: &[u8]) -> Result<Vec<u8>, FirehoseError> {
        let processor = self.lambda_processor(arn)?;
        processor
            .invoke(event)
            .await
            .map_err(|(code, message)| FirehoseError::InvalidArgument(format!("{code}: {message}")))
    }

    /// Whether `arn` is mapped to a function Spate can invoke.
    pub fn lambda_processor(
        &self,
        arn: &str,
    ) -> Result<crate::processing::lambda::LambdaProcessor, FirehoseError> {
        let target = self.config.lambda.get(arn).ok_or_else(|| {
            FirehoseError::InvalidArgument(format!(
                "Lambda function {arn} is not mapped in Spate's configuration: add [firehose.lambda.\"{arn}\"] with url = \"http://...\" or command = [...]."
            ))
        })?;
        Ok(crate::processing::lambda::LambdaProcessor {
            arn: arn.to_owned(),
            retries: 0,
            buffer_bytes: crate::processing::lambda::DEFAULT_BUFFER_BYTES,
            target: target.clone(),
        })
    }

    /// Reads an object from the S3-compatible server Firehose delivers to (the same endpoint
    /// and credentials per bucket), for other services of the account.
    pub async fn read_object(&self, bucket: &str, key: &str) -> Result<Vec<u8>, FirehoseError> {
        self.s3
            .get(bucket, key)
            .await
            .map_err(|err| FirehoseError::InvalidArgument(err.to_string()))
    }

    /// Loads the delivery streams, finishes deletions a stop interrupted, removes logs no stream
    /// owns, and starts a delivery worker per stream. Call within a tokio runtime.
    pub async fn open(
        config: FirehoseConfig,
        log: Log,
        meta: Arc<dyn MetaStore>,
        clock: Arc<dyn Clock>,
        kinesis: Option<Arc<dyn KinesisApi>>,
    ) -> Result<Arc<FirehoseService>, FirehoseError> {
        let mut streams = BTreeMap::new();
        for (key, entry) in meta.scan_prefix(STREAM_PREFIX).await? {
            let stream: DeliveryStreamMeta = serde_json::from_slice(&entry.value)
                .map_err(|err| FirehoseError::Internal(format!("stored {key}: {err}")))?;
            streams.insert(stream.name.clone(), Arc::new(stream));
        }
        let http = crate::destination::HttpClient::new(&config.http)?;
        let holds = crate::readers::load_holds(meta.as_ref()).await?;
        let service = Arc::new(FirehoseService {
            s3: S3Stores::new(config.s3.clone()),
            http,
            config,
            log,
            meta,
            clock,
            streams: Mutex::new(streams),
            control: tokio::sync::Mutex::new(()),
            workers: Mutex::new(BTreeMap::new()),
            data_keys: Mutex::new(BTreeMap::new()),
            kinesis,
            readers: Mutex::new(BTreeMap::new()),
            prepared: Default::default(),
            holds: Mutex::new(holds),
        });
        let deleting: Vec<String> = service
            .all()
            .iter()
            .filter(|stream| stream.deleting_since_ms.is_some())
            .map(|stream| stream.name.clone())
            .collect();
        for name in deleting {
            service.finish_delete(&name).await?;
        }
        service.remove_orphan_logs()?;
        for stream in service.all() {
            service.start_worker(&stream);
        }
        Ok(service)
    }

    pub fn config(&self) -> &FirehoseConfig {
        &self.config
    }

    pub fn account_id(&self) -> &str {
        &self.config.account_id
    }

    pub(crate) fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    pub(crate) fn all(&self) -> Vec<Arc<DeliveryStreamMeta>> {
        self.streams.lock().values().cloned().collect()
    }

    pub(crate) fn get(&self, name: &str) -> Option<Arc<DeliveryStreamMeta>> {
        self.streams.lock().get(name).cloned()
    }

    /// The stream, unless it does not exist or is being deleted.
    pub(crate) fn existing(&self, name: &str) -> Result<Arc<DeliveryStreamMeta>, FirehoseError> {
        self.get(name)
            .filter(|stream| stream.deleting_since_ms.is_none())
            .ok_or_else(|| FirehoseError::ResourceNotFound(self.config.not_found_message(name)))
    }

    /// Writes `stream` to the metadata store, then publishes it.
    pub(crate) async fn store(&self, stream: DeliveryStreamMeta) -> Result<(), FirehoseError> {
        let value = serde_json::to_vec(&stream)
            .map_err(|err| FirehoseError::Internal(format!("encoding a stream: {err}")))?;
        self.meta
            .commit(Txn::new().put(format!("{STREAM_PREFIX}{}", stream.name), value))
            .await?;
        self.streams
            .lock()
            .insert(stream.name.clone(), Arc::new(stream));
        Ok(())
    }

    /// A log id never used before, from a counter in the metadata store.
    pub(crate) async fn allocate_log(&self) -> Result<LogId, FirehoseError> {
        let next = match self.meta.get(NEXT_LOG_KEY).await? {
            Some(entry) => std::str::from_utf8(&entry.value)
                .ok()
                .and_then(|text| text.parse::<u64>().ok())
                .ok_or_else(|| FirehoseError::Internal("stored next log id".into()))?,
            None => 1,
        };
        self.meta
            .commit(Txn::new().put(NEXT_LOG_KEY, (next + 1).to_string()))
            .await?;
        Ok(LogId(next))
    }

    /// The stream's data key; made and stored when `create` and none exists yet.
    pub(crate) async fn data_key(
        &self,
        name: &str,
        create: bool,
    ) -> Result<Option<DataKey>, FirehoseError> {
        if let Some(key) = self.data_keys.lock().get(name) {
            return Ok(Some(key.clone()));
        }
        let stored = format!("{KEY_PREFIX}{name}");
        let key = match self.meta.get(&stored).await? {
            Some(entry) => DataKey::from_bytes(&entry.value)
                .ok_or_else(|| FirehoseError::Internal(format!("stored {stored}")))?,
            None if create => {
                let (bytes, key) = DataKey::generate();
                self.meta
                    .commit(Txn::new().put(stored, bytes.to_vec()))
                    .await?;
                key
            }
            None => return Ok(None),
        };
        self.data_keys.lock().insert(name.to_owned(), key.clone());
        Ok(Some(key))
    }

    /// Runs storage calls that may block (file I/O, fsync) off the async runtime.
    pub(crate) async fn with_log<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Log) -> Result<T, LogError> + Send + 'static,
    ) -> Result<T, FirehoseError> {
        let log = self.log.clone();
        tokio::task::spawn_blocking(move || work(&log))
            .await
            .map_err(|err| FirehoseError::Internal(format!("storage task failed: {err}")))?
            .map_err(FirehoseError::from)
    }

    /// Starts the stream's delivery worker and, for a Kinesis source, its reader.
    pub(crate) fn start_worker(self: &Arc<Self>, stream: &DeliveryStreamMeta) {
        let worker = delivery::spawn(Arc::clone(self), stream.name.clone(), stream.log);
        if let Some(old) = self.workers.lock().insert(stream.name.clone(), worker) {
            old.stop();
        }
        if stream.stream_type == StreamType::KinesisStreamAsSource
            && let (Some(kinesis), Some(arn)) = (&self.kinesis, stream.source_stream_arn())
        {
            let reader = source::spawn(
                Arc::clone(self),
                Arc::clone(kinesis),
                stream.name.clone(),
                arn.to_owned(),
                stream.created_ms,
            );
            if let Some(old) = self.readers.lock().insert(stream.name.clone(), reader) {
                tokio::spawn(old.stop_and_wait());
            }
        }
    }

    /// Stops the stream's worker, then removes its log, checkpoint and metadata.
    pub(crate) async fn finish_delete(&self, name: &str) -> Result<(), FirehoseError> {
        let reader = self.readers.lock().remove(name);
        if let Some(reader) = reader {
            reader.stop_and_wait().await;
        }
        let worker = self.workers.lock().remove(name);
        if let Some(worker) = worker {
            worker.stop_and_wait().await;
        }
        self.prepared.forget(name);
        let Some(stream) = self.get(name) else {
            return Ok(());
        };
        let log_id = stream.log;
        self.with_log(move |log| match log.delete_log(log_id) {
            Err(LogError::UnknownLog(_)) => Ok(()),
            other => other,
        })
        .await?;
        let txn = Txn::new()
            .delete(format!("{STREAM_PREFIX}{name}"))
            .delete(format!("{CHECKPOINT_PREFIX}{name}"))
            .delete(format!("{KEY_PREFIX}{name}"))
            .delete(format!("{SOURCE_PREFIX}{name}"));
        let txn = self
            .hold_keys(name)
            .into_iter()
            .fold(txn, |txn, key| txn.delete(key));
        self.meta.commit(txn).await?;
        self.holds.lock().remove(name);
        self.streams.lock().remove(name);
        self.data_keys.lock().remove(name);
        info!(delivery_stream = name, "delivery stream deleted");
        Ok(())
    }

    /// Removes every log no delivery stream owns (left by a delete a crash interrupted).
    fn remove_orphan_logs(&self) -> Result<(), FirehoseError> {
        let owned: std::collections::BTreeSet<LogId> =
            self.all().iter().map(|stream| stream.log).collect();
        for id in self.log.logs() {
            if !owned.contains(&id) {
                warn!(log = %id, "removing a log no delivery stream owns");
                self.log.delete_log(id)?;
            }
        }
        Ok(())
    }

    /// Stops every delivery worker (at shutdown), waiting for each to finish its current step.
    pub async fn shutdown(&self) {
        let readers: Vec<Reader> = std::mem::take(&mut *self.readers.lock())
            .into_values()
            .collect();
        for reader in readers {
            reader.stop_and_wait().await;
        }
        let workers: Vec<Worker> = std::mem::take(&mut *self.workers.lock())
            .into_values()
            .collect();
        for worker in workers {
            worker.stop_and_wait().await;
        }
    }

    /// Completes deletions whose DELETING time is over; run from the server's maintenance tick.
    pub async fn maintain(&self) -> Result<(), FirehoseError> {
        let now = self.now_ms();
        let due: Vec<String> = self
            .all()
            .iter()
            .filter(|stream| {
                stream.deleting_since_ms.is_some_and(|since| {
                    now >= since.saturating_add(self.config.delete_delay_ms as i64)
                })
            })
            .map(|stream| stream.name.clone())
            .collect();
        for name in due {
            let _control = self.control.lock().await;
            self.finish_delete(&name).await?;
        }
        Ok(())
    }
}

impl FirehoseService {
    /// Appends records to an ACTIVE stream's log and returns their record ids once they are
    /// durable, and whether they were stored encrypted.
    pub(crate) async fn append(
        &self,
        name: &str,
        data: Vec<bytes::Bytes>,
    ) -> Result<(Vec<String>, bool), FirehoseError> {
        let stream = self.existing(name)?;
        if stream.stream_type == StreamType::KinesisStreamAsSource {
            return Err(FirehoseError::InvalidArgument(
                "This operation is not permitted on KinesisStreamAsSource delivery stream type."
                    .into(),
            ));
        }
        if !stream.is_active(self.now_ms()) {
            return Err(FirehoseError::ResourceNotFound(format!(
                "Firehose {name} under account {} is not ACTIVE yet.",
                self.config.account_id
            )));
        }
        let key = if stream.encryption.enabled {
            self.data_key(name, true).await?
        } else {
            None
        };
        let mut records = Vec::with_capacity(data.len());
        for value in data {
            records.push(match &key {
                Some(key) => {
                    let (stored_key, sealed) = key.seal(&value)?;
                    spate_log::AppendRecord {
                        key: stored_key,
                        value: sealed,
                    }
                }
                None => spate_log::AppendRecord {
                    key: bytes::Bytes::new(),
                    value,
                },
            });
        }
        let log = stream.log;
        let appended = self.log.append(vec![(log, records)]).await?;
        let ids = appended
            .into_iter()
            .flatten()
            .map(|at| record_id(log, at.offset, at.timestamp_ms))
            .collect();
        Ok((ids, key.is_some()))
    }
}

/// An opaque record id: the log, offset and arrival time, 16 hex digits each. Written digit
/// by digit rather than by `format!`: a full PutRecordBatch makes 500 of them.
pub(crate) fn record_id(log: LogId, offset: u64, timestamp_ms: i64) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut id = String::with_capacity(48);
    for value in [log.0, offset, timestamp_ms as u64] {
        for shift in (0..16).rev() {
            id.push(char::from(DIGITS[((value >> (shift * 4)) & 0xf) as usize]));
        }
    }
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_ids_are_three_fixed_width_hex_numbers() {
        let id = record_id(LogId(0x2a), 0x1234_5678_9abc, 1_700_000_000_000);
        assert_eq!(
            id,
            format!(
                "{:016x}{:016x}{:016x}",
                0x2a, 0x1234_5678_9abcu64, 1_700_000_000_000u64
            )
        );
        assert_eq!(record_id(LogId(u64::MAX), 0, -1).len(), 48);
    }
}
