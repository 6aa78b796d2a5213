//! UpdateDataRetention: raises or lowers a stream's retention by a number of hours; the result
//! stays within 0..=87,600.

use serde::Deserialize;
use spate_wire::Violations;

use super::Empty;
use super::create_stream::MAX_RETENTION_HOURS;
use crate::api::Validate;
use crate::error::VideoError;
use crate::service::{Call, VideoService};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Request {
    pub stream_name: Option<String>,
    #[serde(rename = "StreamARN")]
    pub stream_arn: Option<String>,
    pub current_version: Option<String>,
    pub operation: Option<String>,
    pub data_retention_change_in_hours: Option<i64>,
}

const OPERATIONS: &[&str] = &["INCREASE_DATA_RETENTION", "DECREASE_DATA_RETENTION"];

impl Validate for Request {
    fn validate(&self, v: &mut Violations) {
        super::name(v, "streamName", &self.stream_name, false);
        super::arn(v, "streamARN", &self.stream_arn, false);
        super::version(v, "currentVersion", &self.current_version, true);
        super::one_of(v, "operation", &self.operation, true, OPERATIONS);
        v.required(
            "dataRetentionChangeInHours",
            &self.data_retention_change_in_hours,
        );
        super::range(
            v,
            "dataRetentionChangeInHours",
            self.data_retention_change_in_hours,
            Some(1),
            None,
        );
    }
}

/// The retention after the change, if it stays within bounds.
pub fn changed(current: i64, increase: bool, hours: i64) -> Result<i64, VideoError> {
    let result = if increase {
        current.saturating_add(hours)
    } else {
        current.saturating_sub(hours)
    };
    if !(0..=MAX_RETENTION_HOURS).contains(&result) {
        // Unverified: AWS's wording.
        return Err(VideoError::InvalidArgument(format!(
            "The data retention would become {result} hours; it must be between 0 and {MAX_RETENTION_HOURS}."
        )));
    }
    Ok(result)
}

pub async fn handle(
    service: &VideoService,
    _call: &Call,
    request: Request,
) -> Result<Empty, VideoError> {
    let increase = request.operation.as_deref() == Some("INCREASE_DATA_RETENTION");
    let hours = request.data_retention_change_in_hours.unwrap_or_default();
    service
        .update_stream(
            request.stream_name.as_deref(),
            request.stream_arn.as_deref(),
            &request.current_version,
            |stream| {
                stream.retention_hours = changed(stream.retention_hours, increase, hours)?;
                Ok(())
            },
        )
        .await?;
    Ok(Empty {})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retention_stays_within_bounds() {
        assert_eq!(changed(24, true, 24).expect("ok"), 48);
        assert_eq!(changed(24, false, 24).expect("ok"), 0);
        assert!(changed(24, false, 25).is_err());
        assert!(changed(87_000, true, 601).is_err());
    }

    #[test]
    fn change_must_be_positive() {
        let request: Request = serde_json::from_str(
            r#"{"StreamName":"s","CurrentVersion":"v","Operation":"GROW","DataRetentionChangeInHours":0}"#,
        )
        .expect("json");
        let mut v = Violations::new();
        request.validate(&mut v);
        let message = v.finish().expect_err("invalid").message();
        assert!(message.starts_with("2 validation errors"), "{message}");
    }
}
