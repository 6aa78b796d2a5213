//! A stored fragment's samples on each track's MP4 time axis: decode times and composition
//! offsets in the track's timescale (ticks), on the producer-time axis, plus the durations rule
//! shared by fMP4 fragments and progressive clips.
//!
//! Ticks are computed from nanoseconds with round-half-up, each time from the absolute time, so
//! the same instant always lands on the same tick whichever fragment computes it, and there is
//! no accumulated drift. AAC frames have a fixed length: a track's first frame is rounded once
//! and every following frame is exactly `frame_samples` later (no per-frame rounding at all).

use bytes::Bytes;
use spate_mkv::{MediaHeader, Sample, StoredChunk, samples};

use crate::error::Mp4Error;
use crate::track::TrackDescription;

/// One sample on its track's axis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TimedSample {
    /// Decode time, ticks.
    pub dts: u64,
    /// Presentation time − decode time, ticks.
    pub cts_offset: i64,
    pub key: bool,
    pub data: Bytes,
}

/// The samples of one track in one fragment, in decode order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TrackSamples {
    pub samples: Vec<TimedSample>,
}

/// Per track (in the order of `tracks`), the fragment's samples in ticks. A track with no
/// sample in the fragment gets an empty list.
pub(crate) fn fragment_samples(
    chunk: &StoredChunk,
    tracks: &[TrackDescription],
) -> Result<Vec<TrackSamples>, Mp4Error> {
    let header = chunk.media_header()?;
    check_tracks(&header, tracks)?;
    let all = samples(chunk, &header)?;
    let mut out = Vec::with_capacity(tracks.len());
    for track in tracks {
        let own: Vec<&Sample> = all
            .iter()
            .filter(|s| s.track == u64::from(track.track_id()))
            .collect();
        out.push(TrackSamples {
            samples: timed(track, &own)?,
        });
    }
    Ok(out)
}

/// Every description's track must be in the fragment's header, unchanged.
fn check_tracks(header: &MediaHeader, tracks: &[TrackDescription]) -> Result<(), Mp4Error> {
    for track in tracks {
        let number = u64::from(track.track_id());
        let info = header.track(number).ok_or(Mp4Error::TrackMismatch {
            track: number,
            reason: "no such track in the fragment",
        })?;
        track.matches(info)?;
    }
    Ok(())
}

fn timed(track: &TrackDescription, own: &[&Sample]) -> Result<Vec<TimedSample>, Mp4Error> {
    let timescale = track.timescale();
    let Some(first) = own.first() else {
        return Ok(Vec::new());
    };
    let mut out = Vec::with_capacity(own.len());
    match track.fixed_frame_ticks() {
        Some(frame) => {
            let start = ns_to_ticks(first.dts_ns, timescale)?;
            for (n, sample) in own.iter().enumerate() {
                let dts = u64::try_from(n)
                    .ok()
                    .and_then(|n| n.checked_mul(u64::from(frame)))
                    .and_then(|offset| start.checked_add(offset))
                    .ok_or_else(|| Mp4Error::out_of_range("audio decode time beyond 64 bits"))?;
                out.push(TimedSample {
                    dts,
                    cts_offset: 0,
                    key: true,
                    data: sample.data.clone(),
                });
            }
        }
        None => {
            for sample in own {
                let dts = ns_to_ticks(sample.dts_ns, timescale)?;
                let pts = ns_to_ticks(sample.pts_ns, timescale)?;
                let cts_offset = i64::try_from(i128::from(pts) - i128::from(dts))
                    .map_err(|_| Mp4Error::out_of_range("composition offset beyond 64 bits"))?;
                out.push(TimedSample {
                    dts,
                    cts_offset,
                    key: sample.key,
                    data: sample.data.clone(),
                });
            }
        }
    }
    Ok(out)
}

/// Nanoseconds to ticks, rounding half up; times before 0 cannot be MP4 decode times.
pub(crate) fn ns_to_ticks(ns: i64, timescale: u32) -> Result<u64, Mp4Error> {
    let scaled = i128::from(ns) * i128::from(timescale);
    let ticks = (2 * scaled + 1_000_000_000).div_euclid(2_000_000_000);
    u64::try_from(ticks).map_err(|_| {
        Mp4Error::out_of_range(format!(
            "time {ns} ns is before 0 (MP4 decode times cannot be negative)"
        ))
    })
}

/// The first decode time of each track in a fragment, in ticks: what the previous fragment
/// needs to give its last samples their exact durations.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FirstDecodeTimes {
    times: Vec<(u32, u64)>,
}

impl FirstDecodeTimes {
    /// Reads a fragment's first decode time per track (tracks without samples are left out).
    pub fn of(chunk: &StoredChunk, tracks: &[TrackDescription]) -> Result<Self, Mp4Error> {
        let per_track = fragment_samples(chunk, tracks)?;
        Ok(Self::from_samples(tracks, &per_track))
    }

    pub(crate) fn from_samples(tracks: &[TrackDescription], per_track: &[TrackSamples]) -> Self {
        let times = tracks
            .iter()
            .zip(per_track)
            .filter_map(|(track, own)| Some((track.track_id(), own.samples.first()?.dts)))
            .collect();
        FirstDecodeTimes { times }
    }

    /// The first decode time of track `track_id`, ticks.
    pub fn get(&self, track_id: u32) -> Option<u64> {
        self.times
            .iter()
            .find(|(id, _)| *id == track_id)
            .map(|&(_, dts)| dts)
    }
}

/// Sample durations in ticks: each sample lasts until the next one's decode time; the last
/// until `next_dts` when it is given and later, else the median of the others, else
/// `fallback` (a lone sample).
pub(crate) fn durations(
    samples: &[TimedSample],
    next_dts: Option<u64>,
    fallback: u32,
) -> Result<Vec<u32>, Mp4Error> {
    let mut out = Vec::with_capacity(samples.len());
    for pair in samples.windows(2) {
        let delta = pair[1]
            .dts
            .checked_sub(pair[0].dts)
            .ok_or_else(|| Mp4Error::out_of_range("decode times go backwards within a track"))?;
        out.push(to_u32(delta, "sample duration")?);
    }
    let Some(last) = samples.last() else {
        return Ok(out);
    };
    let measured = next_dts
        .and_then(|next| next.checked_sub(last.dts))
        .filter(|&d| d > 0)
        .map(|d| to_u32(d, "sample duration"))
        .transpose()?;
    let last_duration = match measured {
        Some(d) => d,
        None => {
            let mut sorted = out.clone();
            sorted.sort_unstable();
            sorted.get(sorted.len() / 2).copied().unwrap_or(fallback)
        }
    };
    out.push(last_duration);
    Ok(out)
}

pub(crate) fn to_u32(value: u64, what: &str) -> Result<u32, Mp4Error> {
    u32::try_from(value)
        .map_err(|_| Mp4Error::out_of_range(format!("{what} {value} beyond 32 bits")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(dts: u64) -> TimedSample {
        TimedSample {
            dts,
            cts_offset: 0,
            key: false,
            data: Bytes::new(),
        }
    }

    #[test]
    fn ticks_round_half_up_and_refuse_negative_times() {
        assert_eq!(ns_to_ticks(1_000_000_000, 90_000).expect("ok"), 90_000);
        // 1 ms at 44.1 kHz is 44.1 ticks; 5 ms is 220.5 → 221.
        assert_eq!(ns_to_ticks(1_000_000, 44_100).expect("ok"), 44);
        assert_eq!(ns_to_ticks(5_000_000, 44_100).expect("ok"), 221);
        assert!(ns_to_ticks(-40_000_000, 90_000).is_err());
    }

    #[test]
    fn last_duration_from_next_fragment_else_median() {
        let samples = [at(0), at(3000), at(6000), at(9600)];
        assert_eq!(
            durations(&samples, Some(12_000), 1).expect("ok"),
            [3000, 3000, 3600, 2400]
        );
        assert_eq!(
            durations(&samples, None, 1).expect("ok"),
            [3000, 3000, 3600, 3000]
        );
        // A next time that is not later is ignored.
        assert_eq!(durations(&samples, Some(9600), 1).expect("ok")[3], 3000);
        assert_eq!(durations(&[at(5)], None, 1234).expect("ok"), [1234]);
        assert!(durations(&[at(5), at(4)], None, 1).is_err());
    }
}
