//! fMP4 from the ffmpeg fixtures, decoded back with mp4-atom: the init segment's tracks and
//! sample entries, and every media segment's samples against the MKV frames.

mod common;

use common::{AV2, AV2_BFRAMES, Stored, body, boxes, kinds, maybe_write, store, track_frames};
use mp4_atom::{Atom, Codec, Decode, Ftyp, Mdat, Moof, Moov};
use spate_mp4::{
    FirstDecodeTimes, KEY_SAMPLE_FLAGS, Mp4Error, NON_KEY_SAMPLE_FLAGS, TrackDescription,
    init_segment, media_segment,
};

/// One decoded sample of a media segment.
#[derive(Debug)]
struct Decoded {
    dts: u64,
    duration: u64,
    cts: i64,
    flags: u32,
    data: Vec<u8>,
}

/// Decodes a media segment: per traf (track id, tfdt, samples with their bytes out of the
/// segment at the trun's data offset).
fn decode_segment(segment: &[u8], sequence: u32) -> Vec<(u32, u64, Vec<Decoded>)> {
    let mut buf = segment;
    let moof = Moof::decode(&mut buf).expect("moof first");
    let moof_len = segment.len() - buf.len();
    let mdat = Mdat::decode(&mut buf).expect("mdat after the moof");
    assert!(buf.is_empty(), "nothing after the mdat");
    assert_eq!(moof.mfhd.sequence_number, sequence);
    let mut payload_seen = 0;
    let mut out = Vec::new();
    for traf in &moof.traf {
        assert!(traf.tfhd.default_base_is_moof);
        assert_eq!(traf.trun.len(), 1);
        let tfdt = traf.tfdt.as_ref().expect("tfdt").base_media_decode_time;
        let trun = &traf.trun[0];
        let mut at = usize::try_from(trun.data_offset.expect("data offset")).expect("positive");
        assert!(at >= moof_len + 8, "data inside the mdat");
        let mut dts = tfdt;
        let mut samples = Vec::new();
        for entry in trun.samples.iter() {
            let size = entry.size.expect("size") as usize;
            let duration = u64::from(entry.duration.expect("duration"));
            samples.push(Decoded {
                dts,
                duration,
                cts: entry.cts.expect("cts"),
                flags: entry.flags.expect("flags"),
                data: segment[at..at + size].to_vec(),
            });
            at += size;
            payload_seen += size;
            dts += duration;
        }
        out.push((traf.tfhd.track_id, tfdt, samples));
    }
    assert_eq!(payload_seen, mdat.data.len(), "the trafs cover the mdat");
    out
}

fn check_init(stored: &Stored, tracks: &[TrackDescription]) -> Vec<u8> {
    let init = init_segment(tracks).expect("init segment");
    // Box order of ISO/IEC 14496-12 §6.2.3.
    assert_eq!(kinds(&init), ["ftyp", "moov"]);
    let moov_body = body(&init, "moov");
    assert_eq!(kinds(moov_body), ["mvhd", "trak", "trak", "mvex"]);
    for (kind, trak) in boxes(moov_body) {
        if kind == "trak" {
            assert_eq!(kinds(trak), ["tkhd", "mdia"]);
        }
    }
    let mut buf = init.as_ref();
    let ftyp = Ftyp::decode(&mut buf).expect("ftyp");
    assert_eq!(ftyp.major_brand, b"iso6".into());
    let moov = Moov::decode(&mut buf).expect("moov");
    assert!(buf.is_empty());
    let ids: Vec<u32> = moov.trak.iter().map(|t| t.tkhd.track_id).collect();
    assert_eq!(ids, [1, 2]);
    let trex: Vec<u32> = moov
        .mvex
        .as_ref()
        .expect("mvex")
        .trex
        .iter()
        .map(|t| t.track_id)
        .collect();
    assert_eq!(trex, [1, 2]);
    let video = &moov.trak[0];
    assert_eq!(video.mdia.mdhd.timescale, 90_000);
    assert_eq!(video.mdia.hdlr.handler, b"vide".into());
    let Codec::Avc1(avc1) = &video.mdia.minf.stbl.stsd.codecs[0] else {
        panic!("avc1 expected");
    };
    assert_eq!((avc1.visual.width, avc1.visual.height), (160, 90));
    let mut avcc = Vec::new();
    avc1.avcc.encode_body(&mut avcc).expect("encode avcC");
    let info = stored.header.track(1).expect("video track");
    assert_eq!(avcc, info.codec_private.as_ref(), "avcC = CodecPrivate");
    let audio = &moov.trak[1];
    let audio_info = stored.header.track(2).expect("audio track");
    let rate = audio_info.sampling_rate.expect("rate").round() as u32;
    assert_eq!(audio.mdia.mdhd.timescale, rate);
    assert_eq!(audio.mdia.hdlr.handler, b"soun".into());
    let Codec::Mp4a(mp4a) = &audio.mdia.minf.stbl.stsd.codecs[0] else {
        panic!("mp4a expected");
    };
    let dsi = mp4a
        .esds
        .es_desc
        .dec_config
        .dec_specific
        .as_ref()
        .expect("DSI");
    assert_eq!(mp4a.esds.es_desc.dec_config.object_type_indication, 0x40);
    assert_eq!(
        dsi.raw,
        audio_info.codec_private.as_ref(),
        "DSI = CodecPrivate"
    );
    init.to_vec()
}

/// Init + every fragment (each told the next one's first decode times), checked against the
/// MKV; returns the decoded samples per track and the concatenated stream.
fn check_fragments(input: &[u8], name: &str) -> (Stored, Vec<Vec<Decoded>>) {
    let stored = store(input);
    let tracks = TrackDescription::all(&stored.header).expect("supported tracks");
    // ffprobe: Main profile (0x4d), level 11 (0x0b), constraint flags 0x40 (avcC byte 2).
    assert_eq!(tracks[0].codec_string(), "avc1.4d400b");
    assert_eq!(tracks[1].codec_string(), "mp4a.40.2");
    assert_eq!(tracks[0].resolution(), Some((160, 90)));
    let mut stream = check_init(&stored, &tracks);
    let mut per_track: Vec<Vec<Decoded>> = vec![Vec::new(), Vec::new()];
    // Per track: where the previous fragment ended (tfdt + its durations).
    let mut ends: [Option<u64>; 2] = [None, None];
    for (i, chunk) in stored.chunks.iter().enumerate() {
        let next = stored
            .chunks
            .get(i + 1)
            .map(|c| FirstDecodeTimes::of(c, &tracks).expect("next fragment"));
        let sequence = u32::try_from(i + 1).expect("small");
        let segment = media_segment(chunk, &tracks, sequence, next.as_ref()).expect("segment");
        stream.extend_from_slice(&segment);
        for (index, (track_id, tfdt, samples)) in
            decode_segment(&segment, sequence).into_iter().enumerate()
        {
            assert_eq!(track_id, tracks[index].track_id());
            if let Some(end) = ends[index] {
                assert_eq!(tfdt, end, "track {track_id}: decode times continue");
            }
            ends[index] = samples.last().map(|s| s.dts + s.duration);
            per_track[index].extend(samples);
        }
    }
    maybe_write(name, &stream);
    for (index, decoded) in per_track.iter().enumerate() {
        let frames = track_frames(&stored, u64::from(tracks[index].track_id()));
        assert_eq!(decoded.len(), frames.len(), "one sample per MKV frame");
        for (sample, frame) in decoded.iter().zip(&frames) {
            assert_eq!(
                sample.data,
                frame.data.as_ref(),
                "sample bytes = frame bytes"
            );
            let flags = if frame.key {
                KEY_SAMPLE_FLAGS
            } else {
                NON_KEY_SAMPLE_FLAGS
            };
            assert_eq!(sample.flags, flags);
            assert!(sample.duration > 0);
        }
    }
    (stored, per_track)
}

#[test]
fn av2_init_and_fragments_round_trip() {
    let (stored, per_track) = check_fragments(AV2, "av2-fmp4.mp4");
    let video = &per_track[0];
    assert_eq!(video.len(), 50);
    assert!(video.iter().all(|s| s.cts == 0), "no B-frames: DTS = PTS");
    // The producer-time axis: the first DTS is the first frame's producer time at 90 kHz.
    let frames = track_frames(&stored, 1);
    for (sample, frame) in video.iter().zip(&frames) {
        assert_eq!(
            sample.dts,
            frame.pts_ms * 90,
            "producer ms since the epoch at 90 kHz"
        );
        assert_eq!(sample.duration, 3600, "25 fps");
    }
    let audio = &per_track[1];
    assert_eq!(audio.len(), 95);
    let rate = stored
        .header
        .track(2)
        .and_then(|t| t.sampling_rate)
        .expect("rate");
    let audio_frames = track_frames(&stored, 2);
    for (sample, frame) in audio.iter().zip(&audio_frames) {
        // AAC decode times are whole frames; the MKV's ms times are within 1 ms of them.
        let ms_ticks = (frame.pts_ms as f64) * rate / 1000.0;
        assert!((sample.dts as f64 - ms_ticks).abs() <= rate / 1000.0);
    }
}

#[test]
fn b_frame_fragments_carry_composition_offsets() {
    let (stored, per_track) = check_fragments(AV2_BFRAMES, "av2-bframes-fmp4.mp4");
    let video = &per_track[0];
    let frames = track_frames(&stored, 1);
    let mut reordered = 0;
    for (sample, frame) in video.iter().zip(&frames) {
        // Presentation = decode + offset = the MKV block time.
        let pts = i128::from(sample.dts) + i128::from(sample.cts);
        assert_eq!(pts, i128::from(frame.pts_ms) * 90);
        reordered += usize::from(sample.cts != 0);
    }
    assert!(reordered > 0, "-bf 2 gives composition offsets");
    assert!(video.windows(2).all(|w| w[0].dts < w[1].dts));
}

#[test]
fn last_sample_without_next_fragment_gets_the_median() {
    let stored = store(AV2);
    let tracks = TrackDescription::all(&stored.header).expect("tracks");
    let segment = media_segment(&stored.chunks[0], &tracks, 7, None).expect("segment");
    let decoded = decode_segment(&segment, 7);
    let video = &decoded[0].2;
    assert_eq!(video.last().map(|s| s.duration), Some(3600));
    // Only the video track asked for: one traf.
    let only_video = media_segment(&stored.chunks[0], &tracks[..1], 1, None).expect("segment");
    assert_eq!(decode_segment(&only_video, 1).len(), 1);
}

#[test]
fn a_fragment_of_another_codec_private_is_refused() {
    let stored = store(AV2);
    // The same stream with another level in its avcC: fragments of av2 do not belong to it.
    let mut changed = stored.header.tracks_info[0].clone();
    let mut private = changed.codec_private.to_vec();
    private[3] = 0x1e;
    changed.codec_private = private.into();
    let tracks = [TrackDescription::from_track(&changed).expect("valid avcC")];
    assert_eq!(tracks[0].codec_string(), "avc1.4d401e");
    let err = media_segment(&stored.chunks[0], &tracks, 1, None).expect_err("mismatch");
    assert!(
        matches!(err, Mp4Error::TrackMismatch { track: 1, .. }),
        "{err}"
    );
    // A fragment whose header lacks a described track.
    let mut header = stored.header.clone();
    header.tracks_info[1].number = 3;
    let extra = TrackDescription::from_track(&header.tracks_info[1]).expect("aac");
    let err = media_segment(&stored.chunks[0], &[extra], 1, None).expect_err("no track 3");
    assert!(
        matches!(err, Mp4Error::TrackMismatch { track: 3, .. }),
        "{err}"
    );
}
