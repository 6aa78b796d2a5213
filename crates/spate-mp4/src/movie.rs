//! Boxes shared by the fMP4 init segment and the progressive clip: `ftyp`, `mvhd` and each
//! track's `trak` around a given sample table, and encoding through `mp4-atom`.
//!
//! `moov` and `trak` are assembled here rather than by `mp4-atom`, whose encoder writes `mvex`
//! before the `trak`s and `edts` after `mdia`: ISO/IEC 14496-12's box order table (§6.2.3)
//! recommends `mvhd, trak…, mvex` and `tkhd, edts, mdia`, and some players (QuickTime) are
//! stricter about order than ffmpeg. Every child box is still encoded by `mp4-atom`.

use mp4_atom::{
    Dinf, Dref, DrefEntry, Edts, Encode, FourCC, Ftyp, Hdlr, Matrix, Mdhd, Mdia, Minf, Moov, Mvhd,
    Smhd, Stbl, Stsd, Tkhd, Trak, Url, Vmhd,
};

use crate::error::Mp4Error;
use crate::track::TrackDescription;

/// Timescale of `mvhd` (and so of `tkhd` and `elst` segment durations): milliseconds.
pub(crate) const MOVIE_TIMESCALE: u32 = 1000;

pub(crate) fn ftyp(major: &[u8; 4], compatible: &[&[u8; 4]]) -> Ftyp {
    Ftyp {
        major_brand: FourCC::new(major),
        minor_version: 512,
        compatible_brands: compatible.iter().map(|b| FourCC::new(b)).collect(),
    }
}

/// `mvhd` with the next free track ID after `tracks`.
pub(crate) fn mvhd(tracks: &[TrackDescription], duration: u64) -> Mvhd {
    let last_id = tracks.iter().map(|t| t.track_id()).max().unwrap_or(0);
    Mvhd {
        timescale: MOVIE_TIMESCALE,
        duration,
        rate: 1.into(),
        volume: 1.into(),
        matrix: Matrix::default(),
        next_track_id: last_id.saturating_add(1),
        ..Mvhd::default()
    }
}

/// A `trak` for `track` with its sample table (the `stsd` is filled in here), durations in
/// the movie timescale (`tkhd`) and the track's timescale (`mdhd`).
pub(crate) fn trak(
    track: &TrackDescription,
    mut stbl: Stbl,
    movie_duration: u64,
    media_duration: u64,
    edts: Option<Edts>,
) -> Trak {
    stbl.stsd = Stsd {
        codecs: vec![track.sample_entry()],
    };
    let (width, height) = track.resolution().unwrap_or((0, 0));
    let video = track.is_video();
    Trak {
        tkhd: Tkhd {
            track_id: track.track_id(),
            duration: movie_duration,
            enabled: true,
            in_movie: true,
            volume: if video { 0.into() } else { 1.into() },
            matrix: Matrix::default(),
            width: width.into(),
            height: height.into(),
            // Unverified: audio tracks in alternate group 1, video in 0, as ffmpeg writes.
            alternate_group: u16::from(!video),
            ..Tkhd::default()
        },
        edts,
        mdia: Mdia {
            mdhd: Mdhd {
                timescale: track.timescale(),
                duration: media_duration,
                language: "und".to_owned(),
                ..Mdhd::default()
            },
            hdlr: Hdlr {
                handler: FourCC::new(if video { b"vide" } else { b"soun" }),
                name: if video {
                    "VideoHandler"
                } else {
                    "SoundHandler"
                }
                .to_owned(),
            },
            minf: Minf {
                vmhd: video.then(Vmhd::default),
                smhd: (!video).then(Smhd::default),
                dinf: Dinf {
                    dref: Dref {
                        entries: vec![DrefEntry::Url(Url::default())],
                    },
                },
                stbl,
                ..Minf::default()
            },
        },
        ..Trak::default()
    }
}

/// Encodes one box onto `out`.
pub(crate) fn encode_into<T: Encode>(
    value: &T,
    what: &'static str,
    out: &mut Vec<u8>,
) -> Result<(), Mp4Error> {
    value.encode(out).map_err(|err| Mp4Error::encode(what, err))
}

/// Encodes `moov` as `mvhd, trak…, mvex` with each `trak` as `tkhd, edts, mdia` (the only
/// children this crate sets).
pub(crate) fn encode_moov(moov: &Moov, out: &mut Vec<u8>) -> Result<(), Mp4Error> {
    debug_assert!(moov.meta.is_none() && moov.udta.is_none() && moov.ainf.is_none());
    let mut body = Vec::new();
    encode_into(&moov.mvhd, "mvhd", &mut body)?;
    for trak in &moov.trak {
        debug_assert!(trak.meta.is_none() && trak.tref.is_none() && trak.udta.is_none());
        let mut trak_body = Vec::new();
        encode_into(&trak.tkhd, "tkhd", &mut trak_body)?;
        if let Some(edts) = &trak.edts {
            encode_into(edts, "edts", &mut trak_body)?;
        }
        encode_into(&trak.mdia, "mdia", &mut trak_body)?;
        container(b"trak", &trak_body, &mut body)?;
    }
    if let Some(mvex) = &moov.mvex {
        encode_into(mvex, "mvex", &mut body)?;
    }
    container(b"moov", &body, out)
}

/// A box of `kind` around an already encoded body.
fn container(kind: &[u8; 4], body: &[u8], out: &mut Vec<u8>) -> Result<(), Mp4Error> {
    let header = mp4_atom::Header {
        kind: FourCC::new(kind),
        size: Some(body.len()),
    };
    encode_into(&header, "box header", out)?;
    out.extend_from_slice(body);
    Ok(())
}

/// The header of an `mdat` of `payload` bytes (64-bit size when it needs one).
pub(crate) fn mdat_header(payload: u64, out: &mut Vec<u8>) -> Result<(), Mp4Error> {
    let payload = usize::try_from(payload).map_err(|_| Mp4Error::out_of_range("mdat size"))?;
    let header = mp4_atom::Header {
        kind: FourCC::new(b"mdat"),
        size: Some(payload),
    };
    encode_into(&header, "mdat header", out)
}

/// Size of an `mdat` header for `payload` bytes.
pub(crate) fn mdat_header_len(payload: u64) -> u64 {
    if payload + 8 > u64::from(u32::MAX) {
        16
    } else {
        8
    }
}
