//! The crate's error type. The video service maps each variant to an AWS exception; the
//! mapping each variant is meant for is written on it.

use spate_mkv::MkvError;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum Mp4Error {
    /// A track's codec is not one this crate can put in MP4 (H.264, H.265, AAC).
    /// → `UnsupportedStreamMediaTypeException`.
    #[error(
        "track {track} has codec {codec_id}, which is not supported (V_MPEG4/ISO/AVC, V_MPEGH/ISO/HEVC and A_AAC are)"
    )]
    UnsupportedCodec { track: u64, codec_id: String },

    /// A supported codec without its CodecPrivate (avcC, hvcC, AudioSpecificConfig).
    /// → `MissingCodecPrivateDataException`.
    #[error("track {track} ({codec_id}) has no codec private data")]
    MissingCodecPrivate { track: u64, codec_id: String },

    /// CodecPrivate present but not parsable as the codec's configuration record.
    /// → `InvalidCodecPrivateDataException`.
    #[error("track {track} ({codec_id}) has invalid codec private data: {reason}")]
    InvalidCodecPrivate {
        track: u64,
        codec_id: String,
        reason: String,
    },

    /// A track whose other fields cannot be written to MP4 (a track number or size beyond MP4's
    /// 32/16-bit fields, no sampling rate). → `InvalidCodecPrivateDataException` (Unverified:
    /// AWS documents no exception for this).
    #[error("track {track} cannot be written to MP4: {reason}")]
    InvalidTrack { track: u64, reason: String },

    /// A fragment whose track differs from the description it is muxed with (another codec or
    /// CodecPrivate), or lacks the track number. The caller starts a new init segment / clip.
    #[error("the fragment's track {track} does not match the track description ({reason})")]
    TrackMismatch { track: u64, reason: &'static str },

    /// The fragment's MKV could not be read: laced blocks (`MkvError::Laced`, plan §5.1:
    /// → `InvalidMediaFrameException`), a damaged stored chunk (an internal error).
    #[error(transparent)]
    Mkv(#[from] MkvError),

    /// An init segment or a clip asked for with no track.
    #[error("no track to put in the MP4")]
    NoTracks,

    /// A clip finished without any sample (no fragment, or fragments without the tracks).
    #[error("the clip has no samples")]
    NoSamples,

    /// A clip fragment that does not start after the previous one's last sample of a track
    /// (fragments must come in order, without overlap).
    #[error("the fragment's track {track} starts at or before the previous fragment's last sample")]
    OutOfOrder { track: u32 },

    /// A time or size that MP4's fields cannot hold (a decode time before 0, a sample duration
    /// beyond 32 bits, a sample of 4 GiB...).
    #[error("{0}")]
    OutOfRange(String),

    /// `mp4-atom` refused to encode a box (a bug of this crate if it happens).
    #[error("encoding {what}: {reason}")]
    Encode { what: &'static str, reason: String },
}

impl Mp4Error {
    pub(crate) fn out_of_range(what: impl Into<String>) -> Self {
        Mp4Error::OutOfRange(what.into())
    }

    pub(crate) fn encode(what: &'static str, err: mp4_atom::Error) -> Self {
        Mp4Error::Encode {
            what,
            reason: err.to_string(),
        }
    }
}
