//! CreateSignalingChannel: a new channel, CREATING until `create_delay_ms` has passed.

use serde::{Deserialize, Serialize};
use spate_wire::Violations;

use super::Tag;
use crate::api::Validate;
use crate::error::VideoError;
use crate::model::{ChannelMeta, Lifecycle, new_version};
use crate::service::{Call, VideoService};

/// `SingleMasterConfiguration`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SingleMaster {
    pub message_ttl_seconds: Option<i64>,
}

impl SingleMaster {
    pub fn validate(this: &Option<SingleMaster>, v: &mut Violations, path: &str) {
        if let Some(config) = this {
            super::range(
                v,
                &format!("{path}.messageTtlSeconds"),
                config.message_ttl_seconds,
                Some(5),
                Some(120),
            );
        }
    }
}

/// AWS's default message TTL of a single-master channel, in seconds.
pub const DEFAULT_MESSAGE_TTL_SECONDS: i64 = 60;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    pub channel_name: Option<String>,
    pub channel_type: Option<String>,
    pub single_master_configuration: Option<SingleMaster>,
    pub tags: Option<Vec<Tag>>,
}

impl Validate for Request {
    fn validate(&self, v: &mut Violations) {
        super::name(v, "channelName", &self.channel_name, true);
        super::one_of(
            v,
            "channelType",
            &self.channel_type,
            false,
            &["SINGLE_MASTER", "FULL_MESH"],
        );
        SingleMaster::validate(
            &self.single_master_configuration,
            v,
            "singleMasterConfiguration",
        );
        super::tag_list(v, "tags", &self.tags, false, 0);
    }
}

#[derive(Debug, Serialize)]
pub struct Response {
    #[serde(rename = "ChannelARN")]
    pub channel_arn: String,
}

pub async fn handle(
    service: &VideoService,
    _call: &Call,
    request: Request,
) -> Result<Response, VideoError> {
    let name = request.channel_name.unwrap_or_default();
    let _control = service.control.lock().await;
    let live = service.live_channels();
    if live.iter().any(|(channel, _)| channel.name == name) {
        return Err(VideoError::ResourceInUse(format!(
            "The signaling channel {name} already exists."
        )));
    }
    if live.len() >= service.config.channel_limit {
        return Err(VideoError::AccountChannelLimitExceeded(format!(
            "The account already has {} signaling channels, the limit ([video] channel_limit).",
            live.len()
        )));
    }
    let mut tags = Default::default();
    let given = request.tags.unwrap_or_default().into_iter();
    super::merge_tags(
        &mut tags,
        given.map(|tag| (tag.key.unwrap_or_default(), tag.value.unwrap_or_default())),
    )?;
    let now = service.now_ms();
    let channel = ChannelMeta {
        arn: service.config.arn("channel", &name, now),
        name,
        version: new_version(),
        lifecycle: Lifecycle::creating(now, service.config.create_delay_ms),
        created_ms: now,
        channel_type: request
            .channel_type
            .unwrap_or_else(|| "SINGLE_MASTER".to_owned()),
        message_ttl_seconds: request
            .single_master_configuration
            .and_then(|config| config.message_ttl_seconds)
            .unwrap_or(DEFAULT_MESSAGE_TTL_SECONDS),
        tags,
        media_storage: None,
    };
    let channel_arn = channel.arn.clone();
    service.store_channel(channel).await?;
    Ok(Response { channel_arn })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl_and_type_are_checked() {
        let request: Request = serde_json::from_str(
            r#"{"ChannelName":"door","ChannelType":"MESH","SingleMasterConfiguration":{"MessageTtlSeconds":4}}"#,
        )
        .expect("json");
        let mut v = Violations::new();
        request.validate(&mut v);
        let message = v.finish().expect_err("invalid").message();
        assert!(
            message.contains("'channelType'") && message.contains("messageTtlSeconds"),
            "{message}"
        );
    }
}
