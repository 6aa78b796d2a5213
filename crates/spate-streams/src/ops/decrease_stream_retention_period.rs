//! DecreaseStreamRetentionPeriod: shortens how long records stay readable (down to 24 hours).
//! Its input has the same members as IncreaseStreamRetentionPeriod's.

use super::Empty;
use super::retention::{self, Direction};
use crate::error::StreamsError;
use crate::service::StreamsService;

pub use super::increase_stream_retention_period::Request;

pub async fn handle(service: &StreamsService, request: Request) -> Result<Empty, StreamsError> {
    let name = request.stream.resolve(&service.config)?;
    let hours = request.retention_period_hours.unwrap_or_default();
    retention::change(service, &name, hours, Direction::Decrease).await?;
    Ok(Empty {})
}
