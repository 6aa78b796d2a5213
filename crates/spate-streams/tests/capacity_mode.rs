//! Capacity modes in process: UpdateStreamMode, and an on-demand stream scaling itself under a
//! skewed load, with lineage readers can follow.

mod common;

use common::{Fixture, code};
use serde_json::{Value, json};
use spate_streams::StreamsConfig;

async fn open_shards(fx: &Fixture, stream: &str) -> Vec<Value> {
    let out = fx
        .ok(
            "ListShards",
            json!({"StreamName": stream, "ShardFilter": {"Type": "AT_LATEST"}}),
        )
        .await;
    out["Shards"].as_array().expect("shards").clone()
}

fn range_of(shard: &Value) -> (u128, u128) {
    let range = &shard["HashKeyRange"];
    let number = |key: &str| {
        range[key]
            .as_str()
            .expect("key")
            .parse::<u128>()
            .expect("number")
    };
    (number("StartingHashKey"), number("EndingHashKey"))
}

#[tokio::test]
async fn a_hot_shard_of_an_on_demand_stream_is_split_where_its_keys_divide() {
    let fx = Fixture::new().await;
    fx.ok(
        "CreateStream",
        json!({"StreamName": "od", "StreamModeDetails": {"StreamMode": "ON_DEMAND"}}),
    )
    .await;
    fx.clock
        .advance(StreamsConfig::default().create_delay_ms as i64);
    assert_eq!(open_shards(&fx, "od").await.len(), 4);
    fx.service.maintain().await.expect("first tick");
    // Every second, 2,000 records on many keys of shard 0's upper half.
    let base: u128 = (1u128 << 125) + (1u128 << 124);
    for _ in 0..StreamsConfig::default().on_demand_scale_up_after_secs {
        for batch in 0..4u128 {
            let records: Vec<Value> = (0..500u128)
                .map(|i| {
                    let hash = base + (batch * 500 + i) * 1_000_000_007;
                    json!({"PartitionKey": "k", "ExplicitHashKey": hash.to_string(), "Data": "AAAA"})
                })
                .collect();
            fx.ok(
                "PutRecords",
                json!({"StreamName": "od", "Records": records}),
            )
            .await;
        }
        fx.clock.advance(1_000);
        fx.service.maintain().await.expect("tick");
    }
    let open = open_shards(&fx, "od").await;
    assert_eq!(open.len(), 5, "the hot shard was split");
    assert_eq!(
        fx.status("od").await,
        "ACTIVE",
        "on-demand scaling does not show as UPDATING"
    );
    let children: Vec<&Value> = open
        .iter()
        .filter(|s| s["ParentShardId"] == "shardId-000000000000")
        .collect();
    assert_eq!(children.len(), 2);
    let split_at = range_of(children[1]).0;
    assert!(
        split_at > base,
        "split inside the hot keys, not at the middle of the range"
    );
    let sample_end = base + 2_000 * 1_000_000_007;
    assert!(split_at < sample_end);
}

#[tokio::test]
async fn cold_on_demand_shards_are_not_merged_below_the_initial_count() {
    let fx = Fixture::new().await;
    fx.ok(
        "CreateStream",
        json!({"StreamName": "od", "StreamModeDetails": {"StreamMode": "ON_DEMAND"}}),
    )
    .await;
    fx.clock
        .advance(StreamsConfig::default().create_delay_ms as i64);
    for _ in 0..5 {
        fx.clock.advance(3_600_000);
        fx.service.maintain().await.expect("tick");
    }
    assert_eq!(open_shards(&fx, "od").await.len(), 4);
}

#[tokio::test]
async fn update_stream_mode_switches_twice_a_day_at_most() {
    let fx = Fixture::new().await;
    fx.active_stream("s", 2).await;
    let arn = fx.service.config().stream_arn("s");
    let switch = |mode: &str| json!({"StreamARN": arn, "StreamModeDetails": {"StreamMode": mode}});
    fx.ok("UpdateStreamMode", switch("ON_DEMAND")).await;
    assert_eq!(fx.status("s").await, "UPDATING");
    let busy = fx.call("UpdateStreamMode", switch("PROVISIONED")).await;
    assert_eq!(code(busy), "ResourceInUseException");
    fx.clock
        .advance(StreamsConfig::default().update_delay_ms as i64);
    let summary = fx
        .ok("DescribeStreamSummary", json!({"StreamName": "s"}))
        .await;
    assert_eq!(
        summary["StreamDescriptionSummary"]["StreamModeDetails"]["StreamMode"],
        "ON_DEMAND"
    );
    assert_eq!(
        summary["StreamDescriptionSummary"]["OpenShardCount"], 2,
        "shards are kept"
    );
    let same = fx.call("UpdateStreamMode", switch("ON_DEMAND")).await;
    assert_eq!(code(same), "InvalidArgumentException");
    fx.ok("UpdateStreamMode", switch("PROVISIONED")).await;
    fx.clock
        .advance(StreamsConfig::default().update_delay_ms as i64);
    let third = fx.call("UpdateStreamMode", switch("ON_DEMAND")).await;
    assert_eq!(code(third), "LimitExceededException");
    fx.clock.advance(24 * 3_600_000);
    fx.ok("UpdateStreamMode", switch("ON_DEMAND")).await;
    let by_name = fx
        .call("UpdateStreamMode", json!({"StreamName": "s"}))
        .await;
    assert_eq!(
        code(by_name),
        "ValidationException",
        "StreamARN is required"
    );
}
