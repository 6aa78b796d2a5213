//! DeleteResourcePolicy: removes the policy attached to a stream.

use serde::Deserialize;
use spate_wire::Violations;

use super::Empty;
use super::list_tags_for_resource::{Resource, resource_of};
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
    let no_policy =
        || StreamsError::ResourceNotFound(format!("No resource policy found for resource {arn}."));
    match resource_of(service, Some(&arn))? {
        Resource::Stream(name) => {
            change_stream(service, &name, Transition::Immediate, |stream| {
                stream
                    .settings
                    .resource_policy
                    .take()
                    .map(|_| ())
                    .ok_or_else(no_policy)
            })
            .await?;
        }
        Resource::Consumer(consumer) => {
            let guard = service.registry.lock().await;
            let (_, found) = consumer.resolve(service)?;
            let mut updated = (*found).clone();
            updated.resource_policy.take().ok_or_else(no_policy)?;
            service.consumers.save(&guard, updated).await?;
        }
    }
    Ok(Empty {})
}
