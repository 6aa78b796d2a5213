//! The fMP4 initialization segment (HLS `EXT-X-MAP`, DASH `initialization`) for one or several
//! tracks: `ftyp(iso6; iso6, cmfc, mp41)` + `moov{mvhd, trak per track with empty sample tables,
//! mvex{trex per track}}`.

use bytes::Bytes;
use mp4_atom::{Moov, Mvex, Stbl, Stco, Trex};

use crate::error::Mp4Error;
use crate::movie::{encode_into, encode_moov, ftyp, mvhd, trak};
use crate::track::TrackDescription;

/// The init segment of `tracks` (track IDs = MKV track numbers; video timescale 90000, audio
/// timescale = sampling rate). Media segments from [`crate::media_segment`] with the same
/// tracks follow it.
pub fn init_segment(tracks: &[TrackDescription]) -> Result<Bytes, Mp4Error> {
    if tracks.is_empty() {
        return Err(Mp4Error::NoTracks);
    }
    let moov = Moov {
        mvhd: mvhd(tracks, 0),
        mvex: Some(Mvex {
            mehd: None,
            trex: tracks
                .iter()
                .map(|t| Trex {
                    track_id: t.track_id(),
                    default_sample_description_index: 1,
                    ..Trex::default()
                })
                .collect(),
        }),
        trak: tracks
            .iter()
            .map(|t| {
                let empty = Stbl {
                    stco: Some(Stco::default()),
                    ..Stbl::default()
                };
                trak(t, empty, 0, 0, None)
            })
            .collect(),
        ..Moov::default()
    };
    let mut out = Vec::new();
    encode_into(
        &ftyp(b"iso6", &[b"iso6", b"cmfc", b"mp41"]),
        "ftyp",
        &mut out,
    )?;
    encode_moov(&moov, &mut out)?;
    Ok(Bytes::from(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::track::tests::{hvcc_main_31, track};
    use crate::track::{CODEC_AAC, CODEC_H265};
    use mp4_atom::{Atom, Codec, Decode, Ftyp};
    use spate_mkv::TrackKind;

    #[test]
    fn hevc_and_aac_init_decodes_back() {
        let hevc =
            TrackDescription::from_track(&track(1, TrackKind::Video, CODEC_H265, &hvcc_main_31()))
                .expect("hevc");
        let aac =
            TrackDescription::from_track(&track(2, TrackKind::Audio, CODEC_AAC, &[0x12, 0x10]))
                .expect("aac");
        let init = init_segment(&[hevc, aac]).expect("init");
        let mut buf = init.as_ref();
        let ftyp = Ftyp::decode(&mut buf).expect("ftyp");
        assert_eq!(ftyp.compatible_brands.len(), 3);
        let moov = Moov::decode(&mut buf).expect("moov");
        let Codec::Hvc1(hvc1) = &moov.trak[0].mdia.minf.stbl.stsd.codecs[0] else {
            panic!("hvc1 expected");
        };
        let mut hvcc = Vec::new();
        hvc1.hvcc.encode_body(&mut hvcc).expect("encode");
        assert_eq!(hvcc, hvcc_main_31(), "hvcC = CodecPrivate");
        assert_eq!((hvc1.visual.width, hvc1.visual.height), (640, 360));
        assert_eq!(moov.trak[0].tkhd.track_id, 1);
        assert_eq!(moov.trak[1].mdia.mdhd.timescale, 44_100);
        let Codec::Mp4a(mp4a) = &moov.trak[1].mdia.minf.stbl.stsd.codecs[0] else {
            panic!("mp4a expected");
        };
        assert_eq!(mp4a.audio.channel_count, 2);
        assert_eq!(moov.mvhd.next_track_id, 3);
        assert_eq!(
            init_segment(&[]).expect_err("no tracks"),
            Mp4Error::NoTracks
        );
    }
}
