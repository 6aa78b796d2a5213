//! DecreaseStreamRetentionPeriod: changes how long records stay readable (24 to 8760 hours).

use serde::Deserialize;
use spate_wire::Violations;

use super::Empty;
use super::retention::{self, Direction};
use crate::api::Validate;
use crate::error::StreamsError;
use crate::service::StreamsService;
use crate::validation;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    pub stream_name: Option<String>,
    #[serde(rename = "StreamARN")]
    pub stream_arn: Option<String>,
    pub retention_period_hours: Option<i64>,
}

impl Validate for Request {
    fn validate(&self, v: &mut Violations) {
        validation::name(v, "streamName", &self.stream_name, false);
        validation::stream_arn(v, "streamARN", &self.stream_arn);
        v.required("retentionPeriodHours", &self.retention_period_hours);
    }
}

pub async fn handle(service: &StreamsService, request: Request) -> Result<Empty, StreamsError> {
    let name = validation::resolve_stream_name(
        &service.config,
        request.stream_name.as_deref(),
        request.stream_arn.as_deref(),
    )?;
    let hours = request.retention_period_hours.unwrap_or_default();
    retention::change(service, &name, hours, Direction::Decrease).await?;
    Ok(Empty {})
}
