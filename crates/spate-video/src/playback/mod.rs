//! HLS and DASH playback: GetHLSStreamingSessionURL and GetDASHStreamingSessionURL open a
//! session ([`open_session`]), and the player's GETs under `/hls/v1/` and `/dash/v1/` are
//! answered by [`VideoService::playback`], authorized by the session token alone (players
//! sign nothing, as with AWS).
//!
//! Playlists and manifests are built on each request from the fragment index (`session`
//! decides which fragments, `hls` and `dash` write the text); init and media segments are
//! muxed on request from the stored fragment by `spate-mp4`, every track of the fragment in
//! one fMP4 stream (video and audio muxed), with decode times on the producer axis.

pub mod dash;
pub mod hls;
pub mod session;

use std::sync::Arc;

use bytes::Bytes;
use spate_mkv::StoredChunk;
use spate_mp4::TrackDescription;

use crate::error::VideoError;
use crate::media::readable_stream;
use crate::service::VideoService;
use crate::store::{FragmentMeta, FragmentNumber, StreamLogs};
use crate::tokens::TokenKind;
pub use session::{Discontinuity, Mode, PlaybackError, PlaybackSession, Protocol};

/// A playback answer: status, content type and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlaybackResponse {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Bytes,
}

impl PlaybackResponse {
    fn ok(content_type: &'static str, body: impl Into<Bytes>) -> Self {
        PlaybackResponse {
            status: 200,
            content_type,
            body: body.into(),
        }
    }

    fn refused(error: &PlaybackError) -> Self {
        PlaybackResponse {
            status: error.status(),
            content_type: "text/plain; charset=utf-8",
            body: Bytes::from(format!("{error}\n")),
        }
    }
}

const M3U8: &str = "application/vnd.apple.mpegurl";
const MP4: &str = "video/mp4";
const MPD: &str = "application/dash+xml";

/// Checks a new session against the stream now and seals it: the session URL's token.
/// Refused as AWS refuses: no fragment to play (`ResourceNotFoundException`), tracks that
/// cannot be played (the codec exceptions); the caller refuses streams without retention.
pub(crate) async fn open_session(
    service: &VideoService,
    logs: StreamLogs,
    session: &PlaybackSession,
) -> Result<String, VideoError> {
    let now = service.now_ms();
    let fragments = listed(service, logs, session, now).await?;
    let newest = fragments.last().ok_or_else(|| {
        VideoError::ResourceNotFound(
            "No fragments found in the stream for the streaming request.".into(),
        )
    })?;
    if session.mode == Mode::Live && newest.1.server_ts_ms < now - session::LIVE_RECENT_MS {
        return Err(VideoError::ResourceNotFound(
            "No fragments found in the stream in the last 30 seconds for the LIVE streaming request."
                .into(),
        ));
    }
    // The tracks must be playable: the init segment is built from the first listed fragment.
    let chunk = read_chunk(service, logs, fragments[0].0).await?;
    tracks_of(&chunk)?;
    session.seal(&service.sealer)
}

/// The fragments a playlist of `session` lists at `now`.
async fn listed(
    service: &VideoService,
    logs: StreamLogs,
    session: &PlaybackSession,
    now: i64,
) -> Result<Vec<(FragmentNumber, FragmentMeta)>, VideoError> {
    let query = session.query(now, service.store.bounds(logs)?);
    let found = service.store.list(logs, query).await?;
    Ok(session.window(found))
}

/// A stored fragment's chunk; not found if trimmed meanwhile.
async fn read_chunk(
    service: &VideoService,
    logs: StreamLogs,
    number: FragmentNumber,
) -> Result<StoredChunk, VideoError> {
    let (_, value) = service.store.get(logs, number).await?.ok_or_else(|| {
        VideoError::ResourceNotFound(format!("Fragment {number} is not in the stream."))
    })?;
    StoredChunk::decode(&value)
        .map_err(|err| VideoError::Internal(format!("stored fragment {number}: {err}")))
}

/// The MP4 tracks of a fragment.
fn tracks_of(chunk: &StoredChunk) -> Result<Vec<TrackDescription>, VideoError> {
    let header = chunk
        .media_header()
        .map_err(|err| VideoError::Internal(format!("stored header: {err}")))?;
    Ok(TrackDescription::all(&header)?)
}

/// The playback files a path names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum File {
    Master,
    MediaPlaylist,
    Manifest,
    Init,
    Fragment,
}

fn file_of(path: &str) -> Option<(Protocol, File)> {
    let (protocol, name) = if let Some(name) = path.strip_prefix("/hls/v1/") {
        (Protocol::Hls, name)
    } else {
        (Protocol::Dash, path.strip_prefix("/dash/v1/")?)
    };
    let file = match (protocol, name) {
        (Protocol::Hls, "getHLSMasterPlaylist.m3u8") => File::Master,
        (Protocol::Hls, "getHLSMediaPlaylist.m3u8") => File::MediaPlaylist,
        (Protocol::Dash, "getDASHManifest.mpd") => File::Manifest,
        (_, "getMP4InitFragment.mp4") => File::Init,
        (_, "getMP4MediaFragment.mp4") => File::Fragment,
        _ => return None,
    };
    Some((protocol, file))
}

/// The value of `name` in a URL query (`SessionToken`, `FragmentNumber`: neither needs
/// percent-decoding, their alphabets are URL-safe).
fn query_value<'a>(query: &'a str, name: &str) -> Option<&'a str> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

impl VideoService {
    /// Whether the `SessionToken` of a playback query was sealed by this account's key (it
    /// may still have expired): which account a player's request belongs to.
    pub fn seals_session_of(&self, query: &str) -> bool {
        query_value(query, "SessionToken")
            .is_some_and(|token| self.sealer.open(TokenKind::Session, token).is_ok())
    }

    /// Answers a player's GET of `path?query` under `/hls/v1/` or `/dash/v1/`.
    pub async fn playback(self: &Arc<Self>, path: &str, query: &str) -> PlaybackResponse {
        match self.serve_playback(path, query).await {
            Ok(response) => response,
            Err(error) => {
                if error.status() >= 500 {
                    tracing::error!(path, %error, "playback failed");
                }
                PlaybackResponse::refused(&error)
            }
        }
    }

    async fn serve_playback(
        &self,
        path: &str,
        query: &str,
    ) -> Result<PlaybackResponse, PlaybackError> {
        let (protocol, file) = file_of(path)
            .ok_or_else(|| PlaybackError::NotFound(format!("No such file: {path}")))?;
        let token = query_value(query, "SessionToken").ok_or(PlaybackError::MissingToken)?;
        let now = self.now_ms();
        let session = PlaybackSession::open(&self.sealer, token, now)?;
        if session.protocol != protocol {
            return Err(PlaybackError::NotFound(format!(
                "No such file for this session: {path}"
            )));
        }
        let (stream, logs) = readable_stream(self, Some(&session.stream), None)?;
        if stream.created_ms != session.created_ms {
            return Err(PlaybackError::NotFound(
                "The session's stream no longer exists.".into(),
            ));
        }
        match file {
            File::Master | File::MediaPlaylist | File::Manifest => {
                let fragments = listed(self, logs, &session, now).await?;
                let ended = session.ended(now);
                if file == File::MediaPlaylist {
                    let text = hls::media_playlist(&session, token, &fragments, ended);
                    return Ok(PlaybackResponse::ok(M3U8, text));
                }
                let variant = self.variant(logs, &fragments).await?;
                if file == File::Master {
                    return Ok(PlaybackResponse::ok(
                        M3U8,
                        hls::master_playlist(token, &variant),
                    ));
                }
                let text = dash::manifest(&session, token, &fragments, &variant, ended, now);
                Ok(PlaybackResponse::ok(MPD, text))
            }
            File::Init => {
                // The tracks of the first fragment the session lists now.
                let fragments = listed(self, logs, &session, now).await?;
                let (first, _) = fragments.first().ok_or_else(|| {
                    PlaybackError::NotFound("The session has no fragments.".into())
                })?;
                let chunk = read_chunk(self, logs, *first).await?;
                let tracks = tracks_of(&chunk)?;
                let init = spate_mp4::init_segment(&tracks).map_err(VideoError::from)?;
                Ok(PlaybackResponse::ok(MP4, init))
            }
            File::Fragment => {
                let number: FragmentNumber = query_value(query, "FragmentNumber")
                    .ok_or_else(|| PlaybackError::BadRequest("FragmentNumber is missing.".into()))?
                    .parse()
                    .map_err(|_| {
                        PlaybackError::BadRequest("FragmentNumber is not valid.".into())
                    })?;
                let chunk = read_chunk(self, logs, number).await?;
                let tracks = tracks_of(&chunk)?;
                // The next fragment's first decode times give the last samples exact
                // durations, when it is already there.
                let next = FragmentNumber {
                    offset: number.offset.saturating_add(1),
                    ..number
                };
                let next_times = match read_chunk(self, logs, next).await {
                    Ok(next_chunk) => spate_mp4::FirstDecodeTimes::of(&next_chunk, &tracks).ok(),
                    Err(_) => None,
                };
                #[allow(clippy::cast_possible_truncation)]
                let sequence = number.offset.wrapping_add(1) as u32;
                let segment =
                    spate_mp4::media_segment(&chunk, &tracks, sequence, next_times.as_ref())
                        .map_err(VideoError::from)?;
                Ok(PlaybackResponse::ok(MP4, segment))
            }
        }
    }

    /// The variant the listed fragments make: codecs and resolution of the newest, peak bit
    /// rate over all.
    async fn variant(
        &self,
        logs: StreamLogs,
        fragments: &[(FragmentNumber, FragmentMeta)],
    ) -> Result<hls::Variant, VideoError> {
        let (newest, _) = fragments
            .last()
            .ok_or_else(|| VideoError::ResourceNotFound("The session has no fragments.".into()))?;
        let tracks = tracks_of(&read_chunk(self, logs, *newest).await?)?;
        let codecs = tracks
            .iter()
            .map(TrackDescription::codec_string)
            .collect::<Vec<_>>()
            .join(",");
        let resolution = tracks.iter().find_map(TrackDescription::resolution);
        let durations = session::durations_s(fragments);
        let bandwidth = fragments
            .iter()
            .zip(&durations)
            .map(|((_, meta), seconds)| {
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                let bits = (f64::from(meta.chunk_bytes) * 8.0 / seconds.max(0.001)) as u64;
                bits
            })
            .max()
            .unwrap_or(1);
        Ok(hls::Variant {
            codecs,
            resolution,
            bandwidth,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_name_files() {
        assert_eq!(
            file_of("/hls/v1/getHLSMasterPlaylist.m3u8"),
            Some((Protocol::Hls, File::Master))
        );
        assert_eq!(
            file_of("/dash/v1/getMP4MediaFragment.mp4"),
            Some((Protocol::Dash, File::Fragment))
        );
        assert_eq!(file_of("/hls/v1/getDASHManifest.mpd"), None);
        assert_eq!(file_of("/other"), None);
        assert_eq!(
            query_value("SessionToken=abc&FragmentNumber=9", "FragmentNumber"),
            Some("9")
        );
        assert_eq!(query_value("SessionToken=abc", "FragmentNumber"), None);
    }
}
