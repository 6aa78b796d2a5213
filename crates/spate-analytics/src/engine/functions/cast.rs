//! CAST between SQL types, with the reference's table of valid conversions:
//!
//! | from                | to                                               |
//! |---------------------|--------------------------------------------------|
//! | any number          | any number, CHAR, VARCHAR                        |
//! | CHAR, VARCHAR       | any number, CHAR, VARCHAR, DATE, TIME, TIMESTAMP, BOOLEAN |
//! | DATE                | DATE, TIMESTAMP, CHAR, VARCHAR                   |
//! | TIME                | TIME, TIMESTAMP, CHAR, VARCHAR                   |
//! | TIMESTAMP           | DATE, TIME, TIMESTAMP, CHAR, VARCHAR             |
//! | BOOLEAN             | BOOLEAN, CHAR, VARCHAR                           |
//! | BINARY, VARBINARY   | BINARY, VARBINARY                                |
//!
//! Numbers: a value out of the target's range is an error; approximate and DECIMAL values
//! round half away from zero when they lose digits (the reference: "Real numbers are rounded
//! when cast", CAST(-1.5 AS INTEGER) is -2). Strings to other types: leading and trailing
//! spaces are ignored; numbers in SQL literal form (`-12`, `1.5`, `2E3`), DATE `YYYY-MM-DD`,
//! TIME `HH:MM:SS[.fff]`, TIMESTAMP `YYYY-MM-DD HH:MM:SS[.fff]`, BOOLEAN `TRUE`/`FALSE` in any
//! case (and `UNKNOWN` as NULL, Unverified); anything else is an error. Values to strings:
//! numbers as digits, DATE/TIME/TIMESTAMP as `2017-01-01`, `12:00:00.000`,
//! `2017-01-01 12:00:00.000`; a result longer than the target type is an error (the reference:
//! a DATE cast to VARCHAR(9) gives no row), a CHAR target is padded with spaces. Strings to
//! strings: a VARCHAR(n) target keeps the first n characters, CHAR(n) also pads.

use std::fmt::Write;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, BinaryBuilder, BooleanBuilder, Date32Array, Decimal128Array, Float64Array,
    Int64Array, StringArray, StringBuilder, Time32MillisecondArray, TimestampMillisecondArray,
};
use arrow::compute::{try_unary, unary};
use arrow::error::ArrowError;

use super::calendar::MILLIS_PER_DAY;
use super::format::Pattern;
use super::{
    EvalError, binaries, booleans, dates, decimals, floats, ints, pow10, quoted, strings, times,
    timestamps, with_decimal_type,
};
use crate::input::SqlType;
use crate::input::datetime;

const NAME: &str = "CAST";

/// Whether CAST from `from` to `to` is valid SQL (checked when the expression is compiled).
pub fn can_cast(from: SqlType, to: SqlType) -> bool {
    use SqlType::{Binary, Boolean, Date, Time, Timestamp, Varbinary};
    if from == to {
        return true;
    }
    let character = to.is_character();
    match from {
        _ if from.is_numeric() => to.is_numeric() || character,
        _ if from.is_character() => !matches!(to, Binary(_) | Varbinary(_)),
        Date => matches!(to, Timestamp) || character,
        Time => matches!(to, Timestamp) || character,
        Timestamp => matches!(to, Date | Time) || character,
        Boolean => character,
        Binary(_) | Varbinary(_) => matches!(to, Binary(_) | Varbinary(_)),
        _ => false,
    }
}

/// CAST(array AS to) for an array of SQL type `from`.
pub fn cast(array: &ArrayRef, from: SqlType, to: SqlType) -> Result<ArrayRef, EvalError> {
    if from == to {
        return Ok(array.clone());
    }
    if !can_cast(from, to) {
        return Err(EvalError::new(NAME, format!("cannot cast {from} to {to}")));
    }
    if to.is_character() {
        return if from.is_character() {
            string_to_string(strings(array.as_ref(), NAME)?, to)
        } else {
            to_text(array, from, to)
        };
    }
    if from.is_character() {
        return from_text(strings(array.as_ref(), NAME)?, to);
    }
    match to {
        SqlType::Date | SqlType::Time | SqlType::Timestamp => datetime_to_datetime(array, from, to),
        SqlType::Binary(_) | SqlType::Varbinary(_) => binary_to_binary(array, to),
        _ => number_to_number(array, from, to),
    }
}

fn out_of_range(value: impl std::fmt::Display, to: SqlType) -> ArrowError {
    ArrowError::ComputeError(format!("{value} is out of range for {to}"))
}

fn from_arrow(err: ArrowError) -> EvalError {
    match err {
        ArrowError::ComputeError(message) => EvalError::new(NAME, message),
        other => EvalError::new(NAME, other.to_string()),
    }
}

/// `unscaled / divisor`, rounded half away from zero.
fn divide_rounding(unscaled: i128, divisor: i128) -> i128 {
    let quotient = unscaled / divisor;
    let remainder = unscaled % divisor;
    if remainder.abs() * 2 >= divisor {
        quotient + unscaled.signum()
    } else {
        quotient
    }
}

/// A value of scale `from` at scale `to`, rounding half away from zero.
fn rescale(unscaled: i128, from: u8, to: u8) -> Option<i128> {
    if to >= from {
        unscaled.checked_mul(pow10(to - from))
    } else {
        Some(divide_rounding(unscaled, pow10(from - to)))
    }
}

fn check_integer(value: i128, to: SqlType) -> Result<i64, ArrowError> {
    let (min, max) = to.integer_range().unwrap_or((i64::MIN, i64::MAX));
    if value < i128::from(min) || value > i128::from(max) {
        return Err(out_of_range(value, to));
    }
    Ok(value as i64)
}

fn check_precision(
    unscaled: i128,
    precision: u8,
    shown: impl std::fmt::Display,
    to: SqlType,
) -> Result<i128, ArrowError> {
    if unscaled.abs() >= pow10(precision) {
        return Err(out_of_range(shown, to));
    }
    Ok(unscaled)
}

fn float_to_integer(value: f64, to: SqlType) -> Result<i64, ArrowError> {
    let rounded = value.round();
    // Above 2^63 no f64 converts to i64; `as` would saturate, so check first.
    // 2^63: the first f64 above i64's range; i64::MIN (-2^63) itself converts exactly.
    const TWO_TO_63: f64 = 9_223_372_036_854_775_808.0;
    if !(-TWO_TO_63..TWO_TO_63).contains(&rounded) {
        return Err(out_of_range(value, to));
    }
    check_integer(i128::from(rounded as i64), to)
}

fn float_to_decimal(value: f64, precision: u8, scale: u8, to: SqlType) -> Result<i128, ArrowError> {
    let scaled = (value * pow10(scale) as f64).round();
    if !scaled.is_finite() || scaled.abs() >= pow10(precision) as f64 {
        return Err(out_of_range(value, to));
    }
    check_precision(scaled as i128, precision, value, to)
}

fn to_real(value: f64) -> Result<f64, ArrowError> {
    let narrowed = value as f32;
    if narrowed.is_infinite() && value.is_finite() {
        return Err(out_of_range(value, SqlType::Real));
    }
    Ok(f64::from(narrowed))
}

fn number_to_number(array: &ArrayRef, from: SqlType, to: SqlType) -> Result<ArrayRef, EvalError> {
    match (from, to) {
        (SqlType::Real | SqlType::Double, SqlType::Real) => {
            let result: Float64Array =
                try_unary(floats(array.as_ref(), NAME)?, to_real).map_err(from_arrow)?;
            Ok(Arc::new(result))
        }
        (SqlType::Real | SqlType::Double, SqlType::Double) => Ok(array.clone()),
        (SqlType::Real | SqlType::Double, SqlType::Decimal { precision, scale }) => {
            let result: Decimal128Array = try_unary(floats(array.as_ref(), NAME)?, |value| {
                float_to_decimal(value, precision, scale, to)
            })
            .map_err(from_arrow)?;
            with_decimal_type(result, precision, scale, NAME)
        }
        (SqlType::Real | SqlType::Double, _) => {
            let result: Int64Array = try_unary(floats(array.as_ref(), NAME)?, |value| {
                float_to_integer(value, to)
            })
            .map_err(from_arrow)?;
            Ok(Arc::new(result))
        }
        (
            SqlType::Decimal {
                scale: from_scale, ..
            },
            SqlType::Real | SqlType::Double,
        ) => {
            let divisor = pow10(from_scale) as f64;
            let result: Float64Array =
                try_unary(decimals(array.as_ref(), NAME)?, |unscaled: i128| {
                    let value = unscaled as f64 / divisor;
                    if to == SqlType::Real {
                        to_real(value)
                    } else {
                        Ok(value)
                    }
                })
                .map_err(from_arrow)?;
            Ok(Arc::new(result))
        }
        (
            SqlType::Decimal {
                scale: from_scale, ..
            },
            SqlType::Decimal { precision, scale },
        ) => {
            let result: Decimal128Array =
                try_unary(decimals(array.as_ref(), NAME)?, |unscaled: i128| {
                    let shown = decimal_text(unscaled, from_scale);
                    let rescaled = rescale(unscaled, from_scale, scale)
                        .ok_or_else(|| out_of_range(&shown, to))?;
                    check_precision(rescaled, precision, shown, to)
                })
                .map_err(from_arrow)?;
            with_decimal_type(result, precision, scale, NAME)
        }
        (
            SqlType::Decimal {
                scale: from_scale, ..
            },
            _,
        ) => {
            let divisor = pow10(from_scale);
            let result: Int64Array =
                try_unary(decimals(array.as_ref(), NAME)?, |unscaled: i128| {
                    check_integer(divide_rounding(unscaled, divisor), to)
                })
                .map_err(from_arrow)?;
            Ok(Arc::new(result))
        }
        (_, SqlType::Real) => {
            let result: Float64Array = unary(ints(array.as_ref(), NAME)?, |value: i64| {
                f64::from(value as f32)
            });
            Ok(Arc::new(result))
        }
        (_, SqlType::Double) => {
            let result: Float64Array =
                unary(ints(array.as_ref(), NAME)?, |value: i64| value as f64);
            Ok(Arc::new(result))
        }
        (_, SqlType::Decimal { precision, scale }) => {
            let result: Decimal128Array = try_unary(ints(array.as_ref(), NAME)?, |value: i64| {
                let unscaled = i128::from(value) * pow10(scale);
                check_precision(unscaled, precision, value, to)
            })
            .map_err(from_arrow)?;
            with_decimal_type(result, precision, scale, NAME)
        }
        _ => {
            let (from_min, from_max) = from.integer_range().unwrap_or((i64::MIN, i64::MAX));
            let (to_min, to_max) = to.integer_range().unwrap_or((i64::MIN, i64::MAX));
            if to_min <= from_min && from_max <= to_max {
                return Ok(array.clone());
            }
            let result: Int64Array = try_unary(ints(array.as_ref(), NAME)?, |value: i64| {
                check_integer(i128::from(value), to)
            })
            .map_err(from_arrow)?;
            Ok(Arc::new(result))
        }
    }
}

/// The digits of `unscaled / 10^scale`.
fn decimal_text(unscaled: i128, scale: u8) -> String {
    let mut out = String::new();
    write_decimal(&mut out, unscaled, scale);
    out
}

fn write_decimal(out: &mut String, unscaled: i128, scale: u8) {
    if unscaled < 0 {
        out.push('-');
    }
    let digits = unscaled.unsigned_abs().to_string();
    let scale = usize::from(scale);
    if scale == 0 {
        out.push_str(&digits);
        return;
    }
    let padded = format!("{digits:0>width$}", width = scale + 1);
    let (whole, fraction) = padded.split_at(padded.len() - scale);
    out.push_str(whole);
    out.push('.');
    out.push_str(fraction);
}

/// An approximate number as Java's `Double.toString` writes it, the engine Kinesis Data
/// Analytics runs on (Unverified: that CAST uses it): `1.5`, `100.0`, `0.001` between 10^-3 and
/// 10^7, else `1.0E7`, `1.2345E-7`; `NaN`, `Infinity`. The digits are the shortest that read
/// back to the same value.
fn write_approximate<F>(out: &mut String, value: F)
where
    F: Copy + std::fmt::Display + std::fmt::LowerExp + Into<f64>,
{
    let wide: f64 = value.into();
    if wide.is_nan() {
        out.push_str("NaN");
        return;
    }
    if wide.is_infinite() {
        out.push_str(if wide > 0.0 { "Infinity" } else { "-Infinity" });
        return;
    }
    let magnitude = wide.abs();
    if magnitude == 0.0 || (1e-3..1e7).contains(&magnitude) {
        let start = out.len();
        let _ = write!(out, "{value}");
        if !out[start..].contains('.') {
            out.push_str(".0");
        }
        return;
    }
    let scientific = format!("{value:e}");
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    out.push_str(mantissa);
    if !mantissa.contains('.') {
        out.push_str(".0");
    }
    out.push('E');
    out.push_str(exponent);
}

/// Values of a non-character type as text of the character type `to`.
fn to_text(array: &ArrayRef, from: SqlType, to: SqlType) -> Result<ArrayRef, EvalError> {
    let rows = array.len();
    let mut builder = StringBuilder::with_capacity(rows, rows * 12);
    let mut text = String::new();
    let push = |builder: &mut StringBuilder, value: Option<&str>| -> Result<(), EvalError> {
        match value {
            Some(value) => append_fitted(builder, value, to),
            None => {
                builder.append_null();
                Ok(())
            }
        }
    };
    macro_rules! each {
        ($array:expr, |$value:ident| $write:expr) => {
            for item in $array.iter() {
                match item {
                    Some($value) => {
                        text.clear();
                        $write;
                        push(&mut builder, Some(&text))?;
                    }
                    None => push(&mut builder, None)?,
                }
            }
        };
    }
    match from {
        SqlType::Boolean => each!(booleans(array.as_ref(), NAME)?, |value| text
            .push_str(if value { "TRUE" } else { "FALSE" })),
        SqlType::Real => each!(floats(array.as_ref(), NAME)?, |value| {
            write_approximate(&mut text, value as f32)
        }),
        SqlType::Double => each!(floats(array.as_ref(), NAME)?, |value| {
            write_approximate(&mut text, value)
        }),
        SqlType::Decimal { scale, .. } => {
            each!(decimals(array.as_ref(), NAME)?, |value| write_decimal(
                &mut text, value, scale
            ))
        }
        // The literal forms `input::datetime` writes, through a compiled pattern so that no row
        // allocates.
        SqlType::Date => {
            let pattern = literal_pattern("yyyy-MM-dd");
            each!(dates(array.as_ref(), NAME)?, |value| pattern
                .format(i64::from(value) * MILLIS_PER_DAY, &mut text))
        }
        // Unverified: TIME prints with milliseconds, as the crate writes TIME everywhere.
        SqlType::Time => {
            let pattern = literal_pattern("HH:mm:ss.SSS");
            each!(times(array.as_ref(), NAME)?, |value| pattern
                .format(i64::from(value), &mut text))
        }
        SqlType::Timestamp => {
            let pattern = literal_pattern("yyyy-MM-dd HH:mm:ss.SSS");
            each!(timestamps(array.as_ref(), NAME)?, |value| pattern
                .format(value, &mut text))
        }
        _ => each!(ints(array.as_ref(), NAME)?, |value| {
            let _ = write!(text, "{value}");
        }),
    }
    Ok(Arc::new(builder.finish()))
}

fn literal_pattern(pattern: &str) -> Pattern {
    Pattern::compile(pattern).expect("the literal patterns use supported letters only")
}

/// Appends `value` written out from another type: too long for `to` is an error; CHAR pads.
fn append_fitted(builder: &mut StringBuilder, value: &str, to: SqlType) -> Result<(), EvalError> {
    let (SqlType::Char(length) | SqlType::Varchar(length)) = to else {
        builder.append_value(value);
        return Ok(());
    };
    let length = length as usize;
    let count = value.chars().count();
    if count > length {
        return Err(EvalError::new(
            NAME,
            format!("{} does not fit {to}", quoted(value)),
        ));
    }
    if matches!(to, SqlType::Char(_)) && count < length {
        let mut padded = String::with_capacity(value.len() + length - count);
        padded.push_str(value);
        padded.extend(std::iter::repeat_n(' ', length - count));
        builder.append_value(&padded);
    } else {
        builder.append_value(value);
    }
    Ok(())
}

/// Strings to CHAR(n) or VARCHAR(n): cut to n characters, CHAR padded with spaces.
/// Unverified: cutting off characters other than spaces is silent (the SQL standard makes it a
/// warning, not an error, for strings).
fn string_to_string(input: &StringArray, to: SqlType) -> Result<ArrayRef, EvalError> {
    let (length, pad) = match to {
        SqlType::Char(length) => (length as usize, true),
        SqlType::Varchar(length) => (length as usize, false),
        _ => {
            return Err(EvalError::new(
                NAME,
                format!("{to} is not a character type"),
            ));
        }
    };
    // Bytes bound characters: when no value has more bytes than the length, nothing changes.
    if !pad && input.iter().flatten().all(|value| value.len() <= length) {
        return Ok(Arc::new(input.clone()));
    }
    let mut builder = StringBuilder::with_capacity(input.len(), input.len() * length.min(64));
    let mut out = String::new();
    for value in input.iter() {
        let Some(value) = value else {
            builder.append_null();
            continue;
        };
        out.clear();
        let mut count = 0;
        for c in value.chars().take(length) {
            out.push(c);
            count += 1;
        }
        if pad {
            out.extend(std::iter::repeat_n(' ', length - count));
        }
        builder.append_value(&out);
    }
    Ok(Arc::new(builder.finish()))
}

/// `[+-]digits[.digits][(e|E)[+-]digits]` as an unscaled integer at `scale`, rounding half away
/// from zero; `None` when malformed or beyond 38 digits.
fn parse_decimal(text: &str, scale: u8) -> Option<i128> {
    let (negative, rest) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let (mantissa, exponent) = match rest.find(['e', 'E']) {
        Some(at) => (&rest[..at], rest[at + 1..].parse::<i32>().ok()?),
        None => (rest, 0),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if (whole.is_empty() && fraction.is_empty())
        || !whole
            .bytes()
            .chain(fraction.bytes())
            .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let mut unscaled: i128 = 0;
    let mut significant = 0;
    for byte in whole.bytes().chain(fraction.bytes()) {
        if unscaled == 0 && byte == b'0' {
            continue;
        }
        significant += 1;
        if significant > 38 {
            return None;
        }
        unscaled = unscaled * 10 + i128::from(byte - b'0');
    }
    // The text is `unscaled * 10^-(fraction digits - exponent)`.
    let shift = i64::from(scale) - (fraction.len() as i64 - i64::from(exponent));
    if shift >= 0 {
        let factor = 10i128.checked_pow(u32::try_from(shift).ok()?)?;
        unscaled = unscaled.checked_mul(factor)?;
    } else if shift < -38 {
        unscaled = 0;
    } else {
        unscaled = divide_rounding(unscaled, 10i128.pow((-shift) as u32));
    }
    Some(if negative { -unscaled } else { unscaled })
}

/// Strings to numbers, datetimes and BOOLEAN.
fn from_text(input: &StringArray, to: SqlType) -> Result<ArrayRef, EvalError> {
    let invalid = |value: &str| {
        EvalError::new(
            NAME,
            format!("{} cannot be converted to {to}", quoted(value)),
        )
    };
    let out_of_range =
        |value: &str| EvalError::new(NAME, format!("{} is out of range for {to}", quoted(value)));
    let trimmed = input.iter().map(|value| value.map(str::trim));
    Ok(match to {
        SqlType::Boolean => {
            let mut builder = BooleanBuilder::with_capacity(input.len());
            for value in trimmed {
                match value {
                    None => builder.append_null(),
                    Some(v) if v.eq_ignore_ascii_case("TRUE") => builder.append_value(true),
                    Some(v) if v.eq_ignore_ascii_case("FALSE") => builder.append_value(false),
                    Some(v) if v.eq_ignore_ascii_case("UNKNOWN") => builder.append_null(),
                    Some(v) => return Err(invalid(v)),
                }
            }
            Arc::new(builder.finish())
        }
        SqlType::Date => Arc::new(
            trimmed
                .map(|value| {
                    value
                        .map(|v| datetime::parse_date(v).ok_or_else(|| invalid(v)))
                        .transpose()
                })
                .collect::<Result<Date32Array, _>>()?,
        ),
        SqlType::Time => Arc::new(
            trimmed
                .map(|value| {
                    value
                        .map(|v| {
                            datetime::parse_time(v)
                                .map(|millis| millis as i32)
                                .ok_or_else(|| invalid(v))
                        })
                        .transpose()
                })
                .collect::<Result<Time32MillisecondArray, _>>()?,
        ),
        SqlType::Timestamp => Arc::new(
            trimmed
                .map(|value| {
                    value
                        .map(|v| datetime::parse_timestamp(v).ok_or_else(|| invalid(v)))
                        .transpose()
                })
                .collect::<Result<TimestampMillisecondArray, _>>()?,
        ),
        SqlType::Real | SqlType::Double => Arc::new(
            trimmed
                .map(|value| {
                    value
                        .map(|v| {
                            let number: f64 = v.parse().map_err(|_| invalid(v))?;
                            if to == SqlType::Real {
                                to_real(number).map_err(|_| out_of_range(v))
                            } else {
                                Ok(number)
                            }
                        })
                        .transpose()
                })
                .collect::<Result<Float64Array, _>>()?,
        ),
        SqlType::Decimal { precision, scale } => {
            let values = trimmed
                .map(|value| {
                    value
                        .map(|v| {
                            let unscaled = parse_decimal(v, scale).ok_or_else(|| invalid(v))?;
                            if unscaled.abs() >= pow10(precision) {
                                return Err(out_of_range(v));
                            }
                            Ok(unscaled)
                        })
                        .transpose()
                })
                .collect::<Result<Decimal128Array, _>>()?;
            return with_decimal_type(values, precision, scale, NAME);
        }
        _ => Arc::new(
            trimmed
                .map(|value| {
                    value
                        .map(|v| {
                            // Integers in plain digits, or (Unverified) any numeric literal,
                            // rounded as a DECIMAL would be.
                            let number = match v.parse::<i64>() {
                                Ok(number) => i128::from(number),
                                Err(_) => parse_decimal(v, 0).ok_or_else(|| invalid(v))?,
                            };
                            check_integer(number, to).map_err(|_| out_of_range(v))
                        })
                        .transpose()
                })
                .collect::<Result<Int64Array, _>>()?,
        ),
    })
}

fn datetime_to_datetime(
    array: &ArrayRef,
    from: SqlType,
    to: SqlType,
) -> Result<ArrayRef, EvalError> {
    Ok(match (from, to) {
        (SqlType::Date, _) => {
            let result: TimestampMillisecondArray =
                unary(dates(array.as_ref(), NAME)?, |days: i32| {
                    i64::from(days) * MILLIS_PER_DAY
                });
            Arc::new(result)
        }
        // Unverified: the SQL standard takes the date part from CURRENT_DATE; the epoch's date
        // is used here, as functions have no clock.
        (SqlType::Time, _) => {
            let result: TimestampMillisecondArray = unary(times(array.as_ref(), NAME)?, i64::from);
            Arc::new(result)
        }
        (_, SqlType::Date) => {
            let result: Date32Array =
                try_unary(timestamps(array.as_ref(), NAME)?, |millis: i64| {
                    i32::try_from(millis.div_euclid(MILLIS_PER_DAY))
                        .map_err(|_| out_of_range(millis, to))
                })
                .map_err(from_arrow)?;
            Arc::new(result)
        }
        _ => {
            let result: Time32MillisecondArray =
                unary(timestamps(array.as_ref(), NAME)?, |millis: i64| {
                    millis.rem_euclid(MILLIS_PER_DAY) as i32
                });
            Arc::new(result)
        }
    })
}

/// BINARY(n) and VARBINARY(n): cut to n bytes; BINARY padded with zero bytes. Unverified: the
/// cut is silent.
fn binary_to_binary(array: &ArrayRef, to: SqlType) -> Result<ArrayRef, EvalError> {
    let input = binaries(array.as_ref(), NAME)?;
    let (length, pad) = match to {
        SqlType::Binary(length) => (length as usize, true),
        SqlType::Varbinary(length) => (length as usize, false),
        _ => return Err(EvalError::new(NAME, format!("{to} is not a binary type"))),
    };
    let mut builder = BinaryBuilder::with_capacity(input.len(), input.len() * length.min(64));
    let mut out = Vec::new();
    for value in input.iter() {
        let Some(value) = value else {
            builder.append_null();
            continue;
        };
        out.clear();
        out.extend_from_slice(&value[..value.len().min(length)]);
        if pad {
            out.resize(length, 0);
        }
        builder.append_value(&out);
    }
    Ok(Arc::new(builder.finish()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{BinaryArray, BooleanArray};

    fn decimal(precision: u8, scale: u8) -> SqlType {
        SqlType::Decimal { precision, scale }
    }

    fn texts(values: &[Option<&str>]) -> ArrayRef {
        Arc::new(StringArray::from(values.to_vec()))
    }

    fn text_values(array: &ArrayRef) -> Vec<Option<String>> {
        strings(array.as_ref(), "test")
            .expect("strings")
            .iter()
            .map(|value| value.map(str::to_string))
            .collect()
    }

    fn int_values(array: &ArrayRef) -> Vec<Option<i64>> {
        ints(array.as_ref(), "test").expect("ints").iter().collect()
    }

    fn decimal_values(array: &ArrayRef) -> Vec<Option<i128>> {
        decimals(array.as_ref(), "test")
            .expect("decimals")
            .iter()
            .collect()
    }

    #[test]
    fn numbers_convert_with_range_checks_and_rounding() {
        let doubles: ArrayRef = Arc::new(Float64Array::from(vec![
            Some(-1.5),
            Some(2.4),
            None,
            Some(2.5),
        ]));
        let result = cast(&doubles, SqlType::Double, SqlType::Integer).expect("in range");
        assert_eq!(int_values(&result), vec![Some(-2), Some(2), None, Some(3)]);
        let big: ArrayRef = Arc::new(Float64Array::from(vec![Some(1e12), Some(f64::NAN)]));
        cast(&big, SqlType::Double, SqlType::Integer).expect_err("too large");
        let nan: ArrayRef = Arc::new(Float64Array::from(vec![Some(f64::NAN)]));
        cast(&nan, SqlType::Double, SqlType::BigInt).expect_err("NaN");

        let ints_in: ArrayRef = Arc::new(Int64Array::from(vec![Some(300), Some(-5)]));
        let error = cast(&ints_in, SqlType::Integer, SqlType::TinyInt).expect_err("300");
        assert_eq!(error.to_string(), "CAST: 300 is out of range for TINYINT");
        let widened = cast(&ints_in, SqlType::SmallInt, SqlType::BigInt).expect("wider");
        assert!(
            Arc::ptr_eq(&widened, &ints_in),
            "a widening cast shares the array"
        );
        let as_decimal = cast(&ints_in, SqlType::Integer, decimal(6, 2)).expect("fits");
        assert_eq!(decimal_values(&as_decimal), vec![Some(30_000), Some(-500)]);
        cast(&ints_in, SqlType::Integer, decimal(4, 2)).expect_err("300.00 needs 5 digits");

        let decimals_in: ArrayRef = Arc::new(
            Decimal128Array::from(vec![Some(-150), Some(149), Some(12_345)])
                .with_precision_and_scale(5, 2)
                .expect("valid"),
        );
        let result = cast(&decimals_in, decimal(5, 2), SqlType::Integer).expect("rounds");
        assert_eq!(int_values(&result), vec![Some(-2), Some(1), Some(123)]);
        let result = cast(&decimals_in, decimal(5, 2), decimal(4, 1)).expect("rescales");
        assert_eq!(
            decimal_values(&result),
            vec![Some(-15), Some(15), Some(1235)]
        );
        let result = cast(&decimals_in, decimal(5, 2), SqlType::Double).expect("to double");
        let values: Vec<_> = floats(result.as_ref(), "test")
            .expect("floats")
            .iter()
            .collect();
        assert_eq!(values, vec![Some(-1.5), Some(1.49), Some(123.45)]);

        let result = cast(&doubles, SqlType::Double, decimal(3, 1)).expect("to decimal");
        assert_eq!(
            decimal_values(&result),
            vec![Some(-15), Some(24), None, Some(25)]
        );
        let huge: ArrayRef = Arc::new(Float64Array::from(vec![Some(1e300)]));
        cast(&huge, SqlType::Double, SqlType::Real).expect_err("beyond REAL");
    }

    #[test]
    fn values_print_as_text_that_must_fit() {
        let date: ArrayRef = Arc::new(Date32Array::from(vec![Some(14_114), None]));
        let result = cast(&date, SqlType::Date, SqlType::Varchar(10)).expect("fits");
        assert_eq!(
            text_values(&result),
            vec![Some("2008-08-23".to_string()), None]
        );
        cast(&date, SqlType::Date, SqlType::Varchar(9)).expect_err("the reference's example");
        let result = cast(&date, SqlType::Date, SqlType::Char(12)).expect("pads");
        assert_eq!(text_values(&result)[0].as_deref(), Some("2008-08-23  "));

        let stamps: ArrayRef = Arc::new(TimestampMillisecondArray::from(vec![Some(
            1_483_272_000_000,
        )]));
        let result = cast(&stamps, SqlType::Timestamp, SqlType::Varchar(30)).expect("fits");
        assert_eq!(
            text_values(&result)[0].as_deref(),
            Some("2017-01-01 12:00:00.000")
        );
        let decimals_in: ArrayRef = Arc::new(
            Decimal128Array::from(vec![Some(-5), Some(12_345)])
                .with_precision_and_scale(7, 2)
                .expect("valid"),
        );
        let result = cast(&decimals_in, decimal(7, 2), SqlType::Varchar(10)).expect("fits");
        assert_eq!(
            text_values(&result),
            vec![Some("-0.05".to_string()), Some("123.45".to_string())]
        );
        let reals: ArrayRef = Arc::new(Float64Array::from(vec![Some(f64::from(0.1f32))]));
        let result = cast(&reals, SqlType::Real, SqlType::Varchar(10)).expect("fits");
        assert_eq!(text_values(&result)[0].as_deref(), Some("0.1"));
        let doubles: ArrayRef = Arc::new(Float64Array::from(vec![
            Some(1.5),
            Some(100.0),
            Some(-0.001),
            Some(1e7),
            Some(-1.2345e-7),
            Some(0.0),
            Some(f64::NAN),
            Some(f64::NEG_INFINITY),
        ]));
        let result = cast(&doubles, SqlType::Double, SqlType::Varchar(12)).expect("fits");
        let expected = [
            "1.5",
            "100.0",
            "-0.001",
            "1.0E7",
            "-1.2345E-7",
            "0.0",
            "NaN",
            "-Infinity",
        ];
        let expected: Vec<_> = expected.iter().map(|text| Some(text.to_string())).collect();
        assert_eq!(text_values(&result), expected);
        let flags: ArrayRef = Arc::new(BooleanArray::from(vec![Some(true), Some(false)]));
        let result = cast(&flags, SqlType::Boolean, SqlType::Varchar(5)).expect("fits");
        assert_eq!(
            text_values(&result),
            vec![Some("TRUE".to_string()), Some("FALSE".to_string())]
        );
    }

    #[test]
    fn datetimes_print_as_the_input_module_writes_them() {
        let millis = [
            -62_135_596_800_001,
            -1,
            0,
            1_709_209_805_123,
            253_402_300_799_999,
        ];
        let stamps: ArrayRef = Arc::new(TimestampMillisecondArray::from(millis.to_vec()));
        let result = cast(&stamps, SqlType::Timestamp, SqlType::Varchar(30)).expect("fits");
        let expected: Vec<_> = millis
            .iter()
            .map(|value| Some(datetime::format_timestamp(*value)))
            .collect();
        assert_eq!(text_values(&result), expected);
        let days = [-719_529, -1, 0, 19_782];
        let dates_in: ArrayRef = Arc::new(Date32Array::from(days.to_vec()));
        let result = cast(&dates_in, SqlType::Date, SqlType::Varchar(12)).expect("fits");
        let expected: Vec<_> = days
            .iter()
            .map(|value| Some(datetime::format_date(*value)))
            .collect();
        assert_eq!(text_values(&result), expected);
        let times_in: ArrayRef = Arc::new(Time32MillisecondArray::from(vec![
            0, 45_005_500, 86_399_999,
        ]));
        let result = cast(&times_in, SqlType::Time, SqlType::Varchar(12)).expect("fits");
        let expected: Vec<_> = [0u32, 45_005_500, 86_399_999]
            .iter()
            .map(|value| Some(datetime::format_time(*value)))
            .collect();
        assert_eq!(text_values(&result), expected);
    }

    #[test]
    fn strings_are_cut_or_padded() {
        let input = texts(&[Some("abcdef"), Some("ab"), None, Some("héllo")]);
        let result = cast(&input, SqlType::Varchar(10), SqlType::Varchar(3)).expect("cuts");
        assert_eq!(
            text_values(&result),
            vec![
                Some("abc".into()),
                Some("ab".into()),
                None,
                Some("hél".into())
            ]
        );
        let result = cast(&input, SqlType::Varchar(10), SqlType::Char(4)).expect("pads");
        assert_eq!(
            text_values(&result),
            vec![
                Some("abcd".into()),
                Some("ab  ".into()),
                None,
                Some("héll".into())
            ]
        );
        let unchanged = cast(&input, SqlType::Varchar(10), SqlType::Varchar(20)).expect("same");
        assert_eq!(text_values(&unchanged), text_values(&input));
    }

    #[test]
    fn strings_parse_into_every_type() {
        let result = cast(
            &texts(&[Some(" 42 "), Some("-1.5"), Some("2E2"), None]),
            SqlType::Varchar(8),
            SqlType::Integer,
        )
        .expect("integers");
        assert_eq!(
            int_values(&result),
            vec![Some(42), Some(-2), Some(200), None]
        );
        cast(&texts(&[Some("4x")]), SqlType::Varchar(8), SqlType::Integer)
            .expect_err("not a number");
        cast(
            &texts(&[Some("99999999999")]),
            SqlType::Varchar(12),
            SqlType::Integer,
        )
        .expect_err("out of range");
        let result = cast(
            &texts(&[Some("12.345"), Some("-0.005")]),
            SqlType::Varchar(8),
            decimal(5, 2),
        )
        .expect("decimals");
        assert_eq!(decimal_values(&result), vec![Some(1235), Some(-1)]);
        cast(
            &texts(&[Some("1234.5")]),
            SqlType::Varchar(8),
            decimal(5, 2),
        )
        .expect_err("too wide");
        let result = cast(
            &texts(&[Some("1.25")]),
            SqlType::Varchar(8),
            SqlType::Double,
        )
        .expect("double");
        let values: Vec<_> = floats(result.as_ref(), "test")
            .expect("floats")
            .iter()
            .collect();
        assert_eq!(values, vec![Some(1.25)]);

        let result = cast(
            &texts(&[Some("true"), Some(" FALSE "), Some("unknown")]),
            SqlType::Varchar(8),
            SqlType::Boolean,
        )
        .expect("booleans");
        let values: Vec<_> = booleans(result.as_ref(), "test")
            .expect("booleans")
            .iter()
            .collect();
        assert_eq!(values, vec![Some(true), Some(false), None]);
        cast(
            &texts(&[Some("yes")]),
            SqlType::Varchar(8),
            SqlType::Boolean,
        )
        .expect_err("not a boolean");

        let result = cast(
            &texts(&[Some("2017-01-01 12:00:00.000")]),
            SqlType::Varchar(30),
            SqlType::Timestamp,
        )
        .expect("timestamp");
        let values: Vec<_> = timestamps(result.as_ref(), "test")
            .expect("ts")
            .iter()
            .collect();
        assert_eq!(values, vec![Some(1_483_272_000_000)]);
        let result = cast(
            &texts(&[Some("2008-08-23")]),
            SqlType::Varchar(10),
            SqlType::Date,
        )
        .expect("date");
        let values: Vec<_> = dates(result.as_ref(), "test")
            .expect("dates")
            .iter()
            .collect();
        assert_eq!(values, vec![Some(14_114)]);
        let result =
            cast(&texts(&[Some("01:00:00")]), SqlType::Char(8), SqlType::Time).expect("time");
        let values: Vec<_> = times(result.as_ref(), "test")
            .expect("times")
            .iter()
            .collect();
        assert_eq!(values, vec![Some(3_600_000)]);
        let error = cast(
            &texts(&[Some("2017-13-01")]),
            SqlType::Varchar(10),
            SqlType::Date,
        )
        .expect_err("no month 13");
        assert_eq!(
            error.to_string(),
            "CAST: '2017-13-01' cannot be converted to DATE"
        );
    }

    #[test]
    fn datetimes_convert_among_themselves() {
        let stamps: ArrayRef = Arc::new(TimestampMillisecondArray::from(vec![Some(-1), None]));
        let result = cast(&stamps, SqlType::Timestamp, SqlType::Date).expect("date");
        let values: Vec<_> = dates(result.as_ref(), "test")
            .expect("dates")
            .iter()
            .collect();
        assert_eq!(values, vec![Some(-1), None]);
        let result = cast(&stamps, SqlType::Timestamp, SqlType::Time).expect("time");
        let values: Vec<_> = times(result.as_ref(), "test")
            .expect("times")
            .iter()
            .collect();
        assert_eq!(values, vec![Some(86_399_999), None]);
        let date: ArrayRef = Arc::new(Date32Array::from(vec![Some(1)]));
        let result = cast(&date, SqlType::Date, SqlType::Timestamp).expect("timestamp");
        let values: Vec<_> = timestamps(result.as_ref(), "test")
            .expect("ts")
            .iter()
            .collect();
        assert_eq!(values, vec![Some(MILLIS_PER_DAY)]);
    }

    #[test]
    fn binaries_are_cut_or_padded_and_invalid_pairs_refused() {
        let input: ArrayRef = Arc::new(BinaryArray::from(vec![Some(&b"abc"[..]), None]));
        let result = cast(&input, SqlType::Varbinary(8), SqlType::Binary(4)).expect("pads");
        let values: Vec<_> = binaries(result.as_ref(), "test")
            .expect("binary")
            .iter()
            .collect();
        assert_eq!(values, vec![Some(&b"abc\0"[..]), None]);
        let result = cast(&input, SqlType::Varbinary(8), SqlType::Varbinary(2)).expect("cuts");
        let values: Vec<_> = binaries(result.as_ref(), "test")
            .expect("binary")
            .iter()
            .collect();
        assert_eq!(values, vec![Some(&b"ab"[..]), None]);

        assert!(!can_cast(SqlType::Date, SqlType::Integer));
        assert!(!can_cast(SqlType::Boolean, SqlType::Integer));
        assert!(!can_cast(SqlType::Varchar(3), SqlType::Varbinary(3)));
        assert!(can_cast(SqlType::Timestamp, SqlType::Date));
        assert!(can_cast(SqlType::Varchar(3), SqlType::Boolean));
        let date: ArrayRef = Arc::new(Date32Array::from(vec![Some(1)]));
        cast(&date, SqlType::Date, SqlType::Time).expect_err("not in the table");
    }
}
