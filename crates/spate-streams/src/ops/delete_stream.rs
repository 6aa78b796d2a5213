//! DeleteStream: the stream goes DELETING, then its shards and data are removed.

use serde::Deserialize;
use spate_wire::Violations;

use super::Empty;
use crate::api::Validate;
use crate::error::StreamsError;
use crate::model::StreamStatus;
use crate::service::StreamsService;
use crate::validation;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    pub stream_name: Option<String>,
    #[serde(rename = "StreamARN")]
    pub stream_arn: Option<String>,
    pub enforce_consumer_deletion: Option<bool>,
}

impl Validate for Request {
    fn validate(&self, v: &mut Violations) {
        validation::name(v, "streamName", &self.stream_name, false);
        validation::stream_arn(v, "streamARN", &self.stream_arn);
    }
}

pub async fn handle(service: &StreamsService, request: Request) -> Result<Empty, StreamsError> {
    let config = &service.config;
    let name = validation::resolve_stream_name(
        config,
        request.stream_name.as_deref(),
        request.stream_arn.as_deref(),
    )?;
    let guard = service.registry.lock().await;
    let stream = service.active_stream(&name)?;
    let mut updated = service.settled(&stream);
    let delay = i64::try_from(config.delete_delay_ms).unwrap_or(i64::MAX);
    updated.status = StreamStatus::Deleting;
    updated.status_until_ms = Some(service.now_ms().saturating_add(delay));
    service.registry.save(&guard, updated).await?;
    Ok(Empty {})
}
