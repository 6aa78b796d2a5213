//! The Data Streams service in process, on a manual clock: what depends on time (status delays,
//! iterator and token expiry, MillisBehindLatest) and on restarting with the same storage.

mod common;

use common::{Fixture, START_MS, code};
use serde_json::json;

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
    assert!(fx.service.handle_json("PutRecordz", b"{}").await.is_none());
}
