//! The edge-agent operations (DescribeEdgeConfiguration, DeleteEdgeConfiguration,
//! ListEdgeAgentConfigurations, StartEdgeConfigurationUpdate), together since Spate runs no
//! edge agents: a stream never has an edge configuration, the list is empty, and starting an
//! update is refused by name.

use serde::{Deserialize, Serialize};
use spate_wire::Violations;

pub use super::describe_stream::Request;
use crate::api::Validate;
use crate::error::VideoError;
use crate::service::{Call, VideoService};

/// Describe and Delete: the stream has no edge configuration.
pub async fn handle(
    service: &VideoService,
    _call: &Call,
    request: Request,
) -> Result<super::Empty, VideoError> {
    let (stream, _) = request.stream(service)?;
    Err(VideoError::StreamEdgeConfigurationNotFound(format!(
        "The stream {} has no edge configuration: edge agents are not supported by Spate.",
        stream.name
    )))
}

/// StartEdgeConfigurationUpdate, refused.
pub fn start() -> VideoError {
    VideoError::NotSupported(
        "StartEdgeConfigurationUpdate is not supported by Spate: edge agents are not supported by Spate.".into(),
    )
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

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListResponse {
    pub edge_configs: Vec<()>,
}

/// ListEdgeAgentConfigurations: no edge agent has any.
pub fn list(_request: ListRequest) -> ListResponse {
    ListResponse {
        edge_configs: Vec::new(),
    }
}
