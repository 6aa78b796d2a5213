//! PutMedia in process: the service fed an ffmpeg-made MKV (the spate-mkv fixture) as a body
//! stream, on a manual clock and an in-memory metadata store. Every acknowledgement is checked:
//! their order per fragment, numbers, timecodes; what is stored; and each refusal.

mod support;

use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use futures::stream::BoxStream;
use serde_json::{Value, json};
use spate_video::ingest::{MediaBody, PutMediaParams};
use spate_video::store::{ListQuery, StreamLogs, TimeAxis};
use spate_video::{VideoConfig, VideoError};
use support::{
    AV2, Fixture, START_MS, all_acks, body_of, create_stream, fixture, mkv, params, split_fixture,
};
use tokio::sync::mpsc;

/// A body fed by the test through the returned sender; it ends when the sender is dropped.
fn open_body() -> (mpsc::Sender<Bytes>, MediaBody) {
    let (sender, receiver) = mpsc::channel::<Bytes>(16);
    let body = futures::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|bytes| (Ok(bytes), receiver))
    })
    .boxed();
    (sender, body)
}

/// The next acknowledgement.
async fn next_ack(acks: &mut BoxStream<'static, Bytes>) -> Value {
    let line = tokio::time::timeout(Duration::from_secs(10), acks.next())
        .await
        .expect("an acknowledgement in time")
        .expect("the response goes on");
    serde_json::from_slice(&line).expect("JSON")
}

fn event_types(acks: &[Value]) -> Vec<&str> {
    acks.iter()
        .map(|ack| ack["EventType"].as_str().expect("EventType"))
        .collect()
}

fn logs_of(fixture: &Fixture) -> StreamLogs {
    let logs = fixture.store.log().logs();
    let mut ids: Vec<u64> = logs.iter().map(|id| id.0).collect();
    ids.sort_unstable();
    StreamLogs {
        media: spate_log::LogId(ids[0]),
        index: spate_log::LogId(ids[1]),
    }
}

#[tokio::test]
async fn each_fragment_is_buffering_then_received_then_persisted_and_stored() {
    let fixture = fixture(VideoConfig::default()).await;
    create_stream(&fixture, "cam", 24).await;
    let (_, clusters) = split_fixture(AV2);
    let acks = fixture
        .service
        .put_media(params("cam"), body_of(AV2.to_vec(), 777))
        .await
        .expect("accepted");
    let acks = all_acks(acks).await;
    assert_eq!(acks.len(), 3 * clusters.len(), "{acks:?}");
    let mut numbers = Vec::new();
    for (index, cluster) in clusters.iter().enumerate() {
        let timecode = cluster.timecode; // TimecodeScale 1 ms in ffmpeg's output
        let about: Vec<&Value> = acks
            .iter()
            .filter(|ack| ack["FragmentTimecode"] == json!(timecode))
            .collect();
        let kinds: Vec<&str> = about
            .iter()
            .map(|ack| ack["EventType"].as_str().expect("type"))
            .collect();
        assert_eq!(
            kinds,
            ["BUFFERING", "RECEIVED", "PERSISTED"],
            "fragment {index}"
        );
        let number = about[0]["FragmentNumber"].as_str().expect("number");
        assert_eq!(number.len(), 47);
        assert!(
            about
                .iter()
                .all(|ack| ack["FragmentNumber"] == json!(number))
        );
        numbers.push(number.to_owned());
    }
    let mut sorted = numbers.clone();
    sorted.sort();
    assert_eq!(numbers, sorted, "numbers increase");

    let stored = fixture
        .store
        .list(
            logs_of(&fixture),
            ListQuery {
                axis: TimeAxis::Producer,
                start_ms: 0,
                end_ms: i64::MAX,
                after: None,
                limit: 100,
            },
        )
        .await
        .expect("list");
    assert_eq!(stored.len(), clusters.len());
    for ((number, meta), cluster) in stored.iter().zip(&clusters) {
        assert!(numbers.contains(&number.to_string()));
        let timecode = i64::try_from(cluster.timecode).expect("small");
        assert_eq!(meta.producer_ts_ms, 1_700_000_100_250 + timecode);
        assert_eq!(meta.server_ts_ms, START_MS + 1_000);
        assert_eq!(meta.cluster_bytes as usize, cluster.data.len());
    }
}

#[tokio::test]
async fn a_stream_takes_one_connection_at_a_time() {
    let fixture = fixture(VideoConfig::default()).await;
    create_stream(&fixture, "cam", 24).await;
    let (feed, body) = open_body();
    let first = fixture
        .service
        .put_media(params("cam"), body)
        .await
        .expect("first connection");
    let second = fixture
        .service
        .put_media(params("cam"), body_of(AV2.to_vec(), 4096))
        .await;
    assert!(matches!(
        second,
        Err(VideoError::ConnectionLimitExceeded(_))
    ));
    drop(feed);
    assert!(all_acks(first).await.is_empty());
    let third = fixture
        .service
        .put_media(params("cam"), body_of(AV2.to_vec(), 4096))
        .await
        .expect("the connection is free again");
    assert_eq!(all_acks(third).await.len(), 6);
}

#[tokio::test]
async fn headers_and_streams_are_checked_before_the_answer() {
    let fixture = fixture(VideoConfig::default()).await;
    create_stream(&fixture, "cam", 24).await;
    let refused = |params: PutMediaParams| {
        let service = fixture.service.clone();
        async move {
            service
                .put_media(params, body_of(Vec::new(), 1))
                .await
                .err()
        }
    };
    let missing = refused(params("nope")).await;
    assert!(matches!(missing, Some(VideoError::ResourceNotFound(_))));
    let mut bad_type = params("cam");
    bad_type.timecode_type = Some("SOMETIMES".into());
    assert!(matches!(
        refused(bad_type).await,
        Some(VideoError::InvalidArgument(_))
    ));
    let mut bad_start = params("cam");
    bad_start.producer_start = Some("yesterday".into());
    assert!(matches!(
        refused(bad_start).await,
        Some(VideoError::InvalidArgument(_))
    ));
    let mut unnamed = params("cam");
    unnamed.stream_name = None;
    assert!(matches!(
        refused(unnamed).await,
        Some(VideoError::InvalidArgument(_))
    ));
}

/// Sends `body` and returns the acknowledgements, which must end with one ERROR.
async fn refused_with(fixture: &Fixture, params: PutMediaParams, body: Vec<u8>) -> Vec<Value> {
    let acks = fixture
        .service
        .put_media(params, body_of(body, 1000))
        .await
        .expect("accepted");
    let acks = all_acks(acks).await;
    let last = acks.last().expect("an acknowledgement");
    assert_eq!(last["EventType"], "ERROR", "{acks:?}");
    acks
}

#[tokio::test]
async fn refusals_are_error_acknowledgements_with_aws_ids() {
    let fixture = fixture(VideoConfig::default()).await;
    create_stream(&fixture, "cam", 24).await;
    let (header, clusters) = split_fixture(AV2);

    // A cluster whose timecode goes back: 4004, after the first fragment was received.
    let backwards = mkv(
        &header,
        &[clusters[1].rewrite(1_000), clusters[0].rewrite(500)],
    );
    let acks = refused_with(&fixture, params("cam"), backwards).await;
    let last = acks.last().expect("last");
    assert_eq!(last["ErrorId"], 4004);
    assert_eq!(last["ErrorCode"], "FRAGMENT_TIMECODE_LESSER_THAN_PREVIOUS");
    assert_eq!(last["FragmentTimecode"], 500);
    assert!(event_types(&acks).contains(&"PERSISTED"), "{acks:?}");

    // Not MKV at all: 4006.
    let acks = refused_with(&fixture, params("cam"), b"this is not matroska".to_vec()).await;
    assert_eq!(acks.last().expect("last")["ErrorId"], 4006);
    assert_eq!(acks.last().expect("last")["ErrorCode"], "INVALID_MKV_DATA");

    // RELATIVE without a start timestamp: 4007.
    let mut no_start = params("cam");
    no_start.producer_start = None;
    let acks = refused_with(&fixture, no_start, AV2.to_vec()).await;
    assert_eq!(acks.last().expect("last")["ErrorId"], 4007);
}

#[tokio::test]
async fn a_deleted_stream_ends_its_session_with_stream_not_active() {
    let fixture = fixture(VideoConfig::default()).await;
    create_stream(&fixture, "cam", 24).await;
    let (header, clusters) = split_fixture(AV2);
    let (feed, body) = open_body();
    let mut acks = fixture
        .service
        .put_media(params("cam"), body)
        .await
        .expect("accepted");
    feed.send(Bytes::from(mkv(&header, &[clusters[0].rewrite(0)])))
        .await
        .expect("sent");
    assert_eq!(next_ack(&mut acks).await["EventType"], "BUFFERING");
    assert_eq!(next_ack(&mut acks).await["EventType"], "RECEIVED");
    support::delete_stream(&fixture.service, "cam").await;
    feed.send(clusters[1].rewrite(1_000)).await.expect("sent");
    let rest = all_acks(acks).await;
    let error = rest.last().expect("an ERROR");
    assert_eq!(error["ErrorId"], 4008, "{rest:?}");
    assert_eq!(error["ErrorCode"], "STREAM_NOT_ACTIVE");
}

#[tokio::test]
async fn without_retention_nothing_is_persisted() {
    let fixture = fixture(VideoConfig::default()).await;
    create_stream(&fixture, "live", 0).await;
    let acks = fixture
        .service
        .put_media(params("live"), body_of(AV2.to_vec(), 4096))
        .await
        .expect("accepted");
    let acks = all_acks(acks).await;
    assert_eq!(
        event_types(&acks),
        ["BUFFERING", "RECEIVED", "BUFFERING", "RECEIVED"]
    );
}

#[tokio::test]
async fn a_quiet_connection_gets_idle_acknowledgements() {
    let config = VideoConfig {
        idle_ack_interval_ms: 50,
        ..VideoConfig::default()
    };
    let fixture = fixture(config).await;
    create_stream(&fixture, "cam", 24).await;
    let (feed, body) = open_body();
    let mut acks = fixture
        .service
        .put_media(params("cam"), body)
        .await
        .expect("accepted");
    assert_eq!(next_ack(&mut acks).await, json!({"EventType": "IDLE"}));
    assert_eq!(next_ack(&mut acks).await, json!({"EventType": "IDLE"}));
    drop(feed);
}

#[tokio::test]
async fn b_frame_media_is_taken_although_its_blocks_overlap_the_previous_fragment() {
    // ffmpeg's B-frame output: a cluster's first (audio) block comes before the previous
    // cluster's last video block in presentation time; AWS refuses only timecodes that go back.
    let fixture = fixture(VideoConfig::default()).await;
    create_stream(&fixture, "cam", 24).await;
    let acks = support::put_media(&fixture, "cam", support::AV2_BFRAMES).await;
    assert_eq!(
        acks.iter()
            .filter(|ack| ack["EventType"] == "PERSISTED")
            .count(),
        2,
        "{acks:?}"
    );
    assert!(acks.iter().all(|ack| ack["EventType"] != "ERROR"));
}

#[tokio::test]
async fn a_stream_takes_five_putmedia_calls_a_second_with_quotas_on() {
    let fixture = fixture(VideoConfig::default()).await;
    create_stream(&fixture, "cam", 24).await;
    for _ in 0..5 {
        let acks = fixture
            .service
            .put_media(params("cam"), body_of(b"not mkv".to_vec(), 16))
            .await
            .expect("within the quota");
        all_acks(acks).await;
    }
    let sixth = fixture
        .service
        .put_media(params("cam"), body_of(b"not mkv".to_vec(), 16))
        .await;
    assert!(matches!(sixth, Err(VideoError::ClientLimitExceeded(_))));

    let unlimited = support::fixture(VideoConfig {
        quotas: false,
        ..VideoConfig::default()
    })
    .await;
    create_stream(&unlimited, "cam", 24).await;
    for _ in 0..6 {
        let acks = unlimited
            .service
            .put_media(params("cam"), body_of(b"not mkv".to_vec(), 16))
            .await
            .expect("no quota");
        all_acks(acks).await;
    }
}
