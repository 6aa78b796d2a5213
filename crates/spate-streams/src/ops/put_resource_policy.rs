//! PutResourcePolicy: attaches a policy document to a stream or consumer, stored and returned
//! exactly as given, and evaluated for every request on that resource once credentials are
//! configured. A document using what Spate does not evaluate (a `Condition`, say) is refused
//! here, naming it, rather than stored and ignored.

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
    pub policy: Option<String>,
}

/// The largest policy document AWS accepts for a Kinesis resource (20 KiB).
pub const MAX_POLICY_BYTES: usize = 20 * 1024;

impl Validate for Request {
    fn validate(&self, v: &mut Violations) {
        validation::resource_arn(v, "resourceARN", &self.resource_arn);
        v.required("policy", &self.policy);
    }
}

pub async fn handle(service: &StreamsService, request: Request) -> Result<Empty, StreamsError> {
    let resource = resource_of(service, request.resource_arn.as_deref())?;
    let policy = request.policy.unwrap_or_default();
    if policy.len() > MAX_POLICY_BYTES {
        return Err(StreamsError::InvalidArgument(format!(
            "Policy size {} exceeds the maximum allowed size of {MAX_POLICY_BYTES} bytes.",
            policy.len()
        )));
    }
    let is_object = matches!(
        serde_json::from_str::<serde_json::Value>(&policy),
        Ok(serde_json::Value::Object(_))
    );
    if !is_object {
        return Err(StreamsError::InvalidArgument(
            "Policy is not a valid JSON policy document.".to_string(),
        ));
    }
    if let Err(err) = spate_wire::policy::Policy::parse(&policy, true) {
        return Err(StreamsError::InvalidArgument(format!(
            "Policy is not supported by Spate: {err}."
        )));
    }
    // Before the policy is stored: a request authorized meanwhile must look for it.
    service
        .resource_policies_seen
        .store(true, std::sync::atomic::Ordering::SeqCst);
    match resource {
        Resource::Stream(name) => {
            change_stream(service, &name, Transition::Immediate, |stream| {
                stream.settings.resource_policy = Some(policy);
                Ok(())
            })
            .await?;
        }
        Resource::Consumer(consumer) => {
            let guard = service.registry.lock().await;
            let (_, found) = consumer.resolve(service)?;
            let mut updated = (*found).clone();
            updated.resource_policy = Some(policy);
            service.consumers.save(&guard, updated).await?;
        }
    }
    Ok(Empty {})
}
