//! TagStream: adds or overwrites a stream's tags, at most 50.

use std::collections::BTreeMap;

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
    pub tags: Option<BTreeMap<String, String>>,
}

impl Validate for Request {
    fn validate(&self, v: &mut Violations) {
        super::arn(v, "streamARN", &self.stream_arn, false);
        super::name(v, "streamName", &self.stream_name, false);
        super::tag_map(v, "tags", &self.tags, true);
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
    super::merge_tags(&mut stream.tags, request.tags.unwrap_or_default())?;
    service.store_stream(stream).await?;
    Ok(Empty {})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_a_checked_map() {
        let message = crate::ops::violations::<Request>(r#"{"StreamName":"s"}"#).expect("invalid");
        assert!(
            message.contains(r#"'tags' failed to satisfy constraint: Member must not be null"#),
            "{message}"
        );
        let message =
            crate::ops::violations::<Request>(r#"{"StreamName":"s","Tags":{}}"#).expect("invalid");
        assert!(message.contains(r#"'tags' failed to satisfy constraint: Member must have length greater than or equal to 1"#), "{message}");
        let message = crate::ops::violations::<Request>(r#"{"StreamName":"s","Tags":{"k":"a*b"}}"#)
            .expect("invalid");
        assert!(
            message.contains(r#"'tags.k.value' failed to satisfy constraint"#),
            "{message}"
        );
        assert_eq!(
            crate::ops::violations::<Request>(r#"{"StreamName":"s","Tags":{"team":"video ops"}}"#),
            None
        );
    }
}
