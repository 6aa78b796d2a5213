//! The edge-agent operations (DescribeEdgeConfiguration, DeleteEdgeConfiguration,
//! ListEdgeAgentConfigurations, StartEdgeConfigurationUpdate), together since Spate runs no
//! edge agents: each answers an error naming the operation, never a silent success. A stream
//! never has an edge configuration, so Describe and Delete answer
//! `StreamEdgeConfigurationNotFoundException` (once the stream is found), as AWS does for a
//! stream without one; List and Start are refused.

use serde::Deserialize;
use spate_wire::Violations;

pub use super::describe_stream::Request;
use crate::api::Validate;
use crate::error::VideoError;
use crate::service::VideoService;

/// Describe and Delete: the stream the request names has no edge configuration.
pub fn not_found(service: &VideoService, operation: &str, request: &Request) -> VideoError {
    match request.stream(service) {
        Err(err) => err,
        Ok((stream, _)) => VideoError::StreamEdgeConfigurationNotFound(format!(
            "{operation}: the stream {} has no edge configuration; edge agents are not supported by Spate.",
            stream.name
        )),
    }
}

/// ListEdgeAgentConfigurations and StartEdgeConfigurationUpdate, refused by name.
pub fn unsupported(operation: &str) -> VideoError {
    VideoError::NotSupported(format!(
        "{operation} is not supported by Spate: edge agents are not supported by Spate."
    ))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListRequest {
    pub hub_device_arn: Option<String>,
    pub max_results: Option<i64>,
    pub next_token: Option<String>,
}

const HUB_DEVICE_ARN_PATTERN: &str = "arn:[a-z\\d-]+:iot:[a-z0-9-]+:[0-9]+:thing/[a-zA-Z0-9_.-]+";

impl Validate for ListRequest {
    fn validate(&self, v: &mut Violations) {
        super::string(
            v,
            "hubDeviceArn",
            &self.hub_device_arn,
            true,
            (1, 1024),
            Some(HUB_DEVICE_ARN_PATTERN),
        );
        super::range(v, "maxResults", self.max_results, Some(1), Some(10));
        super::next_token(v, "nextToken", &self.next_token);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hub_device_arn_is_an_iot_thing() {
        let message = crate::ops::violations::<ListRequest>(r#"{}"#).expect("invalid");
        assert!(
            message.contains(
                r#"'hubDeviceArn' failed to satisfy constraint: Member must not be null"#
            ),
            "{message}"
        );
        let message = crate::ops::violations::<ListRequest>(
            r#"{"HubDeviceArn":"arn:aws:iot:us-east-1:1:device/x","MaxResults":11}"#,
        )
        .expect("invalid");
        assert!(
            message.contains(r#"2 validation errors detected"#),
            "{message}"
        );
        assert_eq!(
            crate::ops::violations::<ListRequest>(
                r#"{"HubDeviceArn":"arn:aws:iot:us-east-1:000000000000:thing/hub","MaxResults":10}"#
            ),
            None
        );
    }
}
