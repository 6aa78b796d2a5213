//! The ffmpeg-made fixtures (`tests/fixtures/README.md` has the exact command): split them fed
//! whole, one byte at a time and in pseudo-random slices; store, emit with the GetMedia tags and
//! parse the output back; extract samples (B-frame DTS).

use bytes::{Bytes, BytesMut};
use spate_mkv::tags::{self, read_tags};
use spate_mkv::{
    ChunkTags, Event, MediaHeader, RawCluster, Splitter, SplitterConfig, StoredChunk, TrackKind,
    emit_chunk, samples,
};

const AV2: &[u8] = include_bytes!("fixtures/av2.mkv");
const AV2_BFRAMES: &[u8] = include_bytes!("fixtures/av2-bframes.mkv");

fn split(config: &SplitterConfig, input: &[u8], sizes: &mut dyn FnMut() -> usize) -> Vec<Event> {
    let mut splitter = Splitter::new(config.clone());
    let mut events = Vec::new();
    let mut rest = input;
    while !rest.is_empty() {
        let n = sizes().clamp(1, rest.len());
        let (now, later) = rest.split_at(n);
        rest = later;
        splitter.push(now, &mut events).expect("fixture splits");
    }
    splitter.finish(&mut events).expect("fixture ends cleanly");
    events
}

/// Splits whole, byte by byte and in random slices, asserting the events agree.
fn split_all_ways(input: &[u8]) -> Vec<Event> {
    let config = SplitterConfig::default();
    let whole = split(&config, input, &mut || usize::MAX);
    assert_eq!(split(&config, input, &mut || 1), whole);
    for seed in 1..=4u64 {
        let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let mut random = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % 4096) as usize + 1
        };
        assert_eq!(split(&config, input, &mut random), whole, "seed {seed}");
    }
    whole
}

fn header_and_clusters(events: &[Event]) -> (MediaHeader, Vec<RawCluster>) {
    let mut header = None;
    let mut clusters = Vec::new();
    for event in events {
        match event {
            Event::Header(h) => header = Some(h.clone()),
            Event::ClusterEnd(c) => clusters.push(c.clone()),
            _ => {}
        }
    }
    (header.expect("a header"), clusters)
}

#[test]
fn ffmpeg_fixtures_split_into_two_key_frame_clusters() {
    for input in [AV2, AV2_BFRAMES] {
        let events = split_all_ways(input);
        // ffmpeg writes a Tags element before the first Cluster; the Header comes right before
        // the first ClusterStart.
        let first_start = events
            .iter()
            .position(|e| matches!(e, Event::ClusterStart { .. }))
            .expect("a cluster");
        assert!(matches!(events[first_start - 1], Event::Header(_)));
        assert_eq!(events.last(), Some(&Event::End));
        let (header, clusters) = header_and_clusters(&events);
        assert_eq!(header.timecode_scale_ns, 1_000_000);
        let kinds: Vec<(u64, TrackKind, &str)> = header
            .tracks_info
            .iter()
            .map(|t| (t.number, t.kind, t.codec_id.as_str()))
            .collect();
        assert_eq!(
            kinds,
            [
                (1, TrackKind::Video, "V_MPEG4/ISO/AVC"),
                (2, TrackKind::Audio, "A_AAC")
            ]
        );
        assert_eq!(header.tracks_info[0].width, Some(160));
        assert_eq!(header.tracks_info[0].height, Some(90));
        assert!(!header.tracks_info[0].codec_private.is_empty());
        assert_eq!(clusters.len(), 2);
        for cluster in &clusters {
            assert!(cluster.starts_with_key_frame());
        }
        let video = clusters
            .iter()
            .flat_map(|c| &c.blocks)
            .filter(|b| b.track == 1)
            .count();
        let audio = clusters
            .iter()
            .flat_map(|c| &c.blocks)
            .filter(|b| b.track == 2)
            .count();
        assert_eq!((video, audio), (50, 95), "ffprobe -count_frames agrees");
    }
}

/// Producer timestamps of the fragments: start 1726677688000 ms, RELATIVE.
const START_MS: i64 = 1_726_677_688_000;

#[test]
fn split_store_emit_and_parse_back() {
    let events = split_all_ways(AV2);
    let (header, clusters) = header_and_clusters(&events);
    let mut output = BytesMut::new();
    let mut expected_tags = Vec::new();
    for (i, cluster) in clusters.iter().enumerate() {
        let producer_ms = START_MS + i64::try_from(cluster.timecode).expect("small timecode");
        let stored = cluster.rewrite(u64::try_from(producer_ms).expect("positive"));
        let value = StoredChunk::new(&header, stored, &[]).encode();
        let chunk = StoredChunk::decode(&value).expect("decode");
        let number = format!("9134385233318143238773030206321443280220533555{i}");
        let chunk_tags = ChunkTags {
            fragment_number: number.clone(),
            server_timestamp_ms: producer_ms + 500,
            producer_timestamp_ms: producer_ms,
            millis_behind_now: Some(1000 - 1000 * i as u64),
            continuation_token: Some(number),
        };
        emit_chunk(&mut output, &chunk, &chunk_tags).expect("emit");
        expected_tags.push(chunk_tags);
    }

    // GetMedia output: one segment per chunk, so the reader allows several.
    let config = SplitterConfig {
        multiple_segments: true,
        ..SplitterConfig::default()
    };
    let parsed = split(&config, &output, &mut || 1);
    let mut chunks = Vec::new();
    let mut current: Vec<(String, String)> = Vec::new();
    let mut blocks = Vec::new();
    for event in &parsed {
        match event {
            // A chunk's leading AWS tags come before its Header event (emitted at the Cluster).
            Event::Header(h) => assert_eq!(h, &header),
            Event::Tags(element) => {
                current.extend(read_tags(element).expect("tags"));
                if current
                    .iter()
                    .any(|(name, _)| name == tags::CONTINUATION_TOKEN)
                {
                    chunks.push(std::mem::take(&mut current));
                }
            }
            Event::ClusterEnd(c) => blocks.push(c.clone()),
            Event::ClusterStart { .. } | Event::End => {}
        }
    }
    assert_eq!(chunks.len(), 2);
    for (pairs, want) in chunks.iter().zip(&expected_tags) {
        let get = |name: &str| {
            pairs
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
                .expect("tag present")
        };
        assert_eq!(get(tags::FRAGMENT_NUMBER), want.fragment_number);
        assert_eq!(get(tags::CONTINUATION_TOKEN), want.fragment_number);
        assert_eq!(
            get(tags::PRODUCER_TIMESTAMP),
            tags::format_seconds(want.producer_timestamp_ms)
        );
        assert_eq!(
            get(tags::SERVER_TIMESTAMP),
            tags::format_seconds(want.server_timestamp_ms)
        );
        let behind = want.millis_behind_now.expect("set").to_string();
        assert_eq!(get(tags::MILLIS_BEHIND_NOW), behind);
    }
    // Same frames, absolute timecodes.
    assert_eq!(blocks.len(), clusters.len());
    for (back, original) in blocks.iter().zip(&clusters) {
        assert_eq!(back.timecode, original.timecode + START_MS as u64);
        let frames = |c: &RawCluster| c.blocks.iter().map(|b| c.frame(b)).collect::<Vec<Bytes>>();
        assert_eq!(frames(back), frames(original));
    }
}

#[test]
fn samples_of_the_b_frame_fixture() {
    let events = split_all_ways(AV2_BFRAMES);
    let (header, clusters) = header_and_clusters(&events);
    let mut reordered = 0;
    for cluster in &clusters {
        let chunk = StoredChunk::new(&header, cluster.rewrite(cluster.timecode), &[]);
        let all = samples(&chunk, &header).expect("samples");
        for track in [1, 2] {
            let track_samples: Vec<_> = all.iter().filter(|s| s.track == track).collect();
            assert!(track_samples.iter().all(|s| s.dts_ns <= s.pts_ns));
            assert!(track_samples.windows(2).all(|w| w[0].dts_ns < w[1].dts_ns));
            assert!(
                track_samples
                    .iter()
                    .all(|s| s.duration_ns > 0 && !s.data.is_empty())
            );
            reordered += track_samples
                .iter()
                .filter(|s| s.dts_ns != s.pts_ns)
                .count();
        }
        let video: Vec<_> = all.iter().filter(|s| s.track == 1).collect();
        assert!(video[0].key);
        // 25 fps: every video duration is 40 ms.
        assert!(video.iter().all(|s| s.duration_ns == 40_000_000));
    }
    assert!(reordered > 0, "-bf 2 reorders frames");
}

/// The fixture re-shaped as the KVS producer SDK sends it: unknown-size Segment and Clusters,
/// CRC-32/Void, SeekHead, Cues and ffmpeg's Tags gone.
fn producer_sdk_shape(header: &MediaHeader, clusters: &[RawCluster]) -> Vec<u8> {
    const UNKNOWN: [u8; 8] = [0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF];
    let mut out = header.ebml.to_vec();
    out.extend_from_slice(&[0x18, 0x53, 0x80, 0x67]);
    out.extend_from_slice(&UNKNOWN);
    out.extend_from_slice(&header.info);
    out.extend_from_slice(&header.tracks);
    for cluster in clusters {
        out.extend_from_slice(&[0x1F, 0x43, 0xB6, 0x75]);
        out.extend_from_slice(&UNKNOWN);
        for child in &cluster.children {
            out.extend_from_slice(&cluster.data[child.start..child.end]);
        }
    }
    out
}

#[test]
fn producer_sdk_shaped_fixture_gives_the_same_clusters() {
    let (header, clusters) = header_and_clusters(&split_all_ways(AV2));
    let reshaped = producer_sdk_shape(&header, &clusters);
    let events = split_all_ways(&reshaped);
    let (header_again, clusters_again) = header_and_clusters(&events);
    assert_eq!(header_again, header);
    assert_eq!(clusters_again.len(), clusters.len());
    for (a, b) in clusters_again.iter().zip(&clusters) {
        assert_eq!(a.timecode, b.timecode);
        assert_eq!(a.blocks.len(), b.blocks.len());
        assert_eq!(a.rewrite(7), b.rewrite(7), "stored forms are identical");
    }
}

/// `fixtures/stored_chunk_v1.bin`: the first fragment of `av2.mkv` as stored (rewritten with
/// producer timestamp 1726677688000 ms), format v1. Regenerate (only for a new format version)
/// with `SPATE_WRITE_FIXTURES=1 cargo test -p spate-mkv --test fixtures stored_chunk_v1`.
#[test]
fn stored_chunk_v1_fixture() {
    let (header, clusters) = header_and_clusters(&split_all_ways(AV2));
    let first = clusters.first().expect("a cluster");
    let value = StoredChunk::new(
        &header,
        first.rewrite(START_MS as u64 + first.timecode),
        &[],
    )
    .encode();
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/stored_chunk_v1.bin"
    );
    if std::env::var_os("SPATE_WRITE_FIXTURES").is_some() {
        std::fs::write(path, &value).expect("write fixture");
    }
    let fixture = Bytes::from(std::fs::read(path).expect("fixture present"));
    assert_eq!(fixture, value, "format v1 must not change");
    let chunk = StoredChunk::decode(&fixture).expect("decode");
    assert_eq!(chunk.media_header().expect("header"), header);
    let stored = chunk.raw_cluster().expect("cluster");
    assert_eq!(stored.timecode, START_MS as u64);
    assert_eq!(stored.blocks.len(), first.blocks.len());
}
