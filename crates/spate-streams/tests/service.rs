//! The Data Streams service in process, on a manual clock: what depends on time (status delays,
//! iterator and token expiry, MillisBehindLatest, CBOR's millisecond timestamps) and on
//! restarting with the same storage.

mod common;

use common::{Cbor, cbor_map, cbor_millis, member};
use common::{Fixture, START_MS, code};
use serde_json::{Value, json};
use spate_streams::StreamsConfig;
use spate_wire::{AwsError, Codec};

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

fn consumer_arn(out: &Value) -> String {
    out["Consumer"]["ConsumerARN"]
        .as_str()
        .expect("consumer arn")
        .to_string()
}

async fn consumer_status(fx: &Fixture, arn: &str) -> Result<String, AwsError> {
    let out = fx
        .call("DescribeStreamConsumer", json!({"ConsumerARN": arn}))
        .await?;
    Ok(out["ConsumerDescription"]["ConsumerStatus"]
        .as_str()
        .expect("status")
        .to_string())
}

#[tokio::test]
async fn consumers_follow_the_configured_delays_and_limits() {
    let mut fx = Fixture::new().await;
    fx.active_stream("s", 1).await;
    let stream_arn = StreamsConfig::default().stream_arn("s");
    let out = fx
        .ok(
            "RegisterStreamConsumer",
            json!({"StreamARN": stream_arn, "ConsumerName": "c0"}),
        )
        .await;
    assert_eq!(out["Consumer"]["ConsumerStatus"], "CREATING");
    let arn = consumer_arn(&out);
    assert_eq!(
        arn,
        format!("{stream_arn}/consumer/c0:{}", (START_MS + 500) / 1000)
    );
    assert_eq!(consumer_status(&fx, &arn).await.expect("found"), "CREATING");
    // Four more may be CREATING at once; the sixth is refused until some become ACTIVE.
    for index in 1..5 {
        fx.ok(
            "RegisterStreamConsumer",
            json!({"StreamARN": stream_arn, "ConsumerName": format!("c{index}")}),
        )
        .await;
    }
    let sixth = json!({"StreamARN": stream_arn, "ConsumerName": "c5"});
    assert_eq!(
        code(fx.call("RegisterStreamConsumer", sixth.clone()).await),
        "LimitExceededException"
    );
    let again = json!({"StreamARN": stream_arn, "ConsumerName": "c0"});
    assert_eq!(
        code(fx.call("RegisterStreamConsumer", again).await),
        "ResourceInUseException"
    );
    fx.clock
        .advance(StreamsConfig::default().consumer_create_delay_ms as i64);
    assert_eq!(consumer_status(&fx, &arn).await.expect("found"), "ACTIVE");
    // Up to 20 per stream.
    for index in 5..20 {
        fx.ok(
            "RegisterStreamConsumer",
            json!({"StreamARN": stream_arn, "ConsumerName": format!("c{index}")}),
        )
        .await;
        if index % 5 == 4 {
            fx.clock.advance(1_000);
        }
    }
    let over = json!({"StreamARN": stream_arn, "ConsumerName": "c20"});
    assert_eq!(
        code(fx.call("RegisterStreamConsumer", over).await),
        "LimitExceededException"
    );
    let summary = fx
        .ok("DescribeStreamSummary", json!({"StreamName": "s"}))
        .await;
    assert_eq!(summary["StreamDescriptionSummary"]["ConsumerCount"], 20);

    // Consumers survive a restart.
    fx.restart().await;
    assert_eq!(consumer_status(&fx, &arn).await.expect("found"), "ACTIVE");

    // Deregistering by name: DELETING, then gone.
    fx.ok(
        "DeregisterStreamConsumer",
        json!({"StreamARN": stream_arn, "ConsumerName": "c0"}),
    )
    .await;
    assert_eq!(consumer_status(&fx, &arn).await.expect("found"), "DELETING");
    fx.clock
        .advance(StreamsConfig::default().consumer_delete_delay_ms as i64);
    assert_eq!(
        code(consumer_status(&fx, &arn).await.map(Value::String)),
        "ResourceNotFoundException"
    );
    fx.service.maintain().await.expect("maintenance");
    let listed = fx
        .ok(
            "ListStreamConsumers",
            json!({"StreamARN": stream_arn, "MaxResults": 7}),
        )
        .await;
    assert_eq!(listed["Consumers"].as_array().expect("list").len(), 7);
    assert!(listed["NextToken"].is_string());

    // DeleteStream refuses while consumers exist, unless told to remove them.
    assert_eq!(
        code(fx.call("DeleteStream", json!({"StreamName": "s"})).await),
        "ResourceInUseException"
    );
    fx.ok(
        "DeleteStream",
        json!({"StreamName": "s", "EnforceConsumerDeletion": true}),
    )
    .await;
    let listed = fx
        .ok("ListStreamConsumers", json!({"StreamARN": stream_arn}))
        .await;
    assert_eq!(listed["Consumers"], json!([]));
}

/// The next event-stream message of a subscription, decoded; fails after 5 s of silence.
async fn next_message(
    subscription: &mut spate_streams::ops::subscribe_to_shard::Subscription,
) -> Option<spate_wire::eventstream::Message> {
    let bytes = tokio::time::timeout(std::time::Duration::from_secs(5), subscription.next())
        .await
        .expect("an event within 5 s")?;
    let (message, used) = spate_wire::eventstream::decode(&bytes).expect("a well-formed message");
    assert_eq!(used, bytes.len(), "one message per chunk");
    Some(message)
}

#[tokio::test]
async fn subscriptions_push_records_put_after_they_start() {
    let fx = Fixture::new().await;
    fx.active_stream("s", 1).await;
    let stream_arn = StreamsConfig::default().stream_arn("s");
    let out = fx
        .ok(
            "RegisterStreamConsumer",
            json!({"StreamARN": stream_arn, "ConsumerName": "c"}),
        )
        .await;
    let arn = consumer_arn(&out);
    let request = json!({
        "ConsumerARN": arn,
        "ShardId": "shardId-000000000000",
        "StartingPosition": {"Type": "LATEST"},
    });
    let body = serde_json::to_vec(&request).expect("json");
    let refused = fx
        .service
        .subscribe_json(&body)
        .await
        .expect_err("CREATING");
    assert_eq!(refused.to_aws().code, "ResourceInUseException");
    fx.clock
        .advance(StreamsConfig::default().consumer_create_delay_ms as i64);

    let mut subscription = fx.service.subscribe_json(&body).await.expect("subscribes");
    let initial = next_message(&mut subscription).await.expect("initial");
    assert_eq!(initial.string_header(":message-type"), Some("event"));
    assert_eq!(
        initial.string_header(":event-type"),
        Some("initial-response")
    );
    assert_eq!(&initial.payload[..], b"{}");
    let second = fx.service.subscribe_json(&body).await.expect_err("open");
    assert_eq!(second.to_aws().code, "ResourceInUseException");

    let sequence = fx.put("s", "aGVsbG8=").await;
    let event = next_message(&mut subscription).await.expect("event");
    assert_eq!(
        event.string_header(":event-type"),
        Some("SubscribeToShardEvent")
    );
    let payload: Value = serde_json::from_slice(&event.payload).expect("json payload");
    assert_eq!(payload["Records"][0]["Data"], "aGVsbG8=");
    assert_eq!(payload["Records"][0]["SequenceNumber"], sequence.as_str());
    assert_eq!(payload["ContinuationSequenceNumber"], sequence.as_str());
    assert_eq!(payload["MillisBehindLatest"], 0);
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
