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
