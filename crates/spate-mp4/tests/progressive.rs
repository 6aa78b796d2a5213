//! Progressive MP4 clips of the ffmpeg fixtures, decoded back with mp4-atom: moov before mdat,
//! sample tables against the MKV frames, chunk offsets pointing at the frames' bytes, the time
//! axis from 0 with an edit for B-frames' initial composition offset.

mod common;

use bytes::Bytes;
use common::{AV2, AV2_BFRAMES, Stored, body, boxes, kinds, maybe_write, store, track_frames};
use mp4_atom::{Decode, Ftyp, Mdat, Moov, StszSamples, Trak};
use spate_mp4::{ClipBuilder, Mp4Error, TrackDescription};

/// The clip of every fragment of `stored`.
fn clip(stored: &Stored) -> Bytes {
    let tracks = TrackDescription::all(&stored.header).expect("tracks");
    let mut builder = ClipBuilder::new(tracks).expect("builder");
    for chunk in &stored.chunks {
        builder.push_fragment(chunk).expect("fragment");
    }
    assert_eq!(builder.fragment_count(), stored.chunks.len());
    let size = builder.byte_size().expect("size");
    let media: u64 = stored
        .frames
        .iter()
        .flatten()
        .map(|f| f.data.len() as u64)
        .sum();
    assert_eq!(builder.media_bytes(), media);
    let file = builder.finish().expect("clip");
    assert_eq!(file.len() as u64, size, "byte_size is exact");
    file
}

/// Expands stts/ctts runs to one value per sample.
fn expand<T: Copy>(runs: impl Iterator<Item = (u32, T)>) -> Vec<T> {
    runs.flat_map(|(n, v)| std::iter::repeat_n(v, n as usize))
        .collect()
}

/// Each sample's bytes, located through stsc, stco and stsz.
fn sample_bytes(file: &[u8], trak: &Trak) -> Vec<Vec<u8>> {
    let stbl = &trak.mdia.minf.stbl;
    let StszSamples::Different { sizes } = &stbl.stsz.samples else {
        panic!("per-sample sizes expected");
    };
    let offsets = &stbl.stco.as_ref().expect("stco under 4 GiB").entries;
    let mut per_chunk = Vec::new();
    for (i, entry) in stbl.stsc.entries.iter().enumerate() {
        let end = stbl
            .stsc
            .entries
            .get(i + 1)
            .map_or(offsets.len() as u32 + 1, |e| e.first_chunk);
        for _ in entry.first_chunk..end {
            per_chunk.push(entry.samples_per_chunk as usize);
        }
    }
    assert_eq!(per_chunk.len(), offsets.len());
    let mut out = Vec::new();
    let mut sample = 0;
    for (&offset, &count) in offsets.iter().zip(&per_chunk) {
        let mut at = offset as usize;
        for _ in 0..count {
            let size = sizes[sample] as usize;
            out.push(file[at..at + size].to_vec());
            at += size;
            sample += 1;
        }
    }
    assert_eq!(sample, sizes.len());
    out
}

/// Decodes a clip: ftyp, moov and mdat in that order, nothing else; checks every track against
/// the MKV; returns the moov.
fn check_clip(stored: &Stored, file: &[u8]) -> Moov {
    // Box order of ISO/IEC 14496-12 §6.2.3; the video track has an edit (it starts after the
    // audio in both fixtures).
    assert_eq!(kinds(file), ["ftyp", "moov", "mdat"]);
    let traks: Vec<&[u8]> = boxes(body(file, "moov"))
        .into_iter()
        .filter(|(kind, _)| kind == "trak")
        .map(|(_, trak)| trak)
        .collect();
    assert_eq!(kinds(body(file, "moov")), ["mvhd", "trak", "trak"]);
    assert_eq!(kinds(traks[0]), ["tkhd", "edts", "mdia"]);
    let mut buf = file;
    let ftyp = Ftyp::decode(&mut buf).expect("ftyp first");
    assert_eq!(ftyp.major_brand, b"isom".into());
    let moov = Moov::decode(&mut buf).expect("moov before mdat");
    let mdat_start = file.len() - buf.len();
    let mdat = Mdat::decode(&mut buf).expect("mdat last");
    assert!(buf.is_empty());
    assert_eq!(moov.mvhd.timescale, 1000);
    let ids: Vec<u32> = moov.trak.iter().map(|t| t.tkhd.track_id).collect();
    assert_eq!(ids, [1, 2]);
    for trak in &moov.trak {
        let track = u64::from(trak.tkhd.track_id);
        let frames = track_frames(stored, track);
        let stbl = &trak.mdia.minf.stbl;
        let bytes = sample_bytes(file, trak);
        assert_eq!(
            bytes.len(),
            frames.len(),
            "track {track}: one sample per frame"
        );
        for (sample, frame) in bytes.iter().zip(&frames) {
            assert_eq!(sample, frame.data.as_ref());
        }
        let first_offset = stbl.stco.as_ref().expect("stco").entries[0] as usize;
        assert!(
            first_offset >= mdat_start + 8,
            "offsets point into the mdat"
        );
        let durations = expand(
            stbl.stts
                .entries
                .iter()
                .map(|e| (e.sample_count, e.sample_delta)),
        );
        assert_eq!(durations.len(), frames.len());
        assert!(durations.iter().all(|&d| d > 0));
        let total: u64 = durations.iter().map(|&d| u64::from(d)).sum();
        assert_eq!(trak.mdia.mdhd.duration, total);
        // One chunk per fragment and track.
        assert_eq!(
            stbl.stco.as_ref().expect("stco").entries.len(),
            stored.chunks.len()
        );
        if trak.mdia.hdlr.handler == b"vide".into() {
            assert_eq!(trak.mdia.mdhd.timescale, 90_000);
            let keys: Vec<u32> = frames
                .iter()
                .enumerate()
                .filter(|(_, f)| f.key)
                .map(|(n, _)| n as u32 + 1)
                .collect();
            assert_eq!(stbl.stss.as_ref().expect("stss").entries, keys);
        } else {
            assert!(stbl.stss.is_none(), "audio: every sample is a sync sample");
        }
    }
    assert_eq!(
        mdat.data.len() as u64,
        stored
            .frames
            .iter()
            .flatten()
            .map(|f| f.data.len() as u64)
            .sum::<u64>()
    );
    // ~2 s of media.
    assert!(
        (1900..=2200).contains(&moov.mvhd.duration),
        "{}",
        moov.mvhd.duration
    );
    moov
}

/// Presentation times (track ticks, after the edit list) of the video samples, in decode order.
fn presentation_times(trak: &Trak) -> Vec<i64> {
    let stbl = &trak.mdia.minf.stbl;
    let durations = expand(
        stbl.stts
            .entries
            .iter()
            .map(|e| (e.sample_count, e.sample_delta)),
    );
    let offsets = match &stbl.ctts {
        Some(ctts) => expand(
            ctts.entries
                .iter()
                .map(|e| (e.sample_count, e.sample_offset)),
        ),
        None => vec![0; durations.len()],
    };
    let media_time = trak
        .edts
        .as_ref()
        .and_then(|e| e.elst.as_ref())
        .and_then(|elst| elst.entries.iter().find_map(|e| e.media_time))
        .unwrap_or(0);
    let mut dts = 0i64;
    let mut out = Vec::new();
    for (d, cts) in durations.iter().zip(offsets) {
        out.push(dts + cts - media_time as i64);
        dts += i64::from(*d);
    }
    out
}

#[test]
fn av2_clip_round_trips() {
    let stored = store(AV2);
    let file = clip(&stored);
    maybe_write("av2-clip.mp4", &file);
    let moov = check_clip(&stored, &file);
    let video = &moov.trak[0];
    assert!(video.mdia.minf.stbl.ctts.is_none(), "no B-frames: no ctts");
    // Time axis from 0: presentation times are the MKV times minus the first.
    let frames = track_frames(&stored, 1);
    let want: Vec<i64> = frames
        .iter()
        .map(|f| (f.pts_ms - frames[0].pts_ms) as i64 * 90)
        .collect();
    assert_eq!(presentation_times(video), want);
    // The audio starts the clip; the video starts later by the MKV's own gap, as an empty edit.
    let audio_frames = track_frames(&stored, 2);
    let gap_ms = frames[0].pts_ms - audio_frames[0].pts_ms;
    assert!(
        gap_ms > 0,
        "ffmpeg starts this fixture's video after its audio"
    );
    let elst = video
        .edts
        .as_ref()
        .and_then(|e| e.elst.as_ref())
        .expect("video edit");
    assert_eq!(elst.entries[0].media_time, None, "an empty edit first");
    assert_eq!(elst.entries[0].segment_duration, gap_ms);
    assert!(moov.trak[1].edts.is_none(), "audio is at 0 already");
}

#[test]
fn b_frame_clip_has_ctts_and_an_edit() {
    let stored = store(AV2_BFRAMES);
    let file = clip(&stored);
    maybe_write("av2-bframes-clip.mp4", &file);
    let moov = check_clip(&stored, &file);
    let video = &moov.trak[0];
    let ctts = video
        .mdia
        .minf
        .stbl
        .ctts
        .as_ref()
        .expect("ctts with B-frames");
    assert!(ctts.entries.iter().any(|e| e.sample_offset != 0));
    let elst = video
        .edts
        .as_ref()
        .and_then(|e| e.elst.as_ref())
        .expect("an edit for the initial composition offset");
    let media_edit = elst
        .entries
        .iter()
        .find(|e| e.media_time.is_some())
        .expect("a media edit");
    assert!(media_edit.media_time.is_some_and(|t| t > 0));
    // 50 frames of 40 ms are all shown (the last shown is not the last decoded).
    assert_eq!(media_edit.segment_duration, 2000);
    let frames = track_frames(&stored, 1);
    let first = frames.iter().map(|f| f.pts_ms).min().expect("frames");
    let want: Vec<i64> = frames
        .iter()
        .map(|f| (f.pts_ms - first) as i64 * 90)
        .collect();
    assert_eq!(
        presentation_times(video),
        want,
        "the first frame is shown at 0"
    );
}

#[test]
fn refused_fragments_leave_the_builder_as_it_was() {
    let stored = store(AV2);
    let tracks = TrackDescription::all(&stored.header).expect("tracks");
    let mut builder = ClipBuilder::new(tracks).expect("builder");
    builder
        .push_fragment(&stored.chunks[1])
        .expect("second fragment");
    let before = builder.byte_size().expect("size");
    let err = builder
        .push_fragment(&stored.chunks[0])
        .expect_err("out of order");
    assert_eq!(err, Mp4Error::OutOfOrder { track: 1 });
    assert_eq!(builder.fragment_count(), 1);
    assert_eq!(builder.byte_size().expect("size"), before);
    assert_eq!(
        ClipBuilder::new(Vec::new()).expect_err("no tracks"),
        Mp4Error::NoTracks
    );
    let empty =
        ClipBuilder::new(TrackDescription::all(&stored.header).expect("tracks")).expect("builder");
    assert_eq!(empty.finish().expect_err("empty"), Mp4Error::NoSamples);
}
