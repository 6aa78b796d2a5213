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
        return Err(Mp4Error::out_of_range(
            "an init segment needs at least one track",
        ));
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
