//! GetClip (kinesis-video-archived-media): the fragments whose start lies in a time range, as
//! one progressive ("traditional") MP4, `Content-Type: video/mp4`.
//!
//! As the model documents: fragments whose start (producer or server timestamp) lies in
//! `[StartTimestamp, EndTimestamp]`, both inclusive; EndTimestamp later than StartTimestamp and
//! within 24 hours of it, and in the past for server timestamps; the output holds "the first
//! 100 MB or the first 200 fragments from the specified start timestamp", so a longer range is
//! cut there, not refused. Fragments with duplicate producer timestamps are deduplicated, the
//! first ingested kept.
//!
//! Tracks: the clip holds the stream's H.264/H.265 video track(s) and its AAC audio track, as
//! `spate-mp4` describes them. Other tracks (G.711 audio, which AWS also puts in clips, and
//! metadata or subtitle tracks) are left out of the clip rather than refused; a stream without
//! a supported video track is `UnsupportedStreamMediaTypeException`.
//!
//! The MP4's moov comes before its mdat, so the whole clip is built (on the blocking pool,
//! with no lock held) before the 200 is sent.

use bytes::Bytes;
use futures::StreamExt;
use serde::Deserialize;
use spate_mkv::{MediaHeader, StoredChunk, TrackKind};
use spate_mp4::{ClipBuilder, Mp4Error, TrackDescription};
use spate_wire::Violations;

use super::fragment_selector::{FragmentSelector, Required, check_range};
use crate::api::{Reply, Validate};
use crate::error::VideoError;
use crate::service::{Call, VideoService};
use crate::store::{FragmentNumber, FragmentStore, ListQuery, StreamLogs, TimeAxis};

/// The most fragments a clip holds (the model's documentation).
pub const MAX_CLIP_FRAGMENTS: usize = 200;
/// The largest clip, in bytes. Unverified: AWS writes "100 MB"; Spate reads it as 10^8 bytes
/// (the smaller reading).
pub const MAX_CLIP_BYTES: u64 = 100_000_000;
/// Fragments listed on the producer axis before sorting and deduplication: producer times
/// of several sessions may interleave in arrival order, so more than the clip's 200 are read.
/// Unverified: how far AWS looks.
const PRODUCER_LIST_LIMIT: usize = 8 * MAX_CLIP_FRAGMENTS;
/// Where a clip is cut.
#[derive(Clone, Copy, Debug)]
struct ClipLimits {
    fragments: usize,
    bytes: u64,
}

/// AWS's limits.
const CLIP_LIMITS: ClipLimits = ClipLimits {
    fragments: MAX_CLIP_FRAGMENTS,
    bytes: MAX_CLIP_BYTES,
};

/// The moov grows by a few bytes per sample: the exact size is only computed (an encoding of
/// the moov) once the media alone comes within this much of the limit.
const MOOV_SLACK: u64 = 8 * 1024 * 1024;
/// The clip is sent in pieces of this size.
const BODY_PIECE: usize = 1024 * 1024;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    pub stream_name: Option<String>,
    #[serde(rename = "StreamARN")]
    pub stream_arn: Option<String>,
    pub clip_fragment_selector: Option<FragmentSelector>,
}

impl Validate for Request {
    fn validate(&self, v: &mut Violations) {
        super::name(v, "streamName", &self.stream_name, false);
        super::arn(v, "streamARN", &self.stream_arn, false);
        match &self.clip_fragment_selector {
            None => v.required("clipFragmentSelector", &self.clip_fragment_selector),
            Some(selector) => selector.validate(
                v,
                "clipFragmentSelector",
                Required {
                    selector_type: true,
                    range: true,
                    timestamps: true,
                },
            ),
        }
    }
}

pub async fn handle(
    service: &VideoService,
    _call: &Call,
    request: Request,
) -> Result<Reply, VideoError> {
    let selector = request
        .clip_fragment_selector
        .ok_or_else(|| VideoError::Internal("validated selector missing".into()))?;
    let (Some(start_ms), Some(end_ms)) = selector.bounds() else {
        return Err(VideoError::Internal("validated timestamps missing".into()));
    };
    let axis = selector.axis();
    check_range(axis, start_ms, end_ms, service.now_ms())?;
    let (_, logs) = crate::media::retained_stream(
        service,
        request.stream_name.as_deref(),
        request.stream_arn.as_deref(),
    )?;
    let fragments = select_fragments(&service.store, logs, axis, start_ms, end_ms).await?;
    if fragments.is_empty() {
        // Unverified: AWS's wording.
        return Err(VideoError::ResourceNotFound(
            "No fragments were found in the requested time range.".into(),
        ));
    }
    let store = service.store.clone();
    let runtime = tokio::runtime::Handle::current();
    let clip = tokio::task::spawn_blocking(move || {
        build_clip(&runtime, &store, logs, &fragments, CLIP_LIMITS)
    })
    .await
    .map_err(|err| VideoError::Internal(format!("clip task: {err}")))??;
    let pieces: Vec<Bytes> = (0..clip.len())
        .step_by(BODY_PIECE)
        .map(|at| clip.slice(at..clip.len().min(at + BODY_PIECE)))
        .collect();
    Ok(Reply::Media {
        content_type: "video/mp4",
        body: futures::stream::iter(pieces).boxed(),
    })
}

/// The fragments of the clip in play order: on the server axis, arrival order (the first
/// 200); on the producer axis, producer-time order with duplicate start times dropped (the
/// first ingested kept).
async fn select_fragments(
    store: &FragmentStore,
    logs: StreamLogs,
    axis: TimeAxis,
    start_ms: i64,
    end_ms: i64,
) -> Result<Vec<FragmentNumber>, VideoError> {
    let limit = match axis {
        TimeAxis::Server => MAX_CLIP_FRAGMENTS,
        TimeAxis::Producer => PRODUCER_LIST_LIMIT,
    };
    let query = ListQuery {
        axis,
        start_ms,
        end_ms,
        after: None,
        limit,
    };
    let mut listed = store.list(logs, query).await?;
    if axis == TimeAxis::Producer {
        listed.sort_by_key(|(_, meta)| (meta.producer_ts_ms, meta.media_offset));
        listed.dedup_by_key(|(_, meta)| meta.producer_ts_ms);
    }
    Ok(listed.into_iter().map(|(number, _)| number).collect())
}

/// The tracks a clip of fragments with `header` holds (see the module docs).
pub fn clip_tracks(header: &MediaHeader) -> Result<Vec<TrackDescription>, VideoError> {
    let mut tracks = Vec::new();
    for track in &header.tracks_info {
        match TrackDescription::from_track(track) {
            Ok(description) => tracks.push(description),
            Err(Mp4Error::UnsupportedCodec { .. }) if track.kind != TrackKind::Video => {}
            Err(err) => return Err(err.into()),
        }
    }
    if !tracks.iter().any(TrackDescription::is_video) {
        let codecs: Vec<&str> = header
            .tracks_info
            .iter()
            .map(|track| track.codec_id.as_str())
            .collect();
        return Err(VideoError::UnsupportedStreamMediaType(format!(
            "A clip needs an H.264 (V_MPEG4/ISO/AVC) or H.265 (V_MPEGH/ISO/HEVC) video track; the stream's tracks are {codecs:?}."
        )));
    }
    Ok(tracks)
}

/// Muxes the fragments, in order, up to the clip limits (runs on the blocking pool).
fn build_clip(
    runtime: &tokio::runtime::Handle,
    store: &FragmentStore,
    logs: StreamLogs,
    fragments: &[FragmentNumber],
    limits: ClipLimits,
) -> Result<Bytes, VideoError> {
    let mut builder: Option<ClipBuilder> = None;
    let mut tracks: Vec<TrackDescription> = Vec::new();
    // The chunks in the clip, to rebuild it without the last one if that one passes the size
    // limit (the builder cannot take a fragment back).
    let mut pushed: Vec<StoredChunk> = Vec::new();
    for &number in fragments {
        if pushed.len() >= limits.fragments {
            break;
        }
        // Trimmed since the listing: skipped.
        let Some((_, value)) = runtime.block_on(store.get(logs, number))? else {
            continue;
        };
        let chunk = StoredChunk::decode(&value)
            .map_err(|err| VideoError::Internal(format!("fragment {number}: {err}")))?;
        let clip = match &mut builder {
            Some(clip) => clip,
            None => {
                let header = MediaHeader::parse_stored(&chunk.header)
                    .map_err(|err| VideoError::Internal(format!("fragment {number}: {err}")))?;
                tracks = clip_tracks(&header)?;
                builder.insert(ClipBuilder::new(tracks.clone())?)
            }
        };
        match clip.push_fragment(&chunk) {
            Ok(()) => {}
            // Producer times of another session overlapping the clip so far: left out, as AWS
            // keeps the first ingested of overlapping fragments.
            Err(Mp4Error::OutOfOrder { .. }) => continue,
            // Unverified: a change of codec data ends the clip (AWS documents nothing); the
            // fragments before the change make a playable file.
            Err(Mp4Error::TrackMismatch { .. }) if !pushed.is_empty() => break,
            Err(err) => return Err(err.into()),
        }
        pushed.push(chunk);
        if clip.media_bytes().saturating_add(MOOV_SLACK) > limits.bytes
            && clip.byte_size()? > limits.bytes
            && pushed.len() > 1
        {
            pushed.pop();
            let mut rebuilt = ClipBuilder::new(tracks.clone())?;
            for chunk in &pushed {
                rebuilt.push_fragment(chunk)?;
            }
            builder = Some(rebuilt);
            break;
        }
    }
    let builder = builder.ok_or_else(|| {
        VideoError::ResourceNotFound("No fragments were found in the requested time range.".into())
    })?;
    Ok(builder.finish()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_selector_and_its_range_are_required() {
        let message = super::super::violations::<Request>(r#"{"StreamName":"cam"}"#)
            .expect("selector missing");
        assert!(message.contains("clipFragmentSelector"), "{message}");
        let message = super::super::violations::<Request>(
            r#"{"StreamName":"cam","ClipFragmentSelector":{"FragmentSelectorType":"LOCAL","TimestampRange":{"StartTimestamp":1}}}"#,
        )
        .expect("bad type, end missing");
        assert!(message.contains("fragmentSelectorType"), "{message}");
        assert!(message.contains("endTimestamp"), "{message}");
        assert!(
            super::super::violations::<Request>(
                r#"{"StreamName":"cam","ClipFragmentSelector":{"FragmentSelectorType":"SERVER_TIMESTAMP","TimestampRange":{"StartTimestamp":1,"EndTimestamp":2.5}}}"#,
            )
            .is_none()
        );
    }

    /// The av2 fixture's fragments in a fresh store, with their numbers.
    fn stored_fixture(dir: &std::path::Path) -> (FragmentStore, StreamLogs, Vec<FragmentNumber>) {
        use spate_mkv::{Event, Splitter, SplitterConfig};
        let clock = std::sync::Arc::new(spate_log::ManualClock::new(1_700_000_000_000));
        let store =
            FragmentStore::open(dir, spate_log::LogConfig::default(), clock).expect("store");
        let logs = StreamLogs {
            media: spate_log::LogId(1),
            index: spate_log::LogId(2),
        };
        store.create(logs).expect("logs");
        let media = include_bytes!("../../../spate-mkv/tests/fixtures/av2.mkv");
        let mut splitter = Splitter::new(SplitterConfig::default());
        let mut events = Vec::new();
        splitter.push(media, &mut events).expect("splits");
        splitter.finish(&mut events).expect("ends");
        let mut header = None;
        let mut numbers = Vec::new();
        let runtime = tokio::runtime::Handle::current();
        for event in events {
            match event {
                Event::Header(h) => header = Some(h),
                Event::ClusterEnd(cluster) => {
                    let header = header.as_ref().expect("header first");
                    let producer_ts_ms = 1_700_000_000_000 + cluster.timecode as i64;
                    let stored = cluster.rewrite(producer_ts_ms as u64);
                    let chunk = StoredChunk::new(header, stored, &[]);
                    let meta = crate::store::FragmentMeta {
                        media_offset: numbers.len() as u64,
                        producer_ts_ms,
                        ..Default::default()
                    };
                    let number = runtime
                        .block_on(store.append(logs, meta, chunk.encode()))
                        .expect("append");
                    numbers.push(number);
                }
                _ => {}
            }
        }
        (store, logs, numbers)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn a_clip_passing_the_size_limit_ends_before_the_fragment_that_passed_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (store, logs, numbers) = tokio::task::spawn_blocking({
            let path = dir.path().to_owned();
            move || stored_fixture(&path)
        })
        .await
        .expect("stored");
        assert_eq!(numbers.len(), 2);
        let clip = move |limits: ClipLimits| {
            let (store, numbers) = (store.clone(), numbers.clone());
            let runtime = tokio::runtime::Handle::current();
            tokio::task::spawn_blocking(move || {
                build_clip(&runtime, &store, logs, &numbers, limits).expect("clip")
            })
        };
        let unlimited = ClipLimits {
            fragments: 10,
            bytes: u64::MAX,
        };
        let whole = clip(unlimited).await.expect("task");
        let first_only = clip(ClipLimits {
            fragments: 1,
            ..unlimited
        })
        .await
        .expect("task");
        assert!(first_only.len() < whole.len());
        let cut = clip(ClipLimits {
            fragments: 10,
            bytes: whole.len() as u64 - 1,
        })
        .await
        .expect("task");
        assert_eq!(cut, first_only, "the second fragment passed the limit");
        let exact = clip(ClipLimits {
            fragments: 10,
            bytes: whole.len() as u64,
        })
        .await
        .expect("task");
        assert_eq!(exact, whole, "a clip of exactly the limit is whole");
    }
}
