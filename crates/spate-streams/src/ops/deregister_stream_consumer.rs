//! DeregisterStreamConsumer: the consumer goes DELETING, then it is gone.

use serde::Deserialize;
use spate_wire::Violations;

use super::Empty;
use super::consumer_ref::ConsumerRef;
use crate::api::Validate;
use crate::consumers::ConsumerStatus;
use crate::error::StreamsError;
use crate::service::StreamsService;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    #[serde(flatten)]
    pub consumer: ConsumerRef,
}

impl Validate for Request {
    fn validate(&self, v: &mut Violations) {
        self.consumer.validate(v);
    }
}

pub async fn handle(service: &StreamsService, request: Request) -> Result<Empty, StreamsError> {
    let guard = service.registry.lock().await;
    let (_, consumer) = request.consumer.resolve(service)?;
    let now = service.now_ms();
    if consumer.status_at(now) == Some(ConsumerStatus::Deleting) {
        return Err(StreamsError::ResourceInUse(format!(
            "Consumer {} is already being deregistered.",
            consumer.arn(&service.config)
        )));
    }
    let delay = i64::try_from(service.config.consumer_delete_delay_ms).unwrap_or(i64::MAX);
    let mut updated = (*consumer).clone();
    updated.status = ConsumerStatus::Deleting;
    updated.status_until_ms = Some(now.saturating_add(delay));
    service.consumers.save(&guard, updated).await?;
    Ok(Empty {})
}
