//! The types of expressions: a column's SQL type, or one of the types only expressions have
//! (intervals, and the type of a bare `NULL` before its context gives it one); and literals
//! read into one-row arrays of their type.
//!
//! Intervals are held as `Int64`: milliseconds for day-time intervals, months for year-month
//! intervals.

use std::sync::Arc;

use arrow::array::{
    ArrayRef, BinaryArray, BooleanArray, Date32Array, Decimal128Array, Float64Array, Int64Array,
    NullArray, StringArray, Time32MillisecondArray, TimestampMillisecondArray,
};
use arrow::datatypes::DataType;

use super::schema::arrow_type;
use crate::input::{SqlType, datetime};
use crate::sql::ast::{self, IntervalQualifier, Literal, TimeUnit};

/// The type of an expression's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExprType {
    Sql(SqlType),
    /// `INTERVAL '1' SECOND`, `(a - b) SECOND`: milliseconds.
    DayTimeInterval,
    /// `INTERVAL '1' MONTH`: months.
    YearMonthInterval,
    /// A bare `NULL`: takes the type its context needs.
    Null,
    /// A ROW of named columns, a log-parsing function's value (an Arrow `Struct` array).
    /// Its columns are the expression's own (`PreparedFunction::row_columns`): a ROW is only
    /// given by a subquery, whose stream holds its columns one by one, and read field by
    /// field (`t.r.COLUMN1`).
    Row,
}

impl ExprType {
    pub fn arrow_type(self) -> DataType {
        match self {
            ExprType::Sql(sql_type) => arrow_type(sql_type),
            ExprType::DayTimeInterval | ExprType::YearMonthInterval => DataType::Int64,
            ExprType::Null => DataType::Null,
            ExprType::Row => DataType::Struct(arrow::datatypes::Fields::empty()),
        }
    }

    pub fn sql(self) -> Option<SqlType> {
        match self {
            ExprType::Sql(sql_type) => Some(sql_type),
            _ => None,
        }
    }
}

impl std::fmt::Display for ExprType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExprType::Sql(sql_type) => sql_type.fmt(f),
            ExprType::DayTimeInterval => f.write_str("INTERVAL DAY TO SECOND"),
            ExprType::YearMonthInterval => f.write_str("INTERVAL YEAR TO MONTH"),
            ExprType::Null => f.write_str("NULL"),
            ExprType::Row => f.write_str("ROW"),
        }
    }
}

/// The SQL type a declared column type (`CREATE STREAM`, `CAST`) names; `None` for the
/// defaults: VARCHAR and CHAR need a length here (Unverified: SQLstream's default of 1 for CHAR
/// is used), DECIMAL defaults to (19, 0).
pub fn declared_type(data_type: ast::DataType) -> Result<SqlType, String> {
    use ast::DataType as D;
    let length = |length: Option<u32>, name: &str| -> Result<u32, String> {
        match length {
            Some(0) => Err(format!("{name} needs a length of at least 1")),
            Some(length) if length > crate::input::types::MAX_LENGTH => Err(format!(
                "{name}({length}) is longer than {}",
                crate::input::types::MAX_LENGTH
            )),
            Some(length) => Ok(length),
            None => Ok(1),
        }
    };
    Ok(match data_type {
        D::Varchar(size) => SqlType::Varchar(length(size, "VARCHAR")?),
        D::Char(size) => SqlType::Char(length(size, "CHAR")?),
        D::Varbinary(size) => SqlType::Varbinary(length(size, "VARBINARY")?),
        D::Binary(size) => SqlType::Binary(length(size, "BINARY")?),
        D::Integer => SqlType::Integer,
        D::Bigint => SqlType::BigInt,
        D::Smallint => SqlType::SmallInt,
        D::Tinyint => SqlType::TinyInt,
        D::Decimal(precision, scale) => {
            let precision = precision.unwrap_or(19);
            let scale = scale.unwrap_or(0);
            if precision == 0 || precision > u32::from(crate::input::types::MAX_DECIMAL_PRECISION) {
                return Err(format!(
                    "DECIMAL precision {precision} is not between 1 and 19"
                ));
            }
            if scale > precision {
                return Err(format!(
                    "DECIMAL scale {scale} is larger than its precision {precision}"
                ));
            }
            SqlType::Decimal {
                precision: precision as u8,
                scale: scale as u8,
            }
        }
        D::Real | D::Float => SqlType::Real,
        D::Double => SqlType::Double,
        D::Boolean => SqlType::Boolean,
        D::Timestamp => SqlType::Timestamp,
        D::Date => SqlType::Date,
        D::Time => SqlType::Time,
    })
}

/// A literal as a one-row array and its type.
pub fn literal(literal: &Literal) -> Result<(ArrayRef, ExprType), String> {
    Ok(match literal {
        Literal::Null | Literal::Unknown => (Arc::new(NullArray::new(1)), ExprType::Null),
        Literal::Boolean(flag) => (
            Arc::new(BooleanArray::from(vec![*flag])),
            ExprType::Sql(SqlType::Boolean),
        ),
        Literal::String(text) => (
            Arc::new(StringArray::from(vec![text.as_str()])),
            ExprType::Sql(SqlType::Char(text.chars().count().max(1) as u32)),
        ),
        Literal::Binary(hex) => {
            let bytes = decode_hex(hex).ok_or_else(|| format!("X'{hex}' is not hexadecimal"))?;
            let length = bytes.len().max(1) as u32;
            (
                Arc::new(BinaryArray::from_vec(vec![bytes.as_slice()])),
                ExprType::Sql(SqlType::Binary(length)),
            )
        }
        Literal::Number(text) => number(text)?,
    })
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(hex.get(at..at + 2)?, 16).ok())
        .collect()
}

/// `1` is an INTEGER (a BIGINT when it does not fit), `2.5` a DECIMAL, `1E3` a DOUBLE.
fn number(text: &str) -> Result<(ArrayRef, ExprType), String> {
    if text.contains(['e', 'E']) {
        let value: f64 = text
            .parse()
            .map_err(|_| format!("{text} is not a number"))?;
        return Ok((
            Arc::new(Float64Array::from(vec![value])),
            ExprType::Sql(SqlType::Double),
        ));
    }
    if let Some((whole, fraction)) = text.split_once('.') {
        let digits = format!("{whole}{fraction}");
        let unscaled: i128 = digits
            .parse()
            .map_err(|_| format!("{text} is not a number"))?;
        let precision = digits
            .trim_start_matches('0')
            .len()
            .max(fraction.len())
            .max(1);
        if precision > usize::from(crate::input::types::MAX_DECIMAL_PRECISION) {
            return Err(format!("{text} has more than 19 digits"));
        }
        let (precision, scale) = (precision as u8, fraction.len() as u8);
        let array = Decimal128Array::from(vec![unscaled])
            .with_precision_and_scale(precision, scale as i8)
            .map_err(|err| err.to_string())?;
        return Ok((
            Arc::new(array),
            ExprType::Sql(SqlType::Decimal { precision, scale }),
        ));
    }
    let value: i64 = text
        .parse()
        .map_err(|_| format!("{text} is out of range for BIGINT"))?;
    let sql_type = if i32::try_from(value).is_ok() {
        SqlType::Integer
    } else {
        SqlType::BigInt
    };
    Ok((
        Arc::new(Int64Array::from(vec![value])),
        ExprType::Sql(sql_type),
    ))
}

/// `TIMESTAMP '...'`, `DATE '...'`, `TIME '...'`.
pub fn typed_string(data_type: ast::DataType, value: &str) -> Result<(ArrayRef, ExprType), String> {
    let value = value.trim();
    Ok(match data_type {
        ast::DataType::Timestamp => {
            let millis = datetime::parse_timestamp(value)
                .ok_or_else(|| format!("'{value}' is not a TIMESTAMP"))?;
            (
                Arc::new(TimestampMillisecondArray::from(vec![millis])),
                ExprType::Sql(SqlType::Timestamp),
            )
        }
        ast::DataType::Date => {
            let days =
                datetime::parse_date(value).ok_or_else(|| format!("'{value}' is not a DATE"))?;
            (
                Arc::new(Date32Array::from(vec![days])),
                ExprType::Sql(SqlType::Date),
            )
        }
        ast::DataType::Time => {
            let millis =
                datetime::parse_time(value).ok_or_else(|| format!("'{value}' is not a TIME"))?;
            (
                Arc::new(Time32MillisecondArray::from(vec![millis as i32])),
                ExprType::Sql(SqlType::Time),
            )
        }
        other => return Err(format!("{other:?} literals are not typed strings")),
    })
}

/// Milliseconds in one of a day-time unit; `None` for months and years.
pub fn unit_millis(unit: TimeUnit) -> Option<i64> {
    Some(match unit {
        TimeUnit::Week => 7 * 86_400_000,
        TimeUnit::Day => 86_400_000,
        TimeUnit::Hour => 3_600_000,
        TimeUnit::Minute => 60_000,
        TimeUnit::Second => 1_000,
        TimeUnit::Millisecond => 1,
        TimeUnit::Year | TimeUnit::Quarter | TimeUnit::Month => return None,
    })
}

/// An interval literal's value: milliseconds (day-time) or months (year-month), and its type.
/// Forms: `'10' SECOND`, `'1:30' MINUTE TO SECOND`, `'1 02:03:04.5' DAY TO SECOND`,
/// `'1-6' YEAR TO MONTH`, `'2.5' SECOND`.
pub fn interval(value: &str, qualifier: &IntervalQualifier) -> Result<(i64, ExprType), String> {
    let bad = || format!("'{value}' is not a valid interval of {qualifier:?}");
    let text = value.trim();
    let (negative, text) = match text.strip_prefix('-') {
        Some(rest) => (true, rest.trim()),
        None => (false, text.strip_prefix('+').unwrap_or(text).trim()),
    };
    let end = qualifier.end.unwrap_or(qualifier.start);
    let year_month = matches!(qualifier.start, TimeUnit::Year | TimeUnit::Month);
    let (total, kind) = if year_month {
        let months = match (qualifier.start, end) {
            (TimeUnit::Year, TimeUnit::Year) => whole(text).ok_or_else(bad)? * 12,
            (TimeUnit::Month, TimeUnit::Month) => whole(text).ok_or_else(bad)?,
            (TimeUnit::Year, TimeUnit::Month) => {
                let (years, months) = text.split_once('-').ok_or_else(bad)?;
                let months = whole(months).ok_or_else(bad)?;
                if months > 11 {
                    return Err(bad());
                }
                whole(years).ok_or_else(bad)? * 12 + months
            }
            _ => return Err(bad()),
        };
        (months, ExprType::YearMonthInterval)
    } else {
        // Fields from the start unit down to the end unit, with their separators.
        let units = [
            (TimeUnit::Day, 86_400_000i64),
            (TimeUnit::Hour, 3_600_000),
            (TimeUnit::Minute, 60_000),
            (TimeUnit::Second, 1_000),
        ];
        let first = units
            .iter()
            .position(|(unit, _)| *unit == qualifier.start)
            .ok_or_else(bad)?;
        let last = units
            .iter()
            .position(|(unit, _)| *unit == end)
            .ok_or_else(bad)?;
        if last < first {
            return Err(bad());
        }
        let fields: Vec<&str> = text
            .split([' ', ':'])
            .filter(|field| !field.is_empty())
            .collect();
        if fields.len() != last - first + 1 {
            return Err(bad());
        }
        let mut millis = 0i64;
        for (field, (unit, scale)) in fields.iter().zip(&units[first..=last]) {
            let value = if *unit == TimeUnit::Second {
                seconds_millis(field).ok_or_else(bad)?
            } else {
                whole(field)
                    .ok_or_else(bad)?
                    .checked_mul(*scale)
                    .ok_or_else(bad)?
            };
            millis = millis.checked_add(value).ok_or_else(bad)?;
        }
        (millis, ExprType::DayTimeInterval)
    };
    Ok((if negative { -total } else { total }, kind))
}

fn whole(text: &str) -> Option<i64> {
    if text.is_empty() || !text.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// `12`, `12.5`, `0.001` seconds in milliseconds (digits past the millisecond dropped).
fn seconds_millis(text: &str) -> Option<i64> {
    let (seconds, fraction) = text.split_once('.').unwrap_or((text, ""));
    let mut millis = whole(seconds)?.checked_mul(1000)?;
    if !fraction.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    let mut scale = 100;
    for byte in fraction.bytes().take(3) {
        millis += i64::from(byte - b'0') * scale;
        scale /= 10;
    }
    Some(millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn qualifier(start: TimeUnit, end: Option<TimeUnit>) -> IntervalQualifier {
        IntervalQualifier {
            start,
            start_precision: None,
            end,
            end_precision: None,
        }
    }

    #[test]
    fn intervals_read_every_field_form() {
        let cases = [
            ("10", qualifier(TimeUnit::Second, None), 10_000),
            ("2.5", qualifier(TimeUnit::Second, None), 2_500),
            (
                "1:30",
                qualifier(TimeUnit::Minute, Some(TimeUnit::Second)),
                90_000,
            ),
            (
                "1 02:03:04.5",
                qualifier(TimeUnit::Day, Some(TimeUnit::Second)),
                86_400_000 + 7_384_500,
            ),
            ("-1", qualifier(TimeUnit::Hour, None), -3_600_000),
        ];
        for (text, qualifier, millis) in cases {
            assert_eq!(
                interval(text, &qualifier).expect("valid"),
                (millis, ExprType::DayTimeInterval),
                "{text}"
            );
        }
        assert_eq!(
            interval("1-6", &qualifier(TimeUnit::Year, Some(TimeUnit::Month))).expect("valid"),
            (18, ExprType::YearMonthInterval)
        );
        assert!(interval("1:99:00", &qualifier(TimeUnit::Minute, None)).is_err());
        assert!(interval("x", &qualifier(TimeUnit::Second, None)).is_err());
    }

    #[test]
    fn numbers_take_the_narrowest_type() {
        assert_eq!(
            number("1").expect("valid").1,
            ExprType::Sql(SqlType::Integer)
        );
        assert_eq!(
            number("5000000000").expect("valid").1,
            ExprType::Sql(SqlType::BigInt)
        );
        assert_eq!(
            number("2.50").expect("valid").1,
            ExprType::Sql(SqlType::Decimal {
                precision: 3,
                scale: 2
            })
        );
        assert_eq!(
            number("1E3").expect("valid").1,
            ExprType::Sql(SqlType::Double)
        );
    }
}
