//! The Data Streams service in process, on a manual clock: what depends on time (status delays,
//! iterator and token expiry, MillisBehindLatest, CBOR's millisecond timestamps) and on
//! restarting with the same storage.

use std::sync::Arc;

use serde_json::{Value, json};
use spate_log::{Clock, Log, LogConfig, ManualClock};
use spate_meta::{MemoryStore, MetaStore};
use spate_streams::{StreamsConfig, StreamsService};
use spate_wire::{AwsError, Codec};

const START_MS: i64 = 1_700_000_000_000;

struct Fixture {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
    clock: Arc<ManualClock>,
    meta: MemoryStore,
    log: Log,
    service: Arc<StreamsService>,
}

impl Fixture {
    async fn new() -> Fixture {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().to_path_buf();
        let clock = Arc::new(ManualClock::new(START_MS));
        let meta = MemoryStore::new();
        let (log, service) = open(&path, &clock, &meta).await;
        Fixture {
            _dir: dir,
            path,
            clock,
            meta,
            log,
            service,
        }
    }

    /// Closes the log and opens everything again on the same storage.
    async fn restart(&mut self) {
        self.log.close().expect("close");
        let (log, service) = open(&self.path, &self.clock, &self.meta).await;
        self.log = log;
        self.service = service;
    }

    async fn call(&self, operation: &str, body: Value) -> Result<Value, AwsError> {
        let bytes = serde_json::to_vec(&body).expect("json");
        match self.service.handle_json(operation, &bytes).await {
            Some(Ok(out)) => Ok(serde_json::from_slice(&out).expect("response is json")),
            Some(Err(err)) => Err(err.to_aws()),
            None => panic!("{operation} is not implemented"),
        }
    }

    /// Calls `operation` with a CBOR body, as the Java SDK does, and decodes the CBOR answer.
    async fn call_cbor(&self, operation: &str, body: Cbor) -> Result<Cbor, AwsError> {
        let mut bytes = Vec::new();
        ciborium::ser::into_writer(&body, &mut bytes).expect("cbor");
        match self.service.handle(operation, &bytes, Codec::Cbor).await {
            Some(Ok(out)) => Ok(ciborium::de::from_reader(&out[..]).expect("response is cbor")),
            Some(Err(err)) => Err(err.to_aws()),
            None => panic!("{operation} is not implemented"),
        }
    }

    async fn ok_cbor(&self, operation: &str, body: Cbor) -> Cbor {
        match self.call_cbor(operation, body).await {
            Ok(value) => value,
            Err(err) => panic!("{operation} failed: {err}"),
        }
    }

    async fn ok(&self, operation: &str, body: Value) -> Value {
        match self.call(operation, body).await {
            Ok(value) => value,
            Err(err) => panic!("{operation} failed: {err}"),
        }
    }

    async fn status(&self, stream: &str) -> String {
        let out = self
            .ok("DescribeStreamSummary", json!({"StreamName": stream}))
            .await;
        out["StreamDescriptionSummary"]["StreamStatus"]
            .as_str()
            .expect("status")
            .to_string()
    }

    async fn active_stream(&self, name: &str, shards: u32) {
        self.ok(
            "CreateStream",
            json!({"StreamName": name, "ShardCount": shards}),
        )
        .await;
        self.clock
            .advance(StreamsConfig::default().create_delay_ms as i64);
        assert_eq!(self.status(name).await, "ACTIVE");
    }

    async fn iterator(&self, stream: &str, kind: &str) -> String {
        let out = self
            .ok(
                "GetShardIterator",
                json!({"StreamName": stream, "ShardId": "shardId-000000000000", "ShardIteratorType": kind}),
            )
            .await;
        out["ShardIterator"].as_str().expect("iterator").to_string()
    }

    /// Puts a record on shard 0 (hash key 0), where [`Fixture::iterator`] reads.
    async fn put(&self, stream: &str, data: &str) -> String {
        let out = self
            .ok(
                "PutRecord",
                json!({"StreamName": stream, "PartitionKey": "k", "ExplicitHashKey": "0", "Data": data}),
            )
            .await;
        out["SequenceNumber"]
            .as_str()
            .expect("sequence number")
            .to_string()
    }
}

async fn open(
    path: &std::path::Path,
    clock: &Arc<ManualClock>,
    meta: &MemoryStore,
) -> (Log, Arc<StreamsService>) {
    let dyn_clock: Arc<dyn Clock> = clock.clone();
    let log = Log::open(path, LogConfig::default(), dyn_clock.clone()).expect("log opens");
    let meta: Arc<dyn MetaStore> = Arc::new(meta.clone());
    let service = StreamsService::open(StreamsConfig::default(), log.clone(), meta, dyn_clock)
        .await
        .expect("service opens");
    (log, service)
}

type Cbor = ciborium::Value;

/// A CBOR map with text keys.
fn cbor_map(members: &[(&str, Cbor)]) -> Cbor {
    Cbor::Map(
        members
            .iter()
            .map(|(key, value)| (Cbor::Text(key.to_string()), value.clone()))
            .collect(),
    )
}

/// A timestamp as the Java SDK writes it: tag 1 around an integer of epoch milliseconds.
fn cbor_millis(millis: i64) -> Cbor {
    Cbor::Tag(1, Box::new(Cbor::Integer(millis.into())))
}

/// The member `key` of a CBOR map.
fn member<'a>(map: &'a Cbor, key: &str) -> &'a Cbor {
    map.as_map()
        .expect("a map")
        .iter()
        .find(|(name, _)| name.as_text() == Some(key))
        .map(|(_, value)| value)
        .unwrap_or_else(|| panic!("no member {key} in {map:?}"))
}

fn code<T: std::fmt::Debug>(result: Result<T, AwsError>) -> &'static str {
    match result {
        Ok(value) => panic!("expected an error, got {value:?}"),
        Err(err) => err.code,
    }
}

#[tokio::test]
async fn status_follows_the_configured_delays() {
    let fx = Fixture::new().await;
    fx.ok("CreateStream", json!({"StreamName": "s", "ShardCount": 2}))
        .await;
    assert_eq!(fx.status("s").await, "CREATING");
    // Writes are refused while CREATING, as AWS does, with ResourceNotFoundException.
    let put = fx.call(
        "PutRecord",
        json!({"StreamName": "s", "PartitionKey": "k", "Data": "AA=="}),
    );
    assert_eq!(code(put.await), "ResourceNotFoundException");
    fx.clock.advance(499);
    assert_eq!(fx.status("s").await, "CREATING");
    fx.clock.advance(1);
    assert_eq!(fx.status("s").await, "ACTIVE");

    fx.ok("DeleteStream", json!({"StreamName": "s"})).await;
    assert_eq!(fx.status("s").await, "DELETING");
    fx.clock.advance(500);
    let gone = fx
        .call("DescribeStreamSummary", json!({"StreamName": "s"}))
        .await;
    assert_eq!(code(gone), "ResourceNotFoundException");
    assert_eq!(
        fx.log.logs().len(),
        2,
        "logs stay until maintenance removes the stream"
    );
    fx.service.maintain().await.expect("maintenance");
    assert!(
        fx.log.logs().is_empty(),
        "a deleted stream's logs are removed"
    );
}

#[tokio::test]
async fn iterators_expire_after_five_minutes_and_next_iterators_renew() {
    let fx = Fixture::new().await;
    fx.active_stream("s", 1).await;
    fx.put("s", "AQI=").await;
    let iterator = fx.iterator("s", "TRIM_HORIZON").await;
    fx.clock.advance(300_000);
    let out = fx
        .ok("GetRecords", json!({"ShardIterator": iterator}))
        .await;
    assert_eq!(out["Records"][0]["Data"], "AQI=");
    let next = out["NextShardIterator"]
        .as_str()
        .expect("next iterator")
        .to_string();
    fx.clock.advance(1);
    let expired = fx
        .call("GetRecords", json!({"ShardIterator": iterator}))
        .await;
    assert_eq!(code(expired), "ExpiredIteratorException");
    let out = fx.ok("GetRecords", json!({"ShardIterator": next})).await;
    assert_eq!(out["Records"].as_array().expect("records").len(), 0);
    assert!(out["NextShardIterator"].is_string());
}

#[tokio::test]
async fn millis_behind_latest_measures_the_unread_tail() {
    let fx = Fixture::new().await;
    fx.active_stream("s", 1).await;
    fx.put("s", "AA==").await;
    fx.clock.advance(1_000);
    fx.put("s", "AQ==").await;
    fx.clock.advance(2_500);
    fx.put("s", "Ag==").await;
    let iterator = fx.iterator("s", "TRIM_HORIZON").await;
    let out = fx
        .ok("GetRecords", json!({"ShardIterator": iterator, "Limit": 1}))
        .await;
    assert_eq!(out["MillisBehindLatest"], 3_500);
    let next = out["NextShardIterator"].as_str().expect("next").to_string();
    let out = fx.ok("GetRecords", json!({"ShardIterator": next})).await;
    assert_eq!(out["Records"].as_array().expect("records").len(), 2);
    assert_eq!(out["MillisBehindLatest"], 0);
    let stamp = out["Records"][1]["ApproximateArrivalTimestamp"]
        .as_f64()
        .expect("timestamp");
    assert_eq!(stamp, (START_MS + 500 + 3_500) as f64 / 1000.0);
}

#[tokio::test]
async fn a_recreated_stream_refuses_old_iterators() {
    let fx = Fixture::new().await;
    fx.active_stream("s", 1).await;
    let iterator = fx.iterator("s", "LATEST").await;
    fx.ok("DeleteStream", json!({"StreamName": "s"})).await;
    fx.clock.advance(500);
    fx.clock.advance(1_000);
    fx.active_stream("s", 1).await;
    let refused = fx
        .call("GetRecords", json!({"ShardIterator": iterator}))
        .await;
    assert_eq!(code(refused), "ResourceNotFoundException");
}

#[tokio::test]
async fn list_tokens_expire_after_300_seconds() {
    let fx = Fixture::new().await;
    for name in ["a", "b", "c"] {
        fx.active_stream(name, 1).await;
    }
    let page = fx.ok("ListStreams", json!({"Limit": 1})).await;
    assert_eq!(page["HasMoreStreams"], true);
    let token = page["NextToken"].as_str().expect("token").to_string();
    let next = fx
        .ok("ListStreams", json!({"NextToken": token, "Limit": 1}))
        .await;
    assert_eq!(next["StreamNames"], json!(["b"]));
    fx.clock.advance(300_001);
    let expired = fx.call("ListStreams", json!({"NextToken": token})).await;
    assert_eq!(code(expired), "ExpiredNextTokenException");
}

#[tokio::test]
async fn restart_keeps_streams_records_and_iterators() {
    let mut fx = Fixture::new().await;
    fx.active_stream("s", 3).await;
    fx.ok(
        "AddTagsToStream",
        json!({"StreamName": "s", "Tags": {"team": "data"}}),
    )
    .await;
    let first = fx.put("s", "AAE=").await;
    let second = fx.put("s", "AgM=").await;
    let iterator = fx.iterator("s", "TRIM_HORIZON").await;
    fx.restart().await;

    assert_eq!(fx.status("s").await, "ACTIVE");
    let tags = fx.ok("ListTagsForStream", json!({"StreamName": "s"})).await;
    assert_eq!(tags["Tags"], json!([{"Key": "team", "Value": "data"}]));
    let out = fx
        .ok("GetRecords", json!({"ShardIterator": iterator}))
        .await;
    let numbers: Vec<&str> = out["Records"]
        .as_array()
        .expect("records")
        .iter()
        .map(|r| r["SequenceNumber"].as_str().expect("number"))
        .collect();
    assert_eq!(numbers, vec![first.as_str(), second.as_str()]);
    let third = fx.put("s", "BAU=").await;
    assert!(
        (third.len(), &third) > (second.len(), &second),
        "numbers keep increasing"
    );
}

#[tokio::test]
async fn unknown_operations_are_not_silently_served() {
    let fx = Fixture::new().await;
    assert!(fx.service.handle_json("SplitShard", b"{}").await.is_none());
}

#[tokio::test]
async fn cbor_carries_byte_strings_and_millisecond_timestamps() {
    let fx = Fixture::new().await;
    fx.active_stream("s", 1).await;
    let described = fx
        .ok_cbor("DescribeStream", cbor_map(&[("StreamName", "s".into())]))
        .await;
    let created = member(
        member(&described, "StreamDescription"),
        "StreamCreationTimestamp",
    );
    assert_eq!(created, &cbor_millis(START_MS));

    fx.clock.advance(1_234);
    let arrival = START_MS + 500 + 1_234;
    let data = vec![0_u8, 0xff, 0x80, b'\n'];
    let put = fx
        .ok_cbor(
            "PutRecord",
            cbor_map(&[
                ("StreamName", "s".into()),
                ("PartitionKey", "k".into()),
                ("Data", Cbor::Bytes(data.clone())),
            ]),
        )
        .await;
    assert_eq!(member(&put, "ShardId"), &Cbor::from("shardId-000000000000"));

    // AT_TIMESTAMP at the arrival millisecond finds the record; one millisecond later does not.
    let mut found = Vec::new();
    for at in [arrival, arrival + 1] {
        let iterator = fx
            .ok_cbor(
                "GetShardIterator",
                cbor_map(&[
                    ("StreamName", "s".into()),
                    ("ShardId", "shardId-000000000000".into()),
                    ("ShardIteratorType", "AT_TIMESTAMP".into()),
                    ("Timestamp", cbor_millis(at)),
                ]),
            )
            .await;
        let out = fx
            .ok_cbor(
                "GetRecords",
                cbor_map(&[("ShardIterator", member(&iterator, "ShardIterator").clone())]),
            )
            .await;
        found.push(member(&out, "Records").as_array().expect("records").clone());
    }
    assert_eq!(found[1], Vec::<Cbor>::new());
    let record = &found[0][0];
    assert_eq!(member(record, "Data"), &Cbor::Bytes(data));
    assert_eq!(
        member(record, "ApproximateArrivalTimestamp"),
        &cbor_millis(arrival)
    );

    // The same record through JSON: base64 data and fractional epoch seconds.
    let iterator = fx.iterator("s", "TRIM_HORIZON").await;
    let out = fx
        .ok("GetRecords", json!({"ShardIterator": iterator}))
        .await;
    assert_eq!(out["Records"][0]["Data"], "AP+ACg==");
    assert_eq!(
        out["Records"][0]["ApproximateArrivalTimestamp"],
        json!(arrival as f64 / 1000.0)
    );
}

#[tokio::test]
async fn cbor_bodies_that_do_not_decode_are_serialization_errors() {
    let fx = Fixture::new().await;
    for body in [&[0xa1, 0x6a, b'S'][..], &[0x1c], br#"{"StreamName":"s"}"#] {
        let result = fx
            .service
            .handle("DescribeStream", body, Codec::Cbor)
            .await
            .expect("implemented");
        let err = result.expect_err("garbage").to_aws();
        assert_eq!(err.code, "SerializationException", "{body:02x?}");
    }
    // A text string where PutRecord's Data blob belongs.
    let wrong = fx
        .call_cbor(
            "PutRecord",
            cbor_map(&[
                ("StreamName", "s".into()),
                ("PartitionKey", "k".into()),
                ("Data", "AAE=".into()),
            ]),
        )
        .await;
    assert_eq!(code(wrong), "SerializationException");
    let missing = fx
        .call_cbor("DescribeStream", cbor_map(&[("StreamName", "nope".into())]))
        .await;
    assert_eq!(code(missing), "ResourceNotFoundException");
}
