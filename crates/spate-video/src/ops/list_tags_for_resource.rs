//! ListTagsForResource: the tags of a stream or channel named by ARN, in one page.

use serde::Deserialize;
use spate_wire::Violations;

use super::list_tags_for_stream::Response;
use crate::api::Validate;
use crate::error::VideoError;
use crate::service::{Call, VideoService};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    pub next_token: Option<String>,
    #[serde(rename = "ResourceARN")]
    pub resource_arn: Option<String>,
}

impl Validate for Request {
    fn validate(&self, v: &mut Violations) {
        super::next_token(v, "nextToken", &self.next_token);
        super::arn(v, "resourceARN", &self.resource_arn, true);
    }
}

pub async fn handle(
    service: &VideoService,
    _call: &Call,
    request: Request,
) -> Result<Response, VideoError> {
    let arn = request.resource_arn.unwrap_or_default();
    Ok(Response {
        tags: super::tag_resource::tags_of(service, &arn)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arn_is_required() {
        let message = crate::ops::violations::<Request>(r#"{}"#).expect("invalid");
        assert!(
            message
                .contains(r#"'resourceARN' failed to satisfy constraint: Member must not be null"#),
            "{message}"
        );
        assert_eq!(
            crate::ops::violations::<Request>(
                r#"{"ResourceARN":"arn:aws:kinesisvideo:us-east-1:1:stream/s/1"}"#
            ),
            None
        );
    }
}
