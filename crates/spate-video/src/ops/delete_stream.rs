//! DeleteStream: the stream turns DELETING and is gone after `delete_delay_ms`.

use serde::Deserialize;
use spate_wire::Violations;

use super::Empty;
use crate::api::Validate;
use crate::error::VideoError;
use crate::model::{Lifecycle, Status};
use crate::service::{Call, VideoService};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    #[serde(rename = "StreamARN")]
    pub stream_arn: Option<String>,
    pub current_version: Option<String>,
}

impl Validate for Request {
    fn validate(&self, v: &mut Violations) {
        super::arn(v, "streamARN", &self.stream_arn, true);
        super::version(v, "currentVersion", &self.current_version, false);
    }
}

pub async fn handle(
    service: &VideoService,
    _call: &Call,
    request: Request,
) -> Result<Empty, VideoError> {
    let _control = service.control.lock().await;
    let (mut stream, status) = service.stream(None, request.stream_arn.as_deref())?;
    super::check_version(&request.current_version, &stream.version, "the stream")?;
    if status == Status::Deleting {
        return Err(VideoError::ResourceInUse(format!(
            "The stream {} is already being deleted.",
            stream.name
        )));
    }
    stream.lifecycle = Lifecycle::deleting(service.now_ms(), service.config.delete_delay_ms);
    service.store_stream(stream).await?;
    Ok(Empty {})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_arn_is_required() {
        let message = crate::ops::violations::<Request>(r#"{}"#).expect("invalid");
        assert!(
            message
                .contains(r#"'streamARN' failed to satisfy constraint: Member must not be null"#),
            "{message}"
        );
        let message = crate::ops::violations::<Request>(
            r#"{"StreamARN":"arn:aws:kinesisvideo:us-east-1:1:stream/s/1","CurrentVersion":""}"#,
        )
        .expect("invalid");
        assert!(message.contains(r#"'currentVersion' failed to satisfy constraint: Member must have length greater than or equal to 1"#), "{message}");
        assert_eq!(
            crate::ops::violations::<Request>(
                r#"{"StreamARN":"arn:aws:kinesisvideo:us-east-1:000000000000:stream/s/1"}"#
            ),
            None
        );
    }
}
