//! Quotas in process on a manual clock: per-shard write and read throttling in AWS's shapes,
//! control-plane rates, and the switch that turns them off.

mod common;

use common::{Fixture, code};
use serde_json::json;
use spate_streams::StreamsConfig;

async fn with_quotas() -> Fixture {
    Fixture::with_config(StreamsConfig::default()).await
}

#[tokio::test]
async fn put_records_over_a_shards_write_quota_fail_entry_by_entry() {
    let fx = with_quotas().await;
    fx.active_stream("s", 2).await;
    // 1,000 records a second per shard: three calls of 250 records to each of the two shards
    // fit; then 400 more to shard 0 at the same instant fit 250 and fail 150.
    let batch = |count: u32, both: bool| {
        let records: Vec<_> = (0..count)
            .map(|i| {
                let hash = if both && i % 2 == 1 {
                    u128::MAX.to_string()
                } else {
                    "0".to_string()
                };
                json!({"PartitionKey": "k", "ExplicitHashKey": hash, "Data": "AAAA"})
            })
            .collect();
        json!({"StreamName": "s", "Records": records})
    };
    for _ in 0..3 {
        assert_eq!(
            fx.ok("PutRecords", batch(500, true)).await["FailedRecordCount"],
            0
        );
    }
    let out = fx.ok("PutRecords", batch(400, false)).await;
    assert_eq!(out["FailedRecordCount"], 150);
    let records = out["Records"].as_array().expect("records");
    assert_eq!(records.len(), 400, "one result per entry, in order");
    assert!(
        records[..250]
            .iter()
            .all(|r| r["ShardId"] == "shardId-000000000000")
    );
    let failed = &records[250];
    assert_eq!(
        failed["ErrorCode"],
        "ProvisionedThroughputExceededException"
    );
    assert_eq!(
        failed["ErrorMessage"],
        "Rate exceeded for shard shardId-000000000000 in stream s under account 000000000000."
    );
    assert!(failed.get("SequenceNumber").is_none() && failed.get("ShardId").is_none());

    let single =
        json!({"StreamName": "s", "PartitionKey": "k", "ExplicitHashKey": "0", "Data": "AA=="});
    let throttled = fx.call("PutRecord", single.clone()).await;
    assert_eq!(code(throttled), "ProvisionedThroughputExceededException");
    fx.clock.advance(1_000);
    fx.ok("PutRecord", single).await;
}

#[tokio::test]
async fn get_records_allows_five_calls_a_second_per_shard() {
    let fx = with_quotas().await;
    fx.active_stream("s", 1).await;
    let iterator = fx.iterator("s", "TRIM_HORIZON").await;
    for _ in 0..5 {
        fx.ok("GetRecords", json!({"ShardIterator": iterator}))
            .await;
    }
    let throttled = fx
        .call("GetRecords", json!({"ShardIterator": iterator}))
        .await;
    assert_eq!(code(throttled), "ProvisionedThroughputExceededException");
    fx.clock.advance(200);
    fx.ok("GetRecords", json!({"ShardIterator": iterator}))
        .await;
}

#[tokio::test]
async fn control_plane_calls_over_their_rate_are_limit_exceeded() {
    let fx = with_quotas().await;
    fx.ok("DescribeLimits", json!({})).await;
    assert_eq!(
        code(fx.call("DescribeLimits", json!({})).await),
        "LimitExceededException"
    );
    fx.clock.advance(1_000);
    fx.ok("DescribeLimits", json!({})).await;
}

#[tokio::test]
async fn quotas_off_lets_everything_through() {
    let fx = Fixture::new().await;
    fx.active_stream("s", 1).await;
    let records: Vec<_> = (0..500)
        .map(|_| json!({"PartitionKey": "k", "Data": "AAAA"}))
        .collect();
    for _ in 0..5 {
        let out = fx
            .ok("PutRecords", json!({"StreamName": "s", "Records": records}))
            .await;
        assert_eq!(out["FailedRecordCount"], 0);
    }
    for _ in 0..10 {
        fx.ok("DescribeLimits", json!({})).await;
    }
}
