//! DeleteResourcePolicy: removes the policy attached to a stream.

use serde::Deserialize;
use spate_wire::Violations;

use super::Empty;
use super::list_tags_for_resource::stream_of;
use super::update::{Transition, change_stream};
use crate::api::Validate;
use crate::error::StreamsError;
use crate::service::StreamsService;
use crate::validation;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    #[serde(rename = "ResourceARN")]
    pub resource_arn: Option<String>,
}

impl Validate for Request {
    fn validate(&self, v: &mut Violations) {
        validation::resource_arn(v, "resourceARN", &self.resource_arn);
    }
}

pub async fn handle(service: &StreamsService, request: Request) -> Result<Empty, StreamsError> {
    let arn = request.resource_arn.unwrap_or_default();
    let name = stream_of(service, Some(&arn))?;
    change_stream(service, &name, Transition::Immediate, |stream| match stream
        .settings
        .resource_policy
        .take()
    {
        Some(_) => Ok(()),
        None => Err(StreamsError::ResourceNotFound(format!(
            "No resource policy found for resource {arn}."
        ))),
    })
    .await?;
    Ok(Empty {})
}
