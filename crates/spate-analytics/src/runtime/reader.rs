//! The input reader: reads the Kinesis data stream of one application input through the Data
//! Streams API, every shard (a child once its parents are read to their end), from the
//! input's starting position or after its checkpointed sequence numbers, and parses the
//! records into rows by the input's schema.
//!
//! A shard is polled again at once while it returns records and is behind the stream's tip,
//! otherwise every `poll_interval` (so an idle application sees a new record within about
//! that time). Data Streams serves 5 GetRecords calls a second per shard when quotas are on;
//! a throttled call is tried again at the next poll. The shard list is refreshed every `SHARD_REFRESH` to notice resharding. Rows
//! of shard `n` (by the number in its id) go to in-application stream `n mod parallelism`,
//! which keeps each shard's order within one stream.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use serde_json::json;
use tokio::time::Instant;
use tracing::{debug, warn};

use crate::input::{InputParser, Row, SourceSchema};
use crate::model::{Piece, in_app_stream_names};

use super::RuntimeError;
use super::apis::{FirehoseApi, StreamsApi};
use super::checkpoint::{InputPosition, StartAt};
use super::delivery_input::{DeliveryCursor, preprocessor_metadata};

/// How often the shard list is refreshed to notice resharding.
const SHARD_REFRESH: Duration = Duration::from_secs(5);
/// The least pause before a shard whose read failed is tried again.
const ERROR_PAUSE: Duration = Duration::from_secs(1);
/// Records per GetRecords call.
const GET_RECORDS_LIMIT: u32 = 10_000;

/// What one poll read from an input.
#[derive(Debug, Default)]
pub struct Read {
    /// Rows and their arrival times, by in-application stream index.
    pub rows: BTreeMap<usize, (Vec<Row>, Vec<i64>)>,
    /// Records or rows that could not be read: the reason and the record.
    pub errors: Vec<(String, Vec<u8>)>,
    /// Whether any shard's position moved.
    pub moved: bool,
}

#[derive(Debug)]
struct Shard {
    id: String,
    parents: Vec<String>,
    /// In-application stream index.
    stream: usize,
    due: Instant,
}

/// Reads one input.
pub struct InputReader {
    pub input_id: String,
    pub source: Source,
    parser: InputParser,
    /// The in-application streams the input feeds (`<NamePrefix>_001`...).
    pub streams: Vec<String>,
    pub position: InputPosition,
    shards: Vec<Shard>,
    refreshed: Option<Instant>,
    iterators: BTreeMap<String, String>,
    poll_interval: Duration,
    /// The input's Lambda preprocessor, if it has one.
    pub preprocessor: Option<Preprocessor>,
    /// Where reading a delivery stream stands, for a `KinesisFirehoseInput`.
    pub delivery: Option<DeliveryCursor>,
}

/// The services inputs are read through; `None` where the server does not serve one.
#[derive(Debug, Clone)]
pub struct SourceApis {
    pub streams: Option<Arc<dyn StreamsApi>>,
    pub firehose: Option<Arc<dyn FirehoseApi>>,
}

/// An input's `InputLambdaProcessor`: each batch of records read goes through the function
/// before it is parsed (the developer guide's "Preprocessing Data Using a Lambda Function":
/// the event `{"invocationId", "applicationArn", "streamArn", "records": [{"recordId",
/// "kinesisStreamRecordMetadata": {"sequenceNumber", "partitionKey", "shardId",
/// "approximateArrivalTimestamp"}, "data"}]}`, the answer `{"records": [{"recordId", "result":
/// "Ok" | "Dropped" | "ProcessingFailed", "data"}]}`). A failed invocation leaves the shard's
/// position where it was, so the records are read and sent again; a record the answer fails or
/// leaves out goes to the error stream.
#[derive(Clone)]
pub struct Preprocessor {
    pub function_arn: String,
    pub application_arn: String,
    pub lambda: Arc<dyn super::apis::LambdaApi>,
}

impl std::fmt::Debug for Preprocessor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Preprocessor")
            .field("function_arn", &self.function_arn)
            .finish_non_exhaustive()
    }
}

/// The function of an input's `InputProcessingConfiguration`, if it has one.
pub fn preprocessor_arn(piece: &Piece) -> Option<String> {
    piece.body["InputProcessingConfiguration"]["InputLambdaProcessor"]["ResourceARN"]
        .as_str()
        .map(str::to_owned)
}

impl std::fmt::Debug for InputReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InputReader")
            .field("input_id", &self.input_id)
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

/// What an input reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A Kinesis data stream (`KinesisStreamsInput`), by ARN.
    Stream { arn: String },
    /// A Firehose delivery stream (`KinesisFirehoseInput`): its ARN and name.
    DeliveryStream { arn: String, name: String },
}

impl Source {
    pub fn arn(&self) -> &str {
        match self {
            Source::Stream { arn } | Source::DeliveryStream { arn, .. } => arn,
        }
    }
}

/// The name in a delivery stream's ARN (`arn:aws:firehose:<region>:<account>:deliverystream/<name>`).
pub fn delivery_stream_name(arn: &str) -> Option<&str> {
    arn.strip_prefix("arn:aws:firehose:")?
        .split_once(":deliverystream/")
        .map(|(_, name)| name)
        .filter(|name| !name.is_empty() && !name.contains('/'))
}

/// What an input piece reads, or the reason it cannot be read.
pub fn source_of(piece: &Piece) -> Result<Source, RuntimeError> {
    if let Some(arn) = piece.body["KinesisStreamsInput"]["ResourceARN"].as_str() {
        return Ok(Source::Stream {
            arn: arn.to_owned(),
        });
    }
    if let Some(arn) = piece.body["KinesisFirehoseInput"]["ResourceARN"].as_str() {
        let name = delivery_stream_name(arn).ok_or_else(|| {
            RuntimeError::Configuration(format!(
                "Input {} names {arn}, which is not the ARN of a Firehose delivery stream.",
                piece.id
            ))
        })?;
        return Ok(Source::DeliveryStream {
            arn: arn.to_owned(),
            name: name.to_owned(),
        });
    }
    Err(RuntimeError::Configuration(format!(
        "Input {} names no streaming source.",
        piece.id
    )))
}

/// The parser of an input piece's schema.
pub fn parser_of(piece: &Piece) -> Result<InputParser, RuntimeError> {
    parser_of_schema(
        &piece.body["InputSchema"],
        &format!("Input {}", piece.id),
        "InputSchema",
    )
}

/// The parser of a schema given as JSON (`InputSchema`, or a reference's `ReferenceSchema`,
/// named `member` in errors) of the piece errors call `what`.
pub fn parser_of_schema(
    schema: &serde_json::Value,
    what: &str,
    member: &str,
) -> Result<InputParser, RuntimeError> {
    let invalid = |err: &dyn std::fmt::Display| {
        RuntimeError::Configuration(format!("{what} has an invalid {member}: {err}"))
    };
    let schema: SourceSchema =
        serde_json::from_value(schema.clone()).map_err(|err| invalid(&err))?;
    InputParser::new(&schema).map_err(|err| invalid(&err))
}

/// The number in a shard id (`shardId-000000000007` is 7), 0 if it has none.
fn shard_number(id: &str) -> usize {
    id.rsplit('-')
        .next()
        .and_then(|digits| digits.parse::<usize>().ok())
        .unwrap_or(0)
}

impl InputReader {
    pub fn new(
        application: &str,
        piece: &Piece,
        position: InputPosition,
        poll_interval: Duration,
    ) -> Result<InputReader, RuntimeError> {
        let source = source_of(piece)?;
        let delivery = match &source {
            Source::DeliveryStream { name, .. } => {
                Some(DeliveryCursor::new(name, application, &piece.id, &position))
            }
            Source::Stream { .. } => None,
        };
        Ok(InputReader {
            input_id: piece.id.clone(),
            source,
            parser: parser_of(piece)?,
            streams: in_app_stream_names(&piece.body),
            position,
            shards: Vec::new(),
            refreshed: None,
            iterators: BTreeMap::new(),
            poll_interval,
            preprocessor: None,
            delivery,
        })
    }

    /// When the next shard is due (the runner sleeps no longer than that).
    pub fn next_due(&self) -> Option<Instant> {
        if let Some(delivery) = &self.delivery {
            return Some(delivery.due);
        }
        self.shards
            .iter()
            .filter(|shard| !self.position.finished.contains(&shard.id))
            .map(|shard| shard.due)
            .min()
    }

    /// Reads what is due of the input's source; returns what was read.
    pub async fn poll(&mut self, apis: &SourceApis) -> Read {
        match (&self.source, &apis.streams, &apis.firehose) {
            (Source::Stream { .. }, Some(api), _) => self.poll_shards(&Arc::clone(api)).await,
            (Source::DeliveryStream { .. }, _, Some(api)) => {
                self.poll_delivery_stream(&Arc::clone(api)).await
            }
            // `prepare` refuses an input whose service is not served.
            _ => Read::default(),
        }
    }

    /// Whether the service this input reads is served: an error naming it if not.
    pub fn check_served(&self, apis: &SourceApis) -> Result<(), RuntimeError> {
        let missing = match &self.source {
            Source::Stream { .. } if apis.streams.is_none() => "Kinesis Data Streams",
            Source::DeliveryStream { .. } if apis.firehose.is_none() => "Firehose",
            _ => return Ok(()),
        };
        Err(RuntimeError::Unsupported(format!(
            "Input {} reads {}, but {missing} is not served here.",
            self.input_id,
            self.source.arn()
        )))
    }

    /// Tells the source that the position is durable (a delivery stream's hold moves up).
    pub async fn checkpointed(&mut self, apis: &SourceApis) -> Result<(), RuntimeError> {
        match (&mut self.delivery, &apis.firehose) {
            (Some(delivery), Some(api)) => delivery.checkpointed(api, &self.position).await,
            _ => Ok(()),
        }
    }

    /// Reads a delivery stream input when it is due.
    async fn poll_delivery_stream(&mut self, api: &Arc<dyn FirehoseApi>) -> Read {
        let mut read = Read::default();
        let Some(delivery) = self.delivery.as_mut() else {
            return read;
        };
        if delivery.due > Instant::now() {
            return read;
        }
        let before = self.position.clone();
        let result = delivery.read(api, &mut self.position).await;
        let name = delivery.name.clone();
        let more = match result {
            Ok(got) => match self.take_delivered(&name, got.records, &mut read).await {
                Ok(()) => got.more,
                Err(err) => {
                    // The preprocessor failed: read the same records again at the next poll.
                    self.position = before.clone();
                    warn!(input = %self.input_id, delivery_stream = %name, error = %err, "preprocessing the input's records failed");
                    false
                }
            },
            Err(err) => {
                warn!(input = %self.input_id, delivery_stream = %name, error = %err, "reading the input delivery stream failed");
                false
            }
        };
        read.moved |= self.position != before;
        if let Some(delivery) = self.delivery.as_mut() {
            delivery.next_due(more, self.poll_interval);
        }
        read
    }

    /// Takes records read from a delivery stream: through the preprocessor, then parsed.
    async fn take_delivered(
        &mut self,
        name: &str,
        records: Vec<super::apis::DeliveryLogRecord>,
        read: &mut Read,
    ) -> Result<(), RuntimeError> {
        let Some(first) = records.first().map(|record| record.offset) else {
            return Ok(());
        };
        let metadata: Vec<_> = records.iter().map(preprocessor_metadata).collect();
        let mut data: Vec<(Vec<u8>, i64)> = records
            .into_iter()
            .map(|record| (record.data, record.arrival_ms))
            .collect();
        if let Some(preprocessor) = &self.preprocessor {
            let (kept, failed) = preprocess(
                preprocessor,
                self.source.arn(),
                &format!("{name}/{first}"),
                metadata,
                data,
            )
            .await?;
            data = kept;
            read.errors.extend(failed);
        }
        self.parse_into(0, &data, read);
        Ok(())
    }

    /// Polls every shard that is due; returns what was read.
    pub(crate) async fn poll_shards(&mut self, api: &Arc<dyn StreamsApi>) -> Read {
        let now = Instant::now();
        let mut read = Read::default();
        if self
            .refreshed
            .is_none_or(|at| now.duration_since(at) >= SHARD_REFRESH)
        {
            match self.list_shards(api).await {
                Ok(()) => self.refreshed = Some(now),
                Err(err) => {
                    warn!(input = %self.input_id, stream = %self.source.arn(), error = %err, "listing the input stream's shards failed");
                    self.refreshed = Some(now);
                }
            }
        }
        for index in 0..self.shards.len() {
            let shard = &self.shards[index];
            if shard.due > now || self.position.finished.contains(&shard.id) {
                continue;
            }
            let waiting = shard.parents.iter().any(|parent| {
                self.shards.iter().any(|s| &s.id == parent)
                    && !self.position.finished.contains(parent)
            });
            if waiting {
                self.shards[index].due = now + self.poll_interval;
                continue;
            }
            let id = shard.id.clone();
            let stream = shard.stream;
            self.shards[index].due = match self.read_shard(api, &id, stream, &mut read).await {
                Ok(true) => now,
                Ok(false) => now + self.poll_interval,
                Err(err) => {
                    self.iterators.remove(&id);
                    warn!(input = %self.input_id, shard = %id, error = %err, "reading the input shard failed");
                    now + self.poll_interval.max(ERROR_PAUSE)
                }
            };
        }
        read
    }

    /// One GetRecords on a shard. `Ok(true)` when more may be waiting.
    async fn read_shard(
        &mut self,
        api: &Arc<dyn StreamsApi>,
        shard: &str,
        stream: usize,
        read: &mut Read,
    ) -> Result<bool, RuntimeError> {
        let iterator = match self.iterators.get(shard) {
            Some(iterator) => iterator.clone(),
            None => self.iterator(api, shard).await?,
        };
        let answer = api
            .call(
                "GetRecords",
                json!({"ShardIterator": iterator, "Limit": GET_RECORDS_LIMIT, "StreamARN": self.source.arn()}),
            )
            .await;
        let answer = match answer {
            Ok(answer) => answer,
            Err(err) if err.code == "ExpiredIteratorException" => {
                self.iterators.remove(shard);
                return Ok(true);
            }
            // The shard's read quota (5 calls a second) is spent, by this reader or another
            // consumer: the iterator stays good, the shard is tried at its next poll.
            Err(err) if err.code == "ProvisionedThroughputExceededException" => {
                debug!(input = %self.input_id, shard, "reading the input shard was throttled");
                return Ok(false);
            }
            Err(err) => {
                return Err(RuntimeError::Source(format!(
                    "{}: {}",
                    err.code, err.message
                )));
            }
        };
        let records = answer["Records"].as_array().cloned().unwrap_or_default();
        let mut data: Vec<(Vec<u8>, i64)> = Vec::with_capacity(records.len());
        for record in &records {
            let Some(bytes) = record["Data"]
                .as_str()
                .and_then(|text| base64::engine::general_purpose::STANDARD.decode(text).ok())
            else {
                warn!(input = %self.input_id, shard, "a record without readable Data");
                continue;
            };
            let arrival = record["ApproximateArrivalTimestamp"]
                .as_f64()
                .map_or(0, |seconds| (seconds * 1000.0).round() as i64);
            data.push((bytes, arrival));
        }
        // Through the preprocessor first: a failed invocation returns before any row is taken
        // or the position moves.
        if let Some(preprocessor) = &self.preprocessor
            && !records.is_empty()
        {
            let metadata = records
                .iter()
                .zip(&data)
                .map(|(record, (_, arrival))| {
                    let metadata = json!({
                        "sequenceNumber": record["SequenceNumber"],
                        "partitionKey": record["PartitionKey"],
                        "shardId": shard,
                        "approximateArrivalTimestamp": arrival,
                    });
                    ("kinesisStreamRecordMetadata", metadata)
                })
                .collect();
            let first = records
                .first()
                .and_then(|record| record["SequenceNumber"].as_str())
                .unwrap_or_default();
            let (kept, failed) = preprocess(
                preprocessor,
                self.source.arn(),
                &format!("{shard}/{first}"),
                metadata,
                data,
            )
            .await?;
            data = kept;
            read.errors.extend(failed);
        }
        self.parse_into(stream, &data, read);
        for record in &records {
            if let Some(sequence) = record["SequenceNumber"].as_str() {
                self.position
                    .after
                    .insert(shard.to_owned(), sequence.to_owned());
                read.moved = true;
            }
        }
        if !records.is_empty() {
            debug!(input = %self.input_id, shard, records = records.len(), "read input records");
        }
        let behind = answer["MillisBehindLatest"].as_i64().unwrap_or(0);
        match answer["NextShardIterator"].as_str() {
            Some(next) => {
                self.iterators.insert(shard.to_owned(), next.to_owned());
            }
            None => {
                self.iterators.remove(shard);
                self.position.finished.push(shard.to_owned());
                read.moved = true;
            }
        }
        Ok(!records.is_empty() && behind > 0)
    }

    /// Parses records (data, arrival time) into rows of in-application stream `stream`.
    pub(super) fn parse_into(&self, stream: usize, data: &[(Vec<u8>, i64)], read: &mut Read) {
        let (rows, arrivals) = read.rows.entry(stream).or_default();
        for (bytes, arrival) in data {
            for row in self.parser.parse_record(bytes) {
                match row {
                    Ok(row) => {
                        rows.push(row);
                        arrivals.push(*arrival);
                    }
                    Err(err) => read.errors.push((err.to_string(), bytes.clone())),
                }
            }
        }
    }

    async fn iterator(
        &self,
        api: &Arc<dyn StreamsApi>,
        shard: &str,
    ) -> Result<String, RuntimeError> {
        let mut request = json!({"StreamARN": self.source.arn(), "ShardId": shard});
        match (self.position.after.get(shard), self.position.start) {
            (Some(sequence), _) => {
                request["ShardIteratorType"] = json!("AFTER_SEQUENCE_NUMBER");
                request["StartingSequenceNumber"] = json!(sequence);
            }
            (None, StartAt::TrimHorizon) => {
                request["ShardIteratorType"] = json!("TRIM_HORIZON");
            }
            (None, StartAt::Timestamp(ms)) => {
                request["ShardIteratorType"] = json!("AT_TIMESTAMP");
                request["Timestamp"] = json!(ms as f64 / 1000.0);
            }
        }
        let answer = api
            .call("GetShardIterator", request)
            .await
            .map_err(|err| RuntimeError::Source(format!("{}: {}", err.code, err.message)))?;
        answer["ShardIterator"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| RuntimeError::Source("GetShardIterator gave no iterator".into()))
    }

    async fn list_shards(&mut self, api: &Arc<dyn StreamsApi>) -> Result<(), RuntimeError> {
        let listed = list_shards(api, self.source.arn()).await?;
        let parallelism = self.streams.len().max(1);
        let now = Instant::now();
        let mut shards = Vec::with_capacity(listed.len());
        for (id, parents) in listed {
            let due = self
                .shards
                .iter()
                .find(|shard| shard.id == id)
                .map_or(now, |shard| shard.due);
            shards.push(Shard {
                stream: shard_number(&id) % parallelism,
                id,
                parents,
                due,
            });
        }
        self.shards = shards;
        Ok(())
    }
}

/// Every shard of the stream: its id and its parents' ids.
pub async fn list_shards(
    api: &Arc<dyn StreamsApi>,
    stream_arn: &str,
) -> Result<Vec<(String, Vec<String>)>, RuntimeError> {
    let mut shards = Vec::new();
    let mut request = json!({"StreamARN": stream_arn});
    loop {
        let answer = api
            .call("ListShards", request)
            .await
            .map_err(|err| RuntimeError::Source(format!("{}: {}", err.code, err.message)))?;
        for shard in answer["Shards"].as_array().into_iter().flatten() {
            let Some(id) = shard["ShardId"].as_str() else {
                continue;
            };
            let parents = ["ParentShardId", "AdjacentParentShardId"]
                .iter()
                .filter_map(|member| shard[member].as_str().map(str::to_owned))
                .collect();
            shards.push((id.to_owned(), parents));
        }
        match answer["NextToken"].as_str() {
            Some(token) => request = json!({"NextToken": token}),
            None => return Ok(shards),
        }
    }
}

/// Invokes an input's preprocessor on the records of one read (`batch` names it: the shard and
/// first sequence number, or the delivery stream's first offset): the records it kept
/// (transformed) with their arrival times, and the ones it failed, for the error stream.
/// `metadata` holds each record's metadata member (`kinesisStreamRecordMetadata` or
/// `kinesisFirehoseRecordMetadata`, with its value).
pub(crate) async fn preprocess(
    preprocessor: &Preprocessor,
    source_arn: &str,
    batch: &str,
    metadata: Vec<(&'static str, serde_json::Value)>,
    data: Vec<(Vec<u8>, i64)>,
) -> Result<FailedSplit, RuntimeError> {
    let encode = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let ids: Vec<String> = (0..data.len())
        .map(|index| format!("{batch}-{index:06}-{}", data.len()))
        .collect();
    let records: Vec<serde_json::Value> = data
        .iter()
        .zip(&ids)
        .zip(metadata)
        .map(|(((bytes, _), id), (member, metadata))| {
            let mut record = json!({"recordId": id, "data": encode(bytes)});
            record[member] = metadata;
            record
        })
        .collect();
    let event = json!({
        "invocationId": format!("{source_arn}/{batch}"),
        "applicationArn": preprocessor.application_arn,
        "streamArn": source_arn,
        "records": records,
    });
    let body = serde_json::to_vec(&event).map_err(|err| RuntimeError::Internal(err.to_string()))?;
    let answer = preprocessor
        .lambda
        .invoke(&preprocessor.function_arn, &body)
        .await
        .map_err(|err| {
            RuntimeError::Source(format!(
                "the preprocessing function failed: {}: {}",
                err.code, err.message
            ))
        })?;
    let answer: serde_json::Value = serde_json::from_slice(&answer).map_err(|err| {
        RuntimeError::Source(format!(
            "the preprocessing function's answer is not JSON: {err}"
        ))
    })?;
    let results: BTreeMap<&str, &serde_json::Value> = answer["records"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|record| Some((record["recordId"].as_str()?, record)))
        .collect();
    let mut kept = Vec::new();
    let mut failed = Vec::new();
    for ((bytes, arrival), id) in data.into_iter().zip(&ids) {
        match results.get(id.as_str()) {
            Some(result) if result["result"] == "Ok" => {
                match result["data"]
                    .as_str()
                    .and_then(|text| base64::engine::general_purpose::STANDARD.decode(text).ok())
                {
                    Some(transformed) => kept.push((transformed, arrival)),
                    None => failed.push((
                        "the preprocessing function returned no base64 data".to_owned(),
                        bytes,
                    )),
                }
            }
            Some(result) if result["result"] == "Dropped" => {}
            Some(_) => failed.push((
                "the preprocessing function failed the record".to_owned(),
                bytes,
            )),
            None => failed.push((
                "the preprocessing function's answer left the record out".to_owned(),
                bytes,
            )),
        }
    }
    Ok((kept, failed))
}

/// Records a preprocessor kept (data, arrival time), and those it failed (reason, data).
pub(crate) type FailedSplit = (Vec<(Vec<u8>, i64)>, Vec<(String, Vec<u8>)>);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_name_their_source() {
        let piece = |body: serde_json::Value| Piece {
            id: "1.1".into(),
            body,
        };
        let source = source_of(&piece(
            json!({"KinesisStreamsInput": {"ResourceARN": "arn:s"}}),
        ))
        .expect("a stream");
        assert_eq!(source.arn(), "arn:s");
        let with_preprocessor = piece(json!({
            "KinesisStreamsInput": {"ResourceARN": "arn:s"},
            "InputProcessingConfiguration": {"InputLambdaProcessor": {"ResourceARN": "arn:l"}},
        }));
        assert_eq!(
            source_of(&with_preprocessor).expect("a stream").arn(),
            "arn:s"
        );
        assert_eq!(
            preprocessor_arn(&with_preprocessor).as_deref(),
            Some("arn:l")
        );
        let delivery = source_of(&piece(json!({"KinesisFirehoseInput": {
            "ResourceARN": "arn:aws:firehose:us-east-1:000000000000:deliverystream/clicks"
        }})))
        .expect("a delivery stream");
        assert_eq!(
            delivery,
            Source::DeliveryStream {
                arn: "arn:aws:firehose:us-east-1:000000000000:deliverystream/clicks".into(),
                name: "clicks".into(),
            }
        );
        let err = source_of(&piece(
            json!({"KinesisFirehoseInput": {"ResourceARN": "arn:f"}}),
        ))
        .expect_err("not a delivery stream's ARN");
        assert!(err.to_string().contains("arn:f"), "{err}");
    }

    #[test]
    fn shards_spread_over_streams_by_their_number() {
        assert_eq!(shard_number("shardId-000000000007"), 7);
        assert_eq!(shard_number("odd"), 0);
        assert_eq!(shard_number("shardId-000000000007") % 2, 1);
    }
}
