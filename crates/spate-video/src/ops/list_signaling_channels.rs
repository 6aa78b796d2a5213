//! ListSignalingChannels: channels in name order, filtered by `ChannelNameCondition`, paged.

use serde::{Deserialize, Serialize};
use spate_wire::Violations;

use super::describe_signaling_channel::ChannelInfo;
use super::list_streams::{NameCondition, page};
use crate::api::Validate;
use crate::error::VideoError;
use crate::service::{Call, VideoService};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    pub max_results: Option<i64>,
    pub next_token: Option<String>,
    pub channel_name_condition: Option<NameCondition>,
}

impl Validate for Request {
    fn validate(&self, v: &mut Violations) {
        super::range(v, "maxResults", self.max_results, Some(1), Some(10_000));
        super::next_token(v, "nextToken", &self.next_token);
        if let Some(condition) = &self.channel_name_condition {
            condition.validate(v, "channelNameCondition");
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Response {
    pub channel_info_list: Vec<ChannelInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

pub async fn handle(
    service: &VideoService,
    _call: &Call,
    request: Request,
) -> Result<Response, VideoError> {
    let channels: Vec<_> = service
        .live_channels()
        .into_iter()
        .filter(|(channel, _)| {
            NameCondition::admits(&request.channel_name_condition, &channel.name)
        })
        .collect();
    let (channels, next_token) = page(
        channels,
        |(channel, _)| channel.name.as_str(),
        request.max_results,
        request.next_token.as_deref(),
    )?;
    Ok(Response {
        channel_info_list: channels
            .into_iter()
            .map(|(channel, status)| ChannelInfo::of(channel, status))
            .collect(),
        next_token,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_and_condition_are_checked() {
        let message = crate::ops::violations::<Request>(
            r#"{"MaxResults":10001,"ChannelNameCondition":{"ComparisonValue":"a b"}}"#,
        )
        .expect("invalid");
        assert!(
            message.contains(r#"2 validation errors detected"#),
            "{message}"
        );
        assert_eq!(
            crate::ops::violations::<Request>(
                r#"{"MaxResults":5,"ChannelNameCondition":{"ComparisonOperator":"BEGINS_WITH","ComparisonValue":"door"}}"#
            ),
            None
        );
    }
}
