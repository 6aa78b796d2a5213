//! UntagResource: removes tags by key from a stream or channel named by ARN.

use serde::Deserialize;
use spate_wire::Violations;

use super::Empty;
use crate::api::Validate;
use crate::error::VideoError;
use crate::service::{Call, VideoService};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    #[serde(rename = "ResourceARN")]
    pub resource_arn: Option<String>,
    pub tag_key_list: Option<Vec<String>>,
}

impl Validate for Request {
    fn validate(&self, v: &mut Violations) {
        super::arn(v, "resourceARN", &self.resource_arn, true);
        super::tag_key_list(v, "tagKeyList", &self.tag_key_list);
    }
}

pub async fn handle(
    service: &VideoService,
    _call: &Call,
    request: Request,
) -> Result<Empty, VideoError> {
    let arn = request.resource_arn.unwrap_or_default();
    let keys = request.tag_key_list.unwrap_or_default();
    let _control = service.control.lock().await;
    super::tag_resource::change_tags(service, &arn, |tags| {
        for key in &keys {
            tags.remove(key);
        }
        Ok(())
    })
    .await?;
    Ok(Empty {})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arn_must_be_a_video_arn() {
        let message = crate::ops::violations::<Request>(
            r#"{"ResourceARN":"arn:aws:kinesis:us-east-1:1:stream/s","TagKeyList":["k"]}"#,
        )
        .expect("invalid");
        assert!(message.contains(r#"'resourceARN' failed to satisfy constraint: Member must satisfy regular expression pattern"#), "{message}");
        assert_eq!(
            crate::ops::violations::<Request>(
                r#"{"ResourceARN":"arn:aws:kinesisvideo:us-east-1:1:stream/s/1","TagKeyList":["k"]}"#
            ),
            None
        );
    }
}
