//! RegisterStreamConsumer: a new enhanced fan-out consumer, CREATING then ACTIVE.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use spate_wire::Violations;

use super::consumer_ref::Consumer;
use super::tags;
use crate::api::Validate;
use crate::consumers::{
    ConsumerMeta, ConsumerStatus, MAX_CONSUMERS_PER_STREAM, MAX_CREATING_CONSUMERS,
};
use crate::error::StreamsError;
use crate::model::StreamStatus;
use crate::service::StreamsService;
use crate::validation;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    #[serde(rename = "StreamARN")]
    pub stream_arn: Option<String>,
    pub consumer_name: Option<String>,
    pub tags: Option<BTreeMap<String, String>>,
}

impl Validate for Request {
    fn validate(&self, v: &mut Violations) {
        if self.stream_arn.is_none() {
            v.required("streamARN", &self.stream_arn);
        }
        validation::stream_arn(v, "streamARN", &self.stream_arn);
        validation::name(v, "consumerName", &self.consumer_name, true);
        if let Some(tags) = &self.tags {
            tags::validate_map(v, "tags", tags);
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Response {
    pub consumer: Consumer,
}

pub async fn handle(service: &StreamsService, request: Request) -> Result<Response, StreamsError> {
    let config = &service.config;
    let stream_arn = request.stream_arn.unwrap_or_default();
    let name = request.consumer_name.unwrap_or_default();
    let stream_name = validation::resolve_stream_name(config, None, Some(&stream_arn))?;
    if let Some(tags) = &request.tags {
        tags::check_semantics(service, &stream_name, tags, 0)?;
    }
    let guard = service.registry.lock().await;
    let stream = service.visible_stream(&stream_name)?;
    let now = service.now_ms();
    match stream.status_at(now) {
        Some(StreamStatus::Active | StreamStatus::Updating) => {}
        Some(status) => {
            return Err(StreamsError::ResourceInUse(format!(
                "Stream {stream_name} under account {} not ACTIVE, instead in state {}",
                config.account_id,
                status.as_str()
            )));
        }
        None => return Err(service.not_found(&stream_name)),
    }
    let existing = service.visible_consumers(&stream);
    if existing.iter().any(|consumer| consumer.name == name) {
        return Err(StreamsError::ResourceInUse(format!(
            "Consumer {name} under stream {stream_arn} already exists for account {}.",
            config.account_id
        )));
    }
    if existing.len() >= MAX_CONSUMERS_PER_STREAM {
        return Err(StreamsError::LimitExceeded(format!(
            "Consumer limit of {MAX_CONSUMERS_PER_STREAM} reached for stream {stream_arn}."
        )));
    }
    let creating = existing
        .iter()
        .filter(|consumer| consumer.status_at(now) == Some(ConsumerStatus::Creating))
        .count();
    if creating >= MAX_CREATING_CONSUMERS {
        return Err(StreamsError::LimitExceeded(format!(
            "Stream {stream_arn} already has {creating} consumers in CREATING state; at most \
             {MAX_CREATING_CONSUMERS} may be created at once."
        )));
    }
    let delay = i64::try_from(config.consumer_create_delay_ms).unwrap_or(i64::MAX);
    let consumer = ConsumerMeta {
        stream: stream.name.clone(),
        stream_created_ms: stream.created_ms,
        name,
        created_ms: now,
        status: ConsumerStatus::Creating,
        status_until_ms: Some(now.saturating_add(delay)),
        tags: request.tags.unwrap_or_default(),
        resource_policy: None,
    };
    // A consumer of the same name that is gone but not yet removed is replaced.
    let consumer = service.consumers.save(&guard, consumer).await?;
    Ok(Response {
        consumer: Consumer {
            consumer_name: consumer.name.clone(),
            consumer_arn: consumer.arn(config),
            consumer_status: ConsumerStatus::Creating.as_str(),
            consumer_creation_timestamp: consumer.created_ms,
        },
    })
}
