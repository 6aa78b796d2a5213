//! How DescribeStreamConsumer, DeregisterStreamConsumer and the resource-tag operations name a
//! consumer: by `ConsumerARN`, or by `StreamARN` and `ConsumerName`, or all three if consistent.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use spate_wire::Violations;

use crate::consumers::{ConsumerMeta, split_consumer_arn};
use crate::error::StreamsError;
use crate::model::StreamMeta;
use crate::service::StreamsService;
use crate::validation;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ConsumerRef {
    #[serde(rename = "StreamARN")]
    pub stream_arn: Option<String>,
    pub consumer_name: Option<String>,
    #[serde(rename = "ConsumerARN")]
    pub consumer_arn: Option<String>,
}

impl ConsumerRef {
    pub fn validate(&self, v: &mut Violations) {
        validation::stream_arn(v, "streamARN", &self.stream_arn);
        validation::name(v, "consumerName", &self.consumer_name, false);
        validation::consumer_arn(v, "consumerARN", &self.consumer_arn, false);
    }

    /// The consumer the members name, as it exists now, with its stream.
    pub fn resolve(
        &self,
        service: &StreamsService,
    ) -> Result<(Arc<StreamMeta>, Arc<ConsumerMeta>), StreamsError> {
        match (&self.consumer_arn, &self.stream_arn, &self.consumer_name) {
            (Some(arn), stream_arn, name) => {
                let (arn_stream, arn_name, secs) = split_consumer_arn(arn).ok_or_else(|| {
                    StreamsError::InvalidArgument(format!("Invalid ConsumerARN {arn}."))
                })?;
                if stream_arn
                    .as_deref()
                    .is_some_and(|given| given != arn_stream)
                    || name.as_deref().is_some_and(|given| given != arn_name)
                {
                    return Err(StreamsError::InvalidArgument(format!(
                        "ConsumerARN {arn} does not match the StreamARN and ConsumerName given."
                    )));
                }
                let (stream, consumer) = find(service, arn_stream, arn_name, arn)?;
                if consumer.created_secs() != secs {
                    return Err(consumer_not_found(service, arn));
                }
                Ok((stream, consumer))
            }
            (None, Some(stream_arn), Some(name)) => {
                let described = format!("{name} under stream {stream_arn}");
                find(service, stream_arn, name, &described)
            }
            (None, _, _) => Err(StreamsError::InvalidArgument(
                "Either ConsumerARN or both StreamARN and ConsumerName must be provided."
                    .to_string(),
            )),
        }
    }
}

fn find(
    service: &StreamsService,
    stream_arn: &str,
    name: &str,
    described: &str,
) -> Result<(Arc<StreamMeta>, Arc<ConsumerMeta>), StreamsError> {
    let stream_name = validation::resolve_stream_name(&service.config, None, Some(stream_arn))?;
    let stream = service.visible_stream(&stream_name)?;
    service
        .visible_consumers(&stream)
        .into_iter()
        .find(|consumer| consumer.name == name)
        .map(|consumer| (stream, consumer))
        .ok_or_else(|| consumer_not_found(service, described))
}

pub fn consumer_not_found(service: &StreamsService, described: &str) -> StreamsError {
    StreamsError::ResourceNotFound(format!(
        "Consumer {described} under account {} not found.",
        service.config.account_id
    ))
}

/// The `Consumer` output shape.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Consumer {
    pub consumer_name: String,
    #[serde(rename = "ConsumerARN")]
    pub consumer_arn: String,
    pub consumer_status: &'static str,
    #[serde(with = "spate_wire::codec::timestamp")]
    pub consumer_creation_timestamp: i64,
}

impl Consumer {
    pub fn describe(service: &StreamsService, consumer: &ConsumerMeta) -> Option<Consumer> {
        Some(Consumer {
            consumer_name: consumer.name.clone(),
            consumer_arn: consumer.arn(&service.config),
            consumer_status: consumer.status_at(service.now_ms())?.as_str(),
            consumer_creation_timestamp: consumer.created_ms,
        })
    }
}
