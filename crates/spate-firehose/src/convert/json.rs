//! JSON records read into Arrow arrays, by the rules of the deserializer a stream names.
//!
//! A record is one or more JSON objects, one after the other with optional whitespace between
//! (`{"a":1}{"a":2}`); each object is a row. A record that is not that, or whose values do not
//! fit the column types, fails as a whole: none of its rows is kept.
//!
//! Keys are matched to columns as the SerDes do:
//! - OpenX JSON SerDe: keys are lowercased (`CaseInsensitive`, default true) and dots replaced
//!   by underscores (`ConvertDotsInJsonKeysToUnderscores`, default false) before they are
//!   compared with column names; `ColumnToJsonKeyMappings` reads a column from another key.
//!   Numbers, booleans and timestamps given as JSON strings are parsed. Timestamps may be
//!   `yyyy-MM-dd'T'HH:mm:ss[.S]'Z'`, `yyyy-[M]M-[d]d HH:mm:ss[.S]` (fractions up to 9 digits),
//!   or epoch seconds, milliseconds or fractional seconds (*Choosing the JSON deserializer*). An
//!   integer of 11 digits or more is read as milliseconds, fewer as seconds (Spate's reading of
//!   the two examples AWS gives, `1518033528` and `1518033528123`).
//! - Hive JSON SerDe: keys are compared case-insensitively; a string in a numeric column is an
//!   error ("fields that have numerical type in the schema, but that are strings in the JSON",
//!   ibid.); timestamps follow `TimestampFormats` (Joda-Time patterns, or `millis`), else
//!   `java.sql.Timestamp.valueOf`'s `yyyy-[m]m-[d]d hh:mm:ss[.f...]`.
//!
//! Keys the table has no column for are ignored; columns no key fills are null. A string column
//! takes other JSON values as their JSON text.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanBuilder, Date32Builder, Float32Builder, Float64Builder, Int8Builder,
    Int16Builder, Int32Builder, Int64Builder, RecordBatch, StringBuilder,
    TimestampNanosecondBuilder,
};
use arrow::error::ArrowError;
use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use serde_json::{Map, Value};

use super::schema::{ColumnType, TableSchema};

/// How records are read (`InputFormatConfiguration.Deserializer`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Deserializer {
    OpenX {
        dots_to_underscores: bool,
        case_insensitive: bool,
        /// Column name to JSON key.
        mappings: BTreeMap<String, String>,
    },
    Hive {
        timestamp_formats: Vec<TimestampFormat>,
    },
}

/// One of `HiveJsonSerDe.TimestampFormats`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimestampFormat {
    /// `millis`: epoch milliseconds.
    Millis,
    /// A Joda-Time pattern, kept as the equivalent `strptime` format.
    Pattern { joda: String, strptime: String },
}

impl TimestampFormat {
    /// Reads a Joda-Time `DateTimeFormat` pattern. The letters of dates and times are
    /// supported: `y M d H h m s S a Z` and quoted literals; others are refused.
    pub fn parse(pattern: &str) -> Result<TimestampFormat, String> {
        if pattern == "millis" {
            return Ok(TimestampFormat::Millis);
        }
        let chars: Vec<char> = pattern.chars().collect();
        let mut out = String::new();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            let mut run = 1;
            while i + run < chars.len() && chars[i + run] == c {
                run += 1;
            }
            if c == '\'' {
                // '' is a quote; 'text' is literal text.
                if run >= 2 {
                    out.push('\'');
                    i += 2;
                    continue;
                }
                let Some(end) = chars[i + 1..].iter().position(|&c| c == '\'') else {
                    return Err("an unterminated quote".into());
                };
                for &literal in &chars[i + 1..i + 1 + end] {
                    push_literal(&mut out, literal);
                }
                i += end + 2;
                continue;
            }
            let directive = match (c, run) {
                ('y', 2) => "%y",
                ('y', _) => "%Y",
                ('M', 1 | 2) => "%m",
                ('M', 3) => "%b",
                ('M', _) => "%B",
                ('d', 1 | 2) => "%d",
                ('H', 1 | 2) => "%H",
                ('h', 1 | 2) => "%I",
                ('m', 1 | 2) => "%M",
                ('s', 1 | 2) => "%S",
                ('S', _) => "%f",
                ('a', 1) => "%p",
                ('Z', _) => "%z",
                (c, _) if c.is_ascii_alphabetic() => {
                    return Err(format!(
                        "the pattern letter {c} is not supported by Spate (supported: y M d H h m s S a Z)"
                    ));
                }
                _ => {
                    for _ in 0..run {
                        push_literal(&mut out, c);
                    }
                    i += run;
                    continue;
                }
            };
            out.push_str(directive);
            i += run;
        }
        Ok(TimestampFormat::Pattern {
            joda: pattern.to_owned(),
            strptime: out,
        })
    }
}

fn push_literal(out: &mut String, c: char) {
    if c == '%' {
        out.push_str("%%");
    } else {
        out.push(c);
    }
}

/// Collects the rows of a batch's records, column by column.
pub(super) struct RowReader<'a> {
    schema: &'a TableSchema,
    deserializer: &'a Deserializer,
    /// Column names as keys are compared with them, by column index.
    match_names: Vec<String>,
    columns: Vec<ColumnBuilder>,
    rows: usize,
}

impl<'a> RowReader<'a> {
    pub(super) fn new(schema: &'a TableSchema, deserializer: &'a Deserializer) -> RowReader<'a> {
        let fold = match deserializer {
            Deserializer::OpenX {
                case_insensitive, ..
            } => *case_insensitive,
            Deserializer::Hive { .. } => true,
        };
        let match_names = schema
            .columns
            .iter()
            .map(|column| {
                if fold {
                    column.name.to_lowercase()
                } else {
                    column.name.clone()
                }
            })
            .collect();
        let columns = schema
            .columns
            .iter()
            .map(|column| ColumnBuilder::new(column.column_type))
            .collect();
        RowReader {
            schema,
            deserializer,
            match_names,
            columns,
            rows: 0,
        }
    }

    pub(super) fn rows(&self) -> usize {
        self.rows
    }

    /// Adds a record's rows, or none of them and says why.
    pub(super) fn add_record(&mut self, data: &[u8]) -> Result<(), String> {
        let mut rows: Vec<Vec<Option<Scalar>>> = Vec::new();
        let stream = serde_json::Deserializer::from_slice(data).into_iter::<Value>();
        for document in stream {
            let document = document.map_err(|err| format!("the record is not JSON: {err}"))?;
            let Value::Object(object) = document else {
                return Err(format!(
                    "the record holds a JSON {}, not an object",
                    kind_of(&document)
                ));
            };
            rows.push(self.row(&object)?);
        }
        if rows.is_empty() {
            return Err("the record holds no JSON object".into());
        }
        for row in rows {
            for (builder, value) in self.columns.iter_mut().zip(row) {
                builder.append(value);
            }
            self.rows += 1;
        }
        Ok(())
    }

    fn row(&self, object: &Map<String, Value>) -> Result<Vec<Option<Scalar>>, String> {
        let (fold, dots) = match self.deserializer {
            Deserializer::OpenX {
                case_insensitive,
                dots_to_underscores,
                ..
            } => (*case_insensitive, *dots_to_underscores),
            Deserializer::Hive { .. } => (true, false),
        };
        let normalize = |key: &str| {
            let key = if fold {
                key.to_lowercase()
            } else {
                key.to_owned()
            };
            if dots { key.replace('.', "_") } else { key }
        };
        let mut by_key: HashMap<String, &Value> = HashMap::with_capacity(object.len());
        for (key, value) in object {
            by_key.insert(normalize(key), value);
        }
        let mut row = Vec::with_capacity(self.columns.len());
        for (index, column) in self.schema.columns.iter().enumerate() {
            let mapped = match self.deserializer {
                Deserializer::OpenX { mappings, .. } => mappings
                    .iter()
                    .find(|(name, _)| name.eq_ignore_ascii_case(&column.name))
                    .map(|(_, key)| key),
                Deserializer::Hive { .. } => None,
            };
            let value = match mapped {
                Some(key) => object
                    .iter()
                    .find(|(candidate, _)| {
                        if fold {
                            candidate.eq_ignore_ascii_case(key)
                        } else {
                            *candidate == key
                        }
                    })
                    .map(|(_, value)| value),
                None => by_key.get(&self.match_names[index]).copied(),
            };
            let scalar = match value {
                None | Some(Value::Null) => None,
                Some(value) => Some(
                    self.scalar(column.column_type, value)
                        .map_err(|err| format!("column {}: {err}", column.name))?,
                ),
            };
            row.push(scalar);
        }
        Ok(row)
    }

    fn scalar(&self, column_type: ColumnType, value: &Value) -> Result<Scalar, String> {
        let openx = matches!(self.deserializer, Deserializer::OpenX { .. });
        let wrong = || {
            format!(
                "a JSON {} does not fit type {}",
                kind_of(value),
                column_type.hive_name()
            )
        };
        match column_type {
            ColumnType::String => Ok(Scalar::String(match value {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            })),
            ColumnType::TinyInt | ColumnType::SmallInt | ColumnType::Int | ColumnType::BigInt => {
                let number = match value {
                    Value::Number(number) => number
                        .as_i64()
                        .ok_or_else(|| format!("{number} is not a {}", column_type.hive_name()))?,
                    Value::String(text) if openx => text
                        .trim()
                        .parse::<i64>()
                        .map_err(|_| format!("{text:?} is not a {}", column_type.hive_name()))?,
                    _ => return Err(wrong()),
                };
                let (min, max) = match column_type {
                    ColumnType::TinyInt => (i8::MIN as i64, i8::MAX as i64),
                    ColumnType::SmallInt => (i16::MIN as i64, i16::MAX as i64),
                    ColumnType::Int => (i32::MIN as i64, i32::MAX as i64),
                    _ => (i64::MIN, i64::MAX),
                };
                if !(min..=max).contains(&number) {
                    return Err(format!(
                        "{number} is out of the range of {}",
                        column_type.hive_name()
                    ));
                }
                Ok(Scalar::Int(number))
            }
            ColumnType::Float | ColumnType::Double => match value {
                Value::Number(number) => number
                    .as_f64()
                    .map(Scalar::Float)
                    .ok_or_else(|| format!("{number} is not a number")),
                Value::String(text) if openx => text
                    .trim()
                    .parse::<f64>()
                    .map(Scalar::Float)
                    .map_err(|_| format!("{text:?} is not a {}", column_type.hive_name())),
                _ => Err(wrong()),
            },
            ColumnType::Boolean => match value {
                Value::Bool(flag) => Ok(Scalar::Bool(*flag)),
                Value::String(text) if openx && text.eq_ignore_ascii_case("true") => {
                    Ok(Scalar::Bool(true))
                }
                Value::String(text) if openx && text.eq_ignore_ascii_case("false") => {
                    Ok(Scalar::Bool(false))
                }
                _ => Err(wrong()),
            },
            ColumnType::Timestamp => self.timestamp(value).map(Scalar::Timestamp),
            ColumnType::Date => match value {
                Value::String(text) => parse_date(text).map(Scalar::Date),
                _ => Err(wrong()),
            },
        }
    }

    /// A timestamp, as nanoseconds since the epoch of a zone-less (UTC) clock.
    fn timestamp(&self, value: &Value) -> Result<i64, String> {
        match self.deserializer {
            Deserializer::OpenX { .. } => match value {
                Value::Number(number) => {
                    if let Some(integer) = number.as_i64() {
                        epoch_integer(integer)
                    } else {
                        let seconds = number.as_f64().unwrap_or(f64::NAN);
                        epoch_float_seconds(seconds)
                    }
                }
                Value::String(text) => {
                    let text = text.trim();
                    if let Ok(integer) = text.parse::<i64>() {
                        return epoch_integer(integer);
                    }
                    if let Ok(seconds) = text.parse::<f64>() {
                        return epoch_float_seconds(seconds);
                    }
                    parse_sql_timestamp(text, true)
                }
                _ => Err(format!("a JSON {} is not a timestamp", kind_of(value))),
            },
            Deserializer::Hive { timestamp_formats } => {
                if timestamp_formats.is_empty() {
                    return match value {
                        Value::String(text) => parse_sql_timestamp(text, false),
                        _ => Err(format!("a JSON {} is not a timestamp", kind_of(value))),
                    };
                }
                for format in timestamp_formats {
                    match (format, value) {
                        (TimestampFormat::Millis, Value::Number(number)) => {
                            if let Some(millis) = number.as_i64() {
                                return millis
                                    .checked_mul(1_000_000)
                                    .ok_or_else(|| format!("{millis} is out of range"));
                            }
                        }
                        (TimestampFormat::Millis, Value::String(text)) => {
                            if let Ok(millis) = text.trim().parse::<i64>() {
                                return millis
                                    .checked_mul(1_000_000)
                                    .ok_or_else(|| format!("{millis} is out of range"));
                            }
                        }
                        (TimestampFormat::Pattern { strptime, .. }, Value::String(text)) => {
                            if let Ok(nanos) = parse_with(strptime, text) {
                                return Ok(nanos);
                            }
                        }
                        _ => {}
                    }
                }
                Err(format!(
                    "{value} matches none of the TimestampFormats ({})",
                    timestamp_formats
                        .iter()
                        .map(|format| match format {
                            TimestampFormat::Millis => "millis",
                            TimestampFormat::Pattern { joda, .. } => joda.as_str(),
                        })
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            }
        }
    }

    /// The batch of every row added.
    pub(super) fn finish(self) -> Result<RecordBatch, ArrowError> {
        let arrays: Vec<ArrayRef> = self
            .columns
            .into_iter()
            .map(ColumnBuilder::finish)
            .collect();
        RecordBatch::try_new(self.schema.arrow_schema(), arrays)
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// An integer epoch: seconds below 11 digits, milliseconds from 11 digits up.
fn epoch_integer(integer: i64) -> Result<i64, String> {
    let nanos = if integer.unsigned_abs() < 100_000_000_000 {
        integer.checked_mul(1_000_000_000)
    } else {
        integer.checked_mul(1_000_000)
    };
    nanos.ok_or_else(|| format!("{integer} is out of the timestamp range"))
}

fn epoch_float_seconds(seconds: f64) -> Result<i64, String> {
    let nanos = (seconds * 1e9).round();
    if !nanos.is_finite() || !(i64::MIN as f64..=i64::MAX as f64).contains(&nanos) {
        return Err(format!("{seconds} is out of the timestamp range"));
    }
    Ok(nanos as i64)
}

fn nanos_of(datetime: DateTime) -> Result<i64, String> {
    let timestamp = datetime
        .to_zoned(TimeZone::UTC)
        .map_err(|err| err.to_string())?
        .timestamp();
    i64::try_from(timestamp.as_nanosecond())
        .map_err(|_| format!("{datetime} is out of the timestamp range"))
}

/// `yyyy-[M]M-[d]d HH:mm:ss[.f]` (`java.sql.Timestamp.valueOf`), and with `iso` also
/// `yyyy-MM-dd'T'HH:mm:ss[.f]'Z'`; fractions up to 9 digits.
fn parse_sql_timestamp(text: &str, iso: bool) -> Result<i64, String> {
    let bad = || format!("{text:?} is not a timestamp");
    let (date, time) = if let Some((date, time)) = text.split_once(' ') {
        (date, time)
    } else if iso && let Some((date, time)) = text.split_once('T') {
        let time = time.strip_suffix('Z').ok_or_else(bad)?;
        (date, time)
    } else {
        return Err(bad());
    };
    let mut date_parts = date.split('-');
    let (Some(year), Some(month), Some(day), None) = (
        date_parts.next(),
        date_parts.next(),
        date_parts.next(),
        date_parts.next(),
    ) else {
        return Err(bad());
    };
    let (clock, fraction) = match time.split_once('.') {
        Some((clock, fraction)) => (clock, Some(fraction)),
        None => (time, None),
    };
    let mut clock_parts = clock.split(':');
    let (Some(hour), Some(minute), Some(second), None) = (
        clock_parts.next(),
        clock_parts.next(),
        clock_parts.next(),
        clock_parts.next(),
    ) else {
        return Err(bad());
    };
    let number = |part: &str, max_len: usize| -> Result<i32, String> {
        if part.is_empty() || part.len() > max_len || !part.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        part.parse().map_err(|_| bad())
    };
    let nanos = match fraction {
        None => 0,
        Some(fraction) => {
            if fraction.is_empty()
                || fraction.len() > 9
                || !fraction.bytes().all(|b| b.is_ascii_digit())
            {
                return Err(bad());
            }
            let digits: i32 = fraction.parse().map_err(|_| bad())?;
            digits * 10i32.pow(9 - fraction.len() as u32)
        }
    };
    let datetime = DateTime::new(
        i16::try_from(number(year, 4)?).map_err(|_| bad())?,
        number(month, 2)? as i8,
        number(day, 2)? as i8,
        number(hour, 2)? as i8,
        number(minute, 2)? as i8,
        number(second, 2)? as i8,
        nanos,
    )
    .map_err(|_| bad())?;
    nanos_of(datetime)
}

/// A timestamp read with a `strptime` format; with an offset (`%z`), as that instant in UTC.
fn parse_with(strptime: &str, text: &str) -> Result<i64, String> {
    let parsed = jiff::fmt::strtime::parse(strptime, text).map_err(|err| err.to_string())?;
    if parsed.offset().is_some() {
        let timestamp = parsed.to_timestamp().map_err(|err| err.to_string())?;
        return i64::try_from(timestamp.as_nanosecond())
            .map_err(|_| format!("{text:?} is out of the timestamp range"));
    }
    nanos_of(parsed.to_datetime().map_err(|err| err.to_string())?)
}

/// `yyyy-MM-dd` as days since 1970-01-01.
fn parse_date(text: &str) -> Result<i32, String> {
    let date: Date = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a date (yyyy-MM-dd)"))?;
    let epoch = Date::constant(1970, 1, 1);
    let days = date
        .since((jiff::Unit::Day, epoch))
        .map_err(|err| err.to_string())?
        .get_days();
    Ok(days)
}

/// One converted value.
#[derive(Debug, Clone, PartialEq)]
enum Scalar {
    String(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    /// Nanoseconds since the epoch.
    Timestamp(i64),
    /// Days since the epoch.
    Date(i32),
}

/// The growing array of one column.
enum ColumnBuilder {
    String(StringBuilder),
    Int8(Int8Builder),
    Int16(Int16Builder),
    Int32(Int32Builder),
    Int64(Int64Builder),
    Float32(Float32Builder),
    Float64(Float64Builder),
    Boolean(BooleanBuilder),
    Timestamp(TimestampNanosecondBuilder),
    Date(Date32Builder),
}

impl ColumnBuilder {
    fn new(column_type: ColumnType) -> ColumnBuilder {
        match column_type {
            ColumnType::String => ColumnBuilder::String(StringBuilder::new()),
            ColumnType::TinyInt => ColumnBuilder::Int8(Int8Builder::new()),
            ColumnType::SmallInt => ColumnBuilder::Int16(Int16Builder::new()),
            ColumnType::Int => ColumnBuilder::Int32(Int32Builder::new()),
            ColumnType::BigInt => ColumnBuilder::Int64(Int64Builder::new()),
            ColumnType::Float => ColumnBuilder::Float32(Float32Builder::new()),
            ColumnType::Double => ColumnBuilder::Float64(Float64Builder::new()),
            ColumnType::Boolean => ColumnBuilder::Boolean(BooleanBuilder::new()),
            ColumnType::Timestamp => ColumnBuilder::Timestamp(TimestampNanosecondBuilder::new()),
            ColumnType::Date => ColumnBuilder::Date(Date32Builder::new()),
        }
    }

    /// Appends a value `scalar` made for this column's type (checked by `RowReader::scalar`).
    fn append(&mut self, value: Option<Scalar>) {
        match (self, value) {
            (ColumnBuilder::String(b), Some(Scalar::String(v))) => b.append_value(v),
            (ColumnBuilder::String(b), _) => b.append_null(),
            // The ranges were checked, so the narrowing casts are exact.
            (ColumnBuilder::Int8(b), Some(Scalar::Int(v))) => b.append_value(v as i8),
            (ColumnBuilder::Int8(b), _) => b.append_null(),
            (ColumnBuilder::Int16(b), Some(Scalar::Int(v))) => b.append_value(v as i16),
            (ColumnBuilder::Int16(b), _) => b.append_null(),
            (ColumnBuilder::Int32(b), Some(Scalar::Int(v))) => b.append_value(v as i32),
            (ColumnBuilder::Int32(b), _) => b.append_null(),
            (ColumnBuilder::Int64(b), Some(Scalar::Int(v))) => b.append_value(v),
            (ColumnBuilder::Int64(b), _) => b.append_null(),
            (ColumnBuilder::Float32(b), Some(Scalar::Float(v))) => b.append_value(v as f32),
            (ColumnBuilder::Float32(b), _) => b.append_null(),
            (ColumnBuilder::Float64(b), Some(Scalar::Float(v))) => b.append_value(v),
            (ColumnBuilder::Float64(b), _) => b.append_null(),
            (ColumnBuilder::Boolean(b), Some(Scalar::Bool(v))) => b.append_value(v),
            (ColumnBuilder::Boolean(b), _) => b.append_null(),
            (ColumnBuilder::Timestamp(b), Some(Scalar::Timestamp(v))) => b.append_value(v),
            (ColumnBuilder::Timestamp(b), _) => b.append_null(),
            (ColumnBuilder::Date(b), Some(Scalar::Date(v))) => b.append_value(v),
            (ColumnBuilder::Date(b), _) => b.append_null(),
        }
    }

    fn finish(self) -> ArrayRef {
        match self {
            ColumnBuilder::String(mut b) => Arc::new(b.finish()),
            ColumnBuilder::Int8(mut b) => Arc::new(b.finish()),
            ColumnBuilder::Int16(mut b) => Arc::new(b.finish()),
            ColumnBuilder::Int32(mut b) => Arc::new(b.finish()),
            ColumnBuilder::Int64(mut b) => Arc::new(b.finish()),
            ColumnBuilder::Float32(mut b) => Arc::new(b.finish()),
            ColumnBuilder::Float64(mut b) => Arc::new(b.finish()),
            ColumnBuilder::Boolean(mut b) => Arc::new(b.finish()),
            ColumnBuilder::Timestamp(mut b) => Arc::new(b.finish()),
            ColumnBuilder::Date(mut b) => Arc::new(b.finish()),
        }
    }
}
