//! DescribeSignalingChannel: a channel's `ChannelInfo` (also the members of
//! ListSignalingChannels).

use serde::{Deserialize, Serialize};
use spate_wire::Violations;

use super::create_signaling_channel::SingleMaster;
use crate::api::Validate;
use crate::error::VideoError;
use crate::model::{ChannelMeta, Status, epoch_seconds};
use crate::service::{Call, VideoService};

/// A request naming one channel by `ChannelName` or `ChannelARN`, and nothing else.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    pub channel_name: Option<String>,
    #[serde(rename = "ChannelARN")]
    pub channel_arn: Option<String>,
}

impl Validate for Request {
    fn validate(&self, v: &mut Violations) {
        super::name(v, "channelName", &self.channel_name, false);
        super::arn(v, "channelARN", &self.channel_arn, false);
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ChannelInfo {
    pub channel_name: String,
    #[serde(rename = "ChannelARN")]
    pub channel_arn: String,
    pub channel_type: String,
    pub channel_status: &'static str,
    pub creation_time: f64,
    pub single_master_configuration: SingleMaster,
    pub version: String,
}

impl ChannelInfo {
    pub fn of(channel: ChannelMeta, status: Status) -> ChannelInfo {
        ChannelInfo {
            channel_name: channel.name,
            channel_arn: channel.arn,
            channel_type: channel.channel_type,
            channel_status: status.as_str(),
            creation_time: epoch_seconds(channel.created_ms),
            single_master_configuration: SingleMaster {
                message_ttl_seconds: Some(channel.message_ttl_seconds),
            },
            version: channel.version,
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Response {
    pub channel_info: ChannelInfo,
}

pub async fn handle(
    service: &VideoService,
    _call: &Call,
    request: Request,
) -> Result<Response, VideoError> {
    let (channel, status) = service.channel(
        request.channel_name.as_deref(),
        request.channel_arn.as_deref(),
    )?;
    Ok(Response {
        channel_info: ChannelInfo::of(channel, status),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_arns_are_checked() {
        let message = crate::ops::violations::<Request>(r#"{"ChannelName":""}"#).expect("invalid");
        assert!(message.contains(r#"'channelName' failed to satisfy constraint: Member must have length greater than or equal to 1"#), "{message}");
        assert_eq!(
            crate::ops::violations::<Request>(r#"{"ChannelName":"door"}"#),
            None
        );
    }
}
