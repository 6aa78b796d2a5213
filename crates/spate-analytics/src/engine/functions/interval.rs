//! EXTRACT of an INTERVAL: `EXTRACT(HOUR FROM INTERVAL '2 3:4:5.678' DAY TO SECOND)` is 3.
//!
//! A day-time interval is held as milliseconds and a year-month interval as months (see
//! `engine::types`), so a field is read from that one number: DAY is the whole days, HOUR
//! the hours left over (0 to 23), MINUTE and SECOND likewise; YEAR is the whole years of a
//! year-month interval and MONTH the months left over (0 to 11). SECOND has its
//! milliseconds, as DECIMAL(5,3) ([`super::extract_type`]).
//!
//! Unverified: the reference's examples are all positive. A negative interval gives every
//! field with the interval's sign (`EXTRACT(HOUR FROM INTERVAL -'1 2:00' DAY TO MINUTE)` is
//! -2), as standard SQL has it. The interval's qualifier is not kept, so a field is counted
//! the same whatever the qualifier was: `EXTRACT(HOUR FROM INTERVAL '30' HOUR)` is 6 (and
//! its DAY 1), as in Calcite, whose interval arithmetic SQLstream's follows.

use std::sync::Arc;

use arrow::array::{ArrayRef, Decimal128Array, Int64Array};
use arrow::compute::unary;

use super::calendar::MILLIS_PER_DAY;
use super::{EvalError, ints, with_decimal_type};
use crate::sql::ast::TimeUnit;

const MILLIS_PER_HOUR: i64 = 3_600_000;
const MILLIS_PER_MINUTE: i64 = 60_000;
const MONTHS_PER_YEAR: i64 = 12;

/// Which of the two kinds of interval a value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntervalKind {
    /// Milliseconds: DAY, HOUR, MINUTE and SECOND fields.
    DayTime,
    /// Months: YEAR and MONTH fields.
    YearMonth,
}

impl IntervalKind {
    fn name(self) -> &'static str {
        match self {
            IntervalKind::DayTime => "INTERVAL DAY TO SECOND",
            IntervalKind::YearMonth => "INTERVAL YEAR TO MONTH",
        }
    }
}

/// Whether an interval of `kind` has the field `unit`, or why not (a plan error). The
/// reference lists YEAR, MONTH, DAY, HOUR, MINUTE and SECOND; a year-month interval has no
/// DAY, a day-time interval no YEAR (Unverified: AWS's wording).
pub fn check_interval_field(unit: TimeUnit, kind: IntervalKind) -> Result<(), String> {
    let has = match kind {
        IntervalKind::DayTime => matches!(
            unit,
            TimeUnit::Day | TimeUnit::Hour | TimeUnit::Minute | TimeUnit::Second
        ),
        IntervalKind::YearMonth => matches!(unit, TimeUnit::Year | TimeUnit::Month),
    };
    if has {
        Ok(())
    } else {
        Err(format!(
            "EXTRACT: an {} has no {} field",
            kind.name(),
            format!("{unit:?}").to_ascii_uppercase()
        ))
    }
}

/// EXTRACT(unit FROM interval) of an interval array (milliseconds or months, by `kind`).
pub fn extract_interval(
    unit: TimeUnit,
    kind: IntervalKind,
    array: &ArrayRef,
) -> Result<ArrayRef, EvalError> {
    const NAME: &str = "EXTRACT";
    check_interval_field(unit, kind).map_err(|message| EvalError::new(NAME, message))?;
    let amounts = ints(array.as_ref(), NAME)?;
    if unit == TimeUnit::Second {
        // Milliseconds are the DECIMAL's digits at scale 3; `%` keeps the sign.
        let seconds: Decimal128Array = unary(amounts, |millis: i64| {
            i128::from(millis % MILLIS_PER_MINUTE)
        });
        return with_decimal_type(seconds, 5, 3, NAME);
    }
    let field = match unit {
        TimeUnit::Day => |millis: i64| millis / MILLIS_PER_DAY,
        TimeUnit::Hour => |millis: i64| millis % MILLIS_PER_DAY / MILLIS_PER_HOUR,
        TimeUnit::Minute => |millis: i64| millis % MILLIS_PER_HOUR / MILLIS_PER_MINUTE,
        TimeUnit::Year => |months: i64| months / MONTHS_PER_YEAR,
        _ => |months: i64| months % MONTHS_PER_YEAR,
    };
    let result: Int64Array = unary(amounts, field);
    Ok(Arc::new(result))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::Array;

    fn extract(unit: TimeUnit, kind: IntervalKind, amount: i64) -> String {
        let array: ArrayRef = Arc::new(Int64Array::from(vec![Some(amount), None]));
        let result = extract_interval(unit, kind, &array).expect("a field of the interval");
        assert!(result.is_null(1), "NULL gives NULL");
        arrow::util::display::array_value_to_string(&result, 0).expect("displayable")
    }

    /// `d h:m:s.ms` in milliseconds.
    fn day_time(days: i64, hours: i64, minutes: i64, millis: i64) -> i64 {
        ((days * 24 + hours) * 60 + minutes) * 60_000 + millis
    }

    #[test]
    fn the_references_examples() {
        // INTERVAL '2 3:4:5.678' DAY TO SECOND
        let interval = day_time(2, 3, 4, 5_678);
        let kind = IntervalKind::DayTime;
        assert_eq!(extract(TimeUnit::Day, kind, interval), "2");
        assert_eq!(extract(TimeUnit::Hour, kind, interval), "3");
        assert_eq!(extract(TimeUnit::Minute, kind, interval), "4");
        assert_eq!(extract(TimeUnit::Second, kind, interval), "5.678");
    }

    #[test]
    fn negative_and_year_month_intervals() {
        let negative = -day_time(1, 2, 3, 4_005);
        let kind = IntervalKind::DayTime;
        assert_eq!(extract(TimeUnit::Day, kind, negative), "-1");
        assert_eq!(extract(TimeUnit::Hour, kind, negative), "-2");
        assert_eq!(extract(TimeUnit::Minute, kind, negative), "-3");
        assert_eq!(extract(TimeUnit::Second, kind, negative), "-4.005");
        // 30 hours: a day and 6 hours.
        assert_eq!(extract(TimeUnit::Hour, kind, 30 * MILLIS_PER_HOUR), "6");
        assert_eq!(extract(TimeUnit::Day, kind, 30 * MILLIS_PER_HOUR), "1");
        let months = IntervalKind::YearMonth;
        assert_eq!(extract(TimeUnit::Year, months, 27), "2");
        assert_eq!(extract(TimeUnit::Month, months, 27), "3");
        assert_eq!(extract(TimeUnit::Year, months, -27), "-2");
        assert_eq!(extract(TimeUnit::Month, months, -27), "-3");
    }

    #[test]
    fn fields_an_interval_does_not_have() {
        assert_eq!(
            check_interval_field(TimeUnit::Day, IntervalKind::YearMonth),
            Err("EXTRACT: an INTERVAL YEAR TO MONTH has no DAY field".to_string())
        );
        assert!(check_interval_field(TimeUnit::Month, IntervalKind::DayTime).is_err());
        assert!(check_interval_field(TimeUnit::Quarter, IntervalKind::YearMonth).is_err());
        assert!(check_interval_field(TimeUnit::Millisecond, IntervalKind::DayTime).is_err());
    }
}
