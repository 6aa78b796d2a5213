//! The SQL column types an InputSchema names (`RecordColumn.SqlType`), parsed from their text
//! (`VARCHAR(16)`, `DECIMAL(10,2)`, `DOUBLE PRECISION`...) and printed back in canonical form.
//!
//! Ranges and limits follow the Kinesis Data Analytics SQL reference's "Data Types" page:
//! TINYINT 8-bit, SMALLINT 16-bit, INTEGER 32-bit, BIGINT 64-bit signed; REAL 32-bit and DOUBLE
//! 64-bit floating point; DECIMAL up to 19 significant digits; CHAR(n) with 0 < n < 65535.

use std::fmt;

/// Largest DECIMAL precision: the SQL reference gives "up to 19 significant digits".
pub const MAX_DECIMAL_PRECISION: u8 = 19;
/// Largest CHAR/VARCHAR/BINARY length: the SQL reference says n must be less than 65535.
pub const MAX_LENGTH: u32 = 65534;

/// One column type of an in-application stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SqlType {
    Boolean,
    TinyInt,
    SmallInt,
    Integer,
    BigInt,
    Real,
    Double,
    Decimal {
        precision: u8,
        scale: u8,
    },
    /// Fixed length: shorter values are padded with spaces.
    Char(u32),
    Varchar(u32),
    Binary(u32),
    Varbinary(u32),
    Date,
    Time,
    Timestamp,
}

/// Why a `SqlType` string was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid SQL type {text:?}: {reason}")]
pub struct SqlTypeError {
    pub text: String,
    pub reason: String,
}

impl SqlType {
    /// Parses a `SqlType` as written in an InputSchema. Case and spacing are free
    /// (`varchar ( 8 )`); synonyms are accepted (`INT`, `DEC`, `NUMERIC`, `CHARACTER`,
    /// `CHARACTER VARYING`, `DOUBLE PRECISION`).
    pub fn parse(text: &str) -> Result<SqlType, SqlTypeError> {
        let fail = |reason: &str| SqlTypeError {
            text: text.to_string(),
            reason: reason.to_string(),
        };
        let upper = text.trim().to_ascii_uppercase();
        let (name_part, args) = match upper.find('(') {
            Some(open) => {
                let Some(inner) = upper[open + 1..].strip_suffix(')') else {
                    return Err(fail("unbalanced parentheses"));
                };
                let mut args = Vec::new();
                for arg in inner.split(',') {
                    let number: u32 = arg
                        .trim()
                        .parse()
                        .map_err(|_| fail("arguments must be unsigned integers"))?;
                    args.push(number);
                }
                (&upper[..open], args)
            }
            None => (upper.as_str(), Vec::new()),
        };
        let name = name_part.split_whitespace().collect::<Vec<_>>().join(" ");
        let no_args = |sql_type: SqlType| {
            if args.is_empty() {
                Ok(sql_type)
            } else {
                Err(fail("this type takes no length"))
            }
        };
        let length = |default: Option<u32>| -> Result<u32, SqlTypeError> {
            let length = match (args.as_slice(), default) {
                ([length], _) => *length,
                ([], Some(default)) => default,
                ([], None) => return Err(fail("a length is required")),
                _ => return Err(fail("one length expected")),
            };
            if length == 0 || length > MAX_LENGTH {
                return Err(fail("length must be between 1 and 65534"));
            }
            Ok(length)
        };
        match name.as_str() {
            "BOOLEAN" => no_args(SqlType::Boolean),
            "TINYINT" => no_args(SqlType::TinyInt),
            "SMALLINT" => no_args(SqlType::SmallInt),
            "INTEGER" | "INT" => no_args(SqlType::Integer),
            "BIGINT" => no_args(SqlType::BigInt),
            "REAL" => no_args(SqlType::Real),
            "DOUBLE" | "DOUBLE PRECISION" => no_args(SqlType::Double),
            "DATE" => no_args(SqlType::Date),
            "TIME" => no_args(SqlType::Time),
            "TIMESTAMP" => no_args(SqlType::Timestamp),
            // Unverified: a bare CHAR is CHAR(1) as in standard SQL; VARCHAR needs a length.
            "CHAR" | "CHARACTER" => Ok(SqlType::Char(length(Some(1))?)),
            "VARCHAR" | "CHARACTER VARYING" | "CHAR VARYING" => Ok(SqlType::Varchar(length(None)?)),
            "BINARY" => Ok(SqlType::Binary(length(Some(1))?)),
            "VARBINARY" | "BINARY VARYING" => Ok(SqlType::Varbinary(length(None)?)),
            "DECIMAL" | "DEC" | "NUMERIC" => {
                // Unverified: a bare DECIMAL is DECIMAL(19, 0), the largest precision with no
                // fraction, as SQLstream documents its default.
                let (precision, scale) = match args.as_slice() {
                    [] => (u32::from(MAX_DECIMAL_PRECISION), 0),
                    [precision] => (*precision, 0),
                    [precision, scale] => (*precision, *scale),
                    _ => return Err(fail("DECIMAL takes a precision and a scale")),
                };
                if precision == 0 || precision > u32::from(MAX_DECIMAL_PRECISION) {
                    return Err(fail("DECIMAL precision must be between 1 and 19"));
                }
                if scale > precision {
                    return Err(fail("DECIMAL scale cannot exceed its precision"));
                }
                Ok(SqlType::Decimal {
                    precision: u8::try_from(precision).expect("checked against 19 above"),
                    scale: u8::try_from(scale).expect("scale is at most the precision"),
                })
            }
            _ => Err(fail("unknown type")),
        }
    }

    /// The inclusive range of an integer type, or `None` for a type that is not an integer.
    pub fn integer_range(self) -> Option<(i64, i64)> {
        match self {
            SqlType::TinyInt => Some((i64::from(i8::MIN), i64::from(i8::MAX))),
            SqlType::SmallInt => Some((i64::from(i16::MIN), i64::from(i16::MAX))),
            SqlType::Integer => Some((i64::from(i32::MIN), i64::from(i32::MAX))),
            SqlType::BigInt => Some((i64::MIN, i64::MAX)),
            _ => None,
        }
    }

    /// Whether values of this type are character strings.
    pub fn is_character(self) -> bool {
        matches!(self, SqlType::Char(_) | SqlType::Varchar(_))
    }

    /// Whether values of this type are numbers.
    pub fn is_numeric(self) -> bool {
        self.integer_range().is_some()
            || matches!(
                self,
                SqlType::Real | SqlType::Double | SqlType::Decimal { .. }
            )
    }
}

impl fmt::Display for SqlType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SqlType::Boolean => f.write_str("BOOLEAN"),
            SqlType::TinyInt => f.write_str("TINYINT"),
            SqlType::SmallInt => f.write_str("SMALLINT"),
            SqlType::Integer => f.write_str("INTEGER"),
            SqlType::BigInt => f.write_str("BIGINT"),
            SqlType::Real => f.write_str("REAL"),
            SqlType::Double => f.write_str("DOUBLE"),
            SqlType::Decimal { precision, scale } => write!(f, "DECIMAL({precision},{scale})"),
            SqlType::Char(length) => write!(f, "CHAR({length})"),
            SqlType::Varchar(length) => write!(f, "VARCHAR({length})"),
            SqlType::Binary(length) => write!(f, "BINARY({length})"),
            SqlType::Varbinary(length) => write!(f, "VARBINARY({length})"),
            SqlType::Date => f.write_str("DATE"),
            SqlType::Time => f.write_str("TIME"),
            SqlType::Timestamp => f.write_str("TIMESTAMP"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_type_and_prints_it_canonically() {
        let cases = [
            ("VARCHAR(16)", SqlType::Varchar(16), "VARCHAR(16)"),
            ("varchar ( 8 )", SqlType::Varchar(8), "VARCHAR(8)"),
            ("CHARACTER VARYING(3)", SqlType::Varchar(3), "VARCHAR(3)"),
            ("INTEGER", SqlType::Integer, "INTEGER"),
            ("int", SqlType::Integer, "INTEGER"),
            ("BIGINT", SqlType::BigInt, "BIGINT"),
            ("SMALLINT", SqlType::SmallInt, "SMALLINT"),
            ("TINYINT", SqlType::TinyInt, "TINYINT"),
            ("DOUBLE", SqlType::Double, "DOUBLE"),
            ("DOUBLE  PRECISION", SqlType::Double, "DOUBLE"),
            ("REAL", SqlType::Real, "REAL"),
            (
                "DECIMAL(10,2)",
                SqlType::Decimal {
                    precision: 10,
                    scale: 2,
                },
                "DECIMAL(10,2)",
            ),
            (
                "NUMERIC(5)",
                SqlType::Decimal {
                    precision: 5,
                    scale: 0,
                },
                "DECIMAL(5,0)",
            ),
            (
                "DEC",
                SqlType::Decimal {
                    precision: 19,
                    scale: 0,
                },
                "DECIMAL(19,0)",
            ),
            ("BOOLEAN", SqlType::Boolean, "BOOLEAN"),
            ("TIMESTAMP", SqlType::Timestamp, "TIMESTAMP"),
            ("DATE", SqlType::Date, "DATE"),
            ("TIME", SqlType::Time, "TIME"),
            ("CHAR(4)", SqlType::Char(4), "CHAR(4)"),
            ("CHAR", SqlType::Char(1), "CHAR(1)"),
            ("VARBINARY(32)", SqlType::Varbinary(32), "VARBINARY(32)"),
            ("BINARY(2)", SqlType::Binary(2), "BINARY(2)"),
        ];
        for (text, expected, printed) in cases {
            let parsed = SqlType::parse(text).unwrap_or_else(|error| panic!("{text}: {error}"));
            assert_eq!(parsed, expected, "{text}");
            assert_eq!(parsed.to_string(), printed, "{text}");
        }
    }

    #[test]
    fn rejects_malformed_types_with_a_reason() {
        let cases = [
            ("VARCHAR", "a length is required"),
            ("VARCHAR(0)", "length must be between 1 and 65534"),
            ("VARCHAR(65535)", "length must be between 1 and 65534"),
            ("VARCHAR(a)", "arguments must be unsigned integers"),
            ("VARCHAR(4", "unbalanced parentheses"),
            ("INTEGER(4)", "this type takes no length"),
            (
                "DECIMAL(20,2)",
                "DECIMAL precision must be between 1 and 19",
            ),
            ("DECIMAL(4,5)", "DECIMAL scale cannot exceed its precision"),
            ("TEXT", "unknown type"),
        ];
        for (text, reason) in cases {
            let error = SqlType::parse(text).expect_err(text);
            assert_eq!(error.reason, reason, "{text}");
            assert_eq!(error.text, text);
        }
    }

    #[test]
    fn integer_ranges_follow_the_sql_reference() {
        assert_eq!(
            SqlType::Integer.integer_range(),
            Some((-2_147_483_648, 2_147_483_647))
        );
        assert_eq!(SqlType::SmallInt.integer_range(), Some((-32_768, 32_767)));
        assert_eq!(SqlType::TinyInt.integer_range(), Some((-128, 127)));
        assert_eq!(SqlType::BigInt.integer_range(), Some((i64::MIN, i64::MAX)));
        assert_eq!(SqlType::Double.integer_range(), None);
    }
}
