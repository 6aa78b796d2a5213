//! DescribeStreamSummary: the stream without its shards. `StreamId` is never returned: botocore
//! would route any request echoing it to AWS, whatever endpoint the user configured.

use serde::{Deserialize, Serialize};
use spate_wire::Violations;

use crate::api::Validate;
use crate::error::StreamsError;
use crate::service::StreamsService;
use crate::shapes::{EnhancedMetrics, StreamModeDetails};
use crate::validation::StreamRef;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    #[serde(flatten)]
    pub stream: StreamRef,
}

impl Validate for Request {
    fn validate(&self, v: &mut Violations) {
        self.stream.validate(v);
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct StreamDescriptionSummary {
    pub stream_name: String,
    #[serde(rename = "StreamARN")]
    pub stream_arn: String,
    pub stream_status: &'static str,
    pub stream_mode_details: StreamModeDetails,
    pub retention_period_hours: u32,
    #[serde(with = "spate_wire::codec::timestamp")]
    pub stream_creation_timestamp: i64,
    pub enhanced_monitoring: Vec<EnhancedMetrics>,
    pub encryption_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    pub open_shard_count: usize,
    pub consumer_count: usize,
    #[serde(rename = "MaxRecordSizeInKiB")]
    pub max_record_size_in_kib: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warm_throughput: Option<crate::shapes::WarmThroughput>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Response {
    pub stream_description_summary: StreamDescriptionSummary,
}

pub async fn handle(service: &StreamsService, request: Request) -> Result<Response, StreamsError> {
    let name = request.stream.resolve(&service.config)?;
    let stream = service.visible_stream(&name)?;
    let status = stream
        .status_at(service.now_ms())
        .ok_or_else(|| service.not_found(&name))?;
    Ok(Response {
        stream_description_summary: StreamDescriptionSummary {
            stream_name: stream.name.clone(),
            stream_arn: service.config.stream_arn(&stream.name),
            stream_status: status.as_str(),
            stream_mode_details: StreamModeDetails::of(&stream),
            retention_period_hours: stream.retention_hours,
            stream_creation_timestamp: stream.created_ms,
            enhanced_monitoring: vec![EnhancedMetrics {
                shard_level_metrics: stream.settings.shard_level_metrics.clone(),
            }],
            encryption_type: stream.encryption_type(),
            key_id: stream.key_id(),
            open_shard_count: stream.open_shards().count(),
            consumer_count: service.visible_consumers(&stream).len(),
            max_record_size_in_kib: stream.max_record_size_kib,
            warm_throughput: crate::shapes::WarmThroughput::of(&stream, status),
        },
    })
}
