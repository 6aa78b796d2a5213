//! UpdateStream: a stream's device name and media type, under optimistic concurrency.

use serde::Deserialize;
use spate_wire::Violations;

use super::Empty;
use crate::api::Validate;
use crate::error::VideoError;
use crate::service::{Call, VideoService};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    pub stream_name: Option<String>,
    #[serde(rename = "StreamARN")]
    pub stream_arn: Option<String>,
    pub current_version: Option<String>,
    pub device_name: Option<String>,
    pub media_type: Option<String>,
}

impl Validate for Request {
    fn validate(&self, v: &mut Violations) {
        super::name(v, "streamName", &self.stream_name, false);
        super::arn(v, "streamARN", &self.stream_arn, false);
        super::version(v, "currentVersion", &self.current_version, true);
        super::string(
            v,
            "deviceName",
            &self.device_name,
            false,
            (1, 128),
            Some(super::NAME_PATTERN),
        );
        super::string(
            v,
            "mediaType",
            &self.media_type,
            false,
            (1, 128),
            Some(super::MEDIA_TYPE_PATTERN),
        );
    }
}

pub async fn handle(
    service: &VideoService,
    _call: &Call,
    request: Request,
) -> Result<Empty, VideoError> {
    service
        .update_stream(
            request.stream_name.as_deref(),
            request.stream_arn.as_deref(),
            &request.current_version,
            |stream| {
                if request.device_name.is_some() {
                    stream.device_name = request.device_name;
                }
                if request.media_type.is_some() {
                    stream.media_type = request.media_type;
                }
                Ok(())
            },
        )
        .await?;
    Ok(Empty {})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn current_version_is_required_and_alphanumeric() {
        for (body, path) in [
            (
                r#"{"StreamName":"s"}"#,
                "'currentVersion' failed to satisfy constraint: Member must not be null",
            ),
            (
                r#"{"StreamName":"s","CurrentVersion":"a-b"}"#,
                "regular expression pattern: [a-zA-Z0-9]+",
            ),
        ] {
            let request: Request = serde_json::from_str(body).expect("json");
            let mut v = Violations::new();
            request.validate(&mut v);
            assert!(v.finish().expect_err("invalid").message().contains(path));
        }
    }
}
