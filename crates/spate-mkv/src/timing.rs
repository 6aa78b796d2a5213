//! Fragment times on the producer axis (PutMedia's `FragmentTimecodeType` and
//! `ProducerStartTimestamp`) and the ordering rule between consecutive fragments (error 4004).

use crate::cluster::RawCluster;
use crate::error::MkvError;

/// PutMedia's `x-amzn-fragment-timecode-type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimecodeType {
    /// Cluster timecodes are epoch times.
    Absolute,
    /// Cluster timecodes count from `x-amzn-producer-start-timestamp`.
    Relative,
}

/// A fragment's times in epoch milliseconds on the producer axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FragmentTimes {
    /// The Cluster Timecode's time: the fragment's producer timestamp.
    pub producer_ms: i64,
    pub first_block_ms: i64,
    pub last_block_ms: i64,
}

impl FragmentTimes {
    pub fn duration_ms(&self) -> u64 {
        self.last_block_ms.abs_diff(self.first_block_ms)
    }
}

/// TimecodeScale units (signed) to milliseconds, saturating (then refused by [`to_ms`]).
fn units_to_ms(units: i128, scale_ns: u64) -> i128 {
    units.saturating_mul(i128::from(scale_ns)) / 1_000_000
}

fn to_ms(value: i128) -> Result<i64, MkvError> {
    i64::try_from(value)
        .map_err(|_| MkvError::InvalidProducerTimestamp(format!("{value} ms is out of range")))
}

/// The producer timestamp (ms) of a cluster timecode: `start + timecode` for RELATIVE,
/// `timecode` for ABSOLUTE; refused (4007) when RELATIVE lacks a start or the result is negative.
pub fn producer_timestamp_ms(
    kind: TimecodeType,
    start_ms: Option<i64>,
    timecode: u64,
    scale_ns: u64,
) -> Result<i64, MkvError> {
    let offset = units_to_ms(i128::from(timecode), scale_ns);
    let ms = match (kind, start_ms) {
        (TimecodeType::Absolute, _) => offset,
        (TimecodeType::Relative, Some(start)) => i128::from(start).saturating_add(offset),
        (TimecodeType::Relative, None) => {
            return Err(MkvError::InvalidProducerTimestamp(
                "RELATIVE timecodes need x-amzn-producer-start-timestamp".into(),
            ));
        }
    };
    if ms < 0 {
        return Err(MkvError::InvalidProducerTimestamp(format!(
            "{ms} ms is before the epoch"
        )));
    }
    to_ms(ms)
}

/// The times of a cluster (blocks relative to its Timecode, scaled).
pub fn fragment_times(
    cluster: &RawCluster,
    scale_ns: u64,
    kind: TimecodeType,
    start_ms: Option<i64>,
) -> Result<FragmentTimes, MkvError> {
    let producer_ms = producer_timestamp_ms(kind, start_ms, cluster.timecode, scale_ns)?;
    let base = i128::from(cluster.timecode);
    let (first, last) = cluster
        .block_span()
        .map_or((base, base), |(f, l)| (i128::from(f), i128::from(l)));
    let at = |units: i128| {
        to_ms(i128::from(producer_ms).saturating_add(units_to_ms(units - base, scale_ns)))
    };
    Ok(FragmentTimes {
        producer_ms,
        first_block_ms: at(first)?,
        last_block_ms: at(last)?,
    })
}

/// Refuses (4004) a fragment whose producer timestamp (its cluster Timecode) is less than the
/// previous fragment's: AWS's FRAGMENT_TIMECODE_LESSER_THAN_PREVIOUS. Blocks may overlap the
/// previous fragment's: with B-frames, a cluster's last blocks in decode order carry later
/// presentation times than the next cluster's first (audio) block.
pub fn check_order(
    previous: Option<&FragmentTimes>,
    current: &FragmentTimes,
) -> Result<(), MkvError> {
    match previous {
        Some(previous) if current.producer_ms < previous.producer_ms => {
            Err(MkvError::TimecodeNotIncreasing {
                timestamp_ms: current.producer_ms,
                previous_ms: previous.producer_ms,
            })
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_and_absolute() {
        let scale = 1_000_000;
        assert_eq!(
            producer_timestamp_ms(TimecodeType::Relative, Some(1_000), 500, scale).expect("ok"),
            1_500
        );
        assert_eq!(
            producer_timestamp_ms(TimecodeType::Absolute, Some(1_000), 500, scale).expect("ok"),
            500
        );
        assert_eq!(
            producer_timestamp_ms(TimecodeType::Absolute, None, 7, 100_000_000).expect("ok"),
            700
        );
        let err =
            producer_timestamp_ms(TimecodeType::Relative, None, 0, scale).expect_err("no start");
        assert_eq!(err.ack_error().id(), 4007);
        let err = producer_timestamp_ms(TimecodeType::Relative, Some(-10), 5, scale)
            .expect_err("negative");
        assert_eq!(err.ack_error().id(), 4007);
        assert!(producer_timestamp_ms(TimecodeType::Absolute, None, u64::MAX, u64::MAX).is_err());
    }

    #[test]
    fn order_produces_4004() {
        let a = FragmentTimes {
            producer_ms: 1_000,
            first_block_ms: 1_000,
            last_block_ms: 1_960,
        };
        let b = FragmentTimes {
            producer_ms: 2_000,
            first_block_ms: 2_000,
            last_block_ms: 2_960,
        };
        assert!(check_order(None, &a).is_ok());
        assert!(check_order(Some(&a), &b).is_ok());
        assert_eq!(
            check_order(Some(&b), &a)
                .expect_err("back")
                .ack_error()
                .id(),
            4004
        );
        // Blocks reaching back into the previous fragment (B-frames) are fine; an equal
        // timecode is not "lesser".
        let overlap = FragmentTimes {
            producer_ms: 1_500,
            first_block_ms: 1_400,
            last_block_ms: 2_000,
        };
        assert!(check_order(Some(&a), &overlap).is_ok());
        assert!(check_order(Some(&a), &a).is_ok());
        assert_eq!(b.duration_ms(), 960);
    }
}
