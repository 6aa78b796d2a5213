//! IncreaseStreamRetentionPeriod: lengthens how long records stay readable (up to 8760 hours).

use serde::Deserialize;
use spate_wire::Violations;

use super::Empty;
use super::retention::{self, Direction};
use crate::api::Validate;
use crate::error::StreamsError;
use crate::service::StreamsService;
use crate::validation::StreamRef;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    #[serde(flatten)]
    pub stream: StreamRef,
    pub retention_period_hours: Option<i64>,
}

impl Validate for Request {
    fn validate(&self, v: &mut Violations) {
        self.stream.validate(v);
        v.required("retentionPeriodHours", &self.retention_period_hours);
    }
}

pub async fn handle(service: &StreamsService, request: Request) -> Result<Empty, StreamsError> {
    let name = request.stream.resolve(&service.config)?;
    let hours = request.retention_period_hours.unwrap_or_default();
    retention::change(service, &name, hours, Direction::Increase).await?;
    Ok(Empty {})
}
