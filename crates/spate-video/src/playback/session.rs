//! An HLS or DASH streaming session: what GetHLSStreamingSessionURL and
//! GetDASHStreamingSessionURL decide, sealed into the `SessionToken` every playback URL
//! carries (JSON inside an AES-256-GCM token of kind [`TokenKind::Session`]), and the
//! fragments a playlist of the session lists at a given moment.
//!
//! Sessions are kept nowhere else: a token stays good until it expires, also across a restart.
//! Unverified: AWS also limits a stream to ten sessions at once (revoking the oldest); Spate
//! does not.

use serde::{Deserialize, Serialize};

use crate::error::VideoError;
use crate::store::{FLAG_DISCONTINUITY, FragmentMeta, FragmentNumber, ListQuery, TimeAxis};
use crate::tokens::{TokenError, TokenKind, TokenSealer};

/// The most fragments one LIVE_REPLAY playlist scans for its window.
const REPLAY_SCAN_LIMIT: usize = 20_000;
/// A LIVE session needs a fragment this recent (AWS: "no fragments in the last 30 seconds").
pub const LIVE_RECENT_MS: i64 = 30_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Protocol {
    Hls,
    Dash,
}

/// `PlaybackMode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Mode {
    Live,
    LiveReplay,
    OnDemand,
}

/// `DiscontinuityMode` (HLS; DASH sessions use `Never`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Discontinuity {
    Always,
    Never,
    OnDiscontinuity,
}

/// Everything a session's playlists and segments depend on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlaybackSession {
    pub protocol: Protocol,
    pub stream: String,
    /// The stream's creation time: a recreated stream refuses the old stream's sessions.
    pub created_ms: i64,
    pub mode: Mode,
    /// The timestamps the range and the playlist times are on.
    pub producer_axis: bool,
    pub start_ms: Option<i64>,
    pub end_ms: Option<i64>,
    pub max_results: usize,
    pub discontinuity: Discontinuity,
    pub show_timestamp: bool,
    pub show_number: bool,
    pub issued_ms: i64,
    pub expires_ms: i64,
}

/// Why a playback request is refused; players only look at the status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlaybackError {
    #[error("the session token is missing")]
    MissingToken,
    #[error("the session token is not valid: {0}")]
    BadToken(TokenError),
    #[error("the session has expired")]
    Expired,
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Internal(String),
}

impl PlaybackError {
    /// The HTTP status of the refusal.
    pub fn status(&self) -> u16 {
        match self {
            PlaybackError::MissingToken | PlaybackError::BadRequest(_) => 400,
            PlaybackError::BadToken(_) | PlaybackError::Expired => 403,
            PlaybackError::NotFound(_) => 404,
            PlaybackError::Internal(_) => 500,
        }
    }
}

impl From<VideoError> for PlaybackError {
    fn from(err: VideoError) -> Self {
        match err {
            VideoError::ResourceNotFound(message) => PlaybackError::NotFound(message),
            other if other.is_server_fault() => PlaybackError::Internal(other.to_string()),
            other => PlaybackError::BadRequest(other.to_string()),
        }
    }
}

impl PlaybackSession {
    pub fn seal(&self, sealer: &TokenSealer) -> Result<String, VideoError> {
        let body = serde_json::to_vec(self)
            .map_err(|err| VideoError::Internal(format!("encoding a session: {err}")))?;
        Ok(sealer.seal(TokenKind::Session, &body))
    }

    /// The session a token carries, if it opens and has not expired at `now_ms`.
    pub fn open(sealer: &TokenSealer, token: &str, now_ms: i64) -> Result<Self, PlaybackError> {
        let body = sealer
            .open(TokenKind::Session, token)
            .map_err(PlaybackError::BadToken)?;
        let session: PlaybackSession = serde_json::from_slice(&body)
            .map_err(|_| PlaybackError::BadToken(TokenError::Malformed))?;
        if now_ms >= session.expires_ms {
            return Err(PlaybackError::Expired);
        }
        Ok(session)
    }

    pub fn axis(&self) -> TimeAxis {
        if self.producer_axis {
            TimeAxis::Producer
        } else {
            TimeAxis::Server
        }
    }

    /// A fragment's start on the session's axis.
    pub fn start_of(&self, meta: &FragmentMeta) -> i64 {
        if self.producer_axis {
            meta.producer_ts_ms
        } else {
            meta.server_ts_ms
        }
    }

    /// What to list at `now_ms`, given the media log's readable offsets `[start, end)`; the
    /// store answers it, then [`Self::window`] trims the answer.
    pub fn query(&self, now_ms: i64, bounds: (u64, u64)) -> ListQuery {
        let (start, end) = bounds;
        match self.mode {
            Mode::Live => ListQuery {
                axis: TimeAxis::Server,
                start_ms: i64::MIN,
                end_ms: i64::MAX,
                // The newest `max_results`: offsets past `end - max - 1`.
                after: end
                    .checked_sub(self.max_results as u64 + 1)
                    .filter(|after| *after >= start),
                limit: self.max_results,
            },
            Mode::OnDemand => ListQuery {
                axis: self.axis(),
                start_ms: self.start_ms.unwrap_or(i64::MIN),
                end_ms: self.end_ms.unwrap_or(i64::MAX),
                after: None,
                limit: self.max_results,
            },
            Mode::LiveReplay => {
                let start_ms = self.start_ms.unwrap_or(i64::MIN);
                // Fragments join as the session's own clock passes their start.
                let elapsed = now_ms.saturating_sub(self.issued_ms);
                let reached = start_ms.saturating_add(elapsed);
                ListQuery {
                    axis: self.axis(),
                    start_ms,
                    end_ms: self.end_ms.map_or(reached, |end| end.min(reached)),
                    after: None,
                    limit: REPLAY_SCAN_LIMIT,
                }
            }
        }
    }

    /// The fragments a playlist lists, from what [`Self::query`] found: producer-time
    /// duplicates dropped (the later number kept), and for LIVE_REPLAY the newest
    /// `max_results`.
    pub fn window(
        &self,
        mut found: Vec<(FragmentNumber, FragmentMeta)>,
    ) -> Vec<(FragmentNumber, FragmentMeta)> {
        if self.producer_axis {
            // AWS: "Fragments that have duplicate producer timestamps are deduplicated."
            let mut kept: Vec<(FragmentNumber, FragmentMeta)> = Vec::with_capacity(found.len());
            for fragment in found {
                match kept.last_mut() {
                    Some(last) if last.1.producer_ts_ms == fragment.1.producer_ts_ms => {
                        *last = fragment;
                    }
                    _ => kept.push(fragment),
                }
            }
            found = kept;
        }
        if self.mode == Mode::LiveReplay && found.len() > self.max_results {
            found.drain(..found.len() - self.max_results);
        }
        found
    }

    /// Whether the playlist is complete (HLS `#EXT-X-ENDLIST`, DASH `static`): always for
    /// ON_DEMAND; for LIVE_REPLAY once the session's clock has passed its end.
    pub fn ended(&self, now_ms: i64) -> bool {
        match self.mode {
            Mode::OnDemand => true,
            Mode::Live => false,
            Mode::LiveReplay => self.end_ms.is_some_and(|end| {
                let reached = self
                    .start_ms
                    .unwrap_or(i64::MIN)
                    .saturating_add(now_ms.saturating_sub(self.issued_ms));
                reached >= end
            }),
        }
    }

    /// Whether a discontinuity marker goes before `meta` (not the first listed).
    pub fn marks_discontinuity(&self, meta: &FragmentMeta) -> bool {
        match self.discontinuity {
            Discontinuity::Always => true,
            Discontinuity::Never => false,
            Discontinuity::OnDiscontinuity => meta.flags & FLAG_DISCONTINUITY != 0,
        }
    }
}

/// Each listed fragment's duration in seconds: until the next listed fragment starts when
/// that follows within the fragment's span plus a second, else its own block span (at least a
/// millisecond).
/// Unverified: AWS's EXTINF values are the fragments' durations; a fragment's stored duration
/// is its first to last block and leaves out the last frame's.
pub fn durations_s(fragments: &[(FragmentNumber, FragmentMeta)]) -> Vec<f64> {
    let mut out = Vec::with_capacity(fragments.len());
    for (index, (_, meta)) in fragments.iter().enumerate() {
        let own = i64::from(meta.duration_ms.max(1));
        let next_gap = fragments
            .get(index + 1)
            .map(|(_, next)| next.producer_ts_ms - meta.producer_ts_ms)
            .filter(|gap| *gap > 0 && *gap <= own + 1_000);
        #[allow(clippy::cast_precision_loss)]
        out.push(next_gap.unwrap_or(own) as f64 / 1000.0);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(mode: Mode) -> PlaybackSession {
        PlaybackSession {
            protocol: Protocol::Hls,
            stream: "cam".into(),
            created_ms: 1,
            mode,
            producer_axis: true,
            start_ms: Some(10_000),
            end_ms: Some(20_000),
            max_results: 3,
            discontinuity: Discontinuity::Never,
            show_timestamp: false,
            show_number: false,
            issued_ms: 100_000,
            expires_ms: 400_000,
        }
    }

    fn fragment(offset: u64, producer_ts_ms: i64) -> (FragmentNumber, FragmentMeta) {
        (
            FragmentNumber { log: 1, offset },
            FragmentMeta {
                media_offset: offset,
                producer_ts_ms,
                duration_ms: 960,
                ..FragmentMeta::default()
            },
        )
    }

    #[test]
    fn tokens_round_trip_and_expire() {
        let sealer = TokenSealer::new(&[7; 32]);
        let live = session(Mode::Live);
        let token = live.seal(&sealer).expect("sealed");
        assert_eq!(PlaybackSession::open(&sealer, &token, 399_999), Ok(live));
        assert_eq!(
            PlaybackSession::open(&sealer, &token, 400_000),
            Err(PlaybackError::Expired)
        );
        let other = TokenSealer::new(&[8; 32]);
        assert!(matches!(
            PlaybackSession::open(&other, &token, 0),
            Err(PlaybackError::BadToken(_))
        ));
    }

    #[test]
    fn live_lists_the_newest_fragments() {
        let live = session(Mode::Live);
        assert_eq!(live.query(0, (0, 10)).after, Some(6));
        assert_eq!(live.query(0, (0, 3)).after, None);
        assert_eq!(live.query(0, (8, 10)).after, None);
    }

    #[test]
    fn live_replay_grows_with_the_session_clock_and_slides() {
        let replay = session(Mode::LiveReplay);
        assert_eq!(replay.query(102_500, (0, 10)).end_ms, 12_500);
        assert_eq!(replay.query(200_000, (0, 10)).end_ms, 20_000);
        assert!(!replay.ended(105_000));
        assert!(replay.ended(110_000));
        let found: Vec<_> = (0..5)
            .map(|i| fragment(i, 10_000 + 1_000 * i as i64))
            .collect();
        let offsets: Vec<u64> = replay
            .window(found)
            .iter()
            .map(|(number, _)| number.offset)
            .collect();
        assert_eq!(offsets, [2, 3, 4]);
    }

    #[test]
    fn producer_duplicates_keep_the_later_number() {
        let on_demand = session(Mode::OnDemand);
        let found = vec![
            fragment(0, 10_000),
            fragment(1, 10_000),
            fragment(2, 11_000),
        ];
        let offsets: Vec<u64> = on_demand
            .window(found)
            .iter()
            .map(|(number, _)| number.offset)
            .collect();
        assert_eq!(offsets, [1, 2]);
    }

    #[test]
    fn durations_run_to_the_next_fragment() {
        let fragments = vec![
            fragment(0, 10_000),
            fragment(1, 11_000),
            fragment(2, 15_000),
        ];
        assert_eq!(durations_s(&fragments), [1.0, 0.96, 0.96]);
    }
}
