//! Typed column values, and the conversions of JSON values and CSV text into them.
//!
//! The rules follow the developer guide's "Mapping JSON Data Types to SQL Data Types" as far as
//! it could be checked; a value that does not convert is a `ConversionError`, and the caller
//! sends that row to the application's error stream. Where a rule is a guess it says
//! "Unverified".

use std::fmt;

use base64::Engine;

use super::datetime;
use super::json::{Json, JsonNumber};
use super::types::SqlType;

/// One typed value of a row.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Boolean(bool),
    /// Any integer type; the value is within its column type's range.
    Integer(i64),
    /// REAL (already rounded to 32 bits) or DOUBLE.
    Double(f64),
    /// `unscaled / 10^scale`, with the column's precision checked.
    Decimal {
        unscaled: i128,
        scale: u8,
    },
    /// CHAR (padded with spaces to its length) or VARCHAR.
    Varchar(String),
    /// Milliseconds since 1970-01-01 00:00:00 UTC.
    Timestamp(i64),
    /// Days since 1970-01-01.
    Date(i32),
    /// Milliseconds since midnight.
    Time(u32),
    Binary(Vec<u8>),
}

/// Why a value does not fit its column's type.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConversionError {
    #[error("{value} is out of range for {sql_type}")]
    OutOfRange { value: String, sql_type: SqlType },
    #[error("a value of {length} characters or bytes does not fit {sql_type}")]
    TooLong { length: usize, sql_type: SqlType },
    #[error("{found} {value:?} cannot be converted to {sql_type}")]
    Invalid {
        found: &'static str,
        value: String,
        sql_type: SqlType,
    },
}

/// Longest source text an error message quotes.
const QUOTED_LIMIT: usize = 64;

fn invalid(found: &'static str, value: &str, sql_type: SqlType) -> ConversionError {
    let value = match value.char_indices().nth(QUOTED_LIMIT) {
        Some((cut, _)) => format!("{}...", &value[..cut]),
        None => value.to_string(),
    };
    ConversionError::Invalid {
        found,
        value,
        sql_type,
    }
}

impl Value {
    /// What kind of value this is, for errors.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "NULL",
            Value::Boolean(_) => "BOOLEAN",
            Value::Integer(_) => "integer",
            Value::Double(_) => "floating-point",
            Value::Decimal { .. } => "DECIMAL",
            Value::Varchar(_) => "character",
            Value::Timestamp(_) => "TIMESTAMP",
            Value::Date(_) => "DATE",
            Value::Time(_) => "TIME",
            Value::Binary(_) => "binary",
        }
    }

    /// Converts one JSON value (what a column's mapping selected) to `sql_type`.
    pub fn from_json(json: &Json, sql_type: SqlType) -> Result<Value, ConversionError> {
        match json {
            Json::Null => Ok(Value::Null),
            Json::String(text) => Value::from_text(text, sql_type, "string"),
            Json::Bool(flag) => match sql_type {
                SqlType::Boolean => Ok(Value::Boolean(*flag)),
                _ if sql_type.is_character() => character(flag.to_string(), sql_type),
                // Unverified: true and false read as 1 and 0 in a numeric column.
                _ if sql_type.is_numeric() => {
                    Value::from_text(if *flag { "1" } else { "0" }, sql_type, "boolean")
                }
                _ => Err(invalid("boolean", &flag.to_string(), sql_type)),
            },
            Json::Number(number) => number_to(*number, sql_type),
            // Unverified: an object or array in a character column is its JSON text.
            Json::Array(_) | Json::Object(_) if sql_type.is_character() => {
                character(json.to_string(), sql_type)
            }
            Json::Array(_) | Json::Object(_) => {
                Err(invalid(json.kind(), &json.to_string(), sql_type))
            }
        }
    }

    /// Converts source text (a CSV field, or a JSON string) to `sql_type`; `found` names what
    /// the text was, for errors. Surrounding spaces are ignored except in character columns.
    pub fn from_text(
        text: &str,
        sql_type: SqlType,
        found: &'static str,
    ) -> Result<Value, ConversionError> {
        if sql_type.is_character() {
            return character(text.to_string(), sql_type);
        }
        let trimmed = text.trim();
        if let Some((min, max)) = sql_type.integer_range() {
            return match trimmed.parse::<i64>() {
                Ok(number) if (min..=max).contains(&number) => Ok(Value::Integer(number)),
                Ok(_) => Err(out_of_range(trimmed, sql_type)),
                Err(_) if is_integer_text(trimmed) => Err(out_of_range(trimmed, sql_type)),
                Err(_) => Err(invalid(found, text, sql_type)),
            };
        }
        match sql_type {
            SqlType::Boolean => {
                if trimmed.eq_ignore_ascii_case("true") {
                    Ok(Value::Boolean(true))
                } else if trimmed.eq_ignore_ascii_case("false") {
                    Ok(Value::Boolean(false))
                } else {
                    Err(invalid(found, text, sql_type))
                }
            }
            SqlType::Real | SqlType::Double => match trimmed.parse::<f64>() {
                // Rust also reads "inf" and "NaN", which are no SQL numbers.
                Ok(number) if number.is_finite() => float(number, sql_type),
                _ => Err(invalid(found, text, sql_type)),
            },
            SqlType::Decimal { precision, scale } => {
                decimal(trimmed, precision, scale).map_err(|error| match error {
                    DecimalError::Malformed => invalid(found, text, sql_type),
                    DecimalError::TooLarge => out_of_range(trimmed, sql_type),
                })
            }
            SqlType::Date => datetime::parse_date(trimmed)
                .map(Value::Date)
                .ok_or_else(|| invalid(found, text, sql_type)),
            SqlType::Time => datetime::parse_time(trimmed)
                .map(Value::Time)
                .ok_or_else(|| invalid(found, text, sql_type)),
            SqlType::Timestamp => datetime::parse_timestamp(trimmed)
                .map(Value::Timestamp)
                .ok_or_else(|| invalid(found, text, sql_type)),
            // The SQL reference: BINARY's JSON form is a BASE64-encoded string. Unverified: the
            // same in CSV.
            SqlType::Binary(length) | SqlType::Varbinary(length) => {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(trimmed)
                    .map_err(|_| invalid(found, text, sql_type))?;
                if bytes.len() > length as usize {
                    return Err(ConversionError::TooLong {
                        length: bytes.len(),
                        sql_type,
                    });
                }
                Ok(Value::Binary(bytes))
            }
            SqlType::Char(_)
            | SqlType::Varchar(_)
            | SqlType::TinyInt
            | SqlType::SmallInt
            | SqlType::Integer
            | SqlType::BigInt => unreachable!("character and integer types are handled above"),
        }
    }
}

fn out_of_range(value: &str, sql_type: SqlType) -> ConversionError {
    ConversionError::OutOfRange {
        value: value.to_string(),
        sql_type,
    }
}

fn is_integer_text(text: &str) -> bool {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    !digits.is_empty() && digits.bytes().all(|byte| byte.is_ascii_digit())
}

/// A CHAR or VARCHAR value, its length counted in characters.
fn character(text: String, sql_type: SqlType) -> Result<Value, ConversionError> {
    let (SqlType::Char(limit) | SqlType::Varchar(limit)) = sql_type else {
        unreachable!("called for character types only");
    };
    let length = text.chars().count();
    if length > limit as usize {
        return Err(ConversionError::TooLong { length, sql_type });
    }
    let mut text = text;
    if let SqlType::Char(limit) = sql_type {
        text.extend(std::iter::repeat_n(' ', limit as usize - length));
    }
    Ok(Value::Varchar(text))
}

fn float(number: f64, sql_type: SqlType) -> Result<Value, ConversionError> {
    if sql_type == SqlType::Real {
        if number.abs() > f64::from(f32::MAX) {
            return Err(out_of_range(&number.to_string(), sql_type));
        }
        return Ok(Value::Double(f64::from(number as f32)));
    }
    Ok(Value::Double(number))
}

fn number_to(number: JsonNumber, sql_type: SqlType) -> Result<Value, ConversionError> {
    let text = number.to_string();
    if let Some((min, max)) = sql_type.integer_range() {
        let integer = match number {
            JsonNumber::Int(integer) => integer,
            JsonNumber::UInt(_) => return Err(out_of_range(&text, sql_type)),
            // Unverified: a number with a fraction does not go into an integer column (no
            // silent truncation); one written with a zero fraction (`3.0`) does.
            JsonNumber::Float(float) if float.fract() != 0.0 => {
                return Err(invalid("number", &text, sql_type));
            }
            JsonNumber::Float(float) if float >= -(2f64.powi(63)) && float < 2f64.powi(63) => {
                float as i64
            }
            JsonNumber::Float(_) => return Err(out_of_range(&text, sql_type)),
        };
        if !(min..=max).contains(&integer) {
            return Err(out_of_range(&text, sql_type));
        }
        return Ok(Value::Integer(integer));
    }
    match sql_type {
        SqlType::Real | SqlType::Double => {
            let number = match number {
                JsonNumber::Int(integer) => integer as f64,
                JsonNumber::UInt(integer) => integer as f64,
                JsonNumber::Float(number) => number,
            };
            float(number, sql_type)
        }
        SqlType::Decimal { .. } => Value::from_text(&text, sql_type, "number"),
        _ if sql_type.is_character() => character(text, sql_type),
        // Unverified: an integer in a TIMESTAMP column is milliseconds since the epoch.
        SqlType::Timestamp => match number {
            JsonNumber::Int(millis) => Ok(Value::Timestamp(millis)),
            _ => Err(invalid("number", &text, sql_type)),
        },
        _ => Err(invalid("number", &text, sql_type)),
    }
}

enum DecimalError {
    Malformed,
    TooLarge,
}

/// Reads `[+-]digits[.digits][e[+-]digits]` as an unscaled integer at `scale`, rounding half
/// away from zero when the text has more fraction digits (Unverified: AWS may reject instead),
/// and checks that it has at most `precision` digits.
fn decimal(text: &str, precision: u8, scale: u8) -> Result<Value, DecimalError> {
    let (negative, rest) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let (mantissa, exponent) = match rest.find(['e', 'E']) {
        Some(at) => {
            let exponent: i32 = rest[at + 1..]
                .parse()
                .map_err(|_| DecimalError::Malformed)?;
            (&rest[..at], exponent)
        }
        None => (rest, 0),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if whole.is_empty() && fraction.is_empty() {
        return Err(DecimalError::Malformed);
    }
    if !whole
        .bytes()
        .chain(fraction.bytes())
        .all(|byte| byte.is_ascii_digit())
    {
        return Err(DecimalError::Malformed);
    }
    // The literal is `digits * 10^-literal_scale`.
    let digits: String = whole.chars().chain(fraction.chars()).collect();
    let digits = digits.trim_start_matches('0');
    if digits.len() > 38 {
        return Err(DecimalError::TooLarge);
    }
    let mut unscaled: i128 = if digits.is_empty() {
        0
    } else {
        digits.parse().map_err(|_| DecimalError::Malformed)?
    };
    let literal_scale =
        i64::try_from(fraction.len()).map_err(|_| DecimalError::TooLarge)? - i64::from(exponent);
    let shift = i64::from(scale) - literal_scale;
    if shift >= 0 {
        for _ in 0..shift {
            unscaled = unscaled.checked_mul(10).ok_or(DecimalError::TooLarge)?;
        }
    } else if -shift > 38 {
        // Every digit lies below the kept scale (and below the rounding digit): the value is 0.
        unscaled = 0;
    } else {
        let mut divisor: i128 = 1;
        for _ in 0..-shift {
            divisor = divisor.saturating_mul(10);
        }
        let remainder = unscaled % divisor;
        unscaled /= divisor;
        if remainder.saturating_mul(2) >= divisor {
            unscaled += 1;
        }
    }
    if unscaled >= 10i128.pow(u32::from(precision)) {
        return Err(DecimalError::TooLarge);
    }
    Ok(Value::Decimal {
        unscaled: if negative { -unscaled } else { unscaled },
        scale,
    })
}

/// The value as text: SQL spelling (`NULL`, `TRUE`), numbers and strings unquoted, DATE, TIME
/// and TIMESTAMP in their literal forms, binary as hexadecimal.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("NULL"),
            Value::Boolean(true) => f.write_str("TRUE"),
            Value::Boolean(false) => f.write_str("FALSE"),
            Value::Integer(number) => write!(f, "{number}"),
            Value::Double(number) => write!(f, "{number}"),
            Value::Decimal { unscaled, scale } => {
                let sign = if *unscaled < 0 { "-" } else { "" };
                let digits = unscaled.unsigned_abs().to_string();
                let scale = usize::from(*scale);
                if scale == 0 {
                    return write!(f, "{sign}{digits}");
                }
                let padded = format!("{digits:0>width$}", width = scale + 1);
                let (whole, fraction) = padded.split_at(padded.len() - scale);
                write!(f, "{sign}{whole}.{fraction}")
            }
            Value::Varchar(text) => f.write_str(text),
            Value::Timestamp(millis) => f.write_str(&datetime::format_timestamp(*millis)),
            Value::Date(days) => f.write_str(&datetime::format_date(*days)),
            Value::Time(millis) => f.write_str(&datetime::format_time(*millis)),
            Value::Binary(bytes) => {
                for byte in bytes {
                    write!(f, "{byte:02X}")?;
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(text: &str) -> Json {
        Json::parse(text.as_bytes()).expect("valid JSON")
    }

    fn ty(text: &str) -> SqlType {
        SqlType::parse(text).expect("valid type")
    }

    #[test]
    fn json_values_convert_to_their_column_types() {
        let cases = [
            (
                "\"1e-999999999\"",
                "DECIMAL(5,2)",
                Value::Decimal {
                    unscaled: 0,
                    scale: 2,
                },
            ),
            (
                "\"0.5\"",
                "DECIMAL(3,0)",
                Value::Decimal {
                    unscaled: 1,
                    scale: 0,
                },
            ),
            ("null", "INTEGER", Value::Null),
            ("42", "INTEGER", Value::Integer(42)),
            ("3.0", "BIGINT", Value::Integer(3)),
            ("\"17\"", "SMALLINT", Value::Integer(17)),
            ("true", "BOOLEAN", Value::Boolean(true)),
            ("\"FALSE\"", "BOOLEAN", Value::Boolean(false)),
            ("true", "INTEGER", Value::Integer(1)),
            ("true", "VARCHAR(5)", Value::Varchar("true".into())),
            ("1.5", "DOUBLE", Value::Double(1.5)),
            ("7", "DOUBLE", Value::Double(7.0)),
            ("0.1", "REAL", Value::Double(f64::from(0.1f32))),
            (
                "33.99",
                "DECIMAL(10,2)",
                Value::Decimal {
                    unscaled: 3399,
                    scale: 2,
                },
            ),
            (
                "\"-0.125\"",
                "DECIMAL(5,2)",
                Value::Decimal {
                    unscaled: -13,
                    scale: 2,
                },
            ),
            (
                "12",
                "DECIMAL(4,2)",
                Value::Decimal {
                    unscaled: 1200,
                    scale: 2,
                },
            ),
            (
                "\"1.5e2\"",
                "DECIMAL(5,0)",
                Value::Decimal {
                    unscaled: 150,
                    scale: 0,
                },
            ),
            ("12.5", "VARCHAR(8)", Value::Varchar("12.5".into())),
            ("\"ab\"", "CHAR(4)", Value::Varchar("ab  ".into())),
            (
                "{\"b\":1,\"a\":[2]}",
                "VARCHAR(32)",
                Value::Varchar("{\"b\":1,\"a\":[2]}".into()),
            ),
            (
                "\"2024-02-29 12:30:05.123\"",
                "TIMESTAMP",
                Value::Timestamp(1_709_209_805_123),
            ),
            (
                "1709209805123",
                "TIMESTAMP",
                Value::Timestamp(1_709_209_805_123),
            ),
            ("\"2024-02-29\"", "DATE", Value::Date(19_782)),
            ("\"12:30:05\"", "TIME", Value::Time(45_005_000)),
            ("\"AQID\"", "VARBINARY(3)", Value::Binary(vec![1, 2, 3])),
        ];
        for (source, sql_type, expected) in cases {
            let value = Value::from_json(&json(source), ty(sql_type))
                .unwrap_or_else(|error| panic!("{source} as {sql_type}: {error}"));
            assert_eq!(value, expected, "{source} as {sql_type}");
        }
    }

    #[test]
    fn conversion_failures_say_why() {
        let cases = [
            (
                "2147483648",
                "INTEGER",
                "2147483648 is out of range for INTEGER",
            ),
            ("-129", "TINYINT", "-129 is out of range for TINYINT"),
            (
                "\"99999999999999999999\"",
                "BIGINT",
                "99999999999999999999 is out of range for BIGINT",
            ),
            (
                "18446744073709551615",
                "BIGINT",
                "18446744073709551615 is out of range for BIGINT",
            ),
            (
                "2.5",
                "INTEGER",
                "number \"2.5\" cannot be converted to INTEGER",
            ),
            (
                "\"12x\"",
                "INTEGER",
                "string \"12x\" cannot be converted to INTEGER",
            ),
            (
                "\"abcdef\"",
                "VARCHAR(4)",
                "a value of 6 characters or bytes does not fit VARCHAR(4)",
            ),
            (
                "\"héllo\"",
                "CHAR(4)",
                "a value of 5 characters or bytes does not fit CHAR(4)",
            ),
            (
                "\"2024-13-01 00:00:00\"",
                "TIMESTAMP",
                "string \"2024-13-01 00:00:00\" cannot be converted to TIMESTAMP",
            ),
            (
                "\"yes\"",
                "BOOLEAN",
                "string \"yes\" cannot be converted to BOOLEAN",
            ),
            (
                "1",
                "BOOLEAN",
                "number \"1\" cannot be converted to BOOLEAN",
            ),
            (
                "1e39",
                "REAL",
                "1000000000000000000000000000000000000000 is out of range for REAL",
            ),
            (
                "123.45",
                "DECIMAL(4,2)",
                "123.45 is out of range for DECIMAL(4,2)",
            ),
            (
                "\"NaN\"",
                "DOUBLE",
                "string \"NaN\" cannot be converted to DOUBLE",
            ),
            (
                "[1]",
                "INTEGER",
                "array \"[1]\" cannot be converted to INTEGER",
            ),
            (
                "\"AQIDBA==\"",
                "VARBINARY(3)",
                "a value of 4 characters or bytes does not fit VARBINARY(3)",
            ),
        ];
        for (source, sql_type, message) in cases {
            let error = Value::from_json(&json(source), ty(sql_type))
                .expect_err(&format!("{source} as {sql_type}"));
            assert_eq!(error.to_string(), message, "{source} as {sql_type}");
        }
    }

    #[test]
    fn csv_text_ignores_spaces_except_in_character_columns() {
        assert_eq!(
            Value::from_text(" 12 ", ty("INTEGER"), "field"),
            Ok(Value::Integer(12))
        );
        assert_eq!(
            Value::from_text(" 12 ", ty("VARCHAR(4)"), "field"),
            Ok(Value::Varchar(" 12 ".into()))
        );
        assert_eq!(
            Value::from_text("x", ty("DATE"), "field"),
            Err(ConversionError::Invalid {
                found: "field",
                value: "x".into(),
                sql_type: SqlType::Date
            })
        );
    }

    #[test]
    fn values_print_as_text() {
        let cases = [
            (Value::Null, "NULL"),
            (Value::Boolean(true), "TRUE"),
            (Value::Integer(-5), "-5"),
            (Value::Double(1.5), "1.5"),
            (
                Value::Decimal {
                    unscaled: -1234,
                    scale: 2,
                },
                "-12.34",
            ),
            (
                Value::Decimal {
                    unscaled: 5,
                    scale: 3,
                },
                "0.005",
            ),
            (
                Value::Decimal {
                    unscaled: 42,
                    scale: 0,
                },
                "42",
            ),
            (Value::Timestamp(0), "1970-01-01 00:00:00.000"),
            (Value::Binary(vec![0xAB, 1]), "AB01"),
        ];
        for (value, text) in cases {
            assert_eq!(value.to_string(), text);
        }
    }
}
