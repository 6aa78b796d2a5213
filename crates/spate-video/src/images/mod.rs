//! GetImages' media work: for a list of times, the image of the video frame showing at each.
//!
//! - `pick`: which fragment and which of its frames (display order) each time shows, and the
//!   output size (pure).
//! - `ffmpeg`: the fragment as a self-contained MKV through an `ffmpeg` subprocess, the chosen
//!   frames back as scaled RGB (bounded concurrency, timeout, killed when dropped).
//! - `encode`: RGB to JPEG or PNG (`image` crate).
//!
//! A time with no frame showing is [`ImageOutcome::NoMedia`]; a fragment that cannot be
//! decoded (no video track, damaged frames, ffmpeg failing) gives
//! [`ImageOutcome::MediaError`] for its times. Only a missing ffmpeg and store failures fail
//! the whole request. Each fragment is read and decoded once for all of its times.

pub mod encode;
pub mod ffmpeg;
pub mod pick;

use std::collections::BTreeMap;

use base64::Engine;
use bytes::Bytes;
use spate_mkv::{MediaHeader, StoredChunk, TrackKind};

pub use encode::ImageFormat;
pub use pick::SizeRequest;

use crate::error::VideoError;
use crate::store::{FragmentMeta, FragmentNumber, FragmentStore, ListQuery, StreamLogs, TimeAxis};

/// Fragments listed for one page of times: far more than a page's times can need.
const LIST_LIMIT: usize = 100_000;
/// The model's `ImageContent` limit, in base64 characters.
pub const MAX_IMAGE_CONTENT: usize = 6_291_456;

/// What one requested time gives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImageOutcome {
    /// The image, base64 (`ImageContent`).
    Image(String),
    /// No frame shows at the time (`NO_MEDIA`).
    NoMedia,
    /// The media at the time could not be made an image (`MEDIA_ERROR`).
    MediaError,
}

/// How images are made.
#[derive(Clone, Debug)]
pub struct ImageJob {
    /// The ffmpeg program (`[video] ffmpeg`).
    pub ffmpeg: String,
    /// The axis the times are on.
    pub axis: TimeAxis,
    pub format: ImageFormat,
    pub size: SizeRequest,
    /// How far before a time a fragment holding it may start (the longest fragment).
    pub lookback_ms: i64,
}

/// The image for each of `times` (increasing), from the stream's fragments.
pub async fn images_at(
    store: &FragmentStore,
    logs: StreamLogs,
    job: &ImageJob,
    times: &[i64],
) -> Result<Vec<ImageOutcome>, VideoError> {
    let (Some(&first), Some(&last)) = (times.first(), times.last()) else {
        return Ok(Vec::new());
    };
    let query = ListQuery {
        axis: job.axis,
        start_ms: first.saturating_sub(job.lookback_ms),
        end_ms: last,
        after: None,
        limit: LIST_LIMIT,
    };
    let listed = store.list(logs, query).await?;
    let metas: Vec<FragmentMeta> = listed.iter().map(|(_, meta)| *meta).collect();
    let mut by_fragment: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (time_index, fragment) in pick::fragment_for_times(&metas, job.axis, times)
        .into_iter()
        .enumerate()
    {
        if let Some(fragment) = fragment {
            by_fragment.entry(fragment).or_default().push(time_index);
        }
    }
    let work = by_fragment.into_iter().map(|(fragment, time_indices)| {
        let (number, meta) = listed[fragment];
        let fragment_times: Vec<i64> = time_indices.iter().map(|&index| times[index]).collect();
        async move {
            let outcomes = fragment_images(store, logs, job, number, meta, &fragment_times).await?;
            Ok::<_, VideoError>(time_indices.into_iter().zip(outcomes))
        }
    });
    let mut outcomes = vec![ImageOutcome::NoMedia; times.len()];
    for done in futures::future::join_all(work).await {
        for (index, outcome) in done? {
            outcomes[index] = outcome;
        }
    }
    Ok(outcomes)
}

/// A fragment ready for decoding: its MKV, its video size and the frame each time shows.
struct Prepared {
    mkv: Bytes,
    source: Option<(u32, u32)>,
    picks: Vec<Option<usize>>,
}

fn prepare(
    value: &Bytes,
    meta: &FragmentMeta,
    axis: TimeAxis,
    times: &[i64],
) -> Result<Prepared, String> {
    let chunk = StoredChunk::decode(value).map_err(|err| err.to_string())?;
    let header = MediaHeader::parse_stored(&chunk.header).map_err(|err| err.to_string())?;
    let video = header
        .tracks_info
        .iter()
        .find(|track| track.kind == TrackKind::Video)
        .ok_or("the fragment has no video track")?;
    let samples = spate_mkv::samples(&chunk, &header).map_err(|err| err.to_string())?;
    let own: Vec<&spate_mkv::Sample> = samples
        .iter()
        .filter(|sample| sample.track == video.number)
        .collect();
    let frames = pick::display_frames(&own, meta, axis);
    let source = match (video.width, video.height) {
        (Some(width), Some(height)) => u32::try_from(width).ok().zip(u32::try_from(height).ok()),
        _ => None,
    };
    Ok(Prepared {
        mkv: ffmpeg::self_contained_mkv(&chunk).map_err(|err| err.to_string())?,
        source,
        picks: times
            .iter()
            .map(|&time| pick::frame_at(&frames, time))
            .collect(),
    })
}

/// The images of `times` (all of which fall to this fragment).
async fn fragment_images(
    store: &FragmentStore,
    logs: StreamLogs,
    job: &ImageJob,
    number: FragmentNumber,
    meta: FragmentMeta,
    times: &[i64],
) -> Result<Vec<ImageOutcome>, VideoError> {
    let media_error = || vec![ImageOutcome::MediaError; times.len()];
    let Some((_, value)) = store.get(logs, number).await? else {
        return Ok(vec![ImageOutcome::NoMedia; times.len()]); // trimmed since the listing
    };
    let axis = job.axis;
    let owned_times = times.to_vec();
    let prepared = tokio::task::spawn_blocking(move || prepare(&value, &meta, axis, &owned_times))
        .await
        .map_err(|err| VideoError::Internal(format!("image task: {err}")))?;
    let prepared = match prepared {
        Ok(prepared) => prepared,
        Err(reason) => {
            tracing::warn!(fragment = %number, reason, "no images from fragment");
            return Ok(media_error());
        }
    };
    let Some(size) = pick::output_size(job.size, prepared.source) else {
        tracing::warn!(fragment = %number, "the video track has no size");
        return Ok(media_error());
    };
    let mut wanted: Vec<usize> = prepared.picks.iter().flatten().copied().collect();
    wanted.sort_unstable();
    wanted.dedup();
    if wanted.is_empty() {
        return Ok(vec![ImageOutcome::NoMedia; times.len()]);
    }
    let frames = match ffmpeg::decode_frames(&job.ffmpeg, prepared.mkv, &wanted, size).await {
        Ok(frames) => frames,
        Err(ffmpeg::DecodeError::NotFound { program }) => {
            return Err(VideoError::InvalidArgument(format!(
                "GetImages needs ffmpeg, which was not found at {program:?}: install it or set [video] ffmpeg."
            )));
        }
        Err(err) => {
            tracing::warn!(fragment = %number, error = %err, "decoding frames failed");
            return Ok(media_error());
        }
    };
    let format = job.format;
    let encoded = tokio::task::spawn_blocking(move || {
        frames
            .iter()
            .map(|rgb| encode_content(rgb, size, format))
            .collect::<Vec<ImageOutcome>>()
    })
    .await
    .map_err(|err| VideoError::Internal(format!("image task: {err}")))?;
    Ok(prepared
        .picks
        .iter()
        .map(|pick| match pick {
            None => ImageOutcome::NoMedia,
            Some(frame) => wanted
                .binary_search(frame)
                .ok()
                .and_then(|at| encoded.get(at).cloned())
                .unwrap_or(ImageOutcome::MediaError),
        })
        .collect())
}

/// One frame as `ImageContent`; too large for the model's limit is a media error.
fn encode_content(rgb: &[u8], (width, height): (u32, u32), format: ImageFormat) -> ImageOutcome {
    match encode::encode(rgb, width, height, format) {
        Ok(image) => {
            let content = base64::engine::general_purpose::STANDARD.encode(image);
            if content.len() > MAX_IMAGE_CONTENT {
                ImageOutcome::MediaError
            } else {
                ImageOutcome::Image(content)
            }
        }
        Err(err) => {
            tracing::warn!(error = %err, "encoding an image failed");
            ImageOutcome::MediaError
        }
    }
}
