//! The control plane in process, on a manual clock and an in-memory metadata store: status
//! transitions happen exactly at their configured delays, versions guard changes, a finished
//! deletion leaves nothing in the store, and a reopened service sees what was stored.

use std::sync::Arc;

use serde_json::{Value, json};
use spate_log::{LogConfig, ManualClock};
use spate_meta::{MemoryStore, MetaStore};
use spate_video::api::Reply;
use spate_video::store::FragmentStore;
use spate_video::{Call, VideoConfig, VideoService};

const START_MS: i64 = 1_700_000_000_000;

struct Fixture {
    clock: Arc<ManualClock>,
    meta: Arc<dyn MetaStore>,
    store: FragmentStore,
    service: Arc<VideoService>,
    _dir: tempfile::TempDir,
}

/// A fragment store in `dir` on `clock`.
fn fragment_store(dir: &tempfile::TempDir, clock: &Arc<ManualClock>) -> FragmentStore {
    let clock: Arc<ManualClock> = Arc::clone(clock);
    FragmentStore::open(dir.path(), LogConfig::default(), clock).expect("fragment store")
}

async fn fixture() -> Fixture {
    let clock = Arc::new(ManualClock::new(START_MS));
    let meta: Arc<dyn MetaStore> = Arc::new(MemoryStore::new());
    let dir = tempfile::tempdir().expect("tempdir");
    let store = fragment_store(&dir, &clock);
    let service = VideoService::open(
        VideoConfig::default(),
        meta.clone(),
        clock.clone(),
        store.clone(),
    )
    .await
    .expect("open");
    Fixture {
        clock,
        meta,
        store,
        service,
        _dir: dir,
    }
}

async fn call(service: &Arc<VideoService>, path: &str, body: Value) -> Result<Value, String> {
    let call = Call {
        host: Some("127.0.0.1:4567".into()),
    };
    let body = serde_json::to_vec(&body).expect("json");
    match service.handle(path, &body, &call).await {
        Ok(Reply::Json(answer)) => Ok(serde_json::from_slice(&answer).expect("json answer")),
        Ok(reply) => panic!("{path} answered {reply:?}, not JSON"),
        Err(err) => Err(err.code.to_owned()),
    }
}

async fn status(service: &Arc<VideoService>, name: &str) -> Result<String, String> {
    let described = call(service, "/describeStream", json!({"StreamName": name})).await?;
    Ok(described["StreamInfo"]["Status"]
        .as_str()
        .expect("status")
        .to_owned())
}

#[tokio::test]
async fn streams_change_status_at_their_delays() {
    let fixture = fixture().await;
    let (clock, service) = (&fixture.clock, &fixture.service);
    let created = call(service, "/createStream", json!({"StreamName": "cam"}))
        .await
        .expect("created");
    let arn = created["StreamARN"].as_str().expect("arn").to_owned();
    assert_eq!(
        arn,
        format!("arn:aws:kinesisvideo:us-east-1:000000000000:stream/cam/{START_MS}")
    );
    assert_eq!(status(service, "cam").await.as_deref(), Ok("CREATING"));
    clock.advance(499);
    assert_eq!(status(service, "cam").await.as_deref(), Ok("CREATING"));
    clock.advance(1);
    assert_eq!(status(service, "cam").await.as_deref(), Ok("ACTIVE"));

    call(service, "/deleteStream", json!({"StreamARN": arn}))
        .await
        .expect("deleted");
    assert_eq!(status(service, "cam").await.as_deref(), Ok("DELETING"));
    clock.advance(500);
    assert_eq!(
        status(service, "cam").await,
        Err("ResourceNotFoundException".to_owned())
    );
}

#[tokio::test]
async fn versions_guard_updates_and_change_with_each() {
    let fixture = fixture().await;
    let (clock, service) = (&fixture.clock, &fixture.service);
    call(service, "/createStream", json!({"StreamName": "cam"}))
        .await
        .expect("created");
    clock.advance(500);
    let described = call(service, "/describeStream", json!({"StreamName": "cam"}))
        .await
        .expect("described");
    let version = described["StreamInfo"]["Version"].clone();
    let update = json!({"StreamName": "cam", "CurrentVersion": "stale", "DeviceName": "d"});
    assert_eq!(
        call(service, "/updateStream", update).await,
        Err("VersionMismatchException".to_owned())
    );
    let update = json!({"StreamName": "cam", "CurrentVersion": version, "DeviceName": "d"});
    call(service, "/updateStream", update)
        .await
        .expect("updated");
    let described = call(service, "/describeStream", json!({"StreamName": "cam"}))
        .await
        .expect("described");
    assert_eq!(described["StreamInfo"]["DeviceName"], "d");
    assert_ne!(described["StreamInfo"]["Version"], version);
}

#[tokio::test]
async fn finished_deletions_leave_the_store_and_the_rest_is_reloaded() {
    let fixture = fixture().await;
    let (clock, meta, service) = (&fixture.clock, &fixture.meta, &fixture.service);
    for name in ["gone", "kept"] {
        call(service, "/createStream", json!({"StreamName": name}))
            .await
            .expect("created");
    }
    call(
        service,
        "/createSignalingChannel",
        json!({"ChannelName": "door"}),
    )
    .await
    .expect("channel");
    clock.advance(500);
    let gone = call(service, "/describeStream", json!({"StreamName": "gone"}))
        .await
        .expect("described");
    call(
        service,
        "/deleteStream",
        json!({"StreamARN": gone["StreamInfo"]["StreamARN"]}),
    )
    .await
    .expect("deleted");
    clock.advance(500);
    service.maintain().await.expect("maintain");
    let stored: Vec<String> = meta
        .scan_prefix("video/")
        .await
        .expect("scan")
        .into_iter()
        .map(|(key, _)| key)
        .collect();
    assert_eq!(
        stored,
        vec![
            "video/channels/door",
            "video/log-id",
            "video/streams/kept",
            "video/token-key"
        ]
    );

    // The deleted stream's two logs went with it; the kept stream's remain.
    assert_eq!(fixture.store.log().logs().len(), 2);
    let (clock, meta) = (clock.clone(), meta.clone());

    let reopened = VideoService::open(
        VideoConfig::default(),
        meta.clone(),
        clock.clone(),
        fixture.store.clone(),
    )
    .await
    .expect("reopen");
    let listed = call(&reopened, "/listStreams", json!({}))
        .await
        .expect("list");
    assert_eq!(listed["StreamInfoList"][0]["StreamName"], "kept");
    assert_eq!(listed["StreamInfoList"].as_array().map(Vec::len), Some(1));
    let channels = call(&reopened, "/listSignalingChannels", json!({}))
        .await
        .expect("list");
    assert_eq!(channels["ChannelInfoList"][0]["ChannelStatus"], "ACTIVE");
}

#[tokio::test]
async fn limits_are_the_configured_ones() {
    let clock = Arc::new(ManualClock::new(START_MS));
    let config = VideoConfig {
        stream_limit: 1,
        channel_limit: 1,
        ..VideoConfig::default()
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let store = fragment_store(&dir, &clock);
    let service = VideoService::open(config, Arc::new(MemoryStore::new()), clock, store)
        .await
        .expect("open");
    call(&service, "/createStream", json!({"StreamName": "a"}))
        .await
        .expect("first");
    assert_eq!(
        call(&service, "/createStream", json!({"StreamName": "b"})).await,
        Err("AccountStreamLimitExceededException".to_owned())
    );
    call(
        &service,
        "/createSignalingChannel",
        json!({"ChannelName": "a"}),
    )
    .await
    .expect("first");
    assert_eq!(
        call(
            &service,
            "/createSignalingChannel",
            json!({"ChannelName": "b"})
        )
        .await,
        Err("AccountChannelLimitExceededException".to_owned())
    );
}
