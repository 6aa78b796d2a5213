//! Shared by the integration tests: the spate-mkv ffmpeg fixtures split into stored fragments
//! as the server stores them, and what each track holds according to the MKV itself.

use bytes::Bytes;
use spate_mkv::{Event, MediaHeader, RawCluster, Splitter, SplitterConfig, StoredChunk};

pub const AV2: &[u8] = include_bytes!("../../../spate-mkv/tests/fixtures/av2.mkv");
pub const AV2_BFRAMES: &[u8] = include_bytes!("../../../spate-mkv/tests/fixtures/av2-bframes.mkv");

/// Producer timestamp of the first fragment (ms since the epoch), as a producer sends it.
pub const START_MS: u64 = 1_726_677_688_000;

/// One MKV frame as the file has it.
#[derive(Debug, Clone)]
pub struct MkvFrame {
    pub track: u64,
    /// Absolute block time (ms): the presentation time.
    pub pts_ms: u64,
    pub key: bool,
    pub data: Bytes,
}

/// A fixture as stored: its header, one stored chunk per cluster (timecodes made absolute from
/// `START_MS`), and per chunk its frames in file order.
pub struct Stored {
    pub header: MediaHeader,
    pub chunks: Vec<StoredChunk>,
    pub frames: Vec<Vec<MkvFrame>>,
}

pub fn store(input: &[u8]) -> Stored {
    let mut splitter = Splitter::new(SplitterConfig::default());
    let mut events = Vec::new();
    splitter.push(input, &mut events).expect("fixture splits");
    splitter.finish(&mut events).expect("fixture ends");
    let mut header = None;
    let mut clusters: Vec<RawCluster> = Vec::new();
    for event in events {
        match event {
            Event::Header(h) => header = Some(h),
            Event::ClusterEnd(c) => clusters.push(c),
            _ => {}
        }
    }
    let header = header.expect("a header");
    assert_eq!(header.timecode_scale_ns, 1_000_000, "block times are in ms");
    let mut chunks = Vec::new();
    let mut frames = Vec::new();
    for cluster in &clusters {
        let stored = cluster.rewrite(START_MS + cluster.timecode);
        let chunk = StoredChunk::new(&header, stored, &[]);
        let raw = chunk.raw_cluster().expect("stored cluster");
        frames.push(
            raw.blocks
                .iter()
                .map(|b| MkvFrame {
                    track: b.track,
                    pts_ms: u64::try_from(b.timecode).expect("positive"),
                    key: b.key,
                    data: raw.frame(b),
                })
                .collect(),
        );
        chunks.push(chunk);
    }
    Stored {
        header,
        chunks,
        frames,
    }
}

/// The frames of `track` over all chunks, in file (decode) order.
pub fn track_frames(stored: &Stored, track: u64) -> Vec<MkvFrame> {
    stored
        .frames
        .iter()
        .flatten()
        .filter(|f| f.track == track)
        .cloned()
        .collect()
}

/// Writes `bytes` to `$SPATE_MP4_OUT/name` when that variable is set (to check with ffprobe).
pub fn maybe_write(name: &str, bytes: &[u8]) {
    if let Some(dir) = std::env::var_os("SPATE_MP4_OUT") {
        std::fs::write(std::path::Path::new(&dir).join(name), bytes).expect("write output");
    }
}

/// The boxes of `bytes` (a run of boxes with 32-bit sizes), in order: (kind, body).
pub fn boxes(bytes: &[u8]) -> Vec<(String, &[u8])> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let size = u32::from_be_bytes(bytes[at..at + 4].try_into().expect("4 bytes")) as usize;
        assert!(size >= 8, "32-bit box sizes only");
        let kind = String::from_utf8_lossy(&bytes[at + 4..at + 8]).into_owned();
        out.push((kind, &bytes[at + 8..at + size]));
        at += size;
    }
    out
}

/// The kinds of the boxes in `bytes`, in order.
pub fn kinds(bytes: &[u8]) -> Vec<String> {
    boxes(bytes).into_iter().map(|(kind, _)| kind).collect()
}

/// The body of the first box of `kind` in `bytes`.
pub fn body<'a>(bytes: &'a [u8], kind: &str) -> &'a [u8] {
    boxes(bytes)
        .into_iter()
        .find(|(k, _)| k == kind)
        .map(|(_, body)| body)
        .expect("box present")
}
