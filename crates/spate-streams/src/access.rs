//! What authorizing a Kinesis request needs from this service: the resource the request acts on,
//! as an ARN (from its `ConsumerARN`, `ResourceARN`, `StreamARN` or `StreamName` member, in that
//! order; `*` for operations on no particular resource, such as ListStreams), and the policy
//! attached to that resource, if any.

use serde::Deserialize;
use spate_wire::Codec;

use crate::ops::list_tags_for_resource::{Resource, resource_of};
use crate::service::StreamsService;

/// The members that name a resource; every other member is ignored.
#[derive(Debug, Default, Deserialize)]
struct ResourceMembers {
    #[serde(rename = "ConsumerARN")]
    consumer_arn: Option<String>,
    #[serde(rename = "ResourceARN")]
    resource_arn: Option<String>,
    #[serde(rename = "StreamARN")]
    stream_arn: Option<String>,
    #[serde(rename = "StreamName")]
    stream_name: Option<String>,
}

impl StreamsService {
    /// The ARN of the resource a request body (in `codec`) acts on; `*` when it names none or
    /// cannot be read (the operation itself then refuses the body).
    pub fn resource_arn_of_request(&self, body: &[u8], codec: Codec) -> String {
        let members: ResourceMembers = codec.decode(body).unwrap_or_default();
        if let Some(arn) = members
            .consumer_arn
            .or(members.resource_arn)
            .or(members.stream_arn)
        {
            return arn;
        }
        match members.stream_name {
            Some(name) => self.config.stream_arn(&name),
            None => "*".to_owned(),
        }
    }

    /// The policy attached (PutResourcePolicy) to the stream or consumer `arn`; None when it has
    /// none or does not exist.
    pub fn resource_policy(&self, arn: &str) -> Option<String> {
        if arn == "*" {
            return None;
        }
        match resource_of(self, Some(arn)).ok()? {
            Resource::Stream(name) => self
                .visible_stream(&name)
                .ok()?
                .settings
                .resource_policy
                .clone(),
            Resource::Consumer(consumer) => consumer.resolve(self).ok()?.1.resource_policy.clone(),
        }
    }

    /// Whether any stream or consumer may have a resource policy (once one was put, always).
    pub fn may_have_resource_policies(&self) -> bool {
        self.resource_policies_seen
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// The account id the service's ARNs carry.
    pub fn account_id(&self) -> &str {
        &self.config.account_id
    }
}
