//! The fragment store over a real spate-log engine in a temporary directory: append, get,
//! list on both time axes with pagination, retention, reopen after drop, index recovery.

use std::sync::Arc;

use bytes::Bytes;
use spate_log::{AppendRecord, LogConfig, LogId, ManualClock};
use spate_video::store::{
    FLAG_KEY_FRAME, FragmentMeta, FragmentNumber, FragmentStore, ListQuery, StreamLogs, TimeAxis,
};

const LOGS: StreamLogs = StreamLogs {
    media: LogId(1),
    index: LogId(2),
};
const T0: i64 = 1_700_000_000_000;

fn open(dir: &std::path::Path, clock: &Arc<ManualClock>) -> FragmentStore {
    let clock: Arc<ManualClock> = Arc::clone(clock);
    FragmentStore::open(dir, LogConfig::default(), clock).expect("store opens")
}

/// Fragment `i`: server time `T0 + i·1000`, producer time running backwards (a second
/// session restarting its clock), so the two axes select different fragments.
fn meta(offset: u64, server_ms: i64, producer_ms: i64) -> FragmentMeta {
    FragmentMeta {
        flags: FLAG_KEY_FRAME,
        tracks: 1,
        media_offset: offset,
        producer_ts_ms: producer_ms,
        server_ts_ms: server_ms,
        duration_ms: 1000,
        cluster_bytes: 10,
        ..FragmentMeta::default()
    }
}

fn chunk(i: u64) -> Bytes {
    Bytes::from(format!("chunk {i}"))
}

async fn fill(store: &FragmentStore, clock: &ManualClock, count: u64) {
    for i in 0..count {
        let offset = store.next_number(LOGS).expect("next number").offset;
        let server = T0 + 1000 * offset as i64;
        clock.set(server);
        let producer = 100_000 - 1000 * offset as i64;
        let number = store
            .append(LOGS, meta(offset, server, producer), chunk(i))
            .await
            .expect("append");
        assert_eq!(number, FragmentNumber { log: 1, offset });
    }
}

fn query(axis: TimeAxis, start_ms: i64, end_ms: i64, after: Option<u64>) -> ListQuery {
    ListQuery {
        axis,
        start_ms,
        end_ms,
        after,
        limit: 100,
    }
}

fn offsets(listed: &[(FragmentNumber, FragmentMeta)]) -> Vec<u64> {
    listed.iter().map(|(number, _)| number.offset).collect()
}

#[tokio::test]
async fn appends_get_and_list_by_both_axes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = Arc::new(ManualClock::new(T0));
    let store = open(dir.path(), &clock);
    store.create(LOGS).expect("create");
    fill(&store, &clock, 10).await;
    assert_eq!(store.bounds(LOGS).expect("bounds"), (0, 10));
    assert_eq!(*store.watch(LOGS).expect("watch").borrow(), 10);

    let number = FragmentNumber { log: 1, offset: 3 };
    let (got, value) = store
        .get(LOGS, number)
        .await
        .expect("get")
        .expect("fragment 3 exists");
    assert_eq!(value, chunk(3));
    assert_eq!(got.chunk_bytes, 7, "set from the chunk");
    assert_eq!(got.server_ts_ms, T0 + 3000);
    let other_log = FragmentNumber { log: 9, offset: 3 };
    assert!(store.get(LOGS, other_log).await.expect("get").is_none());
    let past_end = FragmentNumber { log: 1, offset: 10 };
    assert!(store.get(LOGS, past_end).await.expect("get").is_none());

    let server = |start, end, after| query(TimeAxis::Server, T0 + start, T0 + end, after);
    let listed = store
        .list(LOGS, server(2000, 5000, None))
        .await
        .expect("list");
    assert_eq!(offsets(&listed), [2, 3, 4, 5], "inclusive range");
    let listed = store
        .list(LOGS, server(1500, 5500, Some(3)))
        .await
        .expect("list");
    assert_eq!(offsets(&listed), [4, 5], "after paginates");
    let page = ListQuery {
        limit: 2,
        ..server(0, 9000, None)
    };
    let first = store.list(LOGS, page).await.expect("list");
    assert_eq!(offsets(&first), [0, 1]);
    let next = ListQuery {
        after: Some(1),
        ..page
    };
    assert_eq!(
        offsets(&store.list(LOGS, next).await.expect("list")),
        [2, 3]
    );
    assert!(
        store
            .list(LOGS, server(20_000, 30_000, None))
            .await
            .expect("list")
            .is_empty()
    );

    // Producer times run 100000, 99000, ...: fragments 3..=5 lie in [95000, 97000].
    let producer = query(TimeAxis::Producer, 95_000, 97_000, None);
    let listed = store.list(LOGS, producer).await.expect("list");
    assert_eq!(offsets(&listed), [3, 4, 5]);
    let listed = store
        .list(
            LOGS,
            ListQuery {
                after: Some(4),
                ..producer
            },
        )
        .await
        .expect("list");
    assert_eq!(offsets(&listed), [5]);

    let locate = |axis, ts| store.locate(LOGS, axis, ts);
    assert_eq!(
        locate(TimeAxis::Server, T0 + 2500).await.expect("locate"),
        Some(2)
    );
    assert_eq!(
        locate(TimeAxis::Server, T0 + 3000).await.expect("locate"),
        Some(3)
    );
    assert_eq!(
        locate(TimeAxis::Server, T0 + 99_000).await.expect("locate"),
        None
    );
    assert_eq!(
        locate(TimeAxis::Producer, 0).await.expect("locate"),
        Some(0)
    );
}

#[tokio::test]
async fn a_stale_offset_is_refused_not_renumbered() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = Arc::new(ManualClock::new(T0));
    let store = open(dir.path(), &clock);
    store.create(LOGS).expect("create");
    let err = store
        .append(LOGS, meta(5, T0, 0), chunk(0))
        .await
        .expect_err("offset 0 was assigned, not 5");
    assert!(err.to_string().contains("expected 5"), "{err}");
    let err = store
        .append(LOGS, meta(0, T0, 0), chunk(1))
        .await
        .expect_err("offset 0 is taken");
    assert!(err.to_string().contains("0 is already taken"), "{err}");
    assert_eq!(
        store.bounds(LOGS).expect("bounds"),
        (0, 1),
        "refused before writing"
    );
}

#[tokio::test]
async fn fragments_survive_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = Arc::new(ManualClock::new(T0));
    {
        let store = open(dir.path(), &clock);
        store.create(LOGS).expect("create");
        fill(&store, &clock, 5).await;
    }
    let store = open(dir.path(), &clock);
    assert_eq!(store.bounds(LOGS).expect("bounds"), (0, 5));
    let (_, value) = store
        .get(LOGS, FragmentNumber { log: 1, offset: 4 })
        .await
        .expect("get")
        .expect("fragment 4 survived");
    assert_eq!(value, chunk(4));
    let listed = store
        .list(LOGS, query(TimeAxis::Server, T0, T0 + 10_000, None))
        .await
        .expect("list");
    assert_eq!(offsets(&listed), [0, 1, 2, 3, 4]);
    assert_eq!(
        store.recover(LOGS).await.expect("recover"),
        0,
        "nothing torn"
    );
}

#[tokio::test]
async fn trim_drops_old_fragments_from_both_logs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = Arc::new(ManualClock::new(T0));
    let store = open(dir.path(), &clock);
    store.create(LOGS).expect("create");
    fill(&store, &clock, 4).await;
    store.log().seal_now().expect("seal");
    fill(&store, &clock, 3).await; // offsets 4..7, still unsealed
    store.log().seal_now().expect("seal");
    let dropped = store.trim(LOGS, T0 + 3500).expect("trim");
    assert_eq!(dropped, 4, "the first segment only");
    assert_eq!(store.bounds(LOGS).expect("bounds"), (4, 7));
    let gone = FragmentNumber { log: 1, offset: 1 };
    assert!(store.get(LOGS, gone).await.expect("get").is_none());
    let listed = store
        .list(LOGS, query(TimeAxis::Server, i64::MIN, i64::MAX, None))
        .await
        .expect("list");
    assert_eq!(offsets(&listed), [4, 5, 6]);
    store.delete(LOGS).expect("delete");
    store.delete(LOGS).expect("deleting twice is harmless");
    assert!(store.bounds(LOGS).is_err());
}

#[tokio::test]
async fn recovery_rebuilds_an_index_left_behind() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = Arc::new(ManualClock::new(T0));
    {
        let store = open(dir.path(), &clock);
        store.create(LOGS).expect("create");
        fill(&store, &clock, 3).await;
        // A torn tail: two media records whose index records were lost.
        for offset in [3u64, 4] {
            let server = T0 + 1000 * offset as i64;
            let key = Bytes::copy_from_slice(&meta(offset, server, 0).encode());
            store
                .log()
                .append(vec![(
                    LOGS.media,
                    vec![AppendRecord {
                        key,
                        value: chunk(offset),
                    }],
                )])
                .await
                .expect("media-only append");
        }
    }
    let store = open(dir.path(), &clock);
    let all = query(TimeAxis::Server, i64::MIN, i64::MAX, None);
    assert_eq!(
        offsets(&store.list(LOGS, all).await.expect("list")),
        [0, 1, 2]
    );
    assert_eq!(store.recover(LOGS).await.expect("recover"), 2);
    assert_eq!(
        offsets(&store.list(LOGS, all).await.expect("list")),
        [0, 1, 2, 3, 4]
    );
    assert_eq!(store.recover(LOGS).await.expect("recover"), 0, "idempotent");
}

/// A deterministic pseudo-random sequence (64-bit LCG), so failures replay.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, bound: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % bound
    }
}

/// Lists over many sealed segments agree with a plain filter over what was appended, on both
/// axes, with repeated server timestamps, pagination, and index records whose media records
/// were already dropped.
#[tokio::test]
async fn listing_matches_a_model_across_segments() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = Arc::new(ManualClock::new(T0));
    let store = open(dir.path(), &clock);
    store.create(LOGS).expect("create");
    let mut rng = Lcg(7);
    let mut model = Vec::new();
    let mut server = T0;
    for offset in 0..300u64 {
        server += rng.below(3) as i64 * 500; // repeats when 0
        clock.set(server);
        let producer = rng.below(100_000) as i64;
        let fragment = meta(offset, server, producer);
        store
            .append(LOGS, fragment, chunk(offset))
            .await
            .expect("append");
        model.push(fragment);
        if offset % 64 == 63 {
            store.log().seal_now().expect("seal");
        }
    }
    // The first media segment (offsets 0..64) goes; their index records stay and must be skipped.
    store
        .log()
        .discard_before(LOGS.media, 64)
        .expect("discard media");
    let media_start = store.bounds(LOGS).expect("bounds").0;
    assert!(media_start > 0, "some media records were dropped");
    for round in 0..200 {
        let axis = if round % 2 == 0 {
            TimeAxis::Server
        } else {
            TimeAxis::Producer
        };
        let (low, span) = match axis {
            TimeAxis::Server => (T0 + rng.below(160_000) as i64, rng.below(40_000) as i64),
            TimeAxis::Producer => (rng.below(100_000) as i64, rng.below(30_000) as i64),
        };
        let after = (round % 3 == 0).then(|| rng.below(300));
        let limit = 1 + rng.below(60) as usize;
        let listed = store
            .list(
                LOGS,
                ListQuery {
                    axis,
                    start_ms: low,
                    end_ms: low + span,
                    after,
                    limit,
                },
            )
            .await
            .expect("list");
        let expected: Vec<u64> = model
            .iter()
            .filter(|m| m.media_offset >= media_start)
            .filter(|m| after.is_none_or(|after| m.media_offset > after))
            .filter(|m| {
                let ts = match axis {
                    TimeAxis::Server => m.server_ts_ms,
                    TimeAxis::Producer => m.producer_ts_ms,
                };
                (low..=low + span).contains(&ts)
            })
            .map(|m| m.media_offset)
            .take(limit)
            .collect();
        assert_eq!(
            offsets(&listed),
            expected,
            "round {round}: {axis:?} {low}+{span}"
        );
    }
}
