//! The library's error type and the Kinesis Video ack error each one becomes.
//!
//! [`AckError`] lists every `ErrorId`/`ErrorCode` pair a PutMedia ERROR acknowledgement can carry
//! (plan §4.2); [`MkvError::ack_error`] maps each MKV-level failure onto one of them with an
//! exhaustive match. The session-level ids (4008, 5000, 5001) are produced by the video service,
//! not by this crate.

/// An ERROR acknowledgement's `ErrorId` and `ErrorCode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AckError {
    MaxFragmentSizeReached,
    MaxFragmentDurationReached,
    FragmentTimecodeLesserThanPrevious,
    InvalidMkvData,
    InvalidProducerTimestamp,
    StreamNotActive,
    TrackNumberMismatch,
    FramesMissingForTrack,
    MoreThanAllowedTracksFound,
    InternalError,
    ArchivalError,
}

impl AckError {
    /// The numeric `ErrorId` of the acknowledgement.
    pub fn id(self) -> u32 {
        match self {
            AckError::MaxFragmentSizeReached => 4001,
            AckError::MaxFragmentDurationReached => 4002,
            AckError::FragmentTimecodeLesserThanPrevious => 4004,
            AckError::InvalidMkvData => 4006,
            AckError::InvalidProducerTimestamp => 4007,
            AckError::StreamNotActive => 4008,
            AckError::TrackNumberMismatch => 4010,
            AckError::FramesMissingForTrack => 4011,
            AckError::MoreThanAllowedTracksFound => 4012,
            AckError::InternalError => 5000,
            AckError::ArchivalError => 5001,
        }
    }

    /// The `ErrorCode` string of the acknowledgement.
    pub fn code(self) -> &'static str {
        match self {
            AckError::MaxFragmentSizeReached => "MAX_FRAGMENT_SIZE_REACHED",
            AckError::MaxFragmentDurationReached => "MAX_FRAGMENT_DURATION_REACHED",
            AckError::FragmentTimecodeLesserThanPrevious => {
                "FRAGMENT_TIMECODE_LESSER_THAN_PREVIOUS"
            }
            AckError::InvalidMkvData => "INVALID_MKV_DATA",
            AckError::InvalidProducerTimestamp => "INVALID_PRODUCER_TIMESTAMP",
            AckError::StreamNotActive => "STREAM_NOT_ACTIVE",
            AckError::TrackNumberMismatch => "TRACK_NUMBER_MISMATCH",
            AckError::FramesMissingForTrack => "FRAMES_MISSING_FOR_TRACK",
            AckError::MoreThanAllowedTracksFound => "MORE_THAN_ALLOWED_TRACKS_FOUND",
            AckError::InternalError => "INTERNAL_ERROR",
            AckError::ArchivalError => "ARCHIVAL_ERROR",
        }
    }
}

/// Why MKV input was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MkvError {
    /// Malformed EBML, elements out of place, truncated input.
    #[error("invalid MKV data: {0}")]
    Invalid(String),
    #[error("{found} tracks found, at most {max} are allowed")]
    TooManyTracks { found: usize, max: usize },
    #[error("a block names track {track}, which Tracks does not declare")]
    TrackNumberMismatch { track: u64 },
    #[error("track {track} has no frames in the fragment")]
    FramesMissing { track: u64 },
    #[error("the fragment is larger than {max} bytes")]
    FragmentTooLarge { max: usize },
    #[error("the fragment has more than {max} blocks")]
    TooManyBlocks { max: usize },
    #[error("the fragment lasts {duration_ms} ms, more than {max_ms} ms")]
    FragmentTooLong { duration_ms: u64, max_ms: u64 },
    #[error(
        "fragment timecode {timestamp_ms} ms is less than the previous fragment's {previous_ms} ms"
    )]
    TimecodeNotIncreasing { timestamp_ms: i64, previous_ms: i64 },
    #[error("invalid producer timestamp: {0}")]
    InvalidProducerTimestamp(String),
    /// A block uses lacing, which sample extraction does not support.
    #[error("track {track} uses block lacing, which is not supported")]
    Laced { track: u64 },
}

impl MkvError {
    pub(crate) fn invalid(what: impl Into<String>) -> Self {
        MkvError::Invalid(what.into())
    }

    /// The acknowledgement error this failure is reported as.
    pub fn ack_error(&self) -> AckError {
        match self {
            MkvError::Invalid(_) | MkvError::Laced { .. } => AckError::InvalidMkvData,
            MkvError::TooManyTracks { .. } => AckError::MoreThanAllowedTracksFound,
            MkvError::TrackNumberMismatch { .. } => AckError::TrackNumberMismatch,
            MkvError::FramesMissing { .. } => AckError::FramesMissingForTrack,
            MkvError::FragmentTooLarge { .. } | MkvError::TooManyBlocks { .. } => {
                AckError::MaxFragmentSizeReached
            }
            MkvError::FragmentTooLong { .. } => AckError::MaxFragmentDurationReached,
            MkvError::TimecodeNotIncreasing { .. } => AckError::FragmentTimecodeLesserThanPrevious,
            MkvError::InvalidProducerTimestamp(_) => AckError::InvalidProducerTimestamp,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_codes_are_distinct() {
        let all = [
            AckError::MaxFragmentSizeReached,
            AckError::MaxFragmentDurationReached,
            AckError::FragmentTimecodeLesserThanPrevious,
            AckError::InvalidMkvData,
            AckError::InvalidProducerTimestamp,
            AckError::StreamNotActive,
            AckError::TrackNumberMismatch,
            AckError::FramesMissingForTrack,
            AckError::MoreThanAllowedTracksFound,
            AckError::InternalError,
            AckError::ArchivalError,
        ];
        let mut ids: Vec<u32> = all.iter().map(|e| e.id()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), all.len());
        assert_eq!(AckError::InvalidMkvData.code(), "INVALID_MKV_DATA");
        assert_eq!(MkvError::Laced { track: 1 }.ack_error().id(), 4006);
    }
}
