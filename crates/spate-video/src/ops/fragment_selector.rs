//! What the archived-media operations share about time: a fragment selector (a selector type
//! and a timestamp range, alike in ListFragments, GetClip and the streaming-session
//! operations), the time axis a type names, and the documented range rules.

use serde::Deserialize;
use spate_wire::Violations;

use crate::error::VideoError;
use crate::store::TimeAxis;

/// The selector types (`FragmentSelectorType`, `ImageSelectorType`).
pub const SELECTOR_TYPES: &[&str] = &["PRODUCER_TIMESTAMP", "SERVER_TIMESTAMP"];
/// The longest time range GetClip and the ON_DEMAND sessions take ("within 24 hours").
pub const MAX_RANGE_MS: i64 = 24 * 3_600_000;

/// `TimestampRange` (and its `HLS`/`DASH`/`Clip` namesakes), in epoch ms.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TimestampRange {
    #[serde(default, with = "spate_wire::codec::opt_timestamp")]
    pub start_timestamp: Option<i64>,
    #[serde(default, with = "spate_wire::codec::opt_timestamp")]
    pub end_timestamp: Option<i64>,
}

/// `FragmentSelector` (and its `HLS`/`DASH`/`Clip` namesakes).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FragmentSelector {
    pub fragment_selector_type: Option<String>,
    pub timestamp_range: Option<TimestampRange>,
}

/// Which members a model requires of a selector.
#[derive(Debug, Clone, Copy)]
pub struct Required {
    pub selector_type: bool,
    pub range: bool,
    /// Both timestamps, when a range is given.
    pub timestamps: bool,
}

impl FragmentSelector {
    /// The model's constraints, with `member` the selector's path in botocore's messages
    /// (`fragmentSelector`, `clipFragmentSelector`, `hLSFragmentSelector`, ...).
    pub fn validate(&self, v: &mut Violations, member: &str, required: Required) {
        super::one_of(
            v,
            &format!("{member}.fragmentSelectorType"),
            &self.fragment_selector_type,
            required.selector_type,
            SELECTOR_TYPES,
        );
        match &self.timestamp_range {
            None if required.range => {
                v.required(&format!("{member}.timestampRange"), &self.timestamp_range);
            }
            Some(range) if required.timestamps => {
                v.required(
                    &format!("{member}.timestampRange.startTimestamp"),
                    &range.start_timestamp,
                );
                v.required(
                    &format!("{member}.timestampRange.endTimestamp"),
                    &range.end_timestamp,
                );
            }
            _ => {}
        }
    }

    /// The time axis the selector type names.
    pub fn axis(&self) -> TimeAxis {
        axis_of(self.fragment_selector_type.as_deref())
    }

    /// The range's start and end, epoch ms.
    pub fn bounds(&self) -> (Option<i64>, Option<i64>) {
        self.timestamp_range.as_ref().map_or((None, None), |range| {
            (range.start_timestamp, range.end_timestamp)
        })
    }
}

/// The time axis a `*SelectorType` names (validated to be one of [`SELECTOR_TYPES`]).
pub fn axis_of(selector_type: Option<&str>) -> TimeAxis {
    match selector_type {
        Some("SERVER_TIMESTAMP") => TimeAxis::Server,
        _ => TimeAxis::Producer,
    }
}

/// GetClip's and the ON_DEMAND sessions' range rules: end after start, within 24 hours of it,
/// and (server timestamps) in the past.
pub fn check_range(
    axis: TimeAxis,
    start_ms: i64,
    end_ms: i64,
    now_ms: i64,
) -> Result<(), VideoError> {
    // Unverified: AWS's wording of these refusals.
    if end_ms <= start_ms {
        return Err(VideoError::InvalidArgument(
            "EndTimestamp must be later than StartTimestamp.".into(),
        ));
    }
    if end_ms.saturating_sub(start_ms) > MAX_RANGE_MS {
        return Err(VideoError::InvalidArgument(
            "EndTimestamp must be within 24 hours of StartTimestamp.".into(),
        ));
    }
    if axis == TimeAxis::Server && end_ms > now_ms {
        return Err(VideoError::InvalidArgument(
            "With SERVER_TIMESTAMP, EndTimestamp must be in the past.".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_follow_the_documentation() {
        let now = 1_700_000_000_000;
        assert!(check_range(TimeAxis::Producer, 5, 5, now).is_err());
        assert!(check_range(TimeAxis::Producer, 5, 4, now).is_err());
        assert!(check_range(TimeAxis::Producer, 0, MAX_RANGE_MS, now).is_ok());
        assert!(check_range(TimeAxis::Producer, 0, MAX_RANGE_MS + 1, now).is_err());
        assert!(check_range(TimeAxis::Producer, now, now + 10, now).is_ok());
        assert!(check_range(TimeAxis::Server, now, now + 10, now).is_err());
        assert!(check_range(TimeAxis::Server, now - 10, now, now).is_ok());
    }
}
