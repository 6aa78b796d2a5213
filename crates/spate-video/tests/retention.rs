//! Retention in process: fragments older than their stream's `DataRetentionInHours` leave with
//! the service's maintenance (whole sealed segments), so ListFragments, GetMedia and
//! GetMediaForFragmentList no longer find them, while newer fragments stay.

mod support;

use futures::StreamExt;
use serde_json::json;
use spate_video::VideoConfig;
use spate_video::api::Reply;
use support::{AV2, Fixture, call, create_stream, fixture, json_call, put_media};

const HOUR_MS: i64 = 3_600_000;

async fn listed(fixture: &Fixture) -> Vec<String> {
    let answer = json_call(
        &fixture.service,
        "/listFragments",
        json!({"StreamName": "cam", "FragmentSelector": {
            "FragmentSelectorType": "SERVER_TIMESTAMP",
            "TimestampRange": {"StartTimestamp": 0, "EndTimestamp": 4_000_000_000_i64}}}),
    )
    .await
    .expect("listed");
    let mut numbers: Vec<String> = answer["Fragments"]
        .as_array()
        .expect("fragments")
        .iter()
        .map(|fragment| {
            fragment["FragmentNumber"]
                .as_str()
                .expect("number")
                .to_owned()
        })
        .collect();
    numbers.sort();
    numbers
}

fn persisted(acks: &[serde_json::Value]) -> Vec<String> {
    acks.iter()
        .filter(|ack| ack["EventType"] == "PERSISTED")
        .map(|ack| ack["FragmentNumber"].as_str().expect("number").to_owned())
        .collect()
}

async fn body_of(reply: Reply) -> Vec<u8> {
    let Reply::Media { body, .. } = reply else {
        panic!("not a media answer");
    };
    body.collect::<Vec<_>>().await.concat()
}

#[tokio::test]
async fn fragments_past_retention_leave_and_newer_ones_stay() {
    let fixture = fixture(VideoConfig::default()).await;
    create_stream(&fixture, "cam", 1).await;
    let old = persisted(&put_media(&fixture, "cam", AV2).await);
    assert_eq!(old.len(), 2);
    fixture.store.log().seal_now().expect("sealed");
    fixture.clock.advance(2 * HOUR_MS);
    let new = persisted(&put_media(&fixture, "cam", AV2).await);
    assert_eq!(listed(&fixture).await, [old.clone(), new.clone()].concat());

    fixture.service.maintain().await.expect("maintenance");
    assert_eq!(listed(&fixture).await, new);
    // GetMedia ends after its idle time at the stream's tip: let that pass at once.
    tokio::time::pause();
    let earliest = call(
        &fixture.service,
        "/getMedia",
        json!({"StreamName": "cam", "StartSelector": {"StartSelectorType": "EARLIEST"}}),
    )
    .await
    .expect("GetMedia");
    let output = String::from_utf8_lossy(&body_of(earliest).await).into_owned();
    assert!(output.contains(&new[0]) && !output.contains(&old[0]));
    let listed_old = call(
        &fixture.service,
        "/getMediaForFragmentList",
        json!({"StreamName": "cam", "Fragments": [old[0]]}),
    )
    .await
    .expect("GetMediaForFragmentList");
    let output = String::from_utf8_lossy(&body_of(listed_old).await).into_owned();
    assert!(output.contains("AWS_KINESISVIDEO_ERROR_CODE"), "{output}");
}

#[tokio::test]
async fn fragments_within_retention_stay() {
    let fixture = fixture(VideoConfig::default()).await;
    create_stream(&fixture, "cam", 3).await;
    let old = persisted(&put_media(&fixture, "cam", AV2).await);
    fixture.store.log().seal_now().expect("sealed");
    fixture.clock.advance(2 * HOUR_MS);
    fixture.service.maintain().await.expect("maintenance");
    assert_eq!(listed(&fixture).await, old);
}
