//! Delivery with a retry duration, as the HTTP endpoint, Splunk and OpenSearch destinations do
//! (*Handle data delivery failures*): records that fail are sent again with growing waits until
//! `RetryOptions.DurationInSeconds` has passed since the first failure; those still failing then
//! go to S3 under the error output (`http-endpoint-failed`, `splunk-failed`,
//! `AmazonOpenSearchService-failed`, `elasticsearch-failed`) as one JSON document per record.
//! With the all-data backup mode the whole batch is also written to S3 under `Prefix`.
//!
//! Writing to S3 is retried for as long as it fails (AWS: delivery pauses until the data is
//! either delivered or backed up), so a batch is only ever confirmed once it is somewhere.

use std::time::Duration;

use base64::Engine;
use serde_json::{Map, Value, json};
use tokio::time::Instant;
use tracing::warn;

use super::{DeliveryError, s3};
use crate::delivery::{Batch, BatchRecord};
use crate::keys::ErrorOutputType;
use crate::service::FirehoseService;
use crate::settings::S3Destination;

/// Why a record was not delivered, in the error record's `errorCode` and `errorMessage`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    pub code: String,
    pub message: String,
}

impl Failure {
    pub(crate) fn new(code: impl Into<String>, message: impl Into<String>) -> Failure {
        Failure {
            code: code.into(),
            message: message.into(),
        }
    }
}

/// One destination's way of sending records.
pub(crate) trait Sender {
    /// Sends `records` once; answers the failed ones by their position in `records` (every
    /// position when the request as a whole failed).
    async fn send(&mut self, records: &[&BatchRecord]) -> Vec<(usize, Failure)>;

    /// Members the destination adds to a record's error document (e.g. `esIndexName`).
    fn error_fields(&self, _record: &BatchRecord) -> Map<String, Value> {
        Map::new()
    }
}

/// [`Sender::send`]'s answer for a request of `records` records that succeeds or fails as a
/// whole.
pub(crate) fn whole_request(records: usize, result: Result<(), Failure>) -> Vec<(usize, Failure)> {
    match result {
        Ok(()) => Vec::new(),
        Err(failure) => (0..records).map(|i| (i, failure.clone())).collect(),
    }
}

/// How a batch is delivered and where what fails goes.
pub(crate) struct Plan<'a> {
    pub retry_secs: i64,
    /// The destination's `S3Configuration` (AWS requires it; absent, its defaults).
    pub s3: &'a Option<S3Destination>,
    pub error_type: ErrorOutputType,
    /// `AllData` / `AllEvents` / `AllDocuments`: every record to S3 as well.
    pub back_up_all: bool,
}

pub(crate) async fn deliver(
    service: &FirehoseService,
    batch: &Batch,
    plan: Plan<'_>,
    sender: &mut impl Sender,
) -> Result<(), DeliveryError> {
    let s3 = plan.s3.clone().unwrap_or_default();
    let retry_for = Duration::from_secs(plan.retry_secs.max(0) as u64);
    let mut pending: Vec<usize> = (0..batch.records.len()).collect();
    let mut last_failure: Vec<Option<Failure>> = vec![None; batch.records.len()];
    let mut attempts: u32 = 0;
    let mut first_failure: Option<Instant> = None;
    while !pending.is_empty() {
        let records: Vec<&BatchRecord> = pending.iter().map(|&i| &batch.records[i]).collect();
        attempts += 1;
        let failures = sender.send(&records).await;
        let mut still_pending = Vec::with_capacity(failures.len());
        for (position, failure) in failures {
            let Some(&index) = pending.get(position) else {
                continue;
            };
            last_failure[index] = Some(failure);
            still_pending.push(index);
        }
        still_pending.sort_unstable();
        still_pending.dedup();
        pending = still_pending;
        if pending.is_empty() {
            break;
        }
        let started = *first_failure.get_or_insert_with(Instant::now);
        let elapsed = started.elapsed();
        if elapsed >= retry_for {
            let first = last_failure[pending[0]].clone();
            warn!(
                delivery_stream = %batch.stream.name,
                records = pending.len(),
                attempts,
                error_code = first.as_ref().map_or("", |f| f.code.as_str()),
                error = first.as_ref().map_or("", |f| f.message.as_str()),
                "delivery failed past the retry duration; the records go to the S3 error output"
            );
            let now = service.now_ms();
            let documents = error_documents(batch, &pending, &last_failure, attempts, now, sender);
            let key = s3::error_object_key(&s3, batch, plan.error_type)?;
            put_until_written(service, &s3, &key, &documents).await?;
            break;
        }
        let wait = service.config.backoff(attempts).min(retry_for - elapsed);
        tokio::time::sleep(wait).await;
    }
    if plan.back_up_all {
        let key = s3::object_key(&s3, batch)?;
        let parts: Vec<&[u8]> = batch.records.iter().map(|r| &r.data[..]).collect();
        put_until_written(service, &s3, &key, &parts).await?;
    }
    Ok(())
}

/// The error output's documents, one JSON object and a newline per failed record (format of
/// *Handle data delivery failures*: `attemptsMade`, `arrivalTimestamp`, `errorCode`,
/// `errorMessage`, `attemptEndingTimestamp`, `rawData` in base64, and the destination's own).
fn error_documents(
    batch: &Batch,
    failed: &[usize],
    failures: &[Option<Failure>],
    attempts: u32,
    now: i64,
    sender: &impl Sender,
) -> Vec<Vec<u8>> {
    let mut documents = Vec::with_capacity(failed.len());
    for &index in failed {
        let record = &batch.records[index];
        let failure = failures[index]
            .clone()
            .unwrap_or_else(|| Failure::new("Unknown", ""));
        let mut document = json!({
            "attemptsMade": attempts,
            "arrivalTimestamp": record.arrival_ms,
            "errorCode": failure.code,
            "errorMessage": failure.message,
            "attemptEndingTimestamp": now,
            "rawData": base64::engine::general_purpose::STANDARD.encode(&record.data),
        });
        if let Value::Object(members) = &mut document {
            members.extend(sender.error_fields(record));
        }
        let mut line = document.to_string().into_bytes();
        line.push(b'\n');
        documents.push(line);
    }
    documents
}

/// Writes one object, retrying with the worker's backoff for as long as S3 refuses.
async fn put_until_written(
    service: &FirehoseService,
    settings: &S3Destination,
    key: &str,
    parts: &[impl AsRef<[u8]>],
) -> Result<(), DeliveryError> {
    let bucket = settings
        .bucket()
        .ok_or_else(|| DeliveryError::Configuration("the S3 configuration has no bucket".into()))?;
    let mut attempts = 0;
    loop {
        attempts += 1;
        let result = s3::put_compressed(
            service,
            settings,
            bucket,
            key,
            parts.iter().map(|part| part.as_ref()),
        )
        .await;
        match result {
            Ok(()) => return Ok(()),
            Err(err) => {
                let wait = service.config.backoff(attempts);
                warn!(error = %err, bucket, key, retry_in_ms = wait.as_millis() as u64, "writing to S3 failed; retrying");
                tokio::time::sleep(wait).await;
            }
        }
    }
}
