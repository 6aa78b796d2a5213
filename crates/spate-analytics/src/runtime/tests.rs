//! The runner against a test pipeline (`pipeline::testing`) and an in-memory stand-in for the
//! Data Streams API: output reaches the destination, a crash with undelivered output delivers
//! it after the restart with the engine state restored and no input read twice, and a stop
//! saves the point LAST_STOPPED_POINT resumes from.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use parking_lot::Mutex;
use serde_json::{Value, json};
use spate_log::ManualClock;
use spate_meta::{MemoryStore, MetaStore};
use spate_wire::AwsError;

use super::apis::{FirehoseApi, StreamsApi};
use super::checkpoint;
use super::pipeline::testing::{OUT, PassThroughFactory};
use super::{Connections, RuntimeConfig};
use crate::model::{Application, PieceKind, Status};
use crate::ops;
use crate::service::{AnalyticsConfig, AnalyticsService};

const INPUT_ARN: &str = "arn:aws:kinesis:us-east-1:000000000000:stream/in";
const OUTPUT_ARN: &str = "arn:aws:kinesis:us-east-1:000000000000:stream/out";

/// One input stream (its shards, each with a parent or not and open or closed) and one output
/// stream.
#[derive(Debug, Default)]
struct FakeStreams {
    state: Mutex<FakeState>,
}

#[derive(Debug, Default)]
struct FakeShard {
    id: String,
    parent: Option<String>,
    /// A closed shard's iterator ends (no next iterator) once it is read to its end.
    closed: bool,
    /// Arrival time and data of each record.
    records: Vec<(i64, Vec<u8>)>,
}

#[derive(Debug, Default)]
struct FakeState {
    shards: Vec<FakeShard>,
    output: Vec<Vec<u8>>,
    /// PutRecords fails while set.
    failing: bool,
}

impl FakeState {
    fn shard(&self, id: &str) -> &FakeShard {
        self.shards
            .iter()
            .find(|shard| shard.id == id)
            .expect("a known shard")
    }
}

fn decode(text: &Value) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(text.as_str().expect("Data is a string"))
        .expect("Data is base64")
}

#[async_trait::async_trait]
impl StreamsApi for FakeStreams {
    async fn call(&self, operation: &str, body: Value) -> Result<Value, AwsError> {
        let mut state = self.state.lock();
        match operation {
            "ListShards" => {
                let shards: Vec<Value> = state
                    .shards
                    .iter()
                    .map(|shard| match &shard.parent {
                        Some(parent) => json!({"ShardId": shard.id, "ParentShardId": parent}),
                        None => json!({"ShardId": shard.id}),
                    })
                    .collect();
                Ok(json!({ "Shards": shards }))
            }
            "GetShardIterator" => {
                let id = body["ShardId"].as_str().expect("a shard id");
                let shard = state.shard(id);
                let start = match body["ShardIteratorType"].as_str() {
                    Some("TRIM_HORIZON") => 0,
                    Some("AFTER_SEQUENCE_NUMBER") => {
                        let sequence: usize = body["StartingSequenceNumber"]
                            .as_str()
                            .and_then(|text| text.parse().ok())
                            .expect("a sequence number");
                        sequence + 1
                    }
                    Some("AT_TIMESTAMP") => {
                        let at = (body["Timestamp"].as_f64().expect("a timestamp") * 1000.0) as i64;
                        shard
                            .records
                            .iter()
                            .position(|(arrival, _)| *arrival >= at)
                            .unwrap_or(shard.records.len())
                    }
                    other => panic!("unexpected iterator type {other:?}"),
                };
                Ok(json!({"ShardIterator": format!("{id}/{start}")}))
            }
            "GetRecords" => {
                let iterator = body["ShardIterator"].as_str().expect("an iterator");
                let (id, start) = iterator.split_once('/').expect("shard/position");
                let start: usize = start.parse().expect("a position");
                let shard = state.shard(id);
                let end = shard.records.len().max(start);
                let records: Vec<Value> = shard.records[start.min(shard.records.len())..]
                    .iter()
                    .enumerate()
                    .map(|(offset, (arrival, data))| {
                        json!({
                            "SequenceNumber": (start + offset).to_string(),
                            "ApproximateArrivalTimestamp": *arrival as f64 / 1000.0,
                            "Data": base64::engine::general_purpose::STANDARD.encode(data),
                            "PartitionKey": "k",
                        })
                    })
                    .collect();
                let mut answer = json!({"Records": records, "MillisBehindLatest": 0});
                if !shard.closed {
                    answer["NextShardIterator"] = json!(format!("{id}/{end}"));
                }
                Ok(answer)
            }
            "PutRecords" => {
                assert_eq!(body["StreamARN"], OUTPUT_ARN);
                if state.failing {
                    return Err(AwsError::server("ServiceUnavailable", "down for the test"));
                }
                let mut results = Vec::new();
                for record in body["Records"].as_array().expect("Records") {
                    state.output.push(decode(&record["Data"]));
                    results.push(json!({"SequenceNumber": "1", "ShardId": "shardId-000000000000"}));
                }
                Ok(json!({"FailedRecordCount": 0, "Records": results}))
            }
            other => panic!("unexpected operation {other}"),
        }
    }
}

/// A Firehose that keeps what PutRecordBatch gives it, by delivery stream.
#[derive(Debug, Default)]
struct FakeFirehose {
    records: Mutex<Vec<(String, Vec<u8>)>>,
}

#[async_trait::async_trait]
impl FirehoseApi for FakeFirehose {
    async fn call(&self, operation: &str, body: Value) -> Result<Value, AwsError> {
        assert_eq!(operation, "PutRecordBatch");
        let name = body["DeliveryStreamName"].as_str().expect("a name");
        let mut responses = Vec::new();
        for record in body["Records"].as_array().expect("Records") {
            self.records
                .lock()
                .push((name.to_owned(), decode(&record["Data"])));
            responses.push(json!({"RecordId": "1"}));
        }
        Ok(json!({"FailedPutCount": 0, "RequestResponses": responses}))
    }
}

impl FakeStreams {
    /// A stream of one open shard.
    fn one_shard() -> FakeStreams {
        let streams = FakeStreams::default();
        streams.state.lock().shards.push(FakeShard {
            id: "shardId-000000000000".into(),
            ..FakeShard::default()
        });
        streams
    }

    /// Puts a record in the stream's first shard.
    fn put(&self, at_ms: i64, text: &str) {
        self.put_in(0, at_ms, text);
    }

    fn put_in(&self, shard: usize, at_ms: i64, text: &str) {
        self.state.lock().shards[shard]
            .records
            .push((at_ms, text.as_bytes().to_vec()));
    }

    fn output(&self) -> Vec<String> {
        self.state
            .lock()
            .output
            .iter()
            .map(|data| String::from_utf8(data.clone()).expect("UTF-8"))
            .collect()
    }
}

struct World {
    meta: Arc<MemoryStore>,
    clock: Arc<ManualClock>,
    streams: Arc<FakeStreams>,
    firehose: Arc<FakeFirehose>,
}

impl World {
    fn new() -> World {
        World {
            meta: Arc::new(MemoryStore::new()),
            clock: Arc::new(ManualClock::new(1_000_000)),
            streams: Arc::new(FakeStreams::one_shard()),
            firehose: Arc::new(FakeFirehose::default()),
        }
    }

    async fn open(&self) -> Arc<AnalyticsService> {
        let mut config = AnalyticsConfig::new("000000000000", "us-east-1");
        config.runtime = RuntimeConfig {
            tick: Duration::from_millis(20),
            poll_interval: Duration::from_millis(50),
            output_batching: Duration::from_millis(50),
            checkpoint_interval: Duration::from_millis(200),
            discovery_wait: Duration::from_millis(200),
        };
        let meta: Arc<dyn MetaStore> = self.meta.clone();
        let streams: Arc<dyn StreamsApi> = self.streams.clone();
        AnalyticsService::open(
            config,
            meta,
            self.clock.clone(),
            Connections {
                factory: Some(Arc::new(PassThroughFactory)),
                streams: Some(streams),
                firehose: Some(self.firehose.clone()),
                objects: None,
                lambda: None,
            },
        )
        .await
        .expect("opened")
    }
}

async fn create(service: &AnalyticsService, name: &str) {
    let mut application = Application::new(name.into(), 0);
    application.code = Some("CREATE STREAM \"OUT\" (ticker VARCHAR(4));".into());
    application.add_piece(
        PieceKind::Input,
        json!({
            "NamePrefix": "SOURCE_SQL_STREAM",
            "KinesisStreamsInput": {"ResourceARN": INPUT_ARN, "RoleARN": "arn:aws:iam::000000000000:role/r"},
            "InputSchema": {
                "RecordFormat": {"RecordFormatType": "JSON",
                                 "MappingParameters": {"JSONMappingParameters": {"RecordRowPath": "$"}}},
                "RecordColumns": [{"Name": "TICKER", "SqlType": "VARCHAR(4)", "Mapping": "$.ticker"},
                                  {"Name": "PRICE", "SqlType": "DOUBLE", "Mapping": "$.price"}],
            },
        }),
    );
    application.add_piece(
        PieceKind::Output,
        json!({
            "Name": OUT,
            "KinesisStreamsOutput": {"ResourceARN": OUTPUT_ARN, "RoleARN": "arn:aws:iam::000000000000:role/r"},
            "DestinationSchema": {"RecordFormatType": "JSON"},
        }),
    );
    service.store(application).await.expect("stored");
}

async fn start(service: &Arc<AnalyticsService>, name: &str, position: &str) {
    let request: ops::start_application::Request = serde_json::from_value(json!({
        "ApplicationName": name,
        "InputConfigurations": [{"Id": "1.1", "InputStartingPositionConfiguration": {"InputStartingPosition": position}}],
    }))
    .expect("a request");
    ops::start_application::handle(service, request)
        .await
        .expect("started");
}

async fn until(what: &str, mut check: impl FnMut() -> bool) {
    for _ in 0..2_000 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting for {what}");
}

fn status(service: &AnalyticsService, name: &str) -> Status {
    service.get(name).expect("the application").status
}

/// The count the test pipeline keeps in its snapshot.
async fn passed(world: &World, name: &str) -> u64 {
    let checkpoint = checkpoint::load(world.meta.as_ref(), name)
        .await
        .expect("loaded")
        .expect("a checkpoint");
    let bytes: [u8; 8] = checkpoint
        .snapshot
        .expect("a snapshot")
        .try_into()
        .expect("8 bytes");
    u64::from_le_bytes(bytes)
}

#[tokio::test(start_paused = true)]
async fn rows_flow_from_the_input_stream_to_the_output_stream() {
    let world = World::new();
    world.streams.put(999_000, r#"{"ticker":"OLD","price":1}"#);
    let service = world.open().await;
    create(&service, "app").await;
    start(&service, "app", "TRIM_HORIZON").await;
    until("RUNNING", || status(&service, "app") == Status::Running).await;
    world
        .streams
        .put(1_000_000, r#"{"ticker":"AMZN","price":10.5}"#);
    world.streams.put(1_000_000, "not JSON");
    until("two records out", || world.streams.output().len() == 2).await;
    assert_eq!(
        world.streams.output(),
        vec![
            r#"{"TICKER":"OLD","PRICE":1.0}"#,
            r#"{"TICKER":"AMZN","PRICE":10.5}"#
        ]
    );
    assert_eq!(passed(&world, "app").await, 2);
    service.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn output_pending_at_a_crash_is_delivered_after_it_and_no_input_is_counted_twice() {
    let world = World::new();
    let service = world.open().await;
    create(&service, "app").await;
    start(&service, "app", "TRIM_HORIZON").await;
    until("RUNNING", || status(&service, "app") == Status::Running).await;
    world.streams.state.lock().failing = true;
    world.streams.put(1_000_000, r#"{"ticker":"A","price":1}"#);
    world.streams.put(1_000_000, r#"{"ticker":"B","price":2}"#);
    // The rows were drained and checkpointed as pending; the destination refuses them.
    let mut pending = 0;
    for _ in 0..2_000 {
        let checkpoint = checkpoint::load(world.meta.as_ref(), "app")
            .await
            .expect("loaded")
            .expect("a checkpoint");
        pending = checkpoint
            .pending
            .iter()
            .map(|p| p.records.len())
            .sum::<usize>();
        if pending == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(pending, 2, "both rows pending in the checkpoint");
    // The crash: the runner goes, the status stays RUNNING.
    service.shutdown().await;
    assert!(world.streams.output().is_empty());
    assert_eq!(status(&service, "app"), Status::Running);
    drop(service);

    world.streams.state.lock().failing = false;
    let service = world.open().await;
    until("the pending records", || world.streams.output().len() == 2).await;
    world.streams.put(1_000_100, r#"{"ticker":"C","price":3}"#);
    until("the next record", || world.streams.output().len() == 3).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(world.streams.output().len(), 3, "nothing twice");
    // The state came back from the snapshot: 2 before the crash, 1 after.
    assert_eq!(passed(&world, "app").await, 3);
    service.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_stop_saves_the_point_last_stopped_point_resumes_from() {
    let world = World::new();
    let service = world.open().await;
    create(&service, "app").await;
    start(&service, "app", "NOW").await;
    until("RUNNING", || status(&service, "app") == Status::Running).await;
    world.streams.put(1_000_000, r#"{"ticker":"A","price":1}"#);
    until("one record", || world.streams.output().len() == 1).await;

    let stop: ops::stop_application::Request =
        serde_json::from_value(json!({"ApplicationName": "app"})).expect("a request");
    ops::stop_application::handle(&service, stop)
        .await
        .expect("stopped");
    until("READY", || status(&service, "app") == Status::Ready).await;
    // Stopping again is refused: it is not running.
    let stop: ops::stop_application::Request =
        serde_json::from_value(json!({"ApplicationName": "app"})).expect("a request");
    let err = ops::stop_application::handle(&service, stop)
        .await
        .expect_err("refused");
    assert_eq!(err.to_aws().code, "ResourceInUseException");

    world.streams.put(1_000_000, r#"{"ticker":"B","price":2}"#);
    start(&service, "app", "LAST_STOPPED_POINT").await;
    until("the record put while stopped", || {
        world.streams.output().len() == 2
    })
    .await;
    assert!(world.streams.output()[1].contains("\"B\""));
    // Starting a running application is refused.
    let request: ops::start_application::Request = serde_json::from_value(json!({
        "ApplicationName": "app",
        "InputConfigurations": [{"Id": "1.1", "InputStartingPositionConfiguration": {"InputStartingPosition": "NOW"}}],
    }))
    .expect("a request");
    let err = ops::start_application::handle(&service, request)
        .await
        .expect_err("refused");
    assert_eq!(err.to_aws().code, "ResourceInUseException");
    service.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn starting_checks_the_configuration() {
    let world = World::new();
    let service = world.open().await;
    let mut bare = Application::new("bare".into(), 0);
    bare.code = Some("SELECT 1;".into());
    service.store(bare).await.expect("stored");
    let request: ops::start_application::Request = serde_json::from_value(json!({
        "ApplicationName": "bare", "InputConfigurations": [],
    }))
    .expect("a request");
    let err = ops::start_application::handle(&service, request)
        .await
        .expect_err("refused");
    assert_eq!(
        err.to_aws().code,
        "InvalidApplicationConfigurationException"
    );

    create(&service, "app").await;
    let request: ops::start_application::Request = serde_json::from_value(json!({
        "ApplicationName": "app",
        "InputConfigurations": [{"Id": "9.1", "InputStartingPositionConfiguration": {"InputStartingPosition": "NOW"}}],
    }))
    .expect("a request");
    let err = ops::start_application::handle(&service, request)
        .await
        .expect_err("refused");
    assert_eq!(err.to_aws().code, "InvalidArgumentException");
    assert!(err.to_string().contains("9.1"), "{err}");
    assert_eq!(status(&service, "app"), Status::Ready);
}

#[tokio::test(start_paused = true)]
async fn the_reader_reads_children_after_their_parent_and_spreads_shards_over_streams() {
    use super::checkpoint::{InputPosition, StartAt};
    use super::reader::InputReader;
    use crate::input::Value as Sql;
    use crate::model::Piece;

    let streams = FakeStreams::default();
    {
        let mut state = streams.state.lock();
        state.shards.push(FakeShard {
            id: "shardId-000000000000".into(),
            closed: true,
            ..FakeShard::default()
        });
        for id in ["shardId-000000000001", "shardId-000000000002"] {
            state.shards.push(FakeShard {
                id: id.into(),
                parent: Some("shardId-000000000000".into()),
                ..FakeShard::default()
            });
        }
    }
    // Children listed before their parent's records would be read first if order were not kept.
    streams.put_in(1, 5, r#"{"ticker":"C1"}"#);
    streams.put_in(2, 5, r#"{"ticker":"C2"}"#);
    streams.put_in(0, 5, r#"{"ticker":"P1"}"#);
    streams.put_in(0, 5, r#"{"ticker":"P2"}"#);
    streams.put_in(0, 5, r#"{"price":"not a number"}"#);
    let piece = Piece {
        id: "1.1".into(),
        body: json!({
            "NamePrefix": "IN",
            "InputParallelism": {"Count": 2},
            "KinesisStreamsInput": {"ResourceARN": INPUT_ARN, "RoleARN": "arn:aws:iam::000000000000:role/r"},
            "InputSchema": {
                "RecordFormat": {"RecordFormatType": "JSON",
                                 "MappingParameters": {"JSONMappingParameters": {"RecordRowPath": "$"}}},
                "RecordColumns": [{"Name": "TICKER", "SqlType": "VARCHAR(4)", "Mapping": "$.ticker"},
                                  {"Name": "PRICE", "SqlType": "DOUBLE", "Mapping": "$.price"}],
            },
        }),
    };
    let mut reader = InputReader::new(
        "app",
        &piece,
        InputPosition::new(StartAt::TrimHorizon),
        Duration::from_millis(50),
    )
    .expect("a reader");
    assert_eq!(reader.streams, vec!["IN_001", "IN_002"]);
    let api: Arc<dyn StreamsApi> = Arc::new(streams);
    let read = reader.poll_shards(&api).await;
    let tickers = |stream: usize| -> Vec<Sql> {
        read.rows
            .get(&stream)
            .map(|(rows, _)| rows.iter().map(|row| row[0].clone()).collect())
            .unwrap_or_default()
    };
    // Shards 0 and 2 feed IN_001, shard 1 feeds IN_002; the parent's rows come first.
    assert_eq!(
        tickers(0),
        vec![
            Sql::Varchar("P1".into()),
            Sql::Varchar("P2".into()),
            Sql::Varchar("C2".into())
        ]
    );
    assert_eq!(tickers(1), vec![Sql::Varchar("C1".into())]);
    assert_eq!(read.rows[&0].1, vec![5, 5, 5], "arrival times");
    assert_eq!(read.errors.len(), 1);
    assert!(read.errors[0].0.contains("PRICE"), "{}", read.errors[0].0);
    assert_eq!(reader.position.finished, vec!["shardId-000000000000"]);
    assert_eq!(reader.position.after["shardId-000000000000"], "2");
    assert_eq!(reader.position.after["shardId-000000000001"], "0");

    // Nothing new: a later poll reads nothing, and nothing twice.
    tokio::time::sleep(Duration::from_millis(60)).await;
    let again = reader.poll_shards(&api).await;
    assert!(again.rows.values().all(|(rows, _)| rows.is_empty()));
}

#[tokio::test(start_paused = true)]
async fn csv_rows_go_to_a_delivery_stream() {
    let world = World::new();
    let service = world.open().await;
    create(&service, "app").await;
    let mut application = (*service.get("app").expect("the application")).clone();
    application.outputs[0].body = json!({
        "Name": OUT,
        "KinesisFirehoseOutput": {
            "ResourceARN": "arn:aws:firehose:us-east-1:000000000000:deliverystream/sink",
            "RoleARN": "arn:aws:iam::000000000000:role/r",
        },
        "DestinationSchema": {"RecordFormatType": "CSV"},
    });
    service.store(application).await.expect("stored");
    start(&service, "app", "NOW").await;
    world
        .streams
        .put(1_000_000, r#"{"ticker":"AMZN","price":10.5}"#);
    world.streams.put(1_000_000, r#"{"ticker":"GOOG"}"#);
    until("two records", || world.firehose.records.lock().len() == 2).await;
    let records = world.firehose.records.lock().clone();
    assert_eq!(
        records,
        vec![
            ("sink".to_owned(), b"AMZN,10.5\n".to_vec()),
            ("sink".to_owned(), b"GOOG,\n".to_vec()),
        ]
    );
    service.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_running_application_runs_its_changed_configuration_with_its_state() {
    let world = World::new();
    let service = world.open().await;
    create(&service, "app").await;
    start(&service, "app", "NOW").await;
    until("RUNNING", || status(&service, "app") == Status::Running).await;
    world.streams.put(1_000_000, r#"{"ticker":"A","price":1}"#);
    until("one JSON record", || world.streams.output().len() == 1).await;

    // A change the runtime cannot run is refused, and the application runs on unchanged.
    let version = service.get("app").expect("the application").version;
    let err = ops::change(&service, "app", version, |application| {
        application.outputs[0].body["LambdaOutput"] =
            json!({"ResourceARN": "arn:l", "RoleARN": "arn:r"});
        application.outputs[0]
            .body
            .as_object_mut()
            .expect("an object")
            .remove("KinesisStreamsOutput");
        Ok(())
    })
    .await
    .expect_err("refused");
    assert_eq!(err.to_aws().code, "UnsupportedOperationException");

    ops::change(&service, "app", version, |application| {
        application.outputs[0].body["DestinationSchema"]["RecordFormatType"] = json!("CSV");
        Ok(())
    })
    .await
    .expect("changed");
    world.streams.put(1_000_000, r#"{"ticker":"B","price":2}"#);
    until("one CSV record", || world.streams.output().len() == 2).await;
    // The record delivered before the change is not delivered again.
    assert_eq!(
        world.streams.output(),
        vec![r#"{"TICKER":"A","PRICE":1.0}"#, "B,2.0\n"]
    );
    assert_eq!(status(&service, "app"), Status::Running);
    // The state went on from the checkpoint: one row before the change, one after.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(passed(&world, "app").await, 2);
    service.shutdown().await;
}
