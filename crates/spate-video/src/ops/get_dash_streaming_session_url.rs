//! GetDASHStreamingSessionURL (kinesis-video-archived-media): a session URL for a DASH player.

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
    pub display_fragment_timestamp: Option<String>,
    pub display_fragment_number: Option<String>,
    #[serde(rename = "DASHFragmentSelector")]
    pub dash_fragment_selector: Option<FragmentSelector>,
    pub expires: Option<i64>,
    pub max_manifest_fragment_results: Option<i64>,
}

impl Request {
    fn common(&self) -> Common<'_> {
        Common {
            stream_name: &self.stream_name,
            stream_arn: &self.stream_arn,
            playback_mode: &self.playback_mode,
            selector: &self.dash_fragment_selector,
            expires: self.expires,
            max_results: self.max_manifest_fragment_results,
        }
    }
}

impl Validate for Request {
    fn validate(&self, v: &mut Violations) {
        self.common()
            .validate(v, "dASHFragmentSelector", "maxManifestFragmentResults");
        for (member, value) in [
            ("displayFragmentTimestamp", &self.display_fragment_timestamp),
            ("displayFragmentNumber", &self.display_fragment_number),
        ] {
            super::one_of(v, member, value, false, &["ALWAYS", "NEVER"]);
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Response {
    #[serde(rename = "DASHStreamingSessionURL")]
    pub dash_streaming_session_url: String,
}

pub async fn handle(
    service: &VideoService,
    call: &Call,
    request: Request,
) -> Result<Response, VideoError> {
    let options = Options {
        protocol: Protocol::Dash,
        // A DASH timeline carries each segment's own time; no markers.
        discontinuity: Some(Discontinuity::Never),
        show_timestamp: request.display_fragment_timestamp.as_deref() == Some("ALWAYS"),
        show_number: request.display_fragment_number.as_deref() == Some("ALWAYS"),
    };
    let url = session_url(service, call, &request.common(), options).await?;
    Ok(Response {
        dash_streaming_session_url: url,
    })
}
