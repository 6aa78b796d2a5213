//! DeleteStream: the stream goes DELETING, then its shards and data are removed. Registered
//! consumers block it unless `EnforceConsumerDeletion` is true; then they are removed with it.

use serde::Deserialize;
use spate_wire::Violations;

use super::Empty;
use crate::api::Validate;
use crate::error::StreamsError;
use crate::model::StreamStatus;
use crate::service::StreamsService;
use crate::validation::StreamRef;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    #[serde(flatten)]
    pub stream: StreamRef,
    pub enforce_consumer_deletion: Option<bool>,
}

impl Validate for Request {
    fn validate(&self, v: &mut Violations) {
        self.stream.validate(v);
    }
}

pub async fn handle(service: &StreamsService, request: Request) -> Result<Empty, StreamsError> {
    let config = &service.config;
    let name = request.stream.resolve(config)?;
    let guard = service.registry.lock().await;
    let stream = service.active_stream(&name)?;
    let consumers = service.visible_consumers(&stream);
    if !consumers.is_empty() {
        if request.enforce_consumer_deletion != Some(true) {
            return Err(StreamsError::ResourceInUse(format!(
                "Stream {name} under account {} has registered consumers; deregister them or \
                 set EnforceConsumerDeletion.",
                config.account_id
            )));
        }
        for consumer in consumers {
            service
                .consumers
                .remove(&guard, &consumer.stream, &consumer.name)
                .await?;
        }
    }
    let mut updated = service.settled(&stream);
    let delay = i64::try_from(config.delete_delay_ms).unwrap_or(i64::MAX);
    updated.status = StreamStatus::Deleting;
    updated.status_until_ms = Some(service.now_ms().saturating_add(delay));
    service.registry.save(&guard, updated).await?;
    Ok(Empty {})
}
