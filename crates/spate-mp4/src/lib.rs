//! Spate's MP4 muxing for Kinesis Video Streams playback, pure code (no I/O, no clock): stored
//! fragments ([`spate_mkv::StoredChunk`], MKV with absolute producer timecodes) become ISO BMFF.
//!
//! - `track`: [`TrackDescription`] — an MKV track's MP4 sample entry (H.264 `avc1`/`avcC`, H.265
//!   `hvc1`/`hvcC`, AAC `mp4a`/`esds`), timescale, RFC 6381 codec string and resolution; the
//!   typed refusals the service maps to AWS exceptions ([`Mp4Error`]).
//! - `init` and `fragment`: fMP4 for HLS and DASH — [`init_segment`] (ftyp + moov + mvex for one
//!   or several tracks) and [`media_segment`] (moof + mdat for one stored fragment, `tfdt` on
//!   the producer-time axis so segments need no state between requests).
//! - `progressive`: [`ClipBuilder`], GetClip's "traditional" MP4 (moov before mdat, full sample
//!   tables, time axis from 0).
//! - `timeline` (sample times in track ticks, durations) and `movie` (boxes shared by init and
//!   clip) are internal.
//!
//! Boxes are written and, in the tests, read back with `mp4-atom`.

mod error;
mod fragment;
mod init;
mod movie;
mod progressive;
mod timeline;
mod track;

pub use error::Mp4Error;
pub use fragment::{KEY_SAMPLE_FLAGS, NON_KEY_SAMPLE_FLAGS, media_segment};
pub use init::init_segment;
pub use progressive::ClipBuilder;
pub use timeline::FirstDecodeTimes;
pub use track::{
    CODEC_AAC, CODEC_H264, CODEC_H264_AWS_DOCS, CODEC_H265, CodecKind, TrackDescription,
    VIDEO_TIMESCALE,
};
