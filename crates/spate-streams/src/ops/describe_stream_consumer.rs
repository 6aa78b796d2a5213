//! DescribeStreamConsumer: one consumer, by ConsumerARN or by StreamARN and ConsumerName.

use serde::{Deserialize, Serialize};
use spate_wire::Violations;

use super::consumer_ref::{ConsumerRef, consumer_not_found};
use crate::api::Validate;
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

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ConsumerDescription {
    pub consumer_name: String,
    #[serde(rename = "ConsumerARN")]
    pub consumer_arn: String,
    pub consumer_status: &'static str,
    #[serde(with = "spate_wire::codec::timestamp")]
    pub consumer_creation_timestamp: i64,
    #[serde(rename = "StreamARN")]
    pub stream_arn: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Response {
    pub consumer_description: ConsumerDescription,
}

pub async fn handle(service: &StreamsService, request: Request) -> Result<Response, StreamsError> {
    let (stream, consumer) = request.consumer.resolve(service)?;
    let status = consumer
        .status_at(service.now_ms())
        .ok_or_else(|| consumer_not_found(service, &consumer.arn(&service.config)))?;
    Ok(Response {
        consumer_description: ConsumerDescription {
            consumer_name: consumer.name.clone(),
            consumer_arn: consumer.arn(&service.config),
            consumer_status: status.as_str(),
            consumer_creation_timestamp: consumer.created_ms,
            stream_arn: service.config.stream_arn(&stream.name),
        },
    })
}
