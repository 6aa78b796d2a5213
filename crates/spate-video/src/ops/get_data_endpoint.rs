//! GetDataEndpoint: the base URL of the media APIs of a stream, Spate's own for every
//! `APIName` (`[video] data_endpoint`, else the listener's scheme and the request's `Host`).

use serde::{Deserialize, Serialize};
use spate_wire::Violations;

use crate::api::Validate;
use crate::error::VideoError;
use crate::service::{Call, VideoService};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    pub stream_name: Option<String>,
    #[serde(rename = "StreamARN")]
    pub stream_arn: Option<String>,
    #[serde(rename = "APIName")]
    pub api_name: Option<String>,
}

pub const API_NAMES: &[&str] = &[
    "PUT_MEDIA",
    "GET_MEDIA",
    "LIST_FRAGMENTS",
    "GET_MEDIA_FOR_FRAGMENT_LIST",
    "GET_HLS_STREAMING_SESSION_URL",
    "GET_DASH_STREAMING_SESSION_URL",
    "GET_CLIP",
    "GET_IMAGES",
];

impl Validate for Request {
    fn validate(&self, v: &mut Violations) {
        super::name(v, "streamName", &self.stream_name, false);
        super::arn(v, "streamARN", &self.stream_arn, false);
        super::one_of(v, "aPIName", &self.api_name, true, API_NAMES);
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Response {
    pub data_endpoint: String,
}

pub async fn handle(
    service: &VideoService,
    call: &Call,
    request: Request,
) -> Result<Response, VideoError> {
    service.stream(
        request.stream_name.as_deref(),
        request.stream_arn.as_deref(),
    )?;
    Ok(Response {
        data_endpoint: service.config.base_url(call.host.as_deref()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_name_is_one_of_eight() {
        let message = crate::ops::violations::<Request>(r#"{"StreamName":"s"}"#).expect("invalid");
        assert!(
            message.contains(r#"'aPIName' failed to satisfy constraint: Member must not be null"#),
            "{message}"
        );
        let message =
            crate::ops::violations::<Request>(r#"{"StreamName":"s","APIName":"GET_THUMBNAIL"}"#)
                .expect("invalid");
        assert!(
            message.contains(r#"Member must satisfy enum value set: [PUT_MEDIA, GET_MEDIA"#),
            "{message}"
        );
        assert_eq!(
            crate::ops::violations::<Request>(r#"{"StreamName":"s","APIName":"GET_CLIP"}"#),
            None
        );
    }
}
