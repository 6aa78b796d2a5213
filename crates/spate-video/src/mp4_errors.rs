//! How MP4 muxing failures (`spate-mp4`) are answered: each [`Mp4Error`] variant as the AWS
//! exception its documentation names.

use spate_mkv::MkvError;
use spate_mp4::Mp4Error;

use crate::error::VideoError;

impl From<Mp4Error> for VideoError {
    fn from(err: Mp4Error) -> Self {
        let message = err.to_string();
        match err {
            Mp4Error::UnsupportedCodec { .. } => VideoError::UnsupportedStreamMediaType(message),
            Mp4Error::MissingCodecPrivate { .. } => VideoError::MissingCodecPrivateData(message),
            Mp4Error::InvalidCodecPrivate { .. } | Mp4Error::InvalidTrack { .. } => {
                VideoError::InvalidCodecPrivateData(message)
            }
            Mp4Error::Mkv(MkvError::Laced { .. }) => VideoError::InvalidMediaFrame(message),
            Mp4Error::TrackMismatch { .. } | Mp4Error::OutOfOrder { .. } => {
                VideoError::InvalidMediaFrame(message)
            }
            Mp4Error::NoTracks | Mp4Error::NoSamples => VideoError::ResourceNotFound(message),
            Mp4Error::Mkv(_) | Mp4Error::OutOfRange(_) | Mp4Error::Encode { .. } => {
                VideoError::Internal(message)
            }
        }
    }
}
