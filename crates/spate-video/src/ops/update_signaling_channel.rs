//! UpdateSignalingChannel: a channel's single-master configuration, under optimistic
//! concurrency.

use serde::Deserialize;
use spate_wire::Violations;

use super::Empty;
use super::create_signaling_channel::SingleMaster;
use crate::api::Validate;
use crate::error::VideoError;
use crate::model::new_version;
use crate::service::{Call, VideoService};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    #[serde(rename = "ChannelARN")]
    pub channel_arn: Option<String>,
    pub current_version: Option<String>,
    pub single_master_configuration: Option<SingleMaster>,
}

impl Validate for Request {
    fn validate(&self, v: &mut Violations) {
        super::arn(v, "channelARN", &self.channel_arn, true);
        super::version(v, "currentVersion", &self.current_version, true);
        SingleMaster::validate(
            &self.single_master_configuration,
            v,
            "singleMasterConfiguration",
        );
    }
}

pub async fn handle(
    service: &VideoService,
    _call: &Call,
    request: Request,
) -> Result<Empty, VideoError> {
    let _control = service.control.lock().await;
    let mut channel = service.active_channel(None, request.channel_arn.as_deref())?;
    super::check_version(
        &request.current_version,
        &channel.version,
        "the signaling channel",
    )?;
    if let Some(ttl) = request
        .single_master_configuration
        .and_then(|config| config.message_ttl_seconds)
    {
        channel.message_ttl_seconds = ttl;
    }
    channel.version = new_version();
    service.store_channel(channel).await?;
    Ok(Empty {})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arn_and_version_are_required() {
        let message = crate::ops::violations::<Request>(r#"{}"#).expect("invalid");
        assert!(
            message.contains(r#"2 validation errors detected"#),
            "{message}"
        );
        let message = crate::ops::violations::<Request>(r#"{"ChannelARN":"arn:aws:kinesisvideo:us-east-1:1:channel/c/1","CurrentVersion":"v","SingleMasterConfiguration":{"MessageTtlSeconds":121}}"#).expect("invalid");
        assert!(message.contains(r#"'singleMasterConfiguration.messageTtlSeconds' failed to satisfy constraint: Member must have value less than or equal to 120"#), "{message}");
        assert_eq!(
            crate::ops::violations::<Request>(
                r#"{"ChannelARN":"arn:aws:kinesisvideo:us-east-1:1:channel/c/1","CurrentVersion":"v"}"#
            ),
            None
        );
    }
}
