//! UpdateMediaStorageConfiguration: maps a channel to the stream its media would be stored
//! in (stored and described; the WebRTC media path is not built yet).

use serde::Deserialize;
use spate_wire::Violations;

use super::Empty;
use crate::api::Validate;
use crate::error::VideoError;
use crate::model::MediaStorage;
use crate::service::{Call, VideoService};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    #[serde(rename = "ChannelARN")]
    pub channel_arn: Option<String>,
    pub media_storage_configuration: Option<MediaStorageRequest>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MediaStorageRequest {
    #[serde(rename = "StreamARN")]
    pub stream_arn: Option<String>,
    pub status: Option<String>,
}

impl Validate for Request {
    fn validate(&self, v: &mut Violations) {
        super::arn(v, "channelARN", &self.channel_arn, true);
        match &self.media_storage_configuration {
            None => v.required(
                "mediaStorageConfiguration",
                &self.media_storage_configuration,
            ),
            Some(config) => {
                super::arn(
                    v,
                    "mediaStorageConfiguration.streamARN",
                    &config.stream_arn,
                    false,
                );
                super::one_of(
                    v,
                    "mediaStorageConfiguration.status",
                    &config.status,
                    true,
                    &["ENABLED", "DISABLED"],
                );
            }
        }
    }
}

pub async fn handle(
    service: &VideoService,
    _call: &Call,
    request: Request,
) -> Result<Empty, VideoError> {
    let Some(config) = request.media_storage_configuration else {
        return Err(VideoError::Internal("validated member missing".into()));
    };
    let _control = service.control.lock().await;
    let mut channel = service.active_channel(None, request.channel_arn.as_deref())?;
    let status = config.status.unwrap_or_default();
    if status == "ENABLED" {
        let Some(stream_arn) = config.stream_arn.as_deref() else {
            return Err(VideoError::InvalidArgument(
                "MediaStorageConfiguration with Status ENABLED needs a StreamARN.".into(),
            ));
        };
        service.stream(None, Some(stream_arn))?;
    }
    channel.media_storage = Some(MediaStorage {
        stream_arn: config.stream_arn,
        status,
    });
    service.store_channel(channel).await?;
    Ok(Empty {})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_is_required_and_enumerated() {
        let message = crate::ops::violations::<Request>(
            r#"{"ChannelARN":"arn:aws:kinesisvideo:us-east-1:1:channel/c/1"}"#,
        )
        .expect("invalid");
        assert!(message.contains(r#"'mediaStorageConfiguration' failed to satisfy constraint: Member must not be null"#), "{message}");
        let message = crate::ops::violations::<Request>(r#"{"ChannelARN":"arn:aws:kinesisvideo:us-east-1:1:channel/c/1","MediaStorageConfiguration":{"Status":"ON"}}"#).expect("invalid");
        assert!(
            message.contains(r#"Member must satisfy enum value set: [ENABLED, DISABLED]"#),
            "{message}"
        );
        assert_eq!(
            crate::ops::violations::<Request>(
                r#"{"ChannelARN":"arn:aws:kinesisvideo:us-east-1:1:channel/c/1","MediaStorageConfiguration":{"Status":"DISABLED"}}"#
            ),
            None
        );
    }
}
