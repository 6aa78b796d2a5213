//! GetHLSStreamingSessionURL (kinesis-video-archived-media): a session URL for an HLS player,
//! fragmented MP4 only.

use serde::{Deserialize, Serialize};
use spate_wire::Violations;

use super::fragment_selector::FragmentSelector;
use super::streaming_session::{Common, Options, session_url};
use crate::api::Validate;
use crate::error::VideoError;
use crate::playback::{Discontinuity, Protocol};
use crate::service::{Call, VideoService};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    pub stream_name: Option<String>,
    #[serde(rename = "StreamARN")]
    pub stream_arn: Option<String>,
    pub playback_mode: Option<String>,
    #[serde(rename = "HLSFragmentSelector")]
    pub hls_fragment_selector: Option<FragmentSelector>,
    pub container_format: Option<String>,
    pub discontinuity_mode: Option<String>,
    pub display_fragment_timestamp: Option<String>,
    pub expires: Option<i64>,
    pub max_media_playlist_fragment_results: Option<i64>,
}

impl Request {
    fn common(&self) -> Common<'_> {
        Common {
            stream_name: &self.stream_name,
            stream_arn: &self.stream_arn,
            playback_mode: &self.playback_mode,
            selector: &self.hls_fragment_selector,
            expires: self.expires,
            max_results: self.max_media_playlist_fragment_results,
        }
    }
}

impl Validate for Request {
    fn validate(&self, v: &mut Violations) {
        self.common()
            .validate(v, "hLSFragmentSelector", "maxMediaPlaylistFragmentResults");
        super::one_of(
            v,
            "containerFormat",
            &self.container_format,
            false,
            &["FRAGMENTED_MP4", "MPEG_TS"],
        );
        super::one_of(
            v,
            "discontinuityMode",
            &self.discontinuity_mode,
            false,
            &["ALWAYS", "NEVER", "ON_DISCONTINUITY"],
        );
        super::one_of(
            v,
            "displayFragmentTimestamp",
            &self.display_fragment_timestamp,
            false,
            &["ALWAYS", "NEVER"],
        );
    }
}

#[derive(Debug, Serialize)]
pub struct Response {
    #[serde(rename = "HLSStreamingSessionURL")]
    pub hls_streaming_session_url: String,
}

pub async fn handle(
    service: &VideoService,
    call: &Call,
    request: Request,
) -> Result<Response, VideoError> {
    if request.container_format.as_deref() == Some("MPEG_TS") {
        return Err(VideoError::InvalidArgument(
            "ContainerFormat MPEG_TS is not supported by Spate yet; use FRAGMENTED_MP4.".into(),
        ));
    }
    let discontinuity = request
        .discontinuity_mode
        .as_deref()
        .map(|mode| match mode {
            "ALWAYS" => Discontinuity::Always,
            "NEVER" => Discontinuity::Never,
            _ => Discontinuity::OnDiscontinuity,
        });
    let options = Options {
        protocol: Protocol::Hls,
        discontinuity,
        show_timestamp: request.display_fragment_timestamp.as_deref() == Some("ALWAYS"),
        show_number: false,
    };
    let url = session_url(service, call, &request.common(), options).await?;
    Ok(Response {
        hls_streaming_session_url: url,
    })
}
