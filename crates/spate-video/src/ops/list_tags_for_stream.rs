//! ListTagsForStream: a stream's tags, all in one page (at most 50).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use spate_wire::Violations;

use crate::api::Validate;
use crate::error::VideoError;
use crate::service::{Call, VideoService};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    pub next_token: Option<String>,
    #[serde(rename = "StreamARN")]
    pub stream_arn: Option<String>,
    pub stream_name: Option<String>,
}

impl Validate for Request {
    fn validate(&self, v: &mut Violations) {
        super::next_token(v, "nextToken", &self.next_token);
        super::arn(v, "streamARN", &self.stream_arn, false);
        super::name(v, "streamName", &self.stream_name, false);
    }
}

/// The answer of both tag listings: every tag, no further page.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Response {
    pub tags: BTreeMap<String, String>,
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
    Ok(Response { tags: stream.tags })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_token_follows_its_pattern() {
        let message = crate::ops::violations::<Request>(r#"{"StreamName":"s","NextToken":"a b"}"#)
            .expect("invalid");
        assert!(message.contains(r#"'nextToken' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9+/=]*"#), "{message}");
        assert_eq!(
            crate::ops::violations::<Request>(r#"{"StreamName":"s","NextToken":""}"#),
            None
        );
    }
}
