//! UntagStream: removes tags from a stream by key (absent keys are ignored).

use serde::Deserialize;
use spate_wire::Violations;

use super::Empty;
use crate::api::Validate;
use crate::error::VideoError;
use crate::service::{Call, VideoService};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    #[serde(rename = "StreamARN")]
    pub stream_arn: Option<String>,
    pub stream_name: Option<String>,
    pub tag_key_list: Option<Vec<String>>,
}

impl Validate for Request {
    fn validate(&self, v: &mut Violations) {
        super::arn(v, "streamARN", &self.stream_arn, false);
        super::name(v, "streamName", &self.stream_name, false);
        super::tag_key_list(v, "tagKeyList", &self.tag_key_list);
    }
}

pub async fn handle(
    service: &VideoService,
    _call: &Call,
    request: Request,
) -> Result<Empty, VideoError> {
    let _control = service.control.lock().await;
    let (mut stream, _) = service.stream(
        request.stream_name.as_deref(),
        request.stream_arn.as_deref(),
    )?;
    for key in request.tag_key_list.unwrap_or_default() {
        stream.tags.remove(&key);
    }
    service.store_stream(stream).await?;
    Ok(Empty {})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_required_and_checked() {
        let message = crate::ops::violations::<Request>(r#"{"StreamName":"s"}"#).expect("invalid");
        assert!(
            message
                .contains(r#"'tagKeyList' failed to satisfy constraint: Member must not be null"#),
            "{message}"
        );
        let message = crate::ops::violations::<Request>(r#"{"StreamName":"s","TagKeyList":[""]}"#)
            .expect("invalid");
        assert!(message.contains(r#"'tagKeyList.1.member' failed to satisfy constraint: Member must have length greater than or equal to 1"#), "{message}");
        assert_eq!(
            crate::ops::violations::<Request>(r#"{"StreamName":"s","TagKeyList":["team"]}"#),
            None
        );
    }
}
