//! How `spate-mp4`'s refusals become the archived-media API's exceptions (GetClip, HLS, DASH):
//! each [`Mp4Error`] variant documents the exception it is meant for; this is the one place
//! that applies it, an exhaustive `match` with no wildcard arm.

use spate_mkv::MkvError;
use spate_mp4::Mp4Error;

use crate::error::VideoError;

impl From<Mp4Error> for VideoError {
    fn from(err: Mp4Error) -> VideoError {
        let message = err.to_string();
        match err {
            Mp4Error::UnsupportedCodec { .. } | Mp4Error::NoTracks => {
                VideoError::UnsupportedStreamMediaType(message)
            }
            Mp4Error::MissingCodecPrivate { .. } => VideoError::MissingCodecPrivateData(message),
            // Unverified: AWS documents no exception for a track MP4's fields cannot hold, nor
            // for codec data that changes within one clip or session; both are about the
            // tracks' description, so InvalidCodecPrivateDataException.
            Mp4Error::InvalidCodecPrivate { .. }
            | Mp4Error::InvalidTrack { .. }
            | Mp4Error::TrackMismatch { .. } => VideoError::InvalidCodecPrivateData(message),
            Mp4Error::Mkv(MkvError::Laced { .. }) => VideoError::InvalidMediaFrame(message),
            // Unverified: frames whose times MP4 cannot hold, or that go backwards, are frames
            // that "could not be parsed": InvalidMediaFrameException.
            Mp4Error::OutOfOrder { .. } | Mp4Error::OutOfRange(_) => {
                VideoError::InvalidMediaFrame(message)
            }
            // Unverified: a clip without samples names no fragment with media in the range,
            // which AWS reports as ResourceNotFoundException.
            Mp4Error::NoSamples => VideoError::ResourceNotFound(
                "No fragments with media were found in the requested time range.".into(),
            ),
            // A stored chunk that does not read back, or a box mp4-atom cannot encode: the
            // server's fault.
            Mp4Error::Mkv(_) | Mp4Error::Encode { .. } => VideoError::Internal(message),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_refusal_is_its_documented_exception() {
        let code = |err: Mp4Error| VideoError::from(err).to_aws().code;
        let unsupported = Mp4Error::UnsupportedCodec {
            track: 1,
            codec_id: "V_VP8".into(),
        };
        assert_eq!(code(unsupported), "UnsupportedStreamMediaTypeException");
        let missing = Mp4Error::MissingCodecPrivate {
            track: 1,
            codec_id: "V_MPEG4/ISO/AVC".into(),
        };
        assert_eq!(code(missing), "MissingCodecPrivateDataException");
        let invalid = Mp4Error::InvalidCodecPrivate {
            track: 2,
            codec_id: "A_AAC".into(),
            reason: "short".into(),
        };
        assert_eq!(code(invalid), "InvalidCodecPrivateDataException");
        let laced = Mp4Error::Mkv(MkvError::Laced { track: 2 });
        assert_eq!(code(laced), "InvalidMediaFrameException");
        assert_eq!(code(Mp4Error::NoSamples), "ResourceNotFoundException");
        let damaged = Mp4Error::Mkv(MkvError::Invalid("stored chunk: bad magic".into()));
        assert_eq!(VideoError::from(damaged).to_aws().status, 500);
    }
}
