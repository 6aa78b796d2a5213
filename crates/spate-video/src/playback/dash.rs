//! The DASH manifest of a session: one Period, one AdaptationSet with one Representation
//! whose segments are the session's fragments (fMP4, every track muxed in each segment, as the
//! HLS variant), listed with a `SegmentList` and a `SegmentTimeline` on the millisecond
//! timescale of the session's axis. `static` for a complete session, `dynamic` while it grows.
//! Unverified: AWS's MPD layout (it documents the URL, not the document).

use std::fmt::Write as _;

use crate::playback::hls::{Variant, iso8601_ms};
use crate::playback::session::{PlaybackSession, durations_s};
use crate::store::{FragmentMeta, FragmentNumber};

/// The namespace of the `kvs:` attributes (fragment numbers and timestamps).
/// Unverified: the URI.
const KVS_NAMESPACE: &str = "https://kinesisvideo.amazonaws.com/dash";

pub fn manifest(
    session: &PlaybackSession,
    token: &str,
    fragments: &[(FragmentNumber, FragmentMeta)],
    variant: &Variant,
    ended: bool,
    now_ms: i64,
) -> String {
    let durations = durations_s(fragments);
    let total_s: f64 = durations.iter().sum();
    let first_ms = fragments.first().map_or(0, |(_, meta)| meta.producer_ts_ms);
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = write!(
        out,
        "<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\" xmlns:kvs=\"{KVS_NAMESPACE}\" \
         profiles=\"urn:mpeg:dash:profile:isoff-live:2011\" minBufferTime=\"PT2S\""
    );
    if ended {
        let _ = writeln!(
            out,
            " type=\"static\" mediaPresentationDuration=\"PT{total_s:.3}S\">"
        );
    } else {
        let _ = writeln!(
            out,
            " type=\"dynamic\" availabilityStartTime=\"{}\" publishTime=\"{}\" \
             minimumUpdatePeriod=\"PT1S\" timeShiftBufferDepth=\"PT{total_s:.3}S\">",
            iso8601_ms(first_ms),
            iso8601_ms(now_ms)
        );
    }
    out.push_str("  <Period id=\"0\" start=\"PT0S\">\n");
    out.push_str(
        "    <AdaptationSet mimeType=\"video/mp4\" segmentAlignment=\"true\" startWithSAP=\"1\">\n",
    );
    let _ = write!(
        out,
        "      <Representation id=\"1\" bandwidth=\"{}\" codecs=\"{}\"",
        variant.bandwidth.max(1),
        variant.codecs
    );
    if let Some((width, height)) = variant.resolution {
        let _ = write!(out, " width=\"{width}\" height=\"{height}\"");
    }
    out.push_str(">\n");
    // Segment times are on the producer axis of the media (the segments' own decode times);
    // the presentation starts at the first listed fragment.
    let _ = writeln!(
        out,
        "        <SegmentList timescale=\"1000\" presentationTimeOffset=\"{first_ms}\">"
    );
    let _ = writeln!(
        out,
        "          <Initialization sourceURL=\"getMP4InitFragment.mp4?SessionToken={token}\"/>"
    );
    out.push_str("          <SegmentTimeline>\n");
    for ((_, meta), duration) in fragments.iter().zip(&durations) {
        #[allow(clippy::cast_possible_truncation)]
        let duration_ms = (duration * 1000.0).round() as i64;
        let _ = writeln!(
            out,
            "            <S t=\"{}\" d=\"{duration_ms}\"/>",
            meta.producer_ts_ms
        );
    }
    out.push_str("          </SegmentTimeline>\n");
    for (number, meta) in fragments {
        let _ = write!(
            out,
            "          <SegmentURL media=\"getMP4MediaFragment.mp4?SessionToken={token}&amp;FragmentNumber={number}\""
        );
        if session.show_number {
            let _ = write!(out, " kvs:fn=\"{number}\"");
        }
        if session.show_timestamp {
            let _ = write!(out, " kvs:ts=\"{}\"", session.start_of(meta));
        }
        out.push_str("/>\n");
    }
    out.push_str("        </SegmentList>\n      </Representation>\n    </AdaptationSet>\n  </Period>\n</MPD>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::playback::session::{Discontinuity, Mode, Protocol};

    #[test]
    fn static_manifest_lists_every_fragment() {
        let session = PlaybackSession {
            protocol: Protocol::Dash,
            stream: "cam".into(),
            created_ms: 1,
            mode: Mode::OnDemand,
            producer_axis: true,
            start_ms: Some(0),
            end_ms: Some(1),
            max_results: 10,
            discontinuity: Discontinuity::Never,
            show_timestamp: false,
            show_number: true,
            issued_ms: 0,
            expires_ms: 1,
        };
        let fragments: Vec<_> = (0..2u64)
            .map(|offset| {
                (
                    FragmentNumber { log: 1, offset },
                    FragmentMeta {
                        media_offset: offset,
                        producer_ts_ms: 5_000 + 1_000 * offset as i64,
                        duration_ms: 960,
                        ..FragmentMeta::default()
                    },
                )
            })
            .collect();
        let variant = Variant {
            codecs: "avc1.4d400b".into(),
            resolution: Some((160, 90)),
            bandwidth: 100_000,
        };
        let mpd = manifest(&session, "T", &fragments, &variant, true, 0);
        assert!(
            mpd.contains("type=\"static\" mediaPresentationDuration=\"PT1.960S\""),
            "{mpd}"
        );
        assert!(mpd.contains("<S t=\"5000\" d=\"1000\"/>\n            <S t=\"6000\" d=\"960\"/>"));
        assert!(mpd.contains("presentationTimeOffset=\"5000\""));
        assert_eq!(mpd.matches("<SegmentURL ").count(), 2);
        assert!(mpd.contains(
            "&amp;FragmentNumber=91343852333181432387730302063214432802205335553\" kvs:fn="
        ));
    }
}
