//! Server-side encryption and stream settings in process, on a manual clock: the UPDATING
//! transition, records encrypted in the log and readable across a restart, and settings that
//! survive it.

use std::sync::Arc;

use serde_json::{Value, json};
use spate_log::{Clock, Log, LogConfig, LogId, ManualClock};
use spate_meta::{MemoryStore, MetaStore};
use spate_streams::kms::{KeyConfig, KmsConfig};
use spate_streams::{StreamsConfig, StreamsService};
use spate_wire::AwsError;

const START_MS: i64 = 1_700_000_000_000;
const CUSTOMER_KEY: &str = "1234abcd-12ab-34cd-56ef-1234567890ab";

fn config() -> StreamsConfig {
    StreamsConfig {
        kms: KmsConfig {
            keys: vec![
                KeyConfig {
                    id: CUSTOMER_KEY.into(),
                    aliases: vec!["alias/orders".into()],
                    enabled: true,
                },
                KeyConfig {
                    id: "0000abcd-12ab-34cd-56ef-1234567890ab".into(),
                    aliases: vec!["alias/off".into()],
                    enabled: false,
                },
            ],
        },
        ..StreamsConfig::default()
    }
}

struct Fixture {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
    clock: Arc<ManualClock>,
    meta: MemoryStore,
    log: Log,
    service: Arc<StreamsService>,
}

async fn open(
    path: &std::path::Path,
    clock: &Arc<ManualClock>,
    meta: &MemoryStore,
) -> (Log, Arc<StreamsService>) {
    let dyn_clock: Arc<dyn Clock> = clock.clone();
    let log = Log::open(path, LogConfig::default(), dyn_clock.clone()).expect("log opens");
    let meta: Arc<dyn MetaStore> = Arc::new(meta.clone());
    let service = StreamsService::open(config(), log.clone(), meta, dyn_clock)
        .await
        .expect("service opens");
    (log, service)
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

    async fn ok(&self, operation: &str, body: Value) -> Value {
        match self.call(operation, body).await {
            Ok(value) => value,
            Err(err) => panic!("{operation} failed: {err}"),
        }
    }

    async fn summary(&self, stream: &str) -> Value {
        self.ok("DescribeStreamSummary", json!({"StreamName": stream}))
            .await["StreamDescriptionSummary"]
            .clone()
    }

    async fn active_stream(&self, name: &str) {
        self.ok("CreateStream", json!({"StreamName": name, "ShardCount": 1}))
            .await;
        self.clock.advance(config().create_delay_ms as i64);
    }

    async fn put(&self, stream: &str, key: &str, data: &[u8]) -> Value {
        self.ok(
            "PutRecord",
            json!({"StreamName": stream, "PartitionKey": key, "Data": spate_wire::codec::encode_blob(data)}),
        )
        .await
    }

    async fn read_all(&self, stream: &str) -> Vec<Value> {
        let iterator = self
            .ok(
                "GetShardIterator",
                json!({"StreamName": stream, "ShardId": "shardId-000000000000", "ShardIteratorType": "TRIM_HORIZON"}),
            )
            .await["ShardIterator"]
            .clone();
        let out = self
            .ok("GetRecords", json!({"ShardIterator": iterator}))
            .await;
        out["Records"].as_array().expect("records").clone()
    }
}

fn code(result: Result<Value, AwsError>) -> &'static str {
    match result {
        Ok(value) => panic!("expected an error, got {value}"),
        Err(err) => err.code,
    }
}

#[tokio::test]
async fn encryption_passes_through_updating_and_applies_to_later_records() {
    let mut fx = Fixture::new().await;
    fx.active_stream("s").await;
    let before = fx.put("s", "plain-key", b"before").await;
    assert_eq!(before["EncryptionType"], "NONE");

    fx.ok(
        "StartStreamEncryption",
        json!({"StreamName": "s", "EncryptionType": "KMS", "KeyId": "alias/orders"}),
    )
    .await;
    let summary = fx.summary("s").await;
    assert_eq!(summary["StreamStatus"], "UPDATING");
    assert_eq!(summary["EncryptionType"], "KMS");
    assert_eq!(summary["KeyId"], "alias/orders");
    // A second change while UPDATING is refused, as for every configuration change.
    let again = fx
        .call(
            "StartStreamEncryption",
            json!({"StreamName": "s", "EncryptionType": "KMS", "KeyId": "alias/aws/kinesis"}),
        )
        .await;
    assert_eq!(code(again), "ResourceInUseException");
    fx.clock.advance(config().update_delay_ms as i64 - 1);
    assert_eq!(fx.summary("s").await["StreamStatus"], "UPDATING");
    fx.clock.advance(1);
    assert_eq!(fx.summary("s").await["StreamStatus"], "ACTIVE");

    let after = fx.put("s", "secret-key", b"after").await;
    assert_eq!(after["EncryptionType"], "KMS");

    // What the log holds: the first record as is, the second only as an envelope.
    let stored = fx.log.read(LogId(1), 0, 10, 1 << 20).expect("log reads");
    assert_eq!(stored.len(), 2);
    assert_eq!(&stored[0].key[..], b"plain-key");
    assert_eq!(&stored[0].value[..], b"before");
    assert!(stored[1].key.is_empty());
    let raw = &stored[1].value[..];
    assert!(!raw.windows(5).any(|w| w == b"after"));
    assert!(!raw.windows(10).any(|w| w == b"secret-key"));

    fx.restart().await;
    let records = fx.read_all("s").await;
    assert_eq!(records.len(), 2);
    assert_eq!(records[0]["PartitionKey"], "plain-key");
    assert!(records[0].get("EncryptionType").is_none());
    assert_eq!(records[1]["PartitionKey"], "secret-key");
    assert_eq!(records[1]["Data"], spate_wire::codec::encode_blob(b"after"));
    assert_eq!(records[1]["EncryptionType"], "KMS");

    fx.ok(
        "StopStreamEncryption",
        json!({"StreamName": "s", "EncryptionType": "KMS", "KeyId": "alias/orders"}),
    )
    .await;
    assert_eq!(fx.summary("s").await["StreamStatus"], "UPDATING");
    assert_eq!(fx.summary("s").await["EncryptionType"], "NONE");
    fx.clock.advance(config().update_delay_ms as i64);
    let last = fx.put("s", "k", b"plain again").await;
    assert_eq!(last["EncryptionType"], "NONE");
    assert_eq!(fx.read_all("s").await.len(), 3);
}

#[tokio::test]
async fn unknown_and_disabled_keys_leave_the_stream_alone() {
    let fx = Fixture::new().await;
    fx.active_stream("s").await;
    let missing = fx
        .call(
            "StartStreamEncryption",
            json!({"StreamName": "s", "EncryptionType": "KMS", "KeyId": "alias/missing"}),
        )
        .await;
    assert_eq!(code(missing), "KMSNotFoundException");
    let disabled = fx
        .call(
            "StartStreamEncryption",
            json!({"StreamName": "s", "EncryptionType": "KMS", "KeyId": "alias/off"}),
        )
        .await;
    assert_eq!(code(disabled), "KMSDisabledException");
    let summary = fx.summary("s").await;
    assert_eq!(summary["StreamStatus"], "ACTIVE");
    assert_eq!(summary["EncryptionType"], "NONE");
}

#[tokio::test]
async fn settings_survive_a_restart() {
    let mut fx = Fixture::new().await;
    fx.active_stream("s").await;
    fx.ok(
        "EnableEnhancedMonitoring",
        json!({"StreamName": "s", "ShardLevelMetrics": ["IncomingBytes"]}),
    )
    .await;
    let arn = config().stream_arn("s");
    fx.ok(
        "PutResourcePolicy",
        json!({"ResourceARN": arn, "Policy": "{\"Version\": \"2012-10-17\"}"}),
    )
    .await;
    fx.ok(
        "UpdateAccountSettings",
        json!({"MinimumThroughputBillingCommitment": {"Status": "ENABLED"}}),
    )
    .await;
    fx.restart().await;
    let summary = fx.summary("s").await;
    assert_eq!(
        summary["EnhancedMonitoring"][0]["ShardLevelMetrics"],
        json!(["IncomingBytes"])
    );
    let policy = fx
        .ok("GetResourcePolicy", json!({"ResourceARN": arn}))
        .await;
    assert_eq!(policy["Policy"], "{\"Version\": \"2012-10-17\"}");
    let account = fx.ok("DescribeAccountSettings", json!({})).await;
    assert_eq!(
        account["MinimumThroughputBillingCommitment"]["Status"],
        "ENABLED"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_batches_are_sealed_and_opened_off_the_runtime() {
    let fx = Fixture::new().await;
    fx.active_stream("s").await;
    fx.ok(
        "StartStreamEncryption",
        json!({"StreamName": "s", "EncryptionType": "KMS", "KeyId": CUSTOMER_KEY}),
    )
    .await;
    fx.clock.advance(config().update_delay_ms as i64);
    // Three records of 200 KiB: more than is sealed inline in one batch.
    let records: Vec<Value> = (0..3u8)
        .map(|index| {
            json!({"PartitionKey": format!("k{index}"), "Data": spate_wire::codec::encode_blob(&vec![index; 200 * 1024])})
        })
        .collect();
    let out = fx
        .ok("PutRecords", json!({"StreamName": "s", "Records": records}))
        .await;
    assert_eq!(out["EncryptionType"], "KMS");
    let read = fx.read_all("s").await;
    assert_eq!(read.len(), 3);
    for (index, record) in read.iter().enumerate() {
        let expected = vec![u8::try_from(index).expect("small"); 200 * 1024];
        assert_eq!(record["Data"], spate_wire::codec::encode_blob(&expected));
        assert_eq!(record["EncryptionType"], "KMS");
    }
}
