//! DescribeMappedResourceConfiguration: the signaling channel (at most one) whose media
//! storage is mapped to a stream.

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
    pub max_results: Option<i64>,
    pub next_token: Option<String>,
}

impl Validate for Request {
    fn validate(&self, v: &mut Violations) {
        super::name(v, "streamName", &self.stream_name, false);
        super::arn(v, "streamARN", &self.stream_arn, false);
        super::range(v, "maxResults", self.max_results, Some(1), Some(1));
        super::next_token(v, "nextToken", &self.next_token);
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Mapped {
    #[serde(rename = "Type")]
    pub kind: &'static str,
    #[serde(rename = "ARN")]
    pub arn: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Response {
    pub mapped_resource_configuration_list: Vec<Mapped>,
}

pub async fn handle(
    service: &VideoService,
    _call: &Call,
    request: Request,
) -> Result<Response, VideoError> {
    let (stream, _) = service.stream(
        request.stream_name.as_deref(),
        request.stream_arn.as_deref(),
    )?;
    let mapped = service
        .live_channels()
        .into_iter()
        .filter(|(channel, _)| {
            channel.media_storage.as_ref().is_some_and(|storage| {
                storage.status == "ENABLED" && storage.stream_arn.as_deref() == Some(&stream.arn)
            })
        })
        .take(1)
        .map(|(channel, _)| Mapped {
            // Unverified: the Type AWS reports for a channel.
            kind: "SIGNALING_CHANNEL",
            arn: channel.arn,
        })
        .collect();
    Ok(Response {
        mapped_resource_configuration_list: mapped,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_results_is_one() {
        let message = crate::ops::violations::<Request>(r#"{"StreamName":"s","MaxResults":2}"#)
            .expect("invalid");
        assert!(message.contains(r#"'maxResults' failed to satisfy constraint: Member must have value less than or equal to 1"#), "{message}");
        assert_eq!(
            crate::ops::violations::<Request>(r#"{"StreamName":"s","MaxResults":1}"#),
            None
        );
    }
}
