//! Progressive ("traditional") MP4 for GetClip: stored fragments in order → `ftyp(isom; isom,
//! iso2, [avc1,] mp41)` + `moov` + `mdat`, moov first so players can start before the end.
//!
//! Each track's sample table is complete: `stts` (run-length durations), `ctts` (when any
//! composition offset is not 0), `stss` (video key frames), `stsz`, `stsc` (one chunk per
//! fragment and track, run-length) and `stco`, or `co64` when an offset passes 4 GiB. The moov
//! is encoded once with placeholder offsets to learn its size, then with the real ones.
//!
//! Time: every track's media time starts at its first sample; an `elst` puts the clip's
//! earliest presentation time at 0 (an empty edit for a track that starts later, and a media
//! time for the initial composition offset of B-frame video).
//!
//! [`ClipBuilder`] takes fragments one at a time so the caller can stop at its limits (GetClip:
//! 100 MB or 200 fragments) using [`ClipBuilder::media_bytes`] and
//! [`ClipBuilder::fragment_count`].

use bytes::{Bytes, BytesMut};
use mp4_atom::{
    Co64, Ctts, CttsEntry, Edts, Elst, ElstEntry, Moov, Stbl, Stco, Stsc, StscEntry, Stss, Stsz,
    StszSamples, Stts, SttsEntry,
};
use spate_mkv::StoredChunk;

use crate::error::Mp4Error;
use crate::movie::{
    MOVIE_TIMESCALE, encode_into, encode_moov, ftyp, mdat_header, mdat_header_len, mvhd, trak,
};
use crate::timeline::{TimedSample, durations, fragment_samples, to_u32};
use crate::track::{CodecKind, TrackDescription};

/// Builds a progressive MP4 from fragments pushed in order.
#[derive(Debug, Clone)]
pub struct ClipBuilder {
    tracks: Vec<TrackDescription>,
    samples: Vec<Vec<TimedSample>>,
    /// The mdat's chunks in file order: (track index, first sample, sample count, bytes).
    chunks: Vec<ClipChunk>,
    media_bytes: u64,
    fragments: usize,
}

#[derive(Debug, Clone, Copy)]
struct ClipChunk {
    track: usize,
    first_sample: usize,
    count: usize,
    len: u64,
}

impl ClipBuilder {
    /// A clip of `tracks` (see [`TrackDescription::all`]); every fragment pushed must carry
    /// these tracks unchanged.
    pub fn new(tracks: Vec<TrackDescription>) -> Result<Self, Mp4Error> {
        if tracks.is_empty() {
            return Err(Mp4Error::NoTracks);
        }
        let samples = vec![Vec::new(); tracks.len()];
        Ok(ClipBuilder {
            tracks,
            samples,
            chunks: Vec::new(),
            media_bytes: 0,
            fragments: 0,
        })
    }

    /// Appends a fragment. On error the builder is unchanged, so the caller may finish the
    /// clip with the fragments before it (a codec change, a fragment out of order).
    pub fn push_fragment(&mut self, chunk: &StoredChunk) -> Result<(), Mp4Error> {
        let per_track = fragment_samples(chunk, &self.tracks)?;
        for (index, own) in per_track.iter().enumerate() {
            if let (Some(last), Some(first)) = (self.samples[index].last(), own.samples.first())
                && first.dts <= last.dts
            {
                return Err(Mp4Error::OutOfOrder {
                    track: self.tracks[index].track_id(),
                });
            }
        }
        for (index, own) in per_track.into_iter().enumerate() {
            if own.samples.is_empty() {
                continue;
            }
            let len: u64 = own.samples.iter().map(|s| s.data.len() as u64).sum();
            self.chunks.push(ClipChunk {
                track: index,
                first_sample: self.samples[index].len(),
                count: own.samples.len(),
                len,
            });
            self.media_bytes += len;
            self.samples[index].extend(own.samples);
        }
        self.fragments += 1;
        Ok(())
    }

    /// Fragments pushed so far.
    pub fn fragment_count(&self) -> usize {
        self.fragments
    }

    /// Bytes of media data (the mdat's payload) so far.
    pub fn media_bytes(&self) -> u64 {
        self.media_bytes
    }

    /// The exact size of the file [`ClipBuilder::finish`] would return now (encodes the moov:
    /// cost linear in the number of samples).
    pub fn byte_size(&self) -> Result<u64, Mp4Error> {
        Ok(self.layout()?.head.len() as u64 + self.media_bytes)
    }

    /// The clip: ftyp, moov, mdat.
    pub fn finish(self) -> Result<Bytes, Mp4Error> {
        let layout = self.layout()?;
        let total = usize::try_from(layout.head.len() as u64 + self.media_bytes)
            .map_err(|_| Mp4Error::out_of_range("clip size"))?;
        let mut out = BytesMut::with_capacity(total);
        out.extend_from_slice(&layout.head);
        for chunk in &self.chunks {
            let samples = &self.samples[chunk.track][chunk.first_sample..][..chunk.count];
            for sample in samples {
                out.extend_from_slice(&sample.data);
            }
        }
        Ok(out.freeze())
    }

    /// ftyp + moov + mdat header, with the chunk offsets of the final file.
    fn layout(&self) -> Result<Layout, Mp4Error> {
        let used: Vec<usize> = (0..self.tracks.len())
            .filter(|&i| !self.samples[i].is_empty())
            .collect();
        if used.is_empty() {
            return Err(Mp4Error::NoSamples);
        }
        let mut brands: Vec<&[u8; 4]> = vec![b"isom", b"iso2"];
        if self.tracks.iter().any(|t| t.codec() == CodecKind::H264) {
            brands.push(b"avc1");
        }
        brands.push(b"mp41");
        let mut ftyp_bytes = Vec::new();
        encode_into(&ftyp(b"isom", &brands), "ftyp", &mut ftyp_bytes)?;

        let timing = self.timing(&used)?;
        // Pass 1: the moov's size with placeholder offsets (32-bit, then 64-bit if needed).
        let mut wide = false;
        loop {
            let placeholder = vec![0u64; self.chunks.len()];
            let moov = self.moov(&used, &timing, &placeholder, wide)?;
            let mut moov_bytes = Vec::new();
            encode_moov(&moov, &mut moov_bytes)?;
            let data_start = ftyp_bytes.len() as u64
                + moov_bytes.len() as u64
                + mdat_header_len(self.media_bytes);
            let mut offsets = Vec::with_capacity(self.chunks.len());
            let mut at = data_start;
            for chunk in &self.chunks {
                offsets.push(at);
                at += chunk.len;
            }
            let needs_wide = offsets.last().is_some_and(|&o| o > u64::from(u32::MAX));
            if needs_wide && !wide {
                wide = true;
                continue;
            }
            let moov = self.moov(&used, &timing, &offsets, wide)?;
            let mut head = ftyp_bytes;
            encode_moov(&moov, &mut head)?;
            debug_assert_eq!(
                head.len() as u64 + mdat_header_len(self.media_bytes),
                data_start
            );
            mdat_header(self.media_bytes, &mut head)?;
            return Ok(Layout { head });
        }
    }

    /// Per used track: durations and the edit list; the movie's duration.
    fn timing(&self, used: &[usize]) -> Result<Timing, Mp4Error> {
        let mut tracks = Vec::with_capacity(used.len());
        for &i in used {
            let track = &self.tracks[i];
            let samples = &self.samples[i];
            let durations = durations(samples, None, track.default_sample_ticks())?;
            let first_dts = samples.first().map_or(0, |s| s.dts);
            let end = samples
                .last()
                .zip(durations.last())
                .map_or(0, |(s, &d)| s.dts.saturating_add(u64::from(d)));
            // Presentation runs from the earliest composition time to the latest composition
            // end (with B-frames the last frame shown is not the last decoded).
            let mut first_pts = i128::MAX;
            let mut last_end = i128::MIN;
            for (s, &d) in samples.iter().zip(&durations) {
                let pts = i128::from(s.dts) + i128::from(s.cts_offset);
                first_pts = first_pts.min(pts);
                last_end = last_end.max(pts + i128::from(d));
            }
            tracks.push(TrackTiming {
                durations,
                media_duration: end.saturating_sub(first_dts),
                first_pts,
                media_time: u64::try_from(first_pts - i128::from(first_dts)).unwrap_or(0),
                presented: u64::try_from(last_end - first_pts).unwrap_or(0),
                empty: 0,
            });
        }
        // The clip's origin: the earliest first presentation time over tracks, in ns.
        let ns = |ticks: i128, timescale: u32| ticks * 1_000_000_000 / i128::from(timescale);
        let origin = used
            .iter()
            .zip(&tracks)
            .map(|(&i, t)| ns(t.first_pts, self.tracks[i].timescale()))
            .min()
            .unwrap_or(0);
        let mut movie_duration = 0;
        for (&i, t) in used.iter().zip(tracks.iter_mut()) {
            let late_ns = ns(t.first_pts, self.tracks[i].timescale()) - origin;
            t.empty =
                u64::try_from(late_ns * i128::from(MOVIE_TIMESCALE) / 1_000_000_000).unwrap_or(0);
            movie_duration = movie_duration.max(t.empty + self.to_movie(i, t.presented));
        }
        Ok(Timing {
            tracks,
            movie_duration,
        })
    }

    /// Track ticks to movie ticks (rounded to nearest).
    fn to_movie(&self, track: usize, ticks: u64) -> u64 {
        let timescale = u128::from(self.tracks[track].timescale());
        let scaled = u128::from(ticks) * u128::from(MOVIE_TIMESCALE);
        u64::try_from((scaled + timescale / 2) / timescale).unwrap_or(u64::MAX)
    }

    fn moov(
        &self,
        used: &[usize],
        timing: &Timing,
        offsets: &[u64],
        wide: bool,
    ) -> Result<Moov, Mp4Error> {
        let used_tracks: Vec<TrackDescription> =
            used.iter().map(|&i| self.tracks[i].clone()).collect();
        let mut traks = Vec::with_capacity(used.len());
        for (&i, t) in used.iter().zip(&timing.tracks) {
            let stbl = self.stbl(i, &t.durations, offsets, wide)?;
            let edts = (t.empty > 0 || t.media_time > 0).then(|| {
                let mut entries = Vec::new();
                if t.empty > 0 {
                    entries.push(ElstEntry {
                        segment_duration: t.empty,
                        media_time: None,
                        media_rate: 1.into(),
                    });
                }
                entries.push(ElstEntry {
                    segment_duration: self.to_movie(i, t.presented),
                    media_time: Some(t.media_time),
                    media_rate: 1.into(),
                });
                Edts {
                    elst: Some(Elst { entries }),
                }
            });
            let movie_duration = t.empty + self.to_movie(i, t.presented);
            traks.push(trak(
                &self.tracks[i],
                stbl,
                movie_duration,
                t.media_duration,
                edts,
            ));
        }
        Ok(Moov {
            mvhd: mvhd(&used_tracks, timing.movie_duration),
            trak: traks,
            ..Moov::default()
        })
    }

    /// The sample table of track `index` (stsd is filled in by `trak`).
    fn stbl(
        &self,
        index: usize,
        durations: &[u32],
        offsets: &[u64],
        wide: bool,
    ) -> Result<Stbl, Mp4Error> {
        let samples = &self.samples[index];
        let stts = Stts {
            entries: run_lengths(durations.iter().copied())
                .map(|(sample_count, sample_delta)| SttsEntry {
                    sample_count,
                    sample_delta,
                })
                .collect(),
        };
        let ctts = samples.iter().any(|s| s.cts_offset != 0).then(|| Ctts {
            entries: run_lengths(samples.iter().map(|s| s.cts_offset))
                .map(|(sample_count, sample_offset)| CttsEntry {
                    sample_count,
                    sample_offset,
                })
                .collect(),
        });
        let stss = if self.tracks[index].is_video() {
            let mut entries = Vec::new();
            for (n, sample) in samples.iter().enumerate() {
                if sample.key {
                    entries.push(to_u32(n as u64 + 1, "sample number")?);
                }
            }
            Some(Stss { entries })
        } else {
            None
        };
        let mut sizes = Vec::with_capacity(samples.len());
        for sample in samples {
            sizes.push(to_u32(sample.data.len() as u64, "sample size")?);
        }
        let mut chunk_offsets = Vec::new();
        let mut per_chunk = Vec::new();
        for (chunk, &offset) in self.chunks.iter().zip(offsets) {
            if chunk.track == index {
                chunk_offsets.push(offset);
                per_chunk.push(to_u32(chunk.count as u64, "samples per chunk")?);
            }
        }
        let mut stsc = Vec::new();
        let mut chunk_number: u32 = 1;
        for (count, samples_per_chunk) in run_lengths(per_chunk.into_iter()) {
            stsc.push(StscEntry {
                first_chunk: chunk_number,
                samples_per_chunk,
                sample_description_index: 1,
            });
            chunk_number = chunk_number.saturating_add(count);
        }
        let (stco, co64) = if wide {
            (
                None,
                Some(Co64 {
                    entries: chunk_offsets,
                }),
            )
        } else {
            let mut entries = Vec::with_capacity(chunk_offsets.len());
            for offset in chunk_offsets {
                entries.push(to_u32(offset, "chunk offset")?);
            }
            (Some(Stco { entries }), None)
        };
        Ok(Stbl {
            stts,
            ctts,
            stss,
            stsc: Stsc { entries: stsc },
            stsz: Stsz {
                samples: StszSamples::Different { sizes },
            },
            stco,
            co64,
            ..Stbl::default()
        })
    }
}

struct Layout {
    head: Vec<u8>,
}

struct Timing {
    tracks: Vec<TrackTiming>,
    movie_duration: u64,
}

struct TrackTiming {
    durations: Vec<u32>,
    /// Sum of the sample durations, track ticks.
    media_duration: u64,
    /// Earliest presentation time, track ticks (producer axis).
    first_pts: i128,
    /// Initial composition offset: first presentation − first decode time, track ticks.
    media_time: u64,
    /// From the first presentation to the end of the last one, track ticks.
    presented: u64,
    /// Empty edit before the track starts, movie ticks.
    empty: u64,
}

/// (count, value) runs of equal consecutive values.
fn run_lengths<T: PartialEq + Copy>(
    values: impl Iterator<Item = T>,
) -> impl Iterator<Item = (u32, T)> {
    let mut runs: Vec<(u32, T)> = Vec::new();
    for value in values {
        match runs.last_mut() {
            Some((count, last)) if *last == value && *count < u32::MAX => *count += 1,
            _ => runs.push((1, value)),
        }
    }
    runs.into_iter()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::track::CODEC_H264;
    use crate::track::tests::{AVCC_MAIN_30, track};
    use mp4_atom::{Decode, Ftyp, Header};
    use spate_mkv::TrackKind;

    /// Offsets past 4 GiB switch the clip to co64 and a 64-bit mdat size (the chunk lengths are
    /// faked: only the layout is built).
    #[test]
    fn offsets_beyond_4_gib_use_co64() {
        let video =
            TrackDescription::from_track(&track(1, TrackKind::Video, CODEC_H264, AVCC_MAIN_30))
                .expect("h264");
        let mut builder = ClipBuilder::new(vec![video]).expect("builder");
        let gib5 = 5 << 30;
        for n in 0..2u64 {
            builder.samples[0].push(TimedSample {
                dts: n * 3000,
                cts_offset: 0,
                key: n == 0,
                data: Bytes::from_static(&[0; 4]),
            });
            builder.chunks.push(ClipChunk {
                track: 0,
                first_sample: n as usize,
                count: 1,
                len: gib5,
            });
        }
        builder.media_bytes = 2 * gib5;
        let head = builder.layout().expect("layout").head;
        let mut buf = head.as_slice();
        Ftyp::decode(&mut buf).expect("ftyp");
        let moov = Moov::decode(&mut buf).expect("moov");
        let mdat = Header::decode(&mut buf).expect("mdat header");
        assert!(buf.is_empty());
        assert_eq!(mdat.size, Some(2 * gib5 as usize));
        let stbl = &moov.trak[0].mdia.minf.stbl;
        assert!(stbl.stco.is_none());
        let offsets = &stbl.co64.as_ref().expect("co64").entries;
        assert_eq!(offsets, &[head.len() as u64, head.len() as u64 + gib5]);
        assert_eq!(stbl.stss.as_ref().expect("stss").entries, [1]);
    }

    #[test]
    fn run_lengths_group_equal_neighbours() {
        let runs: Vec<(u32, u32)> = run_lengths([3, 3, 3, 4, 3].into_iter()).collect();
        assert_eq!(runs, [(3, 3), (1, 4), (1, 3)]);
        assert_eq!(run_lengths(std::iter::empty::<u32>()).count(), 0);
    }
}
