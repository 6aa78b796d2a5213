//! DeleteSignalingChannel: the channel turns DELETING and is gone after `delete_delay_ms`.

use serde::Deserialize;
use spate_wire::Violations;

use super::Empty;
use crate::api::Validate;
use crate::error::VideoError;
use crate::model::{Lifecycle, Status};
use crate::service::{Call, VideoService};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    #[serde(rename = "ChannelARN")]
    pub channel_arn: Option<String>,
    pub current_version: Option<String>,
}

impl Validate for Request {
    fn validate(&self, v: &mut Violations) {
        super::arn(v, "channelARN", &self.channel_arn, true);
        super::version(v, "currentVersion", &self.current_version, false);
    }
}

pub async fn handle(
    service: &VideoService,
    _call: &Call,
    request: Request,
) -> Result<Empty, VideoError> {
    let _control = service.control.lock().await;
    let (mut channel, status) = service.channel(None, request.channel_arn.as_deref())?;
    super::check_version(
        &request.current_version,
        &channel.version,
        "the signaling channel",
    )?;
    if status == Status::Deleting {
        return Err(VideoError::ResourceInUse(format!(
            "The signaling channel {} is already being deleted.",
            channel.name
        )));
    }
    channel.lifecycle = Lifecycle::deleting(service.now_ms(), service.config.delete_delay_ms);
    service.store_channel(channel).await?;
    Ok(Empty {})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arn_is_required() {
        let message =
            crate::ops::violations::<Request>(r#"{"CurrentVersion":"v"}"#).expect("invalid");
        assert!(
            message
                .contains(r#"'channelARN' failed to satisfy constraint: Member must not be null"#),
            "{message}"
        );
        assert_eq!(
            crate::ops::violations::<Request>(
                r#"{"ChannelARN":"arn:aws:kinesisvideo:us-east-1:1:channel/c/1"}"#
            ),
            None
        );
    }
}
