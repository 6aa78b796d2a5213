//! What the in-process tests of the Video service share: a service on a manual clock, an
//! in-memory metadata store and a fragment store in a temporary directory; calls through the
//! operation table; the ffmpeg-made fixtures split into header and clusters; PutMedia of a
//! whole body.

#![allow(dead_code)] // each test file uses its own part

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use futures::stream::BoxStream;
use serde_json::{Value, json};
use spate_log::{LogConfig, ManualClock};
use spate_meta::{MemoryStore, MetaStore};
use spate_mkv::{Event, MediaHeader, RawCluster, Splitter, SplitterConfig};
use spate_video::api::Reply;
use spate_video::ingest::{MediaBody, PutMediaParams};
use spate_video::store::FragmentStore;
use spate_video::{Call, VideoConfig, VideoService};

/// 160x90 H.264 + AAC, 2 s, two clusters of one second (`crates/spate-mkv/tests/fixtures`).
pub const AV2: &[u8] = include_bytes!("../../../spate-mkv/tests/fixtures/av2.mkv");
/// The same with B-frames.
pub const AV2_BFRAMES: &[u8] = include_bytes!("../../../spate-mkv/tests/fixtures/av2-bframes.mkv");
/// The manual clock starts here.
pub const START_MS: i64 = 1_700_000_000_000;
/// The producer start timestamp [`put_media`] sends.
pub const PRODUCER_START: &str = "1700000100.250";
/// [`PRODUCER_START`] in ms.
pub const PRODUCER_START_MS: i64 = 1_700_000_100_250;

pub struct Fixture {
    pub clock: Arc<ManualClock>,
    pub meta: Arc<dyn MetaStore>,
    pub store: FragmentStore,
    pub service: Arc<VideoService>,
    /// Holds the fragment store's directory.
    pub dir: tempfile::TempDir,
}

pub async fn fixture(config: VideoConfig) -> Fixture {
    let clock = Arc::new(ManualClock::new(START_MS));
    let meta: Arc<dyn MetaStore> = Arc::new(MemoryStore::new());
    let dir = tempfile::tempdir().expect("tempdir");
    let log_clock: Arc<ManualClock> = clock.clone();
    let store =
        FragmentStore::open(dir.path(), LogConfig::default(), log_clock).expect("fragment store");
    let service = VideoService::open(config, meta.clone(), clock.clone(), store.clone())
        .await
        .expect("open");
    Fixture {
        clock,
        meta,
        store,
        service,
        dir,
    }
}

/// An operation's answer, or its error code.
pub async fn call(service: &Arc<VideoService>, path: &str, body: Value) -> Result<Reply, String> {
    let body = serde_json::to_vec(&body).expect("json");
    service
        .handle(path, &body, &Call::default())
        .await
        .map_err(|err| err.code.to_owned())
}

/// A JSON operation's answer, or its error code.
pub async fn json_call(
    service: &Arc<VideoService>,
    path: &str,
    body: Value,
) -> Result<Value, String> {
    match call(service, path, body).await? {
        Reply::Json(answer) => Ok(serde_json::from_slice(&answer).expect("json answer")),
        reply => panic!("{path} answered {reply:?}, not JSON"),
    }
}

/// Creates a stream with `retention_hours` and lets it become ACTIVE.
pub async fn create_stream(fixture: &Fixture, name: &str, retention_hours: i64) {
    json_call(
        &fixture.service,
        "/createStream",
        json!({"StreamName": name, "DataRetentionInHours": retention_hours}),
    )
    .await
    .expect("created");
    fixture.clock.advance(1_000);
}

/// Deletes the stream `name` (DeleteStream takes its ARN).
pub async fn delete_stream(service: &Arc<VideoService>, name: &str) {
    let described = json_call(service, "/describeStream", json!({"StreamName": name}))
        .await
        .expect("described");
    let arn = described["StreamInfo"]["StreamARN"].clone();
    json_call(service, "/deleteStream", json!({"StreamARN": arn}))
        .await
        .expect("deleted");
}

/// PutMedia headers naming `name`, RELATIVE from [`PRODUCER_START`].
pub fn params(name: &str) -> PutMediaParams {
    PutMediaParams {
        stream_name: Some(name.to_owned()),
        stream_arn: None,
        timecode_type: Some("RELATIVE".to_owned()),
        producer_start: Some(PRODUCER_START.to_owned()),
    }
}

/// `bytes` as a body arriving in pieces of `piece` bytes.
pub fn body_of(bytes: Vec<u8>, piece: usize) -> MediaBody {
    let pieces: Vec<Result<Bytes, std::io::Error>> = bytes
        .chunks(piece)
        .map(|chunk| Ok(Bytes::copy_from_slice(chunk)))
        .collect();
    futures::stream::iter(pieces).boxed()
}

/// Every acknowledgement until the response ends.
pub async fn all_acks(acks: BoxStream<'static, Bytes>) -> Vec<Value> {
    let lines: Vec<Bytes> = tokio::time::timeout(Duration::from_secs(20), acks.collect())
        .await
        .expect("the response ends");
    lines
        .iter()
        .map(|line| {
            assert!(line.ends_with(b"\n"), "one line each: {line:?}");
            serde_json::from_slice(line).expect("an acknowledgement is JSON")
        })
        .collect()
}

/// PutMedia of a whole MKV body (with [`params`]); its acknowledgements.
pub async fn put_media(fixture: &Fixture, name: &str, mkv: &[u8]) -> Vec<Value> {
    let acks = fixture
        .service
        .put_media(params(name), body_of(mkv.to_vec(), 4096))
        .await
        .expect("PutMedia accepted");
    all_acks(acks).await
}

/// A fixture's segment header and clusters.
pub fn split_fixture(mkv: &[u8]) -> (MediaHeader, Vec<RawCluster>) {
    let mut splitter = Splitter::new(SplitterConfig::default());
    let mut events = Vec::new();
    splitter.push(mkv, &mut events).expect("fixture splits");
    splitter.finish(&mut events).expect("fixture ends");
    let mut header = None;
    let mut clusters = Vec::new();
    for event in events {
        match event {
            Event::Header(h) => header = Some(h),
            Event::ClusterEnd(cluster) => clusters.push(cluster),
            _ => {}
        }
    }
    (header.expect("a header"), clusters)
}

/// An MKV body: EBML header, an unknown-size Segment, Info, Tracks, then `clusters`.
pub fn mkv(header: &MediaHeader, clusters: &[Bytes]) -> Vec<u8> {
    let stored = header.stored();
    let ebml_end = spate_mkv::ebml::child_at(&stored, 0)
        .expect("EBML header")
        .end;
    let mut out = stored[..ebml_end].to_vec();
    out.extend_from_slice(&[
        0x18, 0x53, 0x80, 0x67, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    ]);
    out.extend_from_slice(&stored[ebml_end..]);
    for cluster in clusters {
        out.extend_from_slice(cluster);
    }
    out
}
