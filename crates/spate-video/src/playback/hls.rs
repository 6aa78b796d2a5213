//! HLS playlists of a session (fMP4 segments): the master playlist names one variant, whose
//! media playlist lists the session's fragments. Every URL is relative, so a player reaches
//! the segments on whatever host and scheme it reached the master playlist.
//!
//! ```text
//! #EXTM3U
//! #EXT-X-VERSION:7
//! #EXT-X-TARGETDURATION:2
//! #EXT-X-MEDIA-SEQUENCE:1041
//! #EXT-X-DISCONTINUITY-SEQUENCE:3
//! #EXT-X-MAP:URI="getMP4InitFragment.mp4?SessionToken=T"
//! #EXTINF:1.000,
//! getMP4MediaFragment.mp4?SessionToken=T&FragmentNumber=9134…
//! ```

use std::fmt::Write as _;

use crate::playback::session::{Mode, PlaybackSession, durations_s};
use crate::store::{FLAG_DISCONTINUITY, FragmentMeta, FragmentNumber};

/// What the master playlist says of the variant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variant {
    /// RFC 6381 codecs of every track, comma-separated.
    pub codecs: String,
    pub resolution: Option<(u16, u16)>,
    /// Peak bits per second.
    pub bandwidth: u64,
}

pub fn master_playlist(token: &str, variant: &Variant) -> String {
    let mut out = String::from("#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n");
    let _ = write!(
        out,
        "#EXT-X-STREAM-INF:BANDWIDTH={},CODECS=\"{}\"",
        variant.bandwidth.max(1),
        variant.codecs
    );
    if let Some((width, height)) = variant.resolution {
        let _ = write!(out, ",RESOLUTION={width}x{height}");
    }
    let _ = write!(out, "\ngetHLSMediaPlaylist.m3u8?SessionToken={token}\n");
    out
}

/// The media playlist of `fragments` (in order) at a moment when the session has `ended` or
/// not.
pub fn media_playlist(
    session: &PlaybackSession,
    token: &str,
    fragments: &[(FragmentNumber, FragmentMeta)],
    ended: bool,
) -> String {
    let durations = durations_s(fragments);
    let target = durations.iter().fold(1.0_f64, |max, d| max.max(*d)).ceil();
    let first = fragments.first();
    let sequence = first.map_or(0, |(number, _)| number.offset);
    let mut out = String::from("#EXTM3U\n#EXT-X-VERSION:7\n");
    #[allow(clippy::cast_possible_truncation)]
    let _ = writeln!(out, "#EXT-X-TARGETDURATION:{}", target as u64);
    let _ = writeln!(out, "#EXT-X-MEDIA-SEQUENCE:{sequence}");
    let _ = writeln!(
        out,
        "#EXT-X-DISCONTINUITY-SEQUENCE:{}",
        first.map_or(0, |(_, meta)| discontinuities_before(session, meta))
    );
    if session.mode == Mode::OnDemand {
        out.push_str("#EXT-X-PLAYLIST-TYPE:VOD\n");
    }
    let _ = writeln!(
        out,
        "#EXT-X-MAP:URI=\"getMP4InitFragment.mp4?SessionToken={token}\""
    );
    for (index, ((number, meta), duration)) in fragments.iter().zip(&durations).enumerate() {
        if index > 0 && session.marks_discontinuity(meta) {
            out.push_str("#EXT-X-DISCONTINUITY\n");
        }
        if session.show_timestamp {
            let _ = writeln!(
                out,
                "#EXT-X-PROGRAM-DATE-TIME:{}",
                iso8601_ms(session.start_of(meta))
            );
        }
        let _ = writeln!(out, "#EXTINF:{duration:.3},");
        let _ = writeln!(
            out,
            "getMP4MediaFragment.mp4?SessionToken={token}&FragmentNumber={number}"
        );
    }
    if ended {
        out.push_str("#EXT-X-ENDLIST\n");
    }
    out
}

/// `EXT-X-DISCONTINUITY-SEQUENCE`: the markers that went before `first` in the session's
/// history, so the value only grows as a live window slides.
fn discontinuities_before(session: &PlaybackSession, first: &FragmentMeta) -> u64 {
    use crate::playback::session::Discontinuity;
    match session.discontinuity {
        Discontinuity::Never => 0,
        // One marker between every two fragments: as many as fragments went before.
        Discontinuity::Always => first.media_offset,
        Discontinuity::OnDiscontinuity => {
            let own = u32::from(first.flags & FLAG_DISCONTINUITY != 0);
            u64::from(first.disc_seq.saturating_sub(own))
        }
    }
}

/// Epoch milliseconds as ISO 8601 UTC with milliseconds (`2026-11-22T22:40:18.123Z`).
pub fn iso8601_ms(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let in_day = ms.rem_euclid(86_400_000);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        in_day / 3_600_000,
        in_day / 60_000 % 60,
        in_day / 1000 % 60,
        in_day % 1000
    )
}

/// Days since 1970-01-01 to the proleptic Gregorian date (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::playback::session::{Discontinuity, Protocol};

    fn session(mode: Mode, discontinuity: Discontinuity) -> PlaybackSession {
        PlaybackSession {
            protocol: Protocol::Hls,
            stream: "cam".into(),
            created_ms: 1,
            mode,
            producer_axis: false,
            start_ms: None,
            end_ms: None,
            max_results: 5,
            discontinuity,
            show_timestamp: true,
            show_number: false,
            issued_ms: 0,
            expires_ms: 1,
        }
    }

    fn fragment(
        offset: u64,
        producer_ts_ms: i64,
        flags: u8,
        disc_seq: u32,
    ) -> (FragmentNumber, FragmentMeta) {
        (
            FragmentNumber { log: 1, offset },
            FragmentMeta {
                media_offset: offset,
                producer_ts_ms,
                server_ts_ms: producer_ts_ms,
                duration_ms: 1_960,
                flags,
                disc_seq,
                ..FragmentMeta::default()
            },
        )
    }

    #[test]
    fn media_playlists_follow_the_session() {
        let fragments = vec![
            fragment(7, 1_700_000_000_000, 0, 2),
            fragment(8, 1_700_000_002_000, FLAG_DISCONTINUITY, 3),
        ];
        let live = media_playlist(
            &session(Mode::Live, Discontinuity::OnDiscontinuity),
            "T",
            &fragments,
            false,
        );
        let expected = "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:2\n\
            #EXT-X-MEDIA-SEQUENCE:7\n#EXT-X-DISCONTINUITY-SEQUENCE:2\n\
            #EXT-X-MAP:URI=\"getMP4InitFragment.mp4?SessionToken=T\"\n\
            #EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:20.000Z\n#EXTINF:2.000,\n\
            getMP4MediaFragment.mp4?SessionToken=T&FragmentNumber=91343852333181432387730302063214432802205335559\n\
            #EXT-X-DISCONTINUITY\n\
            #EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:22.000Z\n#EXTINF:1.960,\n\
            getMP4MediaFragment.mp4?SessionToken=T&FragmentNumber=91343852333181432387730302063214432802205335560\n";
        assert_eq!(live, expected);
        let vod = media_playlist(
            &session(Mode::OnDemand, Discontinuity::Always),
            "T",
            &fragments,
            true,
        );
        assert!(vod.contains("#EXT-X-PLAYLIST-TYPE:VOD\n"));
        assert!(vod.contains("#EXT-X-DISCONTINUITY-SEQUENCE:7\n"));
        assert!(vod.ends_with("#EXT-X-ENDLIST\n"));
    }

    #[test]
    fn master_names_codecs_and_resolution() {
        let variant = Variant {
            codecs: "avc1.4d401e,mp4a.40.2".into(),
            resolution: Some((640, 360)),
            bandwidth: 1_200_000,
        };
        assert_eq!(
            master_playlist("T", &variant),
            "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n\
             #EXT-X-STREAM-INF:BANDWIDTH=1200000,CODECS=\"avc1.4d401e,mp4a.40.2\",RESOLUTION=640x360\n\
             getHLSMediaPlaylist.m3u8?SessionToken=T\n"
        );
    }

    #[test]
    fn iso_dates() {
        assert_eq!(iso8601_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601_ms(951_782_400_123), "2000-02-29T00:00:00.123Z");
    }
}
