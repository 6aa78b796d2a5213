//! What GetHLSStreamingSessionURL and GetDASHStreamingSessionURL share: the stream, the
//! playback mode and fragment selector with their rules, the expiry and the result count,
//! checked as the documentation states them, then a session opened on the stream.

use spate_wire::Violations;

use super::fragment_selector::{FragmentSelector, Required, check_range};
use crate::error::VideoError;
use crate::media::retained_stream;
use crate::playback::{self, Discontinuity, Mode, PlaybackSession, Protocol};
use crate::service::{Call, VideoService};
use crate::store::TimeAxis;

/// `Expires` when the request has none (the documented default), and its bounds.
const DEFAULT_EXPIRES_S: i64 = 300;

/// The members both operations have (their selectors differ only in name).
#[derive(Debug)]
pub struct Common<'a> {
    pub stream_name: &'a Option<String>,
    pub stream_arn: &'a Option<String>,
    pub playback_mode: &'a Option<String>,
    pub selector: &'a Option<FragmentSelector>,
    pub expires: Option<i64>,
    pub max_results: Option<i64>,
}

impl Common<'_> {
    /// The model's constraints, with the member names of the operation (`selector_member`:
    /// `hLSFragmentSelector` or `dASHFragmentSelector`, as botocore's messages spell them).
    pub fn validate(&self, v: &mut Violations, selector_member: &str, max_results_member: &str) {
        super::name(v, "streamName", self.stream_name, false);
        super::arn(v, "streamARN", self.stream_arn, false);
        super::one_of(
            v,
            "playbackMode",
            self.playback_mode,
            false,
            &["LIVE", "LIVE_REPLAY", "ON_DEMAND"],
        );
        if let Some(selector) = self.selector {
            selector.validate(
                v,
                selector_member,
                Required {
                    selector_type: false,
                    range: false,
                    timestamps: false,
                },
            );
        }
        super::range(v, "expires", self.expires, Some(300), Some(43_200));
        super::range(
            v,
            max_results_member,
            self.max_results,
            Some(1),
            Some(5_000),
        );
    }
}

/// The options only one of the two operations has.
#[derive(Debug)]
pub struct Options {
    pub protocol: Protocol,
    pub discontinuity: Option<Discontinuity>,
    pub show_timestamp: bool,
    pub show_number: bool,
}

fn mode_of(text: Option<&str>) -> Mode {
    match text {
        Some("LIVE_REPLAY") => Mode::LiveReplay,
        Some("ON_DEMAND") => Mode::OnDemand,
        _ => Mode::Live,
    }
}

/// Checks the request against the documented rules, opens the session and answers its URL.
pub async fn session_url(
    service: &VideoService,
    call: &Call,
    common: &Common<'_>,
    options: Options,
) -> Result<String, VideoError> {
    if common.stream_name.is_none() && common.stream_arn.is_none() {
        return Err(VideoError::InvalidArgument(
            "Either StreamName or StreamARN must be specified.".into(),
        ));
    }
    let (stream, logs) = retained_stream(
        service,
        common.stream_name.as_deref(),
        common.stream_arn.as_deref(),
    )?;
    let mode = mode_of(common.playback_mode.as_deref());
    let producer_axis = common
        .selector
        .as_ref()
        .is_some_and(|selector| selector.axis() == TimeAxis::Producer);
    let range = common
        .selector
        .as_ref()
        .and_then(|selector| selector.timestamp_range.as_ref());
    let (start_ms, end_ms) = common
        .selector
        .as_ref()
        .map_or((None, None), FragmentSelector::bounds);
    let now = service.now_ms();
    match mode {
        Mode::Live if range.is_some() => {
            return Err(VideoError::InvalidArgument(
                "TimestampRange must not be set when PlaybackMode is LIVE.".into(),
            ));
        }
        Mode::Live => {}
        Mode::LiveReplay | Mode::OnDemand => {
            let Some(start) = start_ms else {
                return Err(VideoError::InvalidArgument(
                    "StartTimestamp must be set when PlaybackMode is LIVE_REPLAY or ON_DEMAND."
                        .into(),
                ));
            };
            if mode == Mode::OnDemand && end_ms.is_none() {
                return Err(VideoError::InvalidArgument(
                    "EndTimestamp must be set when PlaybackMode is ON_DEMAND.".into(),
                ));
            }
            if let Some(end) = end_ms {
                let axis = if producer_axis {
                    TimeAxis::Producer
                } else {
                    TimeAxis::Server
                };
                check_range(axis, start, end, now)?;
            }
        }
    }
    let default_results = if mode == Mode::OnDemand { 1_000 } else { 5 };
    let expires_s = common.expires.unwrap_or(DEFAULT_EXPIRES_S);
    let discontinuity = options.discontinuity.unwrap_or(if producer_axis {
        Discontinuity::Never
    } else {
        Discontinuity::Always
    });
    let session = PlaybackSession {
        protocol: options.protocol,
        stream: stream.name.clone(),
        created_ms: stream.created_ms,
        mode,
        producer_axis,
        start_ms,
        end_ms,
        max_results: usize::try_from(common.max_results.unwrap_or(default_results)).unwrap_or(5),
        discontinuity,
        show_timestamp: options.show_timestamp,
        show_number: options.show_number,
        issued_ms: now,
        expires_ms: now.saturating_add(expires_s.saturating_mul(1000)),
    };
    let token = playback::open_session(service, logs, &session).await?;
    let base = service.config.base_url(call.host.as_deref());
    Ok(match options.protocol {
        Protocol::Hls => format!("{base}/hls/v1/getHLSMasterPlaylist.m3u8?SessionToken={token}"),
        Protocol::Dash => format!("{base}/dash/v1/getDASHManifest.mpd?SessionToken={token}"),
    })
}
