//! Which stored fragment and which of its frames each requested time shows, and the size of
//! the images: pure functions of fragment metadata and frame times.

use spate_mkv::Sample;

use crate::store::{FragmentMeta, TimeAxis};

/// Largest image sizes (the model's `WidthPixels` and `HeightPixels` bounds).
pub const MAX_WIDTH: u32 = 3840;
pub const MAX_HEIGHT: u32 = 2160;

/// A fragment's start on `axis`, epoch ms.
pub fn fragment_start(meta: &FragmentMeta, axis: TimeAxis) -> i64 {
    match axis {
        TimeAxis::Producer => meta.producer_ts_ms,
        TimeAxis::Server => meta.server_ts_ms,
    }
}

/// For each time, the index in `fragments` of the fragment that may hold it: the one with the
/// latest start at or before the time (ties: the first listed, i.e. the first ingested).
/// Whether the time is really inside it is decided by its frames ([`frame_at`]).
pub fn fragment_for_times(
    fragments: &[FragmentMeta],
    axis: TimeAxis,
    times: &[i64],
) -> Vec<Option<usize>> {
    times
        .iter()
        .map(|&time| {
            let mut best: Option<(i64, usize)> = None;
            for (index, meta) in fragments.iter().enumerate() {
                let start = fragment_start(meta, axis);
                let later = best.is_none_or(|(best_start, _)| start > best_start);
                if start <= time && later {
                    best = Some((start, index));
                }
            }
            best.map(|(_, index)| index)
        })
        .collect()
}

/// A video frame's place on the request's time axis, ms: `[start, end)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameSpan {
    pub start_ms: i64,
    pub end_ms: i64,
}

/// The video frames of a fragment in display order, on `axis`. Frame times are producer
/// times (the stored cluster's absolute timecodes); on the server axis they are moved by the
/// fragment's server − producer start.
pub fn display_frames(video: &[&Sample], meta: &FragmentMeta, axis: TimeAxis) -> Vec<FrameSpan> {
    let shift = match axis {
        TimeAxis::Producer => 0,
        TimeAxis::Server => meta.server_ts_ms.saturating_sub(meta.producer_ts_ms),
    };
    let mut frames: Vec<FrameSpan> = video
        .iter()
        .map(|sample| {
            let start_ms = sample.pts_ns.div_euclid(1_000_000).saturating_add(shift);
            let duration_ms =
                i64::try_from(sample.duration_ns.div_ceil(1_000_000).max(1)).unwrap_or(i64::MAX);
            FrameSpan {
                start_ms,
                end_ms: start_ms.saturating_add(duration_ms),
            }
        })
        .collect();
    frames.sort_by_key(|frame| frame.start_ms);
    frames
}

/// The display index of the frame showing at `time`: the last frame starting at or before
/// it, if the time is before that frame's end; `None` (no media) otherwise.
pub fn frame_at(frames: &[FrameSpan], time: i64) -> Option<usize> {
    let after = frames.partition_point(|frame| frame.start_ms <= time);
    let index = after.checked_sub(1)?;
    (time < frames[index].end_ms).then_some(index)
}

/// The image size asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SizeRequest {
    pub width: Option<u32>,
    pub height: Option<u32>,
}

/// The output size for a video of `source` (width, height): both given → as given
/// (stretched); one given → the other from the source's aspect ratio; none → the source's.
/// Unverified: the model's docs contradict each other on one given (`WidthPixels` alone is
/// said to be a ValidationException, `HeightPixels` alone to keep the aspect ratio); Spate
/// keeps the aspect ratio for either. `None` when the source size is unknown and needed.
pub fn output_size(request: SizeRequest, source: Option<(u32, u32)>) -> Option<(u32, u32)> {
    let scaled = |given: u32, given_source: u32, other_source: u32, max: u32| {
        let other = (u64::from(given) * u64::from(other_source) + u64::from(given_source) / 2)
            / u64::from(given_source.max(1));
        u32::try_from(other).unwrap_or(max).clamp(1, max)
    };
    match (request.width, request.height) {
        (Some(width), Some(height)) => Some((width, height)),
        (Some(width), None) => {
            let (source_width, source_height) = source?;
            Some((
                width,
                scaled(width, source_width, source_height, MAX_HEIGHT),
            ))
        }
        (None, Some(height)) => {
            let (source_width, source_height) = source?;
            Some((
                scaled(height, source_height, source_width, MAX_WIDTH),
                height,
            ))
        }
        (None, None) => source.filter(|(width, height)| *width > 0 && *height > 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(producer_ts_ms: i64, server_ts_ms: i64) -> FragmentMeta {
        FragmentMeta {
            producer_ts_ms,
            server_ts_ms,
            ..FragmentMeta::default()
        }
    }

    #[test]
    fn a_time_belongs_to_the_latest_fragment_started_before_it() {
        let fragments = [meta(1_000, 50), meta(2_000, 60), meta(2_000, 70)];
        let picked = fragment_for_times(
            &fragments,
            TimeAxis::Producer,
            &[999, 1_000, 1_999, 2_000, 9_000],
        );
        assert_eq!(picked, [None, Some(0), Some(0), Some(1), Some(1)]);
        let picked = fragment_for_times(&fragments, TimeAxis::Server, &[65]);
        assert_eq!(picked, [Some(1)]);
    }

    #[test]
    fn frames_are_in_display_order_and_cover_their_duration() {
        let sample = |pts_ms: i64| Sample {
            track: 1,
            pts_ns: pts_ms * 1_000_000,
            dts_ns: 0,
            duration_ns: 40_000_000,
            key: false,
            data: bytes::Bytes::new(),
        };
        // Decode order I P B: display order I B P.
        let samples = [sample(1_000), sample(1_080), sample(1_040)];
        let refs: Vec<&Sample> = samples.iter().collect();
        let frames = display_frames(&refs, &meta(1_000, 5_000), TimeAxis::Producer);
        let starts: Vec<i64> = frames.iter().map(|frame| frame.start_ms).collect();
        assert_eq!(starts, [1_000, 1_040, 1_080]);
        assert_eq!(frame_at(&frames, 999), None);
        assert_eq!(frame_at(&frames, 1_000), Some(0));
        assert_eq!(frame_at(&frames, 1_079), Some(1));
        assert_eq!(frame_at(&frames, 1_119), Some(2));
        assert_eq!(frame_at(&frames, 1_120), None, "after the last frame ends");
        let server = display_frames(&refs, &meta(1_000, 5_000), TimeAxis::Server);
        assert_eq!(server[0].start_ms, 5_000);
    }

    #[test]
    fn one_dimension_keeps_the_aspect_ratio() {
        let source = Some((160, 90));
        let size = |width, height| output_size(SizeRequest { width, height }, source);
        assert_eq!(size(None, None), Some((160, 90)));
        assert_eq!(size(Some(64), Some(64)), Some((64, 64)));
        assert_eq!(size(Some(320), None), Some((320, 180)));
        assert_eq!(size(None, Some(45)), Some((80, 45)));
        assert_eq!(size(Some(3840), None), Some((3840, 2160)));
        assert_eq!(
            output_size(
                SizeRequest {
                    width: None,
                    height: None
                },
                None
            ),
            None
        );
    }
}
