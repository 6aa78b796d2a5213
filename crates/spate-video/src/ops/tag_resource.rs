//! TagResource: adds or overwrites the tags of a stream or a signaling channel named by ARN.
//! The by-ARN lookups of the three resource tag operations live here.

use std::collections::BTreeMap;

use serde::Deserialize;
use spate_wire::Violations;

use super::{Empty, Tag};
use crate::api::Validate;
use crate::error::VideoError;
use crate::service::{Call, VideoService};

/// The tags of the stream or channel `arn` names.
pub fn tags_of(service: &VideoService, arn: &str) -> Result<BTreeMap<String, String>, VideoError> {
    match super::kind_of_arn(arn) {
        "channel" => Ok(service.channel(None, Some(arn))?.0.tags),
        _ => Ok(service.stream(None, Some(arn))?.0.tags),
    }
}

/// Changes the tags of the stream or channel `arn` names (call under the control lock).
pub async fn change_tags(
    service: &VideoService,
    arn: &str,
    change: impl FnOnce(&mut BTreeMap<String, String>) -> Result<(), VideoError>,
) -> Result<(), VideoError> {
    if super::kind_of_arn(arn) == "channel" {
        let (mut channel, _) = service.channel(None, Some(arn))?;
        change(&mut channel.tags)?;
        service.store_channel(channel).await
    } else {
        let (mut stream, _) = service.stream(None, Some(arn))?;
        change(&mut stream.tags)?;
        service.store_stream(stream).await
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    #[serde(rename = "ResourceARN")]
    pub resource_arn: Option<String>,
    pub tags: Option<Vec<Tag>>,
}

impl Validate for Request {
    fn validate(&self, v: &mut Violations) {
        super::arn(v, "resourceARN", &self.resource_arn, true);
        super::tag_list(v, "tags", &self.tags, true, 1);
    }
}

pub async fn handle(
    service: &VideoService,
    _call: &Call,
    request: Request,
) -> Result<Empty, VideoError> {
    let arn = request.resource_arn.unwrap_or_default();
    let added = request
        .tags
        .unwrap_or_default()
        .into_iter()
        .map(|tag| (tag.key.unwrap_or_default(), tag.value.unwrap_or_default()));
    let _control = service.control.lock().await;
    change_tags(service, &arn, |tags| super::merge_tags(tags, added)).await?;
    Ok(Empty {})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arn_and_tag_list_are_required() {
        let message = crate::ops::violations::<Request>(r#"{}"#).expect("invalid");
        assert!(
            message.contains(r#"2 validation errors detected"#),
            "{message}"
        );
        let message = crate::ops::violations::<Request>(
            r#"{"ResourceARN":"arn:aws:kinesisvideo:us-east-1:1:channel/c/1","Tags":[]}"#,
        )
        .expect("invalid");
        assert!(message.contains(r#"'tags' failed to satisfy constraint: Member must have length greater than or equal to 1"#), "{message}");
        assert_eq!(
            crate::ops::violations::<Request>(
                r#"{"ResourceARN":"arn:aws:kinesisvideo:us-east-1:1:channel/c/1","Tags":[{"Key":"k","Value":""}]}"#
            ),
            None
        );
    }
}
