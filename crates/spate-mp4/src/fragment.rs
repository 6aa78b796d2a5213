//! fMP4 media segments: one stored fragment → `moof{mfhd, traf per track{tfhd
//! (default-base-is-moof), tfdt v1, trun v1}}` + `mdat`, the tracks' data one after the other
//! in `traf` order.
//!
//! `tfdt` is the track's first decode time on the producer-time axis, so consecutive fragments
//! of a stream line up without any state kept between requests. Each `trun` carries every
//! sample's duration, size, flags (key: "depends on no other sample"; others: "depends on
//! others, not a sync sample") and signed composition offset.

use bytes::{Bytes, BytesMut};
use mp4_atom::{Encode, Mfhd, Moof, Tfdt, Tfhd, Traf, Trun, TrunEntry, TrunSamples};
use spate_mkv::StoredChunk;

use crate::error::Mp4Error;
use crate::movie::{encode_into, mdat_header, mdat_header_len};
use crate::timeline::{FirstDecodeTimes, TimedSample, durations, fragment_samples, to_u32};
use crate::track::TrackDescription;

/// `sample_flags` of a sync sample: sample_depends_on = 2 (depends on no other sample).
pub const KEY_SAMPLE_FLAGS: u32 = 0x0200_0000;
/// `sample_flags` of another sample: sample_depends_on = 1, sample_is_non_sync_sample = 1.
pub const NON_KEY_SAMPLE_FLAGS: u32 = 0x0101_0000;

/// The media segment of one stored fragment for `tracks` (the same tracks as the init
/// segment). `sequence_number` goes in `mfhd`. `next` holds the next fragment's first decode
/// times ([`FirstDecodeTimes::of`]): the last sample of each track then lasts exactly until
/// the next fragment starts; without it (the live edge) it gets the median duration of the
/// fragment's other samples. Tracks without samples in the fragment get no `traf`.
pub fn media_segment(
    chunk: &StoredChunk,
    tracks: &[TrackDescription],
    sequence_number: u32,
    next: Option<&FirstDecodeTimes>,
) -> Result<Bytes, Mp4Error> {
    let per_track = fragment_samples(chunk, tracks)?;
    let mut trafs = Vec::with_capacity(tracks.len());
    let mut payload_len: u64 = 0;
    // Per traf: where its data starts within the mdat payload.
    let mut data_starts = Vec::with_capacity(tracks.len());
    for (track, own) in tracks.iter().zip(&per_track) {
        let Some(first) = own.samples.first() else {
            continue;
        };
        let next_dts = next.and_then(|n| n.get(track.track_id()));
        let durations = durations(&own.samples, next_dts, track.default_sample_ticks())?;
        let entries = trun_entries(&own.samples, &durations)?;
        data_starts.push(payload_len);
        for sample in &own.samples {
            payload_len += sample.data.len() as u64;
        }
        trafs.push(Traf {
            tfhd: Tfhd {
                track_id: track.track_id(),
                default_base_is_moof: true,
                ..Tfhd::default()
            },
            tfdt: Some(Tfdt {
                base_media_decode_time: first.dts,
            }),
            trun: vec![Trun {
                data_offset: Some(0),
                samples: TrunSamples::Explicit(entries),
            }],
            ..Traf::default()
        });
    }
    let mut moof = Moof {
        mfhd: Mfhd { sequence_number },
        traf: trafs,
    };
    // The data offsets do not change the moof's size: measure it, then set them.
    let mut measured = Vec::new();
    encode_into(&moof, "moof", &mut measured)?;
    let data_base = measured.len() as u64 + mdat_header_len(payload_len);
    for (traf, start) in moof.traf.iter_mut().zip(&data_starts) {
        let offset = i32::try_from(data_base + start)
            .map_err(|_| Mp4Error::out_of_range("fragment data offset beyond 31 bits"))?;
        for trun in &mut traf.trun {
            trun.data_offset = Some(offset);
        }
    }
    let mut head = Vec::with_capacity(measured.len() + 16);
    moof.encode(&mut head)
        .map_err(|err| Mp4Error::encode("moof", err))?;
    mdat_header(payload_len, &mut head)?;
    let total = usize::try_from(head.len() as u64 + payload_len)
        .map_err(|_| Mp4Error::out_of_range("fragment size"))?;
    let mut out = BytesMut::with_capacity(total);
    out.extend_from_slice(&head);
    for own in &per_track {
        for sample in &own.samples {
            out.extend_from_slice(&sample.data);
        }
    }
    Ok(out.freeze())
}

fn trun_entries(samples: &[TimedSample], durations: &[u32]) -> Result<Vec<TrunEntry>, Mp4Error> {
    samples
        .iter()
        .zip(durations)
        .map(|(sample, &duration)| {
            let cts = i32::try_from(sample.cts_offset)
                .map_err(|_| Mp4Error::out_of_range("composition offset beyond 31 bits"))?;
            Ok(TrunEntry {
                duration: Some(duration),
                size: Some(to_u32(sample.data.len() as u64, "sample size")?),
                flags: Some(sample_flags(sample.key)),
                cts: Some(i64::from(cts)),
            })
        })
        .collect()
}

fn sample_flags(key: bool) -> u32 {
    if key {
        KEY_SAMPLE_FLAGS
    } else {
        NON_KEY_SAMPLE_FLAGS
    }
}
