//! A Kinesis data stream as a delivery stream's source (`KinesisStreamAsSource`): one reader
//! task per delivery stream that reads every shard of the stream and appends what it reads to
//! the delivery stream's own log, from where the delivery worker takes it as it does records
//! put directly.
//!
//! Reading starts where AWS starts, at the stream's end when the delivery stream was created
//! (`AT_TIMESTAMP` of its creation time, which also covers shards created later). Resharding is
//! followed: a child shard is read once its parents have been read to their end. Each shard's
//! position (the last sequence number appended) is stored in the metadata store under
//! `firehose/source/<delivery stream>` after the records are durable in the log, so a restart
//! or `kill -9` resumes there; a crash between the two reads a few records twice (at least
//! once, as AWS documents).
//!
//! The stream is read through the Data Streams API of the same account ([`KinesisApi`]), so
//! this crate needs no part of Data Streams but its wire contract.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use spate_log::AppendRecord;
use spate_meta::Txn;
use spate_wire::AwsError;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::{debug, warn};

use crate::error::FirehoseError;
use crate::service::FirehoseService;

pub(crate) const SOURCE_PREFIX: &str = "firehose/source/";
/// How often an idle shard is polled (AWS: each shard about once a second).
const POLL_INTERVAL: Duration = Duration::from_millis(1000);
/// How often the shard list is refreshed to notice resharding.
const SHARD_REFRESH: Duration = Duration::from_secs(5);
/// Records per GetRecords call.
const GET_RECORDS_LIMIT: u32 = 10_000;

/// The Data Streams API of the account a delivery stream lives in.
#[async_trait::async_trait]
pub trait KinesisApi: Send + Sync + std::fmt::Debug {
    /// Runs a Data Streams operation with a JSON body: the JSON answer, or AWS's error.
    async fn call(&self, operation: &str, body: Value) -> Result<Value, AwsError>;
}

/// Where reading each shard stands.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Position {
    /// Sequence number of the last record appended, by shard id.
    after: BTreeMap<String, String>,
    /// Shards read to their end.
    finished: Vec<String>,
}

#[derive(Debug)]
struct Shard {
    id: String,
    parents: Vec<String>,
}

/// A running reader and the means to stop it.
#[derive(Debug)]
pub(crate) struct Reader {
    stop: watch::Sender<bool>,
    handle: JoinHandle<()>,
}

impl Reader {
    pub(crate) async fn stop_and_wait(self) {
        let _ = self.stop.send(true);
        let _ = self.handle.await;
    }
}

pub(crate) fn spawn(
    service: Arc<FirehoseService>,
    kinesis: Arc<dyn KinesisApi>,
    name: String,
    stream_arn: String,
    start_ms: i64,
) -> Reader {
    let (stop, stopped) = watch::channel(false);
    let handle = tokio::spawn(async move {
        let mut reader = SourceReader {
            service,
            kinesis,
            name,
            stream_arn,
            start_ms,
            stopped,
            iterators: BTreeMap::new(),
        };
        reader.run().await;
    });
    Reader { stop, handle }
}

struct SourceReader {
    service: Arc<FirehoseService>,
    kinesis: Arc<dyn KinesisApi>,
    name: String,
    stream_arn: String,
    start_ms: i64,
    stopped: watch::Receiver<bool>,
    /// Shard iterators kept between polls, by shard id.
    iterators: BTreeMap<String, String>,
}

impl SourceReader {
    async fn run(&mut self) {
        let mut position = match self.load().await {
            Ok(position) => position,
            Err(err) => {
                warn!(delivery_stream = %self.name, error = %err, "cannot load the source position");
                return;
            }
        };
        let mut shards = Vec::new();
        let mut refreshed: Option<tokio::time::Instant> = None;
        loop {
            if *self.stopped.borrow() {
                return;
            }
            if refreshed.is_none_or(|at| at.elapsed() >= SHARD_REFRESH) {
                match self.list_shards().await {
                    Ok(list) => {
                        shards = list;
                        refreshed = Some(tokio::time::Instant::now());
                    }
                    Err(err) => {
                        warn!(delivery_stream = %self.name, error = %err.message, "listing the source stream's shards failed");
                    }
                }
            }
            let mut busy = false;
            for shard in &shards {
                if position.finished.contains(&shard.id) {
                    continue;
                }
                // A child waits for its parents that still exist to be read to their end.
                let waiting = shard.parents.iter().any(|parent| {
                    shards.iter().any(|s| &s.id == parent) && !position.finished.contains(parent)
                });
                if waiting {
                    continue;
                }
                match self.read_shard(&shard.id, &mut position).await {
                    Ok(more) => busy |= more,
                    Err(err) => {
                        self.iterators.remove(&shard.id);
                        warn!(delivery_stream = %self.name, shard = %shard.id, error = %err, "reading the source shard failed");
                    }
                }
                if *self.stopped.borrow() {
                    return;
                }
            }
            if !busy {
                tokio::select! {
                    _ = self.stopped.changed() => return,
                    _ = tokio::time::sleep(POLL_INTERVAL) => {}
                }
            }
        }
    }

    /// One GetRecords on a shard; appends what it returns. `Ok(true)` when more may be waiting.
    async fn read_shard(
        &mut self,
        shard: &str,
        position: &mut Position,
    ) -> Result<bool, FirehoseError> {
        let iterator = match self.iterators.get(shard) {
            Some(iterator) => iterator.clone(),
            None => self.iterator(shard, position.after.get(shard)).await?,
        };
        let answer = self
            .kinesis
            .call(
                "GetRecords",
                json!({"ShardIterator": iterator, "Limit": GET_RECORDS_LIMIT, "StreamARN": self.stream_arn}),
            )
            .await;
        let answer = match answer {
            Ok(answer) => answer,
            Err(err) if err.code == "ExpiredIteratorException" => {
                self.iterators.remove(shard);
                return Ok(true);
            }
            Err(err) => return Err(FirehoseError::ServiceUnavailable(err.message)),
        };
        let records = answer["Records"].as_array().cloned().unwrap_or_default();
        let mut appended = Vec::with_capacity(records.len());
        let mut last_sequence = None;
        for record in &records {
            let data = record["Data"]
                .as_str()
                .and_then(|text| base64::engine::general_purpose::STANDARD.decode(text).ok())
                .ok_or_else(|| FirehoseError::Internal("a source record without Data".into()))?;
            appended.push(AppendRecord {
                key: bytes::Bytes::new(),
                value: bytes::Bytes::from(data),
            });
            last_sequence = record["SequenceNumber"].as_str().map(str::to_owned);
        }
        let next = answer["NextShardIterator"].as_str().map(str::to_owned);
        let behind = answer["MillisBehindLatest"].as_i64().unwrap_or(0);
        let mut changed = false;
        if !appended.is_empty() {
            let stream = self.service.existing(&self.name)?;
            self.service
                .log
                .append(vec![(stream.log, appended)])
                .await?;
            if let Some(sequence) = last_sequence {
                position.after.insert(shard.to_owned(), sequence);
                changed = true;
            }
            debug!(delivery_stream = %self.name, shard, records = records.len(), "read from the source");
        }
        match next {
            Some(next) => {
                self.iterators.insert(shard.to_owned(), next);
            }
            None => {
                self.iterators.remove(shard);
                position.finished.push(shard.to_owned());
                changed = true;
            }
        }
        if changed {
            self.store(position).await?;
        }
        Ok(!records.is_empty() && behind > 0)
    }

    async fn iterator(&self, shard: &str, after: Option<&String>) -> Result<String, FirehoseError> {
        let mut request = json!({"StreamARN": self.stream_arn, "ShardId": shard});
        match after {
            Some(sequence) => {
                request["ShardIteratorType"] = json!("AFTER_SEQUENCE_NUMBER");
                request["StartingSequenceNumber"] = json!(sequence);
            }
            None => {
                request["ShardIteratorType"] = json!("AT_TIMESTAMP");
                request["Timestamp"] = json!(self.start_ms as f64 / 1000.0);
            }
        }
        let answer = self
            .kinesis
            .call("GetShardIterator", request)
            .await
            .map_err(|err| FirehoseError::ServiceUnavailable(err.message))?;
        answer["ShardIterator"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| FirehoseError::Internal("GetShardIterator gave no iterator".into()))
    }

    async fn list_shards(&self) -> Result<Vec<Shard>, AwsError> {
        let mut shards = Vec::new();
        let mut request = json!({"StreamARN": self.stream_arn});
        loop {
            let answer = self.kinesis.call("ListShards", request).await?;
            for shard in answer["Shards"].as_array().into_iter().flatten() {
                let Some(id) = shard["ShardId"].as_str() else {
                    continue;
                };
                let parents = ["ParentShardId", "AdjacentParentShardId"]
                    .iter()
                    .filter_map(|member| shard[member].as_str().map(str::to_owned))
                    .collect();
                shards.push(Shard {
                    id: id.to_owned(),
                    parents,
                });
            }
            match answer["NextToken"].as_str() {
                Some(token) => request = json!({"NextToken": token}),
                None => return Ok(shards),
            }
        }
    }

    async fn load(&self) -> Result<Position, FirehoseError> {
        let key = format!("{SOURCE_PREFIX}{}", self.name);
        match self.service.meta.get(&key).await? {
            None => Ok(Position::default()),
            Some(entry) => serde_json::from_slice(&entry.value)
                .map_err(|err| FirehoseError::Internal(format!("stored {key}: {err}"))),
        }
    }

    async fn store(&self, position: &Position) -> Result<(), FirehoseError> {
        let key = format!("{SOURCE_PREFIX}{}", self.name);
        let value = serde_json::to_vec(position)
            .map_err(|err| FirehoseError::Internal(format!("encoding {key}: {err}")))?;
        self.service.meta.commit(Txn::new().put(key, value)).await?;
        Ok(())
    }
}
