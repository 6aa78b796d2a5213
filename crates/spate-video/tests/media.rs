//! Reading fragments back, in process: ListFragments by both time axes with pagination and
//! token checks; GetMedia from every StartSelector type, following a fragment appended while
//! it reads, ending after the idle time or when its stream is deleted, and merging back into
//! one playable segment; GetMediaForFragmentList in list order with error tags for numbers
//! the stream does not have. Fragments are the clusters of the ffmpeg fixture `av2.mkv`,
//! stored as PutMedia stores them (absolute timecodes), appended straight to the store.

mod support;

use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use futures::stream::BoxStream;
use serde_json::{Value, json};
use spate_log::{Clock, ManualClock};
use spate_meta::MetaStore;
use spate_mkv::tags::{self, read_tags};
use spate_mkv::{Event, MediaHeader, Merger, RawCluster, Splitter, SplitterConfig, StoredChunk};
use spate_video::api::Reply;
use spate_video::media::{GET_MEDIA_IDLE_END_MS, MEDIA_CONTENT_TYPE};
use spate_video::model::StreamMeta;
use spate_video::store::{FLAG_KEY_FRAME, FragmentMeta, FragmentNumber, FragmentStore, StreamLogs};
use spate_video::{Call, VideoConfig, VideoService};
use support::{AV2, START_MS};

/// Producer timestamps of the fragments start here (another origin than server time, so a
/// test that picks the wrong axis finds nothing).
const PRODUCER_MS: i64 = 1_600_000_000_000;
/// Time between fragment starts on both axes: longer than any fixture cluster, so fragments
/// do not overlap.
const SPACING_MS: i64 = 3_000;
/// Fragments appended by [`Fixture::fill`].
const FRAGMENTS: i64 = 4;

struct Fixture {
    clock: Arc<ManualClock>,
    meta: Arc<dyn MetaStore>,
    store: FragmentStore,
    service: Arc<VideoService>,
    header: MediaHeader,
    clusters: Vec<RawCluster>,
    _dir: tempfile::TempDir,
}

async fn call(service: &Arc<VideoService>, path: &str, body: Value) -> Result<Reply, String> {
    let body = serde_json::to_vec(&body).expect("json");
    service
        .handle(path, &body, &Call::default())
        .await
        .map_err(|err| err.code.to_owned())
}

async fn json_call(service: &Arc<VideoService>, path: &str, body: Value) -> Result<Value, String> {
    match call(service, path, body).await? {
        Reply::Json(answer) => Ok(serde_json::from_slice(&answer).expect("json answer")),
        reply => panic!("{path} answered {reply:?}, not JSON"),
    }
}

async fn media_call(
    service: &Arc<VideoService>,
    path: &str,
    body: Value,
) -> Result<BoxStream<'static, Bytes>, String> {
    match call(service, path, body).await? {
        Reply::Media { content_type, body } => {
            assert_eq!(content_type, MEDIA_CONTENT_TYPE);
            Ok(body)
        }
        reply => panic!("{path} answered {reply:?}, not media"),
    }
}

async fn get_media(service: &Arc<VideoService>, selector: Value) -> BoxStream<'static, Bytes> {
    media_call(
        service,
        "/getMedia",
        json!({"StreamName": "cam", "StartSelector": selector}),
    )
    .await
    .expect("GetMedia starts")
}

async fn collect(mut body: BoxStream<'static, Bytes>) -> Bytes {
    let mut out = BytesMut::new();
    while let Some(piece) = body.next().await {
        out.extend_from_slice(&piece);
    }
    out.freeze()
}

/// What a media body holds, read back with spate-mkv: every Tags element's pairs in order
/// (AWS tags and producer tags alike) and the number of clusters.
#[derive(Debug)]
struct Parsed {
    tags: Vec<Vec<(String, String)>>,
    clusters: usize,
}

impl Parsed {
    fn of(body: &[u8]) -> Parsed {
        let mut splitter = Splitter::new(SplitterConfig {
            multiple_segments: true,
            ..SplitterConfig::default()
        });
        let mut events = Vec::new();
        splitter.push(body, &mut events).expect("media body parses");
        splitter
            .finish(&mut events)
            .expect("media body ends cleanly");
        let mut parsed = Parsed {
            tags: Vec::new(),
            clusters: 0,
        };
        for event in events {
            match event {
                Event::Tags(element) => parsed.tags.push(read_tags(&element).expect("tags")),
                Event::ClusterEnd(_) => parsed.clusters += 1,
                _ => {}
            }
        }
        parsed
    }

    /// Values of the tag `name`, in order.
    fn values(&self, name: &str) -> Vec<String> {
        self.tags
            .iter()
            .flatten()
            .filter(|(tag, _)| tag == name)
            .map(|(_, value)| value.clone())
            .collect()
    }
}

impl Fixture {
    async fn new() -> Fixture {
        let base = support::fixture(VideoConfig::default()).await;
        let (header, clusters) = support::split_fixture(AV2);
        let fixture = Fixture {
            clock: base.clock,
            meta: base.meta,
            store: base.store,
            service: base.service,
            header,
            clusters,
            _dir: base.dir,
        };
        fixture.create("cam").await;
        fixture
    }

    async fn create(&self, name: &str) {
        json_call(&self.service, "/createStream", json!({"StreamName": name}))
            .await
            .expect("created");
        self.clock.advance(1_000);
    }

    /// The stream's fragment logs, as the service stored them.
    async fn logs(&self, name: &str) -> StreamLogs {
        let entry = self
            .meta
            .get(&format!("video/streams/{name}"))
            .await
            .expect("meta")
            .expect("stream stored");
        let stream: StreamMeta = serde_json::from_slice(&entry.value).expect("stream json");
        stream.logs.expect("logs").stream_logs()
    }

    /// Server timestamp of fragment `i` (whole seconds, as botocore sends them).
    fn server_ms(i: i64) -> i64 {
        START_MS + 10_000 + i * SPACING_MS
    }

    fn producer_ms(i: i64) -> i64 {
        PRODUCER_MS + i * SPACING_MS
    }

    /// Stores fragment `i` of stream `name` as PutMedia would: the fixture's clusters in
    /// turn, rewritten with an absolute timecode (the producer time, scale 1 ms).
    async fn append(&self, name: &str, i: i64) -> (FragmentNumber, FragmentMeta) {
        let logs = self.logs(name).await;
        let index = usize::try_from(i).expect("small") % self.clusters.len();
        let cluster = &self.clusters[index];
        let producer_ms = Self::producer_ms(i);
        let stored = cluster.rewrite(u64::try_from(producer_ms).expect("positive"));
        let value = StoredChunk::new(&self.header, stored, &[]).encode();
        let (first, last) = cluster.block_span().expect("blocks");
        let meta = FragmentMeta {
            flags: FLAG_KEY_FRAME,
            tracks: 2,
            media_offset: self.store.next_number(logs).expect("next").offset,
            producer_ts_ms: producer_ms,
            server_ts_ms: Self::server_ms(i),
            duration_ms: u32::try_from(last - first).expect("short"),
            cluster_bytes: u32::try_from(cluster.data.len()).expect("small"),
            timecode_as_sent: i64::try_from(cluster.timecode).expect("small"),
            ..FragmentMeta::default()
        };
        let number = self.store.append(logs, meta, value).await.expect("append");
        (number, meta)
    }

    /// Appends [`FRAGMENTS`] fragments to `cam`; their numbers.
    async fn fill(&self) -> Vec<String> {
        let mut numbers = Vec::new();
        for i in 0..FRAGMENTS {
            numbers.push(self.append("cam", i).await.0.to_string());
        }
        numbers
    }
}

fn list_request(axis: &str, start_ms: i64, end_ms: i64) -> Value {
    json!({
        "StreamName": "cam",
        "FragmentSelector": {
            "FragmentSelectorType": axis,
            "TimestampRange": {"StartTimestamp": start_ms / 1000, "EndTimestamp": end_ms / 1000},
        },
    })
}

fn listed_numbers(answer: &Value) -> Vec<String> {
    answer["Fragments"]
        .as_array()
        .expect("fragments")
        .iter()
        .map(|f| f["FragmentNumber"].as_str().expect("number").to_owned())
        .collect()
}

#[tokio::test]
async fn list_fragments_selects_on_both_axes_inclusively() {
    let fixture = Fixture::new().await;
    let numbers = fixture.fill().await;
    let service = &fixture.service;

    // Bounds equal to fragment starts are included.
    let server = list_request(
        "SERVER_TIMESTAMP",
        Fixture::server_ms(1),
        Fixture::server_ms(2),
    );
    let answer = json_call(service, "/listFragments", server)
        .await
        .expect("listed");
    assert_eq!(listed_numbers(&answer), numbers[1..3]);
    assert!(answer.get("NextToken").is_none());
    let first = &answer["Fragments"][0];
    let cluster = &fixture.clusters[1];
    assert_eq!(
        first["FragmentSizeInBytes"].as_u64(),
        Some(cluster.data.len() as u64)
    );
    #[allow(clippy::cast_precision_loss)]
    let server_seconds = Fixture::server_ms(1) as f64 / 1000.0;
    assert_eq!(first["ServerTimestamp"].as_f64(), Some(server_seconds));
    #[allow(clippy::cast_precision_loss)]
    let producer_seconds = Fixture::producer_ms(1) as f64 / 1000.0;
    assert_eq!(first["ProducerTimestamp"].as_f64(), Some(producer_seconds));
    let (first_block, last_block) = cluster.block_span().expect("blocks");
    assert_eq!(
        first["FragmentLengthInMilliseconds"].as_i64(),
        Some(last_block - first_block)
    );

    let producer = list_request(
        "PRODUCER_TIMESTAMP",
        Fixture::producer_ms(2),
        Fixture::producer_ms(3),
    );
    let answer = json_call(service, "/listFragments", producer)
        .await
        .expect("listed");
    assert_eq!(listed_numbers(&answer), numbers[2..4]);

    // Server times on the producer axis select nothing.
    let wrong_axis = list_request(
        "PRODUCER_TIMESTAMP",
        Fixture::server_ms(0),
        Fixture::server_ms(3),
    );
    let answer = json_call(service, "/listFragments", wrong_axis)
        .await
        .expect("listed");
    assert!(listed_numbers(&answer).is_empty());
}

#[tokio::test]
async fn list_fragments_pages_with_tokens_bound_to_the_request() {
    let fixture = Fixture::new().await;
    let numbers = fixture.fill().await;
    let service = &fixture.service;
    let all = || list_request("SERVER_TIMESTAMP", START_MS, Fixture::server_ms(10));

    let mut request = all();
    request["MaxResults"] = json!(3);
    let first = json_call(service, "/listFragments", request.clone())
        .await
        .expect("page 1");
    assert_eq!(listed_numbers(&first), numbers[..3]);
    let token = first["NextToken"]
        .as_str()
        .expect("more to come")
        .to_owned();
    request["NextToken"] = json!(token);
    let second = json_call(service, "/listFragments", request)
        .await
        .expect("page 2");
    assert_eq!(listed_numbers(&second), numbers[3..]);
    assert!(second.get("NextToken").is_none());
    // A later page may name only the token, as AWS allows: it carries the range.
    let alone = json_call(
        service,
        "/listFragments",
        json!({"StreamName": "cam", "NextToken": token, "MaxResults": 3}),
    )
    .await
    .expect("page 2 by token alone");
    assert_eq!(listed_numbers(&alone), numbers[3..]);

    // The token is good for its stream and range only.
    let mut other_range = list_request("SERVER_TIMESTAMP", START_MS, Fixture::server_ms(9));
    other_range["NextToken"] = json!(token);
    assert_eq!(
        json_call(service, "/listFragments", other_range)
            .await
            .err()
            .as_deref(),
        Some("InvalidArgumentException")
    );
    fixture.create("cam2").await;
    let mut other_stream = all();
    other_stream["StreamName"] = json!("cam2");
    other_stream["NextToken"] = json!(token);
    assert_eq!(
        json_call(service, "/listFragments", other_stream)
            .await
            .err()
            .as_deref(),
        Some("InvalidArgumentException")
    );
    let mut forged = all();
    forged["NextToken"] = json!("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    assert_eq!(
        json_call(service, "/listFragments", forged)
            .await
            .err()
            .as_deref(),
        Some("InvalidArgumentException")
    );

    let mut unknown = all();
    unknown["StreamName"] = json!("nope");
    assert_eq!(
        json_call(service, "/listFragments", unknown)
            .await
            .err()
            .as_deref(),
        Some("ResourceNotFoundException")
    );
    let mut too_many = all();
    too_many["MaxResults"] = json!(1001);
    assert_eq!(
        json_call(service, "/listFragments", too_many)
            .await
            .err()
            .as_deref(),
        Some("InvalidArgumentException")
    );
}

/// The fragment numbers a GetMedia from `selector` sends (running until its idle end).
async fn numbers_from(fixture: &Fixture, selector: Value) -> Vec<String> {
    let body = collect(get_media(&fixture.service, selector).await).await;
    if body.is_empty() {
        return Vec::new();
    }
    Parsed::of(&body).values(tags::FRAGMENT_NUMBER)
}

#[tokio::test(start_paused = true)]
async fn every_start_selector_finds_its_first_fragment() {
    let fixture = Fixture::new().await;
    let numbers = fixture.fill().await;

    let earliest = numbers_from(&fixture, json!({"StartSelectorType": "EARLIEST"})).await;
    assert_eq!(earliest, numbers);
    let after = numbers_from(
        &fixture,
        json!({"StartSelectorType": "FRAGMENT_NUMBER", "AfterFragmentNumber": numbers[1]}),
    )
    .await;
    assert_eq!(after, numbers[2..]);
    let continued = numbers_from(
        &fixture,
        json!({"StartSelectorType": "CONTINUATION_TOKEN", "ContinuationToken": numbers[0]}),
    )
    .await;
    assert_eq!(continued, numbers[1..]);
    // Inside fragment 1 (it lasts more than half a second).
    let (first_block, last_block) = fixture.clusters[1].block_span().expect("blocks");
    assert!(last_block - first_block > 500);
    let server = numbers_from(
        &fixture,
        json!({"StartSelectorType": "SERVER_TIMESTAMP",
               "StartTimestamp": (Fixture::server_ms(1) + 500) as f64 / 1000.0}),
    )
    .await;
    assert_eq!(server, numbers[1..]);
    let producer = numbers_from(
        &fixture,
        json!({"StartSelectorType": "PRODUCER_TIMESTAMP",
               "StartTimestamp": Fixture::producer_ms(2) / 1000}),
    )
    .await;
    assert_eq!(producer, numbers[2..]);
    let now = numbers_from(&fixture, json!({"StartSelectorType": "NOW"})).await;
    assert!(now.is_empty(), "{now:?}");
}

#[tokio::test(start_paused = true)]
async fn get_media_tags_each_chunk_and_merges_back_to_one_segment() {
    let fixture = Fixture::new().await;
    let numbers = fixture.fill().await;
    let started = tokio::time::Instant::now();
    let body =
        collect(get_media(&fixture.service, json!({"StartSelectorType": "EARLIEST"})).await).await;
    assert!(
        started.elapsed() >= Duration::from_millis(GET_MEDIA_IDLE_END_MS),
        "the answer ends only after the idle time"
    );
    let parsed = Parsed::of(&body);
    assert_eq!(parsed.clusters, numbers.len());
    assert_eq!(parsed.values(tags::CONTINUATION_TOKEN), numbers);
    let newest = Fixture::server_ms(FRAGMENTS - 1);
    let behind: Vec<String> = (0..FRAGMENTS)
        .map(|i| (newest - Fixture::server_ms(i)).to_string())
        .collect();
    assert_eq!(parsed.values(tags::MILLIS_BEHIND_NOW), behind);
    let server: Vec<String> = (0..FRAGMENTS)
        .map(|i| tags::format_seconds(Fixture::server_ms(i)))
        .collect();
    assert_eq!(parsed.values(tags::SERVER_TIMESTAMP), server);
    let producer: Vec<String> = (0..FRAGMENTS)
        .map(|i| tags::format_seconds(Fixture::producer_ms(i)))
        .collect();
    assert_eq!(parsed.values(tags::PRODUCER_TIMESTAMP), producer);
    assert!(parsed.values(tags::ERROR_ID).is_empty());

    let mut merger = Merger::new(SplitterConfig::default());
    let mut merged = BytesMut::new();
    merger.push(&body, &mut merged).expect("merge");
    merger.finish(&mut merged).expect("merge ends");
    let mut splitter = Splitter::new(SplitterConfig::default());
    let mut events = Vec::new();
    splitter.push(&merged, &mut events).expect("one segment");
    splitter.finish(&mut events).expect("ends");
    let headers = events
        .iter()
        .filter(|e| matches!(e, Event::Header(_)))
        .count();
    let clusters = events
        .iter()
        .filter(|e| matches!(e, Event::ClusterEnd(_)))
        .count();
    assert_eq!((headers, clusters), (1, numbers.len()));
}

/// Reads chunks off `body` until one carries a fragment number; returns it (or `None` at
/// the end).
async fn next_number(body: &mut BoxStream<'static, Bytes>) -> Option<String> {
    let piece = body.next().await?;
    Parsed::of(&piece)
        .values(tags::FRAGMENT_NUMBER)
        .into_iter()
        .next()
}

#[tokio::test]
async fn get_media_follows_a_fragment_appended_while_reading() {
    let fixture = Fixture::new().await;
    let numbers = fixture.fill().await;
    let mut body = get_media(&fixture.service, json!({"StartSelectorType": "EARLIEST"})).await;
    for number in &numbers {
        assert_eq!(next_number(&mut body).await.as_ref(), Some(number));
    }
    let (appended, _) = fixture.append("cam", FRAGMENTS).await;
    assert_eq!(next_number(&mut body).await, Some(appended.to_string()));
    // Dropping the body is the client going away; the reading task stops on its own.
}

/// Waits (on paused time) until the service is held only by the test, i.e. every reading
/// task has ended; how long that took.
async fn readers_gone(service: &Arc<VideoService>) -> Duration {
    let started = tokio::time::Instant::now();
    while Arc::strong_count(service) > 1 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    started.elapsed()
}

#[tokio::test(start_paused = true)]
async fn a_client_going_away_stops_the_reader() {
    let fixture = Fixture::new().await;
    for i in 0..10 {
        fixture.append("cam", i).await;
    }
    let service = &fixture.service;
    assert_eq!(Arc::strong_count(service), 1);
    // Waiting at the tip for new data.
    let body = get_media(service, json!({"StartSelectorType": "NOW"})).await;
    assert_eq!(
        Arc::strong_count(service),
        2,
        "a reading task holds the service"
    );
    drop(body);
    assert!(readers_gone(service).await < Duration::from_millis(GET_MEDIA_IDLE_END_MS));
    // Blocked on a full channel: the client reads nothing.
    let mut body = get_media(service, json!({"StartSelectorType": "EARLIEST"})).await;
    assert!(next_number(&mut body).await.is_some());
    drop(body);
    assert!(readers_gone(service).await < Duration::from_millis(GET_MEDIA_IDLE_END_MS));
}

#[tokio::test]
async fn a_stream_without_retention_is_read_live_from_now() {
    let fixture = Fixture::new().await;
    json_call(
        &fixture.service,
        "/createStream",
        json!({"StreamName": "live", "DataRetentionInHours": 0}),
    )
    .await
    .expect("created");
    fixture.clock.advance(1_000);
    fixture.append("live", 0).await;
    let mut body = media_call(
        &fixture.service,
        "/getMedia",
        json!({"StreamName": "live", "StartSelector": {"StartSelectorType": "NOW"}}),
    )
    .await
    .expect("GetMedia starts");
    let (appended, _) = fixture.append("live", 1).await;
    assert_eq!(next_number(&mut body).await, Some(appended.to_string()));
}

#[tokio::test(start_paused = true)]
async fn deleting_the_stream_ends_a_following_get_media() {
    let fixture = Fixture::new().await;
    let numbers = fixture.fill().await;
    let mut body = get_media(&fixture.service, json!({"StartSelectorType": "EARLIEST"})).await;
    for number in &numbers {
        assert_eq!(next_number(&mut body).await.as_ref(), Some(number));
    }
    support::delete_stream(&fixture.service, "cam").await;
    let deleted_at = tokio::time::Instant::now();
    let rest = collect(body).await;
    assert!(rest.is_empty(), "no error tags for a deleted stream");
    assert!(
        deleted_at.elapsed() < Duration::from_millis(GET_MEDIA_IDLE_END_MS),
        "ended by the deletion, not by the idle time"
    );
    // A deleted stream is not found at all.
    let refused = media_call(
        &fixture.service,
        "/getMedia",
        json!({"StreamName": "cam", "StartSelector": {"StartSelectorType": "EARLIEST"}}),
    )
    .await;
    assert_eq!(refused.err().as_deref(), Some("ResourceNotFoundException"));
}

#[tokio::test(start_paused = true)]
async fn get_media_refuses_bad_selectors_before_the_answer() {
    let fixture = Fixture::new().await;
    fixture.fill().await;
    let service = &fixture.service;
    let refused = |body: Value| async move { media_call(service, "/getMedia", body).await.err() };
    assert_eq!(
        refused(json!({"StreamName": "nope", "StartSelector": {"StartSelectorType": "NOW"}}))
            .await
            .as_deref(),
        Some("ResourceNotFoundException")
    );
    for selector in [
        json!({"StartSelectorType": "FRAGMENT_NUMBER"}),
        json!({"StartSelectorType": "FRAGMENT_NUMBER", "AfterFragmentNumber": "12"}),
        json!({"StartSelectorType": "SERVER_TIMESTAMP"}),
        json!({"StartSelectorType": "LATEST"}),
    ] {
        assert_eq!(
            refused(json!({"StreamName": "cam", "StartSelector": selector.clone()}))
                .await
                .as_deref(),
            Some("InvalidArgumentException"),
            "{selector}"
        );
    }

    // A well-formed number the stream does not have: the answer is the 4000 error tags.
    let foreign = FragmentNumber {
        log: 999,
        offset: 0,
    };
    let body = collect(
        get_media(
            service,
            json!({"StartSelectorType": "FRAGMENT_NUMBER", "AfterFragmentNumber": foreign.to_string()}),
        )
        .await,
    )
    .await;
    let pairs = read_tags(&body).expect("error tags");
    assert!(
        pairs.contains(&(tags::ERROR_ID.to_owned(), "4000".to_owned())),
        "{pairs:?}"
    );
}

#[tokio::test]
async fn get_media_ends_with_error_tags_when_its_next_fragment_was_trimmed() {
    let fixture = Fixture::new().await;
    let mut numbers = Vec::new();
    for i in 0..10 {
        numbers.push(fixture.append("cam", i).await.0.to_string());
    }
    let logs = fixture.logs("cam").await;
    fixture.store.log().seal_now().expect("seal");
    let mut body = get_media(&fixture.service, json!({"StartSelectorType": "EARLIEST"})).await;
    assert_eq!(next_number(&mut body).await.as_ref(), Some(&numbers[0]));
    // The reader is at most the channel's few chunks ahead of the client: far from the end.
    fixture.clock.advance(1_000);
    let dropped = fixture
        .store
        .trim(logs, fixture.clock.now_ms())
        .expect("trim");
    assert_eq!(dropped, 10);
    let rest = Parsed::of(&collect(body).await);
    let sent = rest.values(tags::FRAGMENT_NUMBER);
    assert!(sent.len() < 6, "{sent:?}");
    assert_eq!(sent, numbers[1..=sent.len()]);
    assert_eq!(rest.values(tags::ERROR_ID), ["4000"]);
    let last = rest.tags.last().expect("tags");
    assert!(last.contains(&(tags::ERROR_ID.to_owned(), "4000".to_owned())));

    // Starting after a trimmed fragment: the answer is the error tags alone.
    let body = collect(
        get_media(
            &fixture.service,
            json!({"StartSelectorType": "CONTINUATION_TOKEN", "ContinuationToken": numbers[3]}),
        )
        .await,
    )
    .await;
    let pairs = read_tags(&body).expect("error tags");
    assert!(pairs.contains(&(tags::ERROR_ID.to_owned(), "4000".to_owned())));
}

#[tokio::test]
async fn fragment_lists_come_in_list_order_with_error_tags_for_missing_numbers() {
    let fixture = Fixture::new().await;
    let numbers = fixture.fill().await;
    let service = &fixture.service;
    let foreign = FragmentNumber {
        log: 999,
        offset: 1,
    }
    .to_string();
    let request = json!({
        "StreamName": "cam",
        "Fragments": [numbers[2], foreign, numbers[0]],
    });
    let body = collect(
        media_call(service, "/getMediaForFragmentList", request)
            .await
            .expect("answered"),
    )
    .await;
    let parsed = Parsed::of(&body);
    assert_eq!(parsed.clusters, 2);
    assert_eq!(
        parsed.values(tags::FRAGMENT_NUMBER),
        [numbers[2].clone(), foreign.clone(), numbers[0].clone()]
    );
    assert_eq!(parsed.values(tags::ERROR_ID), ["4000"]);
    assert!(parsed.values(tags::MILLIS_BEHIND_NOW).is_empty());
    assert!(parsed.values(tags::CONTINUATION_TOKEN).is_empty());

    // A missing number first: the answer opens with its error tags.
    let request = json!({"StreamName": "cam", "Fragments": [foreign, numbers[1]]});
    let body = collect(
        media_call(service, "/getMediaForFragmentList", request)
            .await
            .expect("answered"),
    )
    .await;
    let pairs = read_tags(&body).expect("error tags first");
    assert!(pairs.contains(&(tags::FRAGMENT_NUMBER.to_owned(), foreign.clone())));
    assert!(pairs.contains(&(tags::ERROR_ID.to_owned(), "4000".to_owned())));

    let unknown = json!({"StreamName": "nope", "Fragments": [numbers[0]]});
    assert_eq!(
        media_call(service, "/getMediaForFragmentList", unknown)
            .await
            .err()
            .as_deref(),
        Some("ResourceNotFoundException")
    );
    let empty = json!({"StreamName": "cam", "Fragments": []});
    assert_eq!(
        media_call(service, "/getMediaForFragmentList", empty)
            .await
            .err()
            .as_deref(),
        Some("InvalidArgumentException")
    );
}
