//! Date and time functions: TSDIFF, TO_TIMESTAMP, UNIX_TIMESTAMP, the CHAR_TO_* parsers and
//! *_TO_CHAR formatters, EXTRACT, and FLOOR/CEIL of a TIMESTAMP to a unit.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, Date32Array, Decimal128Array, Int64Array, StringBuilder,
    Time32MillisecondArray, TimestampMillisecondArray,
};
use arrow::compute::{binary, try_unary, unary};
use arrow::datatypes::DataType;
use arrow::error::ArrowError;

use super::calendar::{MILLIS_PER_DAY, civil_from_days, days_from_civil, fields, iso_weekday};
use super::format::Pattern;
use super::{EvalError, dates, ints, quoted, strings, times, timestamps, with_decimal_type};
use crate::input::SqlType;
use crate::sql::ast::TimeUnit;

/// The milliseconds of a BIGINT or TIMESTAMP argument.
fn millis(array: &ArrayRef, function: &'static str) -> Result<Int64Array, EvalError> {
    if let Some(timestamps) = array.as_any().downcast_ref::<TimestampMillisecondArray>() {
        return Ok(timestamps.reinterpret_cast());
    }
    Ok(ints(array.as_ref(), function)?.clone())
}

/// TSDIFF(startTime, endTime): `endTime - startTime` in milliseconds, for BIGINT epoch
/// milliseconds or TIMESTAMPs. Unverified: the sign (the reference says only "the difference
/// between the two timestamps"; the argument names suggest end minus start).
pub(super) fn tsdiff(start: &ArrayRef, end: &ArrayRef) -> Result<ArrayRef, EvalError> {
    let start = millis(start, "TSDIFF")?;
    let end = millis(end, "TSDIFF")?;
    let result: Int64Array = binary(&start, &end, |start: i64, end: i64| end.wrapping_sub(start))
        .map_err(|err| EvalError::new("TSDIFF", err.to_string()))?;
    Ok(Arc::new(result))
}

/// TO_TIMESTAMP(BIGINT epoch milliseconds).
pub(super) fn to_timestamp(array: &ArrayRef) -> Result<ArrayRef, EvalError> {
    let result: TimestampMillisecondArray =
        ints(array.as_ref(), "TO_TIMESTAMP")?.reinterpret_cast();
    Ok(Arc::new(result))
}

/// UNIX_TIMESTAMP(TIMESTAMP): its epoch milliseconds as BIGINT.
pub(super) fn unix_timestamp(array: &ArrayRef) -> Result<ArrayRef, EvalError> {
    let result: Int64Array = timestamps(array.as_ref(), "UNIX_TIMESTAMP")?.reinterpret_cast();
    Ok(Arc::new(result))
}

/// Compiles each row's pattern, reusing the last one while rows repeat it (the usual case: a
/// literal).
struct PatternCache {
    function: &'static str,
    text: String,
    pattern: Option<Pattern>,
}

impl PatternCache {
    fn new(function: &'static str) -> PatternCache {
        PatternCache {
            function,
            text: String::new(),
            pattern: None,
        }
    }

    fn get(&mut self, text: &str) -> Result<&Pattern, EvalError> {
        if self.pattern.is_none() || self.text != text {
            let pattern = Pattern::compile(text).map_err(|reason| {
                EvalError::new(
                    self.function,
                    format!("bad format {}: {reason}", quoted(text)),
                )
            })?;
            self.text.clear();
            self.text.push_str(text);
            self.pattern = Some(pattern);
        }
        self.pattern
            .as_ref()
            .ok_or_else(|| EvalError::new(self.function, "no pattern"))
    }
}

/// CHAR_TO_TIMESTAMP, CHAR_TO_DATE, CHAR_TO_TIME(format, text): `text` read by the
/// `SimpleDateFormat`-style `format` (see the `format` module). A text that does not match is
/// an error (the reference: "no result").
pub(super) fn char_to(
    format: &ArrayRef,
    text: &ArrayRef,
    to: SqlType,
) -> Result<ArrayRef, EvalError> {
    let function = match to {
        SqlType::Date => "CHAR_TO_DATE",
        SqlType::Time => "CHAR_TO_TIME",
        _ => "CHAR_TO_TIMESTAMP",
    };
    let formats = strings(format.as_ref(), function)?;
    let texts = strings(text.as_ref(), function)?;
    let mut cache = PatternCache::new(function);
    let mut values: Vec<Option<i64>> = Vec::with_capacity(texts.len());
    for (format, text) in formats.iter().zip(texts.iter()) {
        let (Some(format), Some(text)) = (format, text) else {
            values.push(None);
            continue;
        };
        let millis = cache.get(format)?.parse(text).map_err(|reason| {
            EvalError::new(
                function,
                format!(
                    "{} does not match {}: {reason}",
                    quoted(text),
                    quoted(format)
                ),
            )
        })?;
        values.push(Some(millis));
    }
    Ok(match to {
        SqlType::Date => Arc::new(Date32Array::from(
            values
                .into_iter()
                .map(|value| {
                    value.and_then(|millis| i32::try_from(millis.div_euclid(MILLIS_PER_DAY)).ok())
                })
                .collect::<Vec<_>>(),
        )),
        SqlType::Time => Arc::new(Time32MillisecondArray::from(
            values
                .into_iter()
                .map(|value| value.map(|millis| millis.rem_euclid(MILLIS_PER_DAY) as i32))
                .collect::<Vec<_>>(),
        )),
        _ => Arc::new(TimestampMillisecondArray::from(values)),
    })
}

/// TIMESTAMP_TO_CHAR, DATE_TO_CHAR, TIME_TO_CHAR(format, value). A DATE is formatted as its
/// midnight, a TIME as that time on 1970-01-01.
///
/// The reference says of TIMESTAMP_TO_CHAR: "If the input is null, the output will be the
/// string "null"", so a NULL value gives `'null'` (Unverified for DATE_TO_CHAR and
/// TIME_TO_CHAR, which follow it here); a NULL format gives NULL.
pub(super) fn to_char(
    format: &ArrayRef,
    value: &ArrayRef,
    from: SqlType,
) -> Result<ArrayRef, EvalError> {
    let function = match from {
        SqlType::Date => "DATE_TO_CHAR",
        SqlType::Time => "TIME_TO_CHAR",
        _ => "TIMESTAMP_TO_CHAR",
    };
    let formats = strings(format.as_ref(), function)?;
    let millis: Int64Array = match from {
        SqlType::Date => unary(dates(value.as_ref(), function)?, |days: i32| {
            i64::from(days) * MILLIS_PER_DAY
        }),
        SqlType::Time => unary(times(value.as_ref(), function)?, i64::from),
        _ => timestamps(value.as_ref(), function)?.reinterpret_cast(),
    };
    let mut cache = PatternCache::new(function);
    let mut builder = StringBuilder::with_capacity(millis.len(), millis.len() * 24);
    let mut text = String::new();
    for (format, value) in formats.iter().zip(millis.iter()) {
        let Some(format) = format else {
            builder.append_null();
            continue;
        };
        let Some(value) = value else {
            builder.append_value("null");
            continue;
        };
        text.clear();
        cache.get(format)?.format(value, &mut text);
        builder.append_value(&text);
    }
    Ok(Arc::new(builder.finish()))
}

/// The type EXTRACT gives: BIGINT, and DECIMAL(5,3) for SECOND (seconds with milliseconds), as
/// the reference says.
pub fn extract_type(unit: TimeUnit) -> SqlType {
    match unit {
        TimeUnit::Second => SqlType::Decimal {
            precision: 5,
            scale: 3,
        },
        _ => SqlType::BigInt,
    }
}

/// EXTRACT(unit FROM value) of a DATE, TIME or TIMESTAMP. The reference lists YEAR, MONTH,
/// DAY, HOUR, MINUTE and SECOND; QUARTER, WEEK (ISO week of the year) and MILLISECOND are
/// answered too (Unverified: whether Kinesis Data Analytics accepts them). Fields a type does
/// not have (HOUR of a DATE, YEAR of a TIME) are an error.
pub fn extract(unit: TimeUnit, array: &ArrayRef, sql_type: SqlType) -> Result<ArrayRef, EvalError> {
    const NAME: &str = "EXTRACT";
    let has_date = matches!(sql_type, SqlType::Date | SqlType::Timestamp);
    let has_time = matches!(sql_type, SqlType::Time | SqlType::Timestamp);
    let is_date_unit = matches!(
        unit,
        TimeUnit::Year | TimeUnit::Quarter | TimeUnit::Month | TimeUnit::Week | TimeUnit::Day
    );
    if (is_date_unit && !has_date) || (!is_date_unit && !has_time) {
        return Err(EvalError::new(
            NAME,
            format!("{sql_type} has no {unit:?} field"),
        ));
    }
    let millis: Int64Array = match sql_type {
        SqlType::Date => unary(dates(array.as_ref(), NAME)?, |days: i32| {
            i64::from(days) * MILLIS_PER_DAY
        }),
        SqlType::Time => unary(times(array.as_ref(), NAME)?, i64::from),
        _ => timestamps(array.as_ref(), NAME)?.reinterpret_cast(),
    };
    if unit == TimeUnit::Second {
        let seconds: Decimal128Array =
            unary(&millis, |millis: i64| i128::from(millis.rem_euclid(60_000)));
        return with_decimal_type(seconds, 5, 3, NAME);
    }
    let result: Int64Array = unary(&millis, |millis: i64| {
        let of_day = millis.rem_euclid(MILLIS_PER_DAY);
        match unit {
            TimeUnit::Hour => of_day / 3_600_000,
            TimeUnit::Minute => of_day / 60_000 % 60,
            TimeUnit::Millisecond => of_day % 1000,
            TimeUnit::Week => iso_week(millis.div_euclid(MILLIS_PER_DAY)),
            _ => {
                let broken = fields(millis);
                match unit {
                    TimeUnit::Year => broken.year,
                    TimeUnit::Quarter => i64::from((broken.month - 1) / 3 + 1),
                    TimeUnit::Month => i64::from(broken.month),
                    _ => i64::from(broken.day),
                }
            }
        }
    });
    Ok(Arc::new(result))
}

/// The ISO 8601 week of the year (weeks start on Monday; week 1 holds the year's first
/// Thursday).
fn iso_week(days: i64) -> i64 {
    let thursday = days - i64::from(iso_weekday(days)) + 4;
    let (year, _, _) = civil_from_days(thursday);
    (thursday - days_from_civil(year, 1, 1)) / 7 + 1
}

/// FLOOR(x TO unit): the start of the unit holding each value, of a TIMESTAMP, DATE or TIME
/// array (the type is read from the array; the result has the same type). A DATE floored to a
/// unit below a day is itself; a TIME floored to a DAY or longer is midnight (Unverified).
/// Unverified: WEEK starts on Sunday, as in SQLstream's parent Calcite.
pub fn floor_to(unit: TimeUnit, array: &ArrayRef) -> Result<ArrayRef, EvalError> {
    round_to(unit, array, "FLOOR", floor_millis)
}

/// CEIL(x TO unit): each value itself when it starts a unit, else the start of the next; of a
/// TIMESTAMP, DATE or TIME array as [`floor_to`]. A TIME whose ceiling is the next midnight is
/// an error, as TIME cannot hold 24:00.
pub fn ceil_to(unit: TimeUnit, array: &ArrayRef) -> Result<ArrayRef, EvalError> {
    round_to(unit, array, "CEIL", ceil_millis)
}

/// Applies `round` (on epoch milliseconds) to a TIMESTAMP, DATE or TIME array.
fn round_to(
    unit: TimeUnit,
    array: &ArrayRef,
    function: &'static str,
    round: fn(TimeUnit, i64) -> Option<i64>,
) -> Result<ArrayRef, EvalError> {
    let to_error = |err: ArrowError| EvalError::new(function, err.to_string());
    match array.data_type() {
        DataType::Date32 => {
            if fixed_width(unit).is_some_and(|width| width < MILLIS_PER_DAY) {
                return Ok(array.clone());
            }
            let result: Date32Array = try_unary(dates(array.as_ref(), function)?, |days: i32| {
                let millis = i64::from(days) * MILLIS_PER_DAY;
                round(unit, millis)
                    .and_then(|rounded| i32::try_from(rounded.div_euclid(MILLIS_PER_DAY)).ok())
                    .ok_or_else(|| out_of_range(millis))
            })
            .map_err(to_error)?;
            Ok(Arc::new(result))
        }
        DataType::Time32(_) => {
            let day_or_longer = fixed_width(unit).is_none_or(|width| width >= MILLIS_PER_DAY);
            let result: Time32MillisecondArray =
                try_unary(times(array.as_ref(), function)?, |millis: i32| {
                    let rounded = if day_or_longer {
                        round(TimeUnit::Day, i64::from(millis))
                    } else {
                        round(unit, i64::from(millis))
                    };
                    rounded
                        .filter(|rounded| (0..MILLIS_PER_DAY).contains(rounded))
                        .map(|rounded| rounded as i32)
                        .ok_or_else(|| out_of_range(i64::from(millis)))
                })
                .map_err(to_error)?;
            Ok(Arc::new(result))
        }
        _ => {
            let result: TimestampMillisecondArray =
                try_unary(timestamps(array.as_ref(), function)?, |millis: i64| {
                    round(unit, millis).ok_or_else(|| out_of_range(millis))
                })
                .map_err(to_error)?;
            Ok(Arc::new(result))
        }
    }
}

fn ceil_millis(unit: TimeUnit, millis: i64) -> Option<i64> {
    let floor = floor_millis(unit, millis)?;
    if floor == millis {
        return Some(millis);
    }
    // The next unit's start is the floor of a point just past this unit's end.
    let step = match unit {
        TimeUnit::Year => 366 * MILLIS_PER_DAY,
        TimeUnit::Quarter => 92 * MILLIS_PER_DAY,
        TimeUnit::Month => 31 * MILLIS_PER_DAY,
        other => fixed_width(other).unwrap_or(MILLIS_PER_DAY),
    };
    floor_millis(unit, floor.checked_add(step)?)
}

/// The width of a STEP: an integer, a day-time interval in milliseconds, or a year-month
/// interval in months.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepWidth {
    Number(i64),
    Millis(i64),
    Months(i64),
}

/// STEP(value BY width): the largest multiple of `width` (counted from 0, or from
/// 1970-01-01 00:00:00 for datetimes) not above the value, of an integer, DATE, TIME or
/// TIMESTAMP, in the value's type. The reference's formula `(x / n) * n` would truncate a
/// negative integer toward zero; Unverified: negative values round down here, as its text
/// ("the largest multiple ... equal to or smaller than") says. A width that is not positive,
/// or that does not suit the value's type, is an error.
pub fn step(array: &ArrayRef, sql_type: SqlType, width: StepWidth) -> Result<ArrayRef, EvalError> {
    const NAME: &str = "STEP";
    let to_error = |err: ArrowError| EvalError::new(NAME, err.to_string());
    // The multiple of `width` at or below `value`, as the i64 or i32 the array holds.
    let floor = |value: i64, width: i64| {
        value
            .checked_sub(value.rem_euclid(width))
            .ok_or_else(|| out_of_range(value))
    };
    let floor_i32 = |value: i32, width: i64| {
        i32::try_from(floor(i64::from(value), width)?).map_err(|_| out_of_range(i64::from(value)))
    };
    let step_month = |days: i64, width: i64| {
        let (year, month, _) = civil_from_days(days);
        let months = floor((year - 1970) * 12 + i64::from(month) - 1, width)?;
        Ok::<i64, ArrowError>(days_from_civil(
            1970 + months.div_euclid(12),
            months.rem_euclid(12) as u32 + 1,
            1,
        ))
    };
    match (sql_type, width) {
        (_, StepWidth::Number(width) | StepWidth::Millis(width) | StepWidth::Months(width))
            if width <= 0 =>
        {
            Err(EvalError::new(
                NAME,
                format!("the step {width} is not positive"),
            ))
        }
        (_, StepWidth::Number(width)) if sql_type.integer_range().is_some() => {
            let result: Int64Array =
                try_unary(ints(array.as_ref(), NAME)?, |value| floor(value, width))
                    .map_err(to_error)?;
            Ok(Arc::new(result))
        }
        (SqlType::Timestamp, StepWidth::Millis(width)) => {
            let result: TimestampMillisecondArray =
                try_unary(timestamps(array.as_ref(), NAME)?, |value| {
                    floor(value, width)
                })
                .map_err(to_error)?;
            Ok(Arc::new(result))
        }
        (SqlType::Time, StepWidth::Millis(width)) => {
            let result: Time32MillisecondArray = try_unary(times(array.as_ref(), NAME)?, |value| {
                floor_i32(value, width)
            })
            .map_err(to_error)?;
            Ok(Arc::new(result))
        }
        (SqlType::Date, StepWidth::Millis(width)) if width % MILLIS_PER_DAY == 0 => {
            let days = width / MILLIS_PER_DAY;
            let result: Date32Array =
                try_unary(dates(array.as_ref(), NAME)?, |value| floor_i32(value, days))
                    .map_err(to_error)?;
            Ok(Arc::new(result))
        }
        (SqlType::Date, StepWidth::Months(width)) => {
            let result: Date32Array = try_unary(dates(array.as_ref(), NAME)?, |value: i32| {
                i32::try_from(step_month(i64::from(value), width)?)
                    .map_err(|_| out_of_range(i64::from(value)))
            })
            .map_err(to_error)?;
            Ok(Arc::new(result))
        }
        (SqlType::Timestamp, StepWidth::Months(width)) => {
            let result: TimestampMillisecondArray =
                try_unary(timestamps(array.as_ref(), NAME)?, |value| {
                    step_month(value.div_euclid(MILLIS_PER_DAY), width)?
                        .checked_mul(MILLIS_PER_DAY)
                        .ok_or_else(|| out_of_range(value))
                })
                .map_err(to_error)?;
            Ok(Arc::new(result))
        }
        _ => Err(EvalError::new(
            NAME,
            format!("cannot step {sql_type} by {width:?}"),
        )),
    }
}

fn out_of_range(millis: i64) -> ArrowError {
    ArrowError::ComputeError(format!("timestamp {millis} is out of range"))
}

/// Units of a fixed length in milliseconds.
fn fixed_width(unit: TimeUnit) -> Option<i64> {
    match unit {
        TimeUnit::Week => Some(7 * MILLIS_PER_DAY),
        TimeUnit::Day => Some(MILLIS_PER_DAY),
        TimeUnit::Hour => Some(3_600_000),
        TimeUnit::Minute => Some(60_000),
        TimeUnit::Second => Some(1000),
        TimeUnit::Millisecond => Some(1),
        TimeUnit::Year | TimeUnit::Quarter | TimeUnit::Month => None,
    }
}

fn floor_millis(unit: TimeUnit, millis: i64) -> Option<i64> {
    if unit == TimeUnit::Week {
        // 1970-01-04 was a Sunday.
        let sunday = 3 * MILLIS_PER_DAY;
        let width = 7 * MILLIS_PER_DAY;
        return millis.checked_sub(millis.wrapping_sub(sunday).rem_euclid(width));
    }
    if let Some(width) = fixed_width(unit) {
        return millis.checked_sub(millis.rem_euclid(width));
    }
    let broken = fields(millis);
    let month = match unit {
        TimeUnit::Year => 1,
        TimeUnit::Quarter => (broken.month - 1) / 3 * 3 + 1,
        _ => broken.month,
    };
    days_from_civil(broken.year, month, 1).checked_mul(MILLIS_PER_DAY)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::functions::resolve;
    use crate::input::datetime::{format_timestamp, parse_timestamp};
    use arrow::array::StringArray;

    fn ts(text: &str) -> i64 {
        parse_timestamp(text).expect("a valid timestamp")
    }

    fn ts_array(values: &[Option<&str>]) -> ArrayRef {
        Arc::new(TimestampMillisecondArray::from(
            values.iter().map(|value| value.map(ts)).collect::<Vec<_>>(),
        ))
    }

    fn texts(values: &[Option<&str>]) -> ArrayRef {
        Arc::new(StringArray::from(values.to_vec()))
    }

    fn ts_values(array: &ArrayRef) -> Vec<Option<String>> {
        timestamps(array.as_ref(), "test")
            .expect("timestamps")
            .iter()
            .map(|value| value.map(format_timestamp))
            .collect()
    }

    fn string_values(array: &ArrayRef) -> Vec<Option<String>> {
        strings(array.as_ref(), "test")
            .expect("strings")
            .iter()
            .map(|value| value.map(str::to_string))
            .collect()
    }

    fn int_values(array: &ArrayRef) -> Vec<Option<i64>> {
        ints(array.as_ref(), "test").expect("ints").iter().collect()
    }

    #[test]
    fn tsdiff_to_timestamp_and_unix_timestamp_convert_milliseconds() {
        let function = resolve("TSDIFF", &[SqlType::BigInt, SqlType::BigInt]).expect("resolves");
        assert_eq!(function.return_type(), SqlType::BigInt);
        let start: ArrayRef = Arc::new(Int64Array::from(vec![Some(1000), None]));
        let end: ArrayRef = Arc::new(Int64Array::from(vec![Some(4500), Some(1)]));
        let diff = function.evaluate(&[start, end], 2).expect("tsdiff");
        assert_eq!(int_values(&diff), vec![Some(3500), None]);

        let epoch: ArrayRef = Arc::new(Int64Array::from(vec![Some(1_709_209_805_123), None]));
        let result = resolve("TO_TIMESTAMP", &[SqlType::BigInt])
            .expect("resolves")
            .evaluate(&[epoch], 2)
            .expect("to_timestamp");
        assert_eq!(
            ts_values(&result),
            vec![Some("2024-02-29 12:30:05.123".to_string()), None]
        );
        let back = resolve("UNIX_TIMESTAMP", &[SqlType::Timestamp])
            .expect("resolves")
            .evaluate(&[result], 2)
            .expect("unix_timestamp");
        assert_eq!(int_values(&back), vec![Some(1_709_209_805_123), None]);
        resolve("TO_TIMESTAMP", &[SqlType::Varchar(4)]).expect_err("not a number");
    }

    #[test]
    fn char_to_functions_parse_by_pattern_and_refuse_mismatches() {
        let formats = texts(&[Some("yyyy-MM-dd HH:mm:ss"), Some("dd/MM/yyyy"), None]);
        let values = texts(&[Some("2024-02-29 12:30:05"), Some("01/03/2024"), Some("x")]);
        let function = resolve(
            "CHAR_TO_TIMESTAMP",
            &[SqlType::Varchar(32), SqlType::Varchar(32)],
        )
        .expect("resolves");
        let result = function
            .evaluate(&[formats.clone(), values.clone()], 3)
            .expect("parses");
        assert_eq!(
            ts_values(&result),
            vec![
                Some("2024-02-29 12:30:05.000".to_string()),
                Some("2024-03-01 00:00:00.000".to_string()),
                None
            ]
        );
        let dates = resolve(
            "CHAR_TO_DATE",
            &[SqlType::Varchar(32), SqlType::Varchar(32)],
        )
        .expect("resolves")
        .evaluate(&[formats, values], 3)
        .expect("parses");
        let days: Vec<_> = super::dates(dates.as_ref(), "test")
            .expect("dates")
            .iter()
            .collect();
        assert_eq!(days, vec![Some(19_782), Some(19_783), None]);
        let times = resolve("CHAR_TO_TIME", &[SqlType::Varchar(8), SqlType::Varchar(8)])
            .expect("resolves")
            .evaluate(&[texts(&[Some("HH:mm")]), texts(&[Some("01:02")])], 1)
            .expect("parses");
        let millis: Vec<_> = super::times(times.as_ref(), "test")
            .expect("times")
            .iter()
            .collect();
        assert_eq!(millis, vec![Some(3_720_000)]);
        let error = function
            .evaluate(
                &[texts(&[Some("yyyy-MM-dd")]), texts(&[Some("2024/01/01")])],
                1,
            )
            .expect_err("no match");
        assert!(error.message.contains("does not match"), "{error}");
        function
            .evaluate(&[texts(&[Some("yyyy-ww")]), texts(&[Some("2024-01")])], 1)
            .expect_err("bad pattern");
    }

    #[test]
    fn to_char_functions_format_and_write_null_as_the_reference_says() {
        let function = resolve(
            "TIMESTAMP_TO_CHAR",
            &[SqlType::Varchar(32), SqlType::Timestamp],
        )
        .expect("resolves");
        let result = function
            .evaluate(
                &[
                    texts(&[Some("yyyy-MM-dd'T'HH:mm"), Some("yyyy"), None]),
                    ts_array(&[
                        Some("2024-02-29 12:30:05"),
                        None,
                        Some("2024-02-29 12:30:05"),
                    ]),
                ],
                3,
            )
            .expect("formats");
        assert_eq!(
            string_values(&result),
            vec![
                Some("2024-02-29T12:30".to_string()),
                Some("null".to_string()),
                None
            ]
        );
        let date: ArrayRef = Arc::new(Date32Array::from(vec![Some(19_782)]));
        let result = resolve("DATE_TO_CHAR", &[SqlType::Varchar(8), SqlType::Date])
            .expect("resolves")
            .evaluate(&[texts(&[Some("MMM d, yyyy")]), date], 1)
            .expect("formats");
        assert_eq!(
            string_values(&result),
            vec![Some("Feb 29, 2024".to_string())]
        );
        let time: ArrayRef = Arc::new(Time32MillisecondArray::from(vec![Some(45_005_500)]));
        let result = resolve("TIME_TO_CHAR", &[SqlType::Varchar(8), SqlType::Time])
            .expect("resolves")
            .evaluate(&[texts(&[Some("h:mm:ss.SSS a")]), time], 1)
            .expect("formats");
        assert_eq!(
            string_values(&result),
            vec![Some("12:30:05.500 PM".to_string())]
        );
    }

    #[test]
    fn extract_reads_fields_of_every_datetime_type() {
        let stamps = ts_array(&[Some("2016-09-23 04:29:26.234"), None]);
        let cases = [
            (TimeUnit::Year, 2016),
            (TimeUnit::Quarter, 3),
            (TimeUnit::Month, 9),
            (TimeUnit::Week, 38),
            (TimeUnit::Day, 23),
            (TimeUnit::Hour, 4),
            (TimeUnit::Minute, 29),
            (TimeUnit::Millisecond, 234),
        ];
        for (unit, expected) in cases {
            let result = extract(unit, &stamps, SqlType::Timestamp).expect("extracts");
            assert_eq!(int_values(&result), vec![Some(expected), None], "{unit:?}");
            assert_eq!(extract_type(unit), SqlType::BigInt);
        }
        let seconds = extract(TimeUnit::Second, &stamps, SqlType::Timestamp).expect("seconds");
        assert_eq!(
            seconds.data_type(),
            &arrow::datatypes::DataType::Decimal128(5, 3)
        );
        let values: Vec<_> = super::super::decimals(seconds.as_ref(), "test")
            .expect("decimal")
            .iter()
            .collect();
        assert_eq!(values, vec![Some(26_234), None]);
        let date: ArrayRef = Arc::new(Date32Array::from(vec![Some(19_782)]));
        let day = extract(TimeUnit::Day, &date, SqlType::Date).expect("day of a date");
        assert_eq!(int_values(&day), vec![Some(29)]);
        extract(TimeUnit::Hour, &date, SqlType::Date).expect_err("a DATE has no hour");
        let time: ArrayRef = Arc::new(Time32MillisecondArray::from(vec![Some(45_005_500)]));
        let minute = extract(TimeUnit::Minute, &time, SqlType::Time).expect("minute of a time");
        assert_eq!(int_values(&minute), vec![Some(30)]);
        extract(TimeUnit::Year, &time, SqlType::Time).expect_err("a TIME has no year");
    }

    #[test]
    fn step_rounds_down_to_a_multiple() {
        let numbers: ArrayRef =
            Arc::new(Int64Array::from(vec![Some(23), Some(30), Some(-3), None]));
        let result = step(&numbers, SqlType::Integer, StepWidth::Number(5)).expect("step");
        assert_eq!(
            int_values(&result),
            vec![Some(20), Some(30), Some(-5), None]
        );
        let stamps = ts_array(&[Some("2004-09-30 13:48:23"), None]);
        let result = step(&stamps, SqlType::Timestamp, StepWidth::Millis(10_000)).expect("step");
        assert_eq!(
            ts_values(&result),
            vec![Some("2004-09-30 13:48:20.000".to_string()), None]
        );
        let result = step(&stamps, SqlType::Timestamp, StepWidth::Months(3)).expect("step");
        assert_eq!(
            ts_values(&result)[0].as_deref(),
            Some("2004-07-01 00:00:00.000")
        );
        let date: ArrayRef = Arc::new(Date32Array::from(vec![Some(19_782)]));
        let result =
            step(&date, SqlType::Date, StepWidth::Millis(7 * MILLIS_PER_DAY)).expect("step");
        let days: Vec<_> = super::dates(result.as_ref(), "test")
            .expect("dates")
            .iter()
            .collect();
        assert_eq!(days, vec![Some(19_782)]);
        let time: ArrayRef = Arc::new(Time32MillisecondArray::from(vec![Some(45_005_500)]));
        let result = step(&time, SqlType::Time, StepWidth::Millis(3_600_000)).expect("step");
        let millis: Vec<_> = super::times(result.as_ref(), "test")
            .expect("times")
            .iter()
            .collect();
        assert_eq!(millis, vec![Some(43_200_000)]);
        step(&numbers, SqlType::Integer, StepWidth::Number(0)).expect_err("zero step");
        step(&numbers, SqlType::Integer, StepWidth::Millis(1000))
            .expect_err("an interval for an integer");
        step(&date, SqlType::Date, StepWidth::Millis(1000)).expect_err("a DATE steps by days");
    }

    #[test]
    fn floor_and_ceil_to_a_unit() {
        let stamps = ts_array(&[
            Some("2024-05-15 13:45:30.250"),
            Some("2024-01-01 00:00:00"),
            None,
        ]);
        let cases = [
            (
                TimeUnit::Year,
                "2024-01-01 00:00:00.000",
                "2025-01-01 00:00:00.000",
            ),
            (
                TimeUnit::Quarter,
                "2024-04-01 00:00:00.000",
                "2024-07-01 00:00:00.000",
            ),
            (
                TimeUnit::Month,
                "2024-05-01 00:00:00.000",
                "2024-06-01 00:00:00.000",
            ),
            (
                TimeUnit::Week,
                "2024-05-12 00:00:00.000",
                "2024-05-19 00:00:00.000",
            ),
            (
                TimeUnit::Day,
                "2024-05-15 00:00:00.000",
                "2024-05-16 00:00:00.000",
            ),
            (
                TimeUnit::Hour,
                "2024-05-15 13:00:00.000",
                "2024-05-15 14:00:00.000",
            ),
            (
                TimeUnit::Minute,
                "2024-05-15 13:45:00.000",
                "2024-05-15 13:46:00.000",
            ),
            (
                TimeUnit::Second,
                "2024-05-15 13:45:30.000",
                "2024-05-15 13:45:31.000",
            ),
        ];
        for (unit, floor, ceil) in cases {
            let floored = floor_to(unit, &stamps).expect("floor");
            let ceiled = ceil_to(unit, &stamps).expect("ceil");
            assert_eq!(ts_values(&floored)[0].as_deref(), Some(floor), "{unit:?}");
            assert_eq!(ts_values(&ceiled)[0].as_deref(), Some(ceil), "{unit:?}");
            assert_eq!(ts_values(&floored)[2], None);
        }
        // A timestamp on a boundary is its own ceiling.
        let ceiled = ceil_to(TimeUnit::Month, &stamps).expect("ceil");
        assert_eq!(
            ts_values(&ceiled)[1].as_deref(),
            Some("2024-01-01 00:00:00.000")
        );
        let date: ArrayRef = Arc::new(Date32Array::from(vec![Some(19_782), None]));
        let floored = floor_to(TimeUnit::Month, &date).expect("floor a date");
        let days: Vec<_> = super::dates(floored.as_ref(), "test")
            .expect("dates")
            .iter()
            .collect();
        assert_eq!(days, vec![Some(19_754), None]);
        let ceiled = ceil_to(TimeUnit::Month, &date).expect("ceil a date");
        let days: Vec<_> = super::dates(ceiled.as_ref(), "test")
            .expect("dates")
            .iter()
            .collect();
        assert_eq!(days, vec![Some(19_783), None]);
        let same = floor_to(TimeUnit::Hour, &date).expect("a date has no hours");
        assert_eq!(same.as_ref(), date.as_ref());
        let time: ArrayRef = Arc::new(Time32MillisecondArray::from(vec![Some(45_005_500)]));
        let floored = floor_to(TimeUnit::Hour, &time).expect("floor a time");
        let millis: Vec<_> = super::times(floored.as_ref(), "test")
            .expect("times")
            .iter()
            .collect();
        assert_eq!(millis, vec![Some(43_200_000)]);
        let floored = floor_to(TimeUnit::Year, &time).expect("floor a time to a year");
        let millis: Vec<_> = super::times(floored.as_ref(), "test")
            .expect("times")
            .iter()
            .collect();
        assert_eq!(millis, vec![Some(0)]);
        let ceiled = ceil_to(TimeUnit::Minute, &time).expect("ceil a time");
        let millis: Vec<_> = super::times(ceiled.as_ref(), "test")
            .expect("times")
            .iter()
            .collect();
        assert_eq!(millis, vec![Some(45_060_000)]);
        ceil_to(TimeUnit::Day, &time).expect_err("24:00 is no TIME");

        let before_epoch = ts_array(&[Some("1969-12-31 23:59:59.999")]);
        let floored = floor_to(TimeUnit::Day, &before_epoch).expect("floor");
        assert_eq!(
            ts_values(&floored)[0].as_deref(),
            Some("1969-12-31 00:00:00.000")
        );
    }
}
