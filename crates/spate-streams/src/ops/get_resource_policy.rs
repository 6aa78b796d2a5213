//! GetResourcePolicy: the policy attached to a stream, exactly as stored; `{}` when it has none
//! (the output member is required, and AWS answers an empty policy document).

use serde::{Deserialize, Serialize};
use spate_wire::Violations;

use super::list_tags_for_resource::{Resource, resource_of};
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

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Response {
    pub policy: String,
}

pub async fn handle(service: &StreamsService, request: Request) -> Result<Response, StreamsError> {
    let policy = match resource_of(service, request.resource_arn.as_deref())? {
        Resource::Stream(name) => service
            .visible_stream(&name)?
            .settings
            .resource_policy
            .clone(),
        Resource::Consumer(consumer) => consumer.resolve(service)?.1.resource_policy.clone(),
    };
    Ok(Response {
        policy: policy.unwrap_or_else(|| "{}".to_string()),
    })
}
