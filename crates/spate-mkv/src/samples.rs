//! Samples of a stored chunk for MP4 muxing (HLS, DASH, GetClip): per block its track, PTS,
//! derived DTS, duration, key flag and frame bytes (H.264/H.265 frames in MKV are already
//! length-prefixed, as MP4 wants).
//!
//! MKV block times are presentation times in decode order. Video DTS: the sorted PTS assigned in
//! decode order, then all shifted back by `max(dts − pts)` so composition offsets are ≥ 0
//! (B-frames). Unverified: this heuristic assumes each fragment is a closed GOP (its PTS set is
//! its DTS set), as x264 and the producer SDK's one-fragment-per-key-frame give. AAC DTS: 1024 (or 960) samples per frame from the first block's time, so there is
//! no millisecond-rounding drift. Durations: the next sample's DTS; the last one gets the median
//! of the others (or the track's DefaultDuration) — the caller may replace it with the next
//! fragment's first DTS.

use bytes::Bytes;

use crate::chunk::StoredChunk;
use crate::error::MkvError;
use crate::header::{MediaHeader, TrackInfo};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    pub track: u64,
    pub pts_ns: i64,
    pub dts_ns: i64,
    pub duration_ns: u64,
    pub key: bool,
    pub data: Bytes,
}

/// The chunk's samples in the cluster's (decode) order.
pub fn samples(chunk: &StoredChunk, header: &MediaHeader) -> Result<Vec<Sample>, MkvError> {
    let cluster = chunk.raw_cluster()?;
    let scale = i128::from(header.timecode_scale_ns);
    let mut out = Vec::with_capacity(cluster.blocks.len());
    for block in &cluster.blocks {
        if block.laced {
            return Err(MkvError::Laced { track: block.track });
        }
        let pts_ns = i64::try_from(i128::from(block.timecode) * scale)
            .map_err(|_| MkvError::invalid("block time out of range"))?;
        out.push(Sample {
            track: block.track,
            pts_ns,
            dts_ns: pts_ns,
            duration_ns: 0,
            key: block.key,
            data: cluster.frame(block),
        });
    }
    for track in &header.tracks_info {
        let indexes: Vec<usize> = (0..out.len())
            .filter(|&i| out[i].track == track.number)
            .collect();
        match aac_frame_ns(track) {
            Some(frame) => aac_times(&mut out, &indexes, frame),
            None => reordered_times(&mut out, &indexes),
        }
        fill_durations(&mut out, &indexes, track.default_duration_ns);
    }
    Ok(out)
}

/// Samples per AAC frame from the AudioSpecificConfig's frameLengthFlag (960 or 1024), for
/// object types below 31 (escape-coded types get 1024).
fn aac_frame_samples(asc: &[u8]) -> u64 {
    let (Some(&b0), Some(&b1)) = (asc.first(), asc.get(1)) else {
        return 1024;
    };
    if b0 >> 3 == 31 {
        return 1024;
    }
    let frequency_index = ((b0 & 0x07) << 1) | (b1 >> 7);
    // aot(5) freq(4) [explicit freq(24)] channels(4) frameLengthFlag(1)
    let flag_bit = if frequency_index == 15 { 37 } else { 13 };
    match asc.get(flag_bit / 8) {
        Some(&byte) if (byte >> (7 - flag_bit % 8)) & 1 == 1 => 960,
        _ => 1024,
    }
}

/// Nanoseconds per AAC frame × 1 (as a (samples, rate) pair), for A_AAC tracks with a rate.
fn aac_frame_ns(track: &TrackInfo) -> Option<(u64, u64)> {
    if !track.codec_id.starts_with("A_AAC") {
        return None;
    }
    let rate = track.sampling_rate.filter(|r| r.is_finite() && *r >= 1.0)?;
    Some((aac_frame_samples(&track.codec_private), rate.round() as u64))
}

/// AAC: DTS = PTS = first PTS + n·frame, computed from n so rounding does not accumulate.
fn aac_times(out: &mut [Sample], indexes: &[usize], (frame_samples, rate): (u64, u64)) {
    let Some(&first) = indexes.first() else {
        return;
    };
    let start = i128::from(out[first].pts_ns);
    for (n, &i) in indexes.iter().enumerate() {
        let offset = (n as i128) * i128::from(frame_samples) * 1_000_000_000 / i128::from(rate);
        let time = i64::try_from(start + offset).unwrap_or(i64::MAX);
        out[i].pts_ns = time;
        out[i].dts_ns = time;
    }
}

/// Video and others: the sorted PTS in decode order, shifted so that DTS ≤ PTS everywhere.
fn reordered_times(out: &mut [Sample], indexes: &[usize]) {
    let mut sorted: Vec<i64> = indexes.iter().map(|&i| out[i].pts_ns).collect();
    sorted.sort_unstable();
    let shift = indexes
        .iter()
        .zip(&sorted)
        .map(|(&i, &dts)| i128::from(dts) - i128::from(out[i].pts_ns))
        .max()
        .unwrap_or(0)
        .max(0);
    for (&i, &dts) in indexes.iter().zip(&sorted) {
        out[i].dts_ns = i64::try_from(i128::from(dts) - shift).unwrap_or(i64::MIN);
    }
}

/// Duration = next DTS − this DTS; the last sample gets the median of the others, else the
/// track's DefaultDuration, else 0.
fn fill_durations(out: &mut [Sample], indexes: &[usize], default_ns: Option<u64>) {
    for pair in indexes.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        out[a].duration_ns =
            u64::try_from(i128::from(out[b].dts_ns) - i128::from(out[a].dts_ns)).unwrap_or(0);
    }
    let Some(&last) = indexes.last() else {
        return;
    };
    let mut others: Vec<u64> = indexes[..indexes.len() - 1]
        .iter()
        .map(|&i| out[i].duration_ns)
        .collect();
    others.sort_unstable();
    out[last].duration_ns = others
        .get(others.len() / 2)
        .copied()
        .or(default_ns)
        .unwrap_or(0);
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::BytesMut;

    use crate::cluster::tests::simple_block;
    use crate::header::tests::{ebml_header, info, tracks};
    use crate::{ebml, ids};

    fn chunk_with(blocks: &[(u8, i16, u8)]) -> (StoredChunk, MediaHeader) {
        let header = MediaHeader::parse(
            ebml_header(),
            info(1_000_000),
            tracks(&[(1, 1, "V_MPEG/ISO/AVC"), (2, 2, "A_AAC")]),
        )
        .expect("header");
        let mut body = BytesMut::new();
        ebml::write_uint(&mut body, ids::TIMECODE, 1_000);
        for &(track, relative, flags) in blocks {
            body.extend_from_slice(&simple_block(track, relative, flags, &[7]));
        }
        let mut cluster = BytesMut::new();
        ebml::write_element(&mut cluster, ids::CLUSTER, &body);
        (StoredChunk::new(&header, cluster.freeze(), &[]), header)
    }

    #[test]
    fn b_frames_get_dts_before_pts() {
        // decode order I0 P120 B40 B80 (ms), as x264 with -bf 2 writes.
        let (chunk, header) = chunk_with(&[
            (1, 0, 0x80),
            (1, 120, 0),
            (1, 40, 0),
            (1, 80, 0),
            (2, 0, 0x80),
        ]);
        let all = samples(&chunk, &header).expect("samples");
        let video: Vec<&Sample> = all.iter().filter(|s| s.track == 1).collect();
        let ms = |ns: i64| ns / 1_000_000 - 1_000;
        let dts: Vec<i64> = video.iter().map(|s| ms(s.dts_ns)).collect();
        assert_eq!(dts, [-40, 0, 40, 80]);
        assert!(video.iter().all(|s| s.dts_ns <= s.pts_ns));
        assert!(video.iter().all(|s| s.duration_ns == 40_000_000));
        assert!(video[0].key);
    }

    #[test]
    fn aac_times_come_from_the_frame_count() {
        let (chunk, header) =
            chunk_with(&[(1, 0, 0x80), (2, 0, 0x80), (2, 21, 0x80), (2, 43, 0x80)]);
        let all = samples(&chunk, &header).expect("samples");
        let audio: Vec<&Sample> = all.iter().filter(|s| s.track == 2).collect();
        let frame = 1024 * 1_000_000_000 / 48_000;
        assert_eq!(audio[2].dts_ns - audio[0].dts_ns, 2 * frame);
        assert_eq!(audio[0].duration_ns, frame as u64);
        assert_eq!(audio[2].duration_ns, frame as u64);
    }

    #[test]
    fn lacing_is_refused_and_960_is_read() {
        let (chunk, header) = chunk_with(&[(1, 0, 0x82), (2, 0, 0x80)]);
        assert_eq!(
            samples(&chunk, &header).expect_err("laced"),
            MkvError::Laced { track: 1 }
        );
        assert_eq!(aac_frame_samples(&[0x11, 0x90]), 1024);
        assert_eq!(aac_frame_samples(&[0x11, 0x94]), 960);
        assert_eq!(aac_frame_samples(&[]), 1024);
    }
}
