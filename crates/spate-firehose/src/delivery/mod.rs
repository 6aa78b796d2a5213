//! The delivery worker: one task per delivery stream that reads the stream's log from its
//! checkpoint, cuts buffers by the destination's buffering hints (size in MiB or interval in
//! seconds, whichever is reached first; the interval counts from the arrival of the buffer's
//! oldest record), writes each buffer as one object, and only then advances the durable
//! checkpoint and lets the log drop what was delivered.
//!
//! A failed delivery is retried with doubling waits (`retry_initial_ms` up to `retry_max_ms`)
//! for as long as it fails: the records stay in the log, so a destination that is down loses
//! nothing, and a restart (or `kill -9`) starts again from the checkpoint. A crash between the
//! object's write and the checkpoint's means that buffer is written again: delivery to S3 is
//! at least once, as AWS documents.

mod buffer;
mod eager;
mod upload;

use std::sync::Arc;
use std::time::Duration;

use spate_log::{LogBounds, LogId, StoredRecord};
use spate_meta::Txn;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::{debug, warn};

use bytes::Bytes;

use crate::destination::DeliveryError;
use crate::error::FirehoseError;
use crate::model::DeliveryStreamMeta;
use crate::readers::open_record;
use crate::service::{CHECKPOINT_PREFIX, FirehoseService};

pub(crate) use buffer::Scan;
use eager::EagerGzip;
use upload::Upload;

/// Bytes read from the log at a time while a buffer is scanned or written out.
const READ_CHUNK_BYTES: usize = 4 << 20;
const READ_CHUNK_RECORDS: usize = 10_000;

/// One buffer's records, read back in the clear, on their way to the destination.
#[derive(Debug)]
pub struct Batch {
    /// The stream as it was configured when the buffer was cut.
    pub stream: Arc<DeliveryStreamMeta>,
    /// Arrival time of the oldest record: the time object keys are named by.
    pub oldest_ms: i64,
    pub records: Vec<BatchRecord>,
}

/// One record of a batch.
#[derive(Debug, Clone)]
pub struct BatchRecord {
    /// Its offset in the stream's log: unique within the stream, so it serves as the record id
    /// processors see.
    pub offset: u64,
    /// Approximate arrival time, epoch milliseconds.
    pub arrival_ms: i64,
    pub data: Bytes,
}

#[cfg(test)]
impl BatchRecord {
    /// A record of `data` at offset 0 that arrived at the epoch, for tests of what is sent.
    pub(crate) fn of(data: &'static [u8]) -> BatchRecord {
        BatchRecord {
            offset: 0,
            arrival_ms: 0,
            data: Bytes::from_static(data),
        }
    }
}

/// A running worker and the means to stop it.
#[derive(Debug)]
pub(crate) struct Worker {
    stop: watch::Sender<bool>,
    handle: JoinHandle<()>,
}

impl Worker {
    /// Asks the worker to stop after its current step; does not wait.
    pub(crate) fn stop(self) {
        let _ = self.stop.send(true);
    }

    /// Stops the worker and waits until it has (an object write in flight is abandoned, and
    /// its records stay in the log).
    pub(crate) async fn stop_and_wait(self) {
        let _ = self.stop.send(true);
        let _ = self.handle.await;
    }
}

pub(crate) fn spawn(service: Arc<FirehoseService>, name: String, log: LogId) -> Worker {
    let (stop, stopped) = watch::channel(false);
    let handle = tokio::spawn(async move {
        let mut worker = Delivery {
            service,
            name,
            log,
            stopped,
        };
        if let Err(err) = worker.run().await {
            warn!(delivery_stream = %worker.name, error = %err, "delivery worker ended");
        }
    });
    Worker { stop, handle }
}

struct Delivery {
    service: Arc<FirehoseService>,
    name: String,
    log: LogId,
    stopped: watch::Receiver<bool>,
}

/// Where the worker is: its durable checkpoint, the buffer it is filling, and how many
/// attempts in a row have failed.
struct Position {
    checkpoint: u64,
    scan: Scan,
    /// The buffer's object compressed as it fills, when the stream allows (`eager`).
    eager: Option<EagerGzip>,
    failures: u32,
}

impl Position {
    fn new(checkpoint: u64) -> Position {
        Position {
            checkpoint,
            scan: Scan::new(checkpoint),
            eager: None,
            failures: 0,
        }
    }
}

/// How an upload ended, for the worker.
enum Settled {
    /// Its buffer is delivered and checkpointed.
    Delivered,
    /// It failed: the worker is back at its checkpoint, after the backoff wait.
    Rewound,
    /// The worker was stopped while it waited.
    Stop,
}

/// Why a wait ended.
enum Woken {
    Stop,
    Other,
}

impl Delivery {
    async fn run(&mut self) -> Result<(), FirehoseError> {
        let mut at = Position::new(self.load_checkpoint().await?);
        let mut end = self.service.log.watch_end(self.log)?;
        // The previous buffer's object on its way while this one fills (`upload`).
        let mut upload: Option<Upload> = None;
        loop {
            if *self.stopped.borrow() {
                return Ok(());
            }
            let Some(stream) = self.service.get(&self.name) else {
                return Ok(());
            };
            if stream.deleting_since_ms.is_some() {
                return Ok(());
            }
            if let Some(done) = upload.take_if(|upload| upload.has_ended()) {
                match self.settle(done, &mut at).await {
                    Settled::Delivered => {}
                    Settled::Rewound => continue,
                    Settled::Stop => return Ok(()),
                }
            }
            let (size_limit, interval_ms) = stream.buffer_limits();
            let bounds = self.bounds().await?;
            if upload.is_none() && bounds.start > at.checkpoint {
                at.checkpoint = bounds.start;
                at.scan = Scan::new(at.checkpoint);
                at.eager = None;
            }
            if at.scan.oldest_ms().is_none() && at.eager.is_none() {
                at.eager = EagerGzip::for_stream(&stream, &self.service.config, at.scan.from());
            }
            // Count what arrived since the last look, up to one buffer's worth.
            while !at.scan.is_full(size_limit) && at.scan.scanned_to() < bounds.end {
                let records = self.read(at.scan.scanned_to(), READ_CHUNK_BYTES).await?;
                if records.is_empty() {
                    break;
                }
                let counted = at.scan.add(&records, size_limit);
                if let Some(ahead) = &mut at.eager {
                    match ahead.take(&records[counted]).await {
                        Ok(true) => {}
                        Ok(false) => at.eager = None,
                        Err(err) => {
                            warn!(delivery_stream = %self.name, error = %err, "compressing ahead failed");
                            at.eager = None;
                        }
                    }
                }
            }
            let Some(oldest_ms) = at.scan.oldest_ms() else {
                // Nothing buffered: wait for records.
                if let Woken::Stop = self.wait(&mut end, None, &mut upload).await {
                    return Ok(());
                }
                continue;
            };
            let due_ms = oldest_ms.saturating_add(interval_ms as i64);
            let now = self.service.now_ms();
            if !at.scan.is_full(size_limit) && now < due_ms {
                let wait = Duration::from_millis((due_ms - now) as u64);
                if let Woken::Stop = self.wait(&mut end, Some(wait), &mut upload).await {
                    return Ok(());
                }
                continue;
            }
            let (from, upto) = (at.scan.from(), at.scan.cut());
            // One object on its way at a time: checkpoints are stored in order.
            if let Some(previous) = upload.take() {
                match self.settle(previous, &mut at).await {
                    Settled::Delivered => {}
                    Settled::Rewound => continue,
                    Settled::Stop => return Ok(()),
                }
            }
            debug!(delivery_stream = %self.name, records = upto - from, ahead = at.eager.is_some(), "buffer cut");
            let object = match at.eager.take() {
                Some(ahead) if ahead.covers(&stream, from, upto) => match ahead.finish().await {
                    Ok(object) => Some(object),
                    Err(err) => {
                        warn!(delivery_stream = %self.name, error = %err, "compressing ahead failed");
                        None
                    }
                },
                _ => None,
            };
            if let Some(object) = object {
                upload = Some(Upload::start(
                    Arc::clone(&self.service),
                    self.name.clone(),
                    self.log,
                    Arc::clone(&stream),
                    oldest_ms,
                    object,
                    upto,
                ));
                at.scan = Scan::new(upto);
                continue;
            }
            match self.deliver(&stream, at.checkpoint, upto, oldest_ms).await {
                Ok(Some(())) => {
                    at.failures = 0;
                    at.checkpoint = upto;
                    store_checkpoint(&self.service, &self.name, at.checkpoint).await?;
                    at.scan = Scan::new(at.checkpoint);
                    trim(&self.service, &self.name, self.log, at.checkpoint).await;
                }
                Ok(None) => return Ok(()),
                Err(err) => {
                    at.scan = Scan::new(at.checkpoint);
                    if let Woken::Stop = self.retry_later(&mut at.failures, err).await {
                        return Ok(());
                    }
                }
            }
        }
    }

    /// Waits for an upload's end: on success the checkpoint moves past its buffer; on failure
    /// the worker goes back to its checkpoint and waits before the next attempt.
    async fn settle(&mut self, upload: Upload, at: &mut Position) -> Settled {
        match upload.outcome().await {
            Ok(delivered) => {
                at.failures = 0;
                at.checkpoint = delivered;
                Settled::Delivered
            }
            Err(err) => {
                at.scan = Scan::new(at.checkpoint);
                at.eager = None;
                match self.retry_later(&mut at.failures, err).await {
                    Woken::Stop => Settled::Stop,
                    Woken::Other => Settled::Rewound,
                }
            }
        }
    }

    /// Counts a failed delivery and waits before the next attempt (doubling waits).
    async fn retry_later(&mut self, failures: &mut u32, err: DeliveryError) -> Woken {
        *failures = failures.saturating_add(1);
        let wait = self.service.config.backoff(*failures);
        warn!(
            delivery_stream = %self.name,
            error = %err,
            attempt = *failures,
            retry_in_ms = wait.as_millis() as u64,
            "delivery failed; the records stay buffered and will be retried"
        );
        self.sleep(wait).await
    }

    /// Delivers records `[from, upto)` as one batch. `Ok(None)`: stopped meanwhile.
    async fn deliver(
        &mut self,
        stream: &Arc<DeliveryStreamMeta>,
        from: u64,
        upto: u64,
        oldest_ms: i64,
    ) -> Result<Option<()>, DeliveryError> {
        let batch = self
            .read_batch(stream, from, upto, oldest_ms)
            .await
            .map_err(|err| DeliveryError::Failed(format!("reading buffered records: {err}")))?;
        let service = Arc::clone(&self.service);
        let records = batch.records.len();
        let delivery = crate::destination::deliver(&service, batch);
        let mut stopped = self.stopped.clone();
        tokio::select! {
            result = delivery => {
                result?;
                debug!(delivery_stream = %self.name, records, "delivered");
                Ok(Some(()))
            }
            _ = stopped.wait_for(|stop| *stop) => Ok(None),
        }
    }

    /// Records `[from, upto)` with their data in the clear.
    async fn read_batch(
        &self,
        stream: &Arc<DeliveryStreamMeta>,
        from: u64,
        upto: u64,
        oldest_ms: i64,
    ) -> Result<Batch, FirehoseError> {
        let mut batch = Batch {
            stream: Arc::clone(stream),
            oldest_ms,
            records: Vec::with_capacity((upto - from) as usize),
        };
        let mut data_key = None;
        let mut next = from;
        while next < upto {
            let records = self.read(next, READ_CHUNK_BYTES).await?;
            if records.is_empty() {
                return Err(FirehoseError::Internal(format!(
                    "log {} ends before offset {upto}",
                    self.log
                )));
            }
            for record in records
                .into_iter()
                .take_while(|record| record.offset < upto)
            {
                next = record.offset + 1;
                let (offset, arrival_ms) = (record.offset, record.timestamp_ms);
                let data = open_record(&self.service, &self.name, &mut data_key, record).await?;
                batch.records.push(BatchRecord {
                    offset,
                    arrival_ms,
                    data,
                });
            }
        }
        Ok(batch)
    }

    async fn read(&self, from: u64, max_bytes: usize) -> Result<Vec<StoredRecord>, FirehoseError> {
        let log = self.log;
        if let Some((records, _)) =
            self.service
                .log
                .read_resident(log, from, READ_CHUNK_RECORDS, max_bytes)?
        {
            return Ok(records);
        }
        self.service
            .with_log(move |engine| engine.read(log, from, READ_CHUNK_RECORDS, max_bytes))
            .await
    }

    async fn bounds(&self) -> Result<LogBounds, FirehoseError> {
        Ok(self.service.log.bounds(self.log)?)
    }

    /// Waits for new records, `timeout`, a stop, or the end of the upload in flight.
    async fn wait(
        &mut self,
        end: &mut watch::Receiver<u64>,
        timeout: Option<Duration>,
        upload: &mut Option<Upload>,
    ) -> Woken {
        let sleep = tokio::time::sleep(timeout.unwrap_or(Duration::from_secs(3600)));
        let uploaded = async {
            match upload.as_mut() {
                Some(upload) => upload.ended().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = self.stopped.changed() => Woken::Stop,
            changed = end.changed() => {
                if changed.is_err() {
                    // The log is gone (deleted or closed): nothing more will arrive.
                    let _ = self.stopped.wait_for(|stop| *stop).await;
                    return Woken::Stop;
                }
                Woken::Other
            }
            _ = sleep => Woken::Other,
            _ = uploaded => Woken::Other,
        }
    }

    async fn sleep(&mut self, wait: Duration) -> Woken {
        tokio::select! {
            _ = self.stopped.changed() => Woken::Stop,
            _ = tokio::time::sleep(wait) => Woken::Other,
        }
    }

    async fn load_checkpoint(&self) -> Result<u64, FirehoseError> {
        let key = format!("{CHECKPOINT_PREFIX}{}", self.name);
        match self.service.meta.get(&key).await? {
            None => Ok(0),
            Some(entry) => std::str::from_utf8(&entry.value)
                .ok()
                .and_then(|text| text.parse().ok())
                .ok_or_else(|| FirehoseError::Internal(format!("stored {key}"))),
        }
    }
}

/// Stores `offset` as the stream's durable delivery checkpoint.
async fn store_checkpoint(
    service: &FirehoseService,
    name: &str,
    offset: u64,
) -> Result<(), FirehoseError> {
    let key = format!("{CHECKPOINT_PREFIX}{name}");
    service
        .meta
        .commit(Txn::new().put(key, offset.to_string()))
        .await?;
    Ok(())
}

/// Lets the log drop the delivered records (unsealed ones are never written again), except
/// those another service's reader still holds (`readers`).
async fn trim(service: &FirehoseService, name: &str, log: LogId, checkpoint: u64) {
    let checkpoint = service
        .hold_floor(name)
        .map_or(checkpoint, |floor| floor.min(checkpoint));
    let result = service
        .with_log(move |engine| engine.discard_before(log, checkpoint))
        .await;
    if let Err(err) = result {
        warn!(delivery_stream = %name, error = %err, "dropping delivered records failed");
    }
}
