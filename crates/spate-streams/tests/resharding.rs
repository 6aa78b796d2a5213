//! Resharding in process: SplitShard, MergeShards and UpdateShardCount, the lineage readers see,
//! and that no acknowledged record is lost or misplaced when a split races with writers.

mod common;

use std::collections::BTreeMap;

use common::{Fixture, code};
use serde_json::{Value, json};
use spate_streams::StreamsConfig;

const HALF: u128 = 1 << 127;

async fn settle(fx: &Fixture) {
    fx.clock
        .advance(StreamsConfig::default().update_delay_ms as i64);
}

async fn shards(fx: &Fixture, stream: &str, filter: Option<Value>) -> Vec<Value> {
    let mut request = json!({"StreamName": stream});
    if let Some(filter) = filter {
        request["ShardFilter"] = filter;
    }
    let out = fx.ok("ListShards", request).await;
    out["Shards"].as_array().expect("shards").clone()
}

fn ids(shards: &[Value]) -> Vec<&str> {
    shards
        .iter()
        .map(|s| s["ShardId"].as_str().expect("id"))
        .collect()
}

async fn put_at(fx: &Fixture, stream: &str, hash: u128, data: &str) -> (String, String) {
    let out = fx
        .ok(
            "PutRecord",
            json!({"StreamName": stream, "PartitionKey": "k", "ExplicitHashKey": hash.to_string(), "Data": data}),
        )
        .await;
    (
        out["ShardId"].as_str().expect("shard").into(),
        out["SequenceNumber"].as_str().expect("seq").into(),
    )
}

/// Every record of a shard, following NextShardIterator to the end of a closed shard or to
/// the tip of an open one; also returns the final response.
async fn read_shard(fx: &Fixture, stream: &str, shard: &str) -> (Vec<Value>, Value) {
    let out = fx
        .ok(
            "GetShardIterator",
            json!({"StreamName": stream, "ShardId": shard, "ShardIteratorType": "TRIM_HORIZON"}),
        )
        .await;
    let mut iterator = out["ShardIterator"].as_str().expect("iterator").to_string();
    let mut records = Vec::new();
    loop {
        let out = fx
            .ok("GetRecords", json!({"ShardIterator": iterator}))
            .await;
        let page = out["Records"].as_array().expect("records").clone();
        let empty = page.is_empty();
        records.extend(page);
        match out["NextShardIterator"].as_str() {
            Some(next) if !empty => iterator = next.to_string(),
            _ => return (records, out),
        }
    }
}

#[tokio::test]
async fn split_sends_new_records_to_the_children_and_ends_the_parent() {
    let fx = Fixture::new().await;
    fx.active_stream("s", 1).await;
    for data in ["AA==", "AQ==", "Ag=="] {
        put_at(&fx, "s", 5, data).await;
    }
    fx.ok(
        "SplitShard",
        json!({"StreamName": "s", "ShardToSplit": "shardId-000000000000", "NewStartingHashKey": HALF.to_string()}),
    )
    .await;
    assert_eq!(fx.status("s").await, "UPDATING");
    // Writes go on while UPDATING, to the children.
    assert_eq!(put_at(&fx, "s", 5, "Aw==").await.0, "shardId-000000000001");
    assert_eq!(
        put_at(&fx, "s", HALF, "BA==").await.0,
        "shardId-000000000002"
    );
    settle(&fx).await;
    assert_eq!(fx.status("s").await, "ACTIVE");

    let all = shards(&fx, "s", None).await;
    assert_eq!(
        ids(&all),
        [
            "shardId-000000000000",
            "shardId-000000000001",
            "shardId-000000000002"
        ]
    );
    assert!(all[0]["SequenceNumberRange"]["EndingSequenceNumber"].is_string());
    assert_eq!(all[1]["ParentShardId"], "shardId-000000000000");
    assert_eq!(
        all[1]["HashKeyRange"]["EndingHashKey"],
        (HALF - 1).to_string()
    );
    assert_eq!(all[2]["HashKeyRange"]["StartingHashKey"], HALF.to_string());
    let latest = shards(&fx, "s", Some(json!({"Type": "AT_LATEST"}))).await;
    assert_eq!(
        ids(&latest),
        ["shardId-000000000001", "shardId-000000000002"]
    );

    let (records, last) = read_shard(&fx, "s", "shardId-000000000000").await;
    assert_eq!(records.len(), 3);
    assert!(
        last["NextShardIterator"].is_null(),
        "a finished closed shard has no next iterator"
    );
    let children = last["ChildShards"].as_array().expect("child shards");
    assert_eq!(children.len(), 2);
    assert_eq!(children[0]["ParentShards"], json!(["shardId-000000000000"]));
    let ending = all[0]["SequenceNumberRange"]["EndingSequenceNumber"]
        .as_str()
        .expect("end");
    let last_number = records[2]["SequenceNumber"].as_str().expect("number");
    assert!((ending.len(), ending) >= (last_number.len(), last_number));
}

#[tokio::test]
async fn merge_joins_adjacent_shards_and_refuses_the_rest() {
    let fx = Fixture::new().await;
    fx.active_stream("s", 3).await;
    let merge =
        |a: &str, b: &str| json!({"StreamName": "s", "ShardToMerge": a, "AdjacentShardToMerge": b});
    let refused = fx.call(
        "MergeShards",
        merge("shardId-000000000000", "shardId-000000000002"),
    );
    assert_eq!(code(refused.await), "InvalidArgumentException");
    let missing = fx.call(
        "MergeShards",
        merge("shardId-000000000000", "shardId-000000000009"),
    );
    assert_eq!(code(missing.await), "ResourceNotFoundException");

    fx.ok(
        "MergeShards",
        merge("shardId-000000000001", "shardId-000000000000"),
    )
    .await;
    let busy = fx.call(
        "MergeShards",
        merge("shardId-000000000002", "shardId-000000000003"),
    );
    assert_eq!(
        code(busy.await),
        "ResourceInUseException",
        "a second reshard while UPDATING"
    );
    settle(&fx).await;
    let closed = fx.call(
        "MergeShards",
        merge("shardId-000000000001", "shardId-000000000002"),
    );
    assert_eq!(code(closed.await), "ResourceInUseException");

    let all = shards(&fx, "s", None).await;
    let child = &all[3];
    assert_eq!(child["ShardId"], "shardId-000000000003");
    assert_eq!(child["ParentShardId"], "shardId-000000000001");
    assert_eq!(child["AdjacentParentShardId"], "shardId-000000000000");
    assert_eq!(child["HashKeyRange"]["StartingHashKey"], "0");
    assert_eq!(
        child["HashKeyRange"]["EndingHashKey"],
        all[1]["HashKeyRange"]["EndingHashKey"]
    );
}

#[tokio::test]
async fn split_refusals_match_aws() {
    let fx = Fixture::new().await;
    fx.active_stream("s", 1).await;
    let split = |key: &str| json!({"StreamName": "s", "ShardToSplit": "shardId-000000000000", "NewStartingHashKey": key});
    for key in ["0", "1", &u128::MAX.to_string()] {
        assert_eq!(
            code(fx.call("SplitShard", split(key)).await),
            "InvalidArgumentException"
        );
    }
    let missing = json!({"StreamName": "s", "ShardToSplit": "shardId-000000000007", "NewStartingHashKey": "99"});
    assert_eq!(
        code(fx.call("SplitShard", missing).await),
        "ResourceNotFoundException"
    );
    fx.ok(
        "CreateStream",
        json!({"StreamName": "od", "StreamModeDetails": {"StreamMode": "ON_DEMAND"}}),
    )
    .await;
    settle(&fx).await;
    let on_demand = json!({"StreamName": "od", "ShardToSplit": "shardId-000000000000", "NewStartingHashKey": "99"});
    assert_eq!(
        code(fx.call("SplitShard", on_demand).await),
        "ValidationException"
    );
}

#[tokio::test]
async fn update_shard_count_scales_uniformly_within_aws_limits() {
    let fx = Fixture::new().await;
    fx.active_stream("s", 2).await;
    let scale = |target: u32| json!({"StreamName": "s", "TargetShardCount": target, "ScalingType": "UNIFORM_SCALING"});
    assert_eq!(
        code(fx.call("UpdateShardCount", scale(5)).await),
        "LimitExceededException"
    );
    let out = fx.ok("UpdateShardCount", scale(3)).await;
    assert_eq!(
        (
            out["CurrentShardCount"].as_u64(),
            out["TargetShardCount"].as_u64()
        ),
        (Some(2), Some(3))
    );
    settle(&fx).await;
    let open = shards(&fx, "s", Some(json!({"Type": "AT_LATEST"}))).await;
    let ranges: Vec<(String, String)> = open
        .iter()
        .map(|s| {
            let range = &s["HashKeyRange"];
            (
                range["StartingHashKey"].as_str().expect("start").into(),
                range["EndingHashKey"].as_str().expect("end").into(),
            )
        })
        .collect();
    let expected: Vec<(String, String)> = spate_streams::hashing::split_hash_space(3)
        .into_iter()
        .map(|(start, end)| (start.to_string(), end.to_string()))
        .collect();
    let mut sorted = ranges.clone();
    sorted.sort_by_key(|(start, _)| start.parse::<u128>().expect("number"));
    assert_eq!(sorted, expected);
    assert_eq!(
        code(fx.call("UpdateShardCount", scale(1)).await),
        "LimitExceededException"
    );
    fx.ok("UpdateShardCount", scale(2)).await;
    settle(&fx).await;
    assert_eq!(
        shards(&fx, "s", Some(json!({"Type": "AT_LATEST"})))
            .await
            .len(),
        2
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn writers_racing_a_split_lose_nothing_and_never_write_to_a_closed_shard() {
    let fx = std::sync::Arc::new(Fixture::new().await);
    fx.active_stream("s", 1).await;
    let mut writers = Vec::new();
    for writer in 0..4u128 {
        let fx = fx.clone();
        writers.push(tokio::spawn(async move {
            let mut acked = Vec::new();
            for i in 0..150u128 {
                let hash = (writer * 1_000_003 + i * 7_919) << 100;
                let data = spate_wire::codec::encode_blob(format!("{writer}-{i}").as_bytes());
                let (shard, seq) = put_at(&fx, "s", hash, &data).await;
                acked.push((shard, seq, data));
            }
            acked
        }));
    }
    // Split once writers are under way: the stream's first shard is the first log (id 1).
    while fx.log.bounds(spate_log::LogId(1)).expect("bounds").end < 20 {
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    fx.ok(
        "SplitShard",
        json!({"StreamName": "s", "ShardToSplit": "shardId-000000000000", "NewStartingHashKey": HALF.to_string()}),
    )
    .await;
    let mut acked = Vec::new();
    for writer in writers {
        acked.extend(writer.await.expect("writer"));
    }
    let used: std::collections::BTreeSet<&str> = acked.iter().map(|(s, _, _)| s.as_str()).collect();
    assert!(
        used.contains("shardId-000000000000"),
        "the split came before any write: no race"
    );
    assert!(used.len() > 1, "the split came after every write: no race");
    let mut stored: BTreeMap<(String, String), String> = BTreeMap::new();
    for shard in [
        "shardId-000000000000",
        "shardId-000000000001",
        "shardId-000000000002",
    ] {
        let (records, _) = read_shard(&fx, "s", shard).await;
        for record in records {
            let key = (
                shard.to_string(),
                record["SequenceNumber"].as_str().expect("seq").to_string(),
            );
            stored.insert(key, record["Data"].as_str().expect("data").to_string());
        }
    }
    assert_eq!(
        stored.len(),
        acked.len(),
        "every record is stored once, nothing more"
    );
    for (shard, seq, data) in acked {
        assert_eq!(
            stored.get(&(shard.clone(), seq.clone())),
            Some(&data),
            "{shard} {seq}"
        );
    }
}

#[tokio::test]
async fn closed_shards_expire_with_their_records() {
    let fx = Fixture::new().await;
    fx.active_stream("s", 1).await;
    fx.ok(
        "SplitShard",
        json!({"StreamName": "s", "ShardToSplit": "shardId-000000000000", "NewStartingHashKey": HALF.to_string()}),
    )
    .await;
    settle(&fx).await;
    fx.service.maintain().await.expect("maintenance");
    assert_eq!(shards(&fx, "s", None).await.len(), 3);
    assert_eq!(fx.log.logs().len(), 3);
    fx.clock.advance(24 * 3_600_000 + 1);
    fx.service.maintain().await.expect("maintenance");
    let left = shards(&fx, "s", None).await;
    assert_eq!(ids(&left), ["shardId-000000000001", "shardId-000000000002"]);
    assert_eq!(fx.log.logs().len(), 2, "the closed shard's log is gone");
}
