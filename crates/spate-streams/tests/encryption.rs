//! Server-side encryption and stream settings in process, on a manual clock: the UPDATING
//! transition, records encrypted in the log and readable across a restart, and settings that
//! survive it.

mod common;

use common::{Fixture, code};
use serde_json::{Value, json};
use spate_log::LogId;
use spate_streams::StreamsConfig;
use spate_streams::kms::{KeyConfig, KmsConfig};

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

/// The shared fixture with the keys above configured.
async fn fixture() -> Fixture {
    Fixture::with_config(config()).await
}

async fn describe_summary(fx: &Fixture, stream: &str) -> Value {
    fx.ok("DescribeStreamSummary", json!({"StreamName": stream}))
        .await["StreamDescriptionSummary"]
        .clone()
}

async fn put(fx: &Fixture, stream: &str, key: &str, data: &[u8]) -> Value {
    fx.ok(
        "PutRecord",
        json!({"StreamName": stream, "PartitionKey": key, "Data": spate_wire::codec::encode_blob(data)}),
    )
    .await
}

async fn read_all(fx: &Fixture, stream: &str) -> Vec<Value> {
    let iterator = fx.iterator(stream, "TRIM_HORIZON").await;
    let out = fx
        .ok("GetRecords", json!({"ShardIterator": iterator}))
        .await;
    out["Records"].as_array().expect("records").clone()
}

#[tokio::test]
async fn encryption_passes_through_updating_and_applies_to_later_records() {
    let mut fx = fixture().await;
    fx.active_stream("s", 1).await;
    let before = put(&fx, "s", "plain-key", b"before").await;
    assert_eq!(before["EncryptionType"], "NONE");

    fx.ok(
        "StartStreamEncryption",
        json!({"StreamName": "s", "EncryptionType": "KMS", "KeyId": "alias/orders"}),
    )
    .await;
    let summary = describe_summary(&fx, "s").await;
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
    assert_eq!(describe_summary(&fx, "s").await["StreamStatus"], "UPDATING");
    fx.clock.advance(1);
    assert_eq!(describe_summary(&fx, "s").await["StreamStatus"], "ACTIVE");

    let after = put(&fx, "s", "secret-key", b"after").await;
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
    let records = read_all(&fx, "s").await;
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
    assert_eq!(describe_summary(&fx, "s").await["StreamStatus"], "UPDATING");
    assert_eq!(describe_summary(&fx, "s").await["EncryptionType"], "NONE");
    fx.clock.advance(config().update_delay_ms as i64);
    let last = put(&fx, "s", "k", b"plain again").await;
    assert_eq!(last["EncryptionType"], "NONE");
    assert_eq!(read_all(&fx, "s").await.len(), 3);
}

#[tokio::test]
async fn unknown_and_disabled_keys_leave_the_stream_alone() {
    let fx = fixture().await;
    fx.active_stream("s", 1).await;
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
    let summary = describe_summary(&fx, "s").await;
    assert_eq!(summary["StreamStatus"], "ACTIVE");
    assert_eq!(summary["EncryptionType"], "NONE");
}

#[tokio::test]
async fn settings_survive_a_restart() {
    let mut fx = fixture().await;
    fx.active_stream("s", 1).await;
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
    let summary = describe_summary(&fx, "s").await;
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
    let fx = fixture().await;
    fx.active_stream("s", 1).await;
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
    let read = read_all(&fx, "s").await;
    assert_eq!(read.len(), 3);
    for (index, record) in read.iter().enumerate() {
        let expected = vec![u8::try_from(index).expect("small"); 200 * 1024];
        assert_eq!(record["Data"], spate_wire::codec::encode_blob(&expected));
        assert_eq!(record["EncryptionType"], "KMS");
    }
}

#[tokio::test]
async fn encryption_key_changes_are_limited_to_25_a_day() {
    let fx = fixture().await;
    fx.active_stream("s", 1).await;
    let update_delay = StreamsConfig::default().update_delay_ms as i64;
    let change = |start: bool| {
        let operation = if start {
            "StartStreamEncryption"
        } else {
            "StopStreamEncryption"
        };
        let body = json!({"StreamName": "s", "EncryptionType": "KMS", "KeyId": "alias/orders"});
        (operation, body)
    };
    for index in 0..25 {
        let (operation, body) = change(index % 2 == 0);
        fx.ok(operation, body).await;
        fx.clock.advance(update_delay);
    }
    let (operation, body) = change(false);
    assert_eq!(
        code(fx.call(operation, body.clone()).await),
        "LimitExceededException"
    );
    assert_eq!(
        describe_summary(&fx, "s").await["EncryptionType"],
        "KMS",
        "refused: unchanged"
    );
    fx.clock.advance(24 * 3_600_000);
    fx.ok(operation, body).await;
}
