//! Retention changes shared by Increase- and DecreaseStreamRetentionPeriod.

use crate::error::StreamsError;
use crate::service::StreamsService;

pub const MIN_RETENTION_HOURS: i64 = 24;
pub const MAX_RETENTION_HOURS: i64 = 8760;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Increase,
    Decrease,
}

pub async fn change(
    service: &StreamsService,
    stream_name: &str,
    hours: i64,
    direction: Direction,
) -> Result<(), StreamsError> {
    if hours < MIN_RETENTION_HOURS {
        return Err(StreamsError::InvalidArgument(format!(
            "Minimum allowed retention period is {MIN_RETENTION_HOURS} hours. Requested retention \
             period ({hours} hours) is too short."
        )));
    }
    if hours > MAX_RETENTION_HOURS {
        return Err(StreamsError::InvalidArgument(format!(
            "Maximum allowed retention period is {MAX_RETENTION_HOURS} hours. Requested retention \
             period ({hours} hours) is too long."
        )));
    }
    let guard = service.registry.lock().await;
    let stream = service.active_stream(stream_name)?;
    let current = i64::from(stream.retention_hours);
    match direction {
        Direction::Increase if hours < current => {
            return Err(StreamsError::InvalidArgument(format!(
                "Requested retention period ({hours} hours) for stream {stream_name} can not be \
                 shorter than existing retention period ({current} hours). Use \
                 DecreaseRetentionPeriod API."
            )));
        }
        Direction::Decrease if hours > current => {
            return Err(StreamsError::InvalidArgument(format!(
                "Requested retention period ({hours} hours) for stream {stream_name} can not be \
                 longer than existing retention period ({current} hours). Use \
                 IncreaseRetentionPeriod API."
            )));
        }
        _ => {}
    }
    let mut updated = service.settled(&stream);
    updated.retention_hours = u32::try_from(hours).expect("checked to be within 24..=8760");
    service.registry.save(&guard, updated).await?;
    Ok(())
}
