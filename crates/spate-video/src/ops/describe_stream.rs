//! DescribeStream: a stream's `StreamInfo` (also the members of ListStreams).

use serde::{Deserialize, Serialize};
use spate_wire::Violations;

use crate::api::Validate;
use crate::error::VideoError;
use crate::model::{Status, StreamMeta, epoch_seconds};
use crate::service::{Call, VideoService};

/// A request naming one stream by `StreamName` or `StreamARN`, and nothing else.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    pub stream_name: Option<String>,
    #[serde(rename = "StreamARN")]
    pub stream_arn: Option<String>,
}

impl Validate for Request {
    fn validate(&self, v: &mut Violations) {
        super::name(v, "streamName", &self.stream_name, false);
        super::arn(v, "streamARN", &self.stream_arn, false);
    }
}

impl Request {
    /// The stream it names, with its status now.
    pub fn stream(&self, service: &VideoService) -> Result<(StreamMeta, Status), VideoError> {
        service.stream(self.stream_name.as_deref(), self.stream_arn.as_deref())
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct StreamInfo {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_name: Option<String>,
    pub stream_name: String,
    #[serde(rename = "StreamARN")]
    pub stream_arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    pub kms_key_id: String,
    pub version: String,
    pub status: &'static str,
    pub creation_time: f64,
    pub data_retention_in_hours: i64,
}

impl StreamInfo {
    pub fn of(stream: StreamMeta, status: Status) -> StreamInfo {
        StreamInfo {
            device_name: stream.device_name,
            stream_name: stream.name,
            stream_arn: stream.arn,
            media_type: stream.media_type,
            kms_key_id: stream.kms_key_id,
            version: stream.version,
            status: status.as_str(),
            creation_time: epoch_seconds(stream.created_ms),
            data_retention_in_hours: stream.retention_hours,
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Response {
    pub stream_info: StreamInfo,
}

pub async fn handle(
    service: &VideoService,
    _call: &Call,
    request: Request,
) -> Result<Response, VideoError> {
    let (stream, status) = request.stream(service)?;
    Ok(Response {
        stream_info: StreamInfo::of(stream, status),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_arns_are_checked() {
        let request: Request =
            serde_json::from_str(r#"{"StreamName":"x/y","StreamARN":"arn:aws:s3:::b"}"#)
                .expect("json");
        let mut v = Violations::new();
        request.validate(&mut v);
        let message = v.finish().expect_err("both invalid").message();
        assert!(message.contains("'streamName'") && message.contains("'streamARN'"));
    }
}
