//! A Data Streams service in process on a temporary directory, an in-memory metadata store and
//! a manual clock, with helpers to call operations as JSON.

#![allow(dead_code)] // each test file uses its own subset of the helpers

use std::sync::Arc;

use serde_json::{Value, json};
use spate_log::{Clock, Log, LogConfig, ManualClock};
use spate_meta::{MemoryStore, MetaStore};
use spate_streams::{StreamsConfig, StreamsService};
use spate_wire::{AwsError, Codec};

pub const START_MS: i64 = 1_700_000_000_000;

pub struct Fixture {
    config: StreamsConfig,
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
    pub clock: Arc<ManualClock>,
    meta: MemoryStore,
    pub log: Log,
    pub service: Arc<StreamsService>,
}

impl Fixture {
    /// A fixture with quotas off: tests that do not test quotas call freely on a frozen clock.
    pub async fn new() -> Fixture {
        let mut config = StreamsConfig::default();
        config.quotas.enabled = false;
        Fixture::with_config(config).await
    }

    pub async fn with_config(config: StreamsConfig) -> Fixture {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().to_path_buf();
        let clock = Arc::new(ManualClock::new(START_MS));
        let meta = MemoryStore::new();
        let (log, service) = open(&config, &path, &clock, &meta).await;
        Fixture {
            config,
            _dir: dir,
            path,
            clock,
            meta,
            log,
            service,
        }
    }

    /// Closes the log and opens everything again on the same storage.
    pub async fn restart(&mut self) {
        self.log.close().expect("close");
        let (log, service) = open(&self.config, &self.path, &self.clock, &self.meta).await;
        self.log = log;
        self.service = service;
    }

    pub async fn call(&self, operation: &str, body: Value) -> Result<Value, AwsError> {
        let bytes = serde_json::to_vec(&body).expect("json");
        match self.service.handle_json(operation, &bytes).await {
            Some(Ok(out)) => Ok(serde_json::from_slice(&out).expect("response is json")),
            Some(Err(err)) => Err(err.to_aws()),
            None => panic!("{operation} is not implemented"),
        }
    }

    /// Calls `operation` with a CBOR body, as the Java SDK does, and decodes the CBOR answer.
    pub async fn call_cbor(&self, operation: &str, body: Cbor) -> Result<Cbor, AwsError> {
        let mut bytes = Vec::new();
        ciborium::ser::into_writer(&body, &mut bytes).expect("cbor");
        match self.service.handle(operation, &bytes, Codec::Cbor).await {
            Some(Ok(out)) => Ok(ciborium::de::from_reader(&out[..]).expect("response is cbor")),
            Some(Err(err)) => Err(err.to_aws()),
            None => panic!("{operation} is not implemented"),
        }
    }

    pub async fn ok_cbor(&self, operation: &str, body: Cbor) -> Cbor {
        match self.call_cbor(operation, body).await {
            Ok(value) => value,
            Err(err) => panic!("{operation} failed: {err}"),
        }
    }

    pub async fn ok(&self, operation: &str, body: Value) -> Value {
        match self.call(operation, body).await {
            Ok(value) => value,
            Err(err) => panic!("{operation} failed: {err}"),
        }
    }

    pub async fn status(&self, stream: &str) -> String {
        let out = self
            .ok("DescribeStreamSummary", json!({"StreamName": stream}))
            .await;
        out["StreamDescriptionSummary"]["StreamStatus"]
            .as_str()
            .expect("status")
            .to_string()
    }

    pub async fn active_stream(&self, name: &str, shards: u32) {
        self.ok(
            "CreateStream",
            json!({"StreamName": name, "ShardCount": shards}),
        )
        .await;
        self.clock
            .advance(StreamsConfig::default().create_delay_ms as i64);
        assert_eq!(self.status(name).await, "ACTIVE");
    }

    pub async fn iterator(&self, stream: &str, kind: &str) -> String {
        let out = self
            .ok(
                "GetShardIterator",
                json!({"StreamName": stream, "ShardId": "shardId-000000000000", "ShardIteratorType": kind}),
            )
            .await;
        out["ShardIterator"].as_str().expect("iterator").to_string()
    }

    /// Puts a record on shard 0 (hash key 0), where [`Fixture::iterator`] reads.
    pub async fn put(&self, stream: &str, data: &str) -> String {
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
    config: &StreamsConfig,
    path: &std::path::Path,
    clock: &Arc<ManualClock>,
    meta: &MemoryStore,
) -> (Log, Arc<StreamsService>) {
    let dyn_clock: Arc<dyn Clock> = clock.clone();
    let log = Log::open(path, LogConfig::default(), dyn_clock.clone()).expect("log opens");
    let meta: Arc<dyn MetaStore> = Arc::new(meta.clone());
    let service = StreamsService::open(config.clone(), log.clone(), meta, dyn_clock)
        .await
        .expect("service opens");
    (log, service)
}

pub type Cbor = ciborium::Value;

/// A CBOR map with text keys.
pub fn cbor_map(members: &[(&str, Cbor)]) -> Cbor {
    Cbor::Map(
        members
            .iter()
            .map(|(key, value)| (Cbor::Text(key.to_string()), value.clone()))
            .collect(),
    )
}

/// A timestamp as the Java SDK writes it: tag 1 around an integer of epoch milliseconds.
pub fn cbor_millis(millis: i64) -> Cbor {
    Cbor::Tag(1, Box::new(Cbor::Integer(millis.into())))
}

/// The member `key` of a CBOR map.
pub fn member<'a>(map: &'a Cbor, key: &str) -> &'a Cbor {
    map.as_map()
        .expect("a map")
        .iter()
        .find(|(name, _)| name.as_text() == Some(key))
        .map(|(_, value)| value)
        .unwrap_or_else(|| panic!("no member {key} in {map:?}"))
}

/// The AWS error code of a call that must have failed.
pub fn code<T: std::fmt::Debug>(result: Result<T, AwsError>) -> &'static str {
    match result {
        Ok(value) => panic!("expected an error, got {value:?}"),
        Err(err) => err.code,
    }
}
