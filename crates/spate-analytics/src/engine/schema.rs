//! The columns of in-application streams and how their values are held in Arrow arrays.
//!
//! Every SQL type has one physical Arrow type, so operators and functions handle few array
//! kinds while the SQL type (kept beside the array in a [`Column`]) still decides ranges,
//! lengths, padding and how a value is written out:
//!
//! | SQL type                          | Arrow array                       |
//! |-----------------------------------|-----------------------------------|
//! | BOOLEAN                           | `Boolean`                         |
//! | TINYINT, SMALLINT, INTEGER, BIGINT| `Int64` (values within the type)  |
//! | REAL, DOUBLE                      | `Float64` (REAL rounded to f32)   |
//! | DECIMAL(p,s)                      | `Decimal128(p, s)`                |
//! | CHAR(n), VARCHAR(n)               | `Utf8` (CHAR padded to n)         |
//! | BINARY(n), VARBINARY(n)           | `Binary`                          |
//! | DATE                              | `Date32` (days since the epoch)   |
//! | TIME                              | `Time32(Millisecond)`             |
//! | TIMESTAMP                         | `Timestamp(Millisecond, None)`    |
//!
//! A stream's batches carry `ROWTIME` (non-null TIMESTAMP) as their first column.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayBuilder, ArrayRef, BinaryBuilder, BooleanBuilder, Date32Builder, Decimal128Builder,
    Float64Builder, Int64Builder, StringBuilder, Time32MillisecondBuilder,
    TimestampMillisecondBuilder,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use arrow::record_batch::RecordBatch;

use crate::input::{Row, SqlType, Value};

/// The name of every stream's first column: the time a row entered its stream.
pub const ROWTIME: &str = "ROWTIME";

/// One named, typed column of an in-application stream or table.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: String,
    pub sql_type: SqlType,
}

impl Column {
    pub fn new(name: impl Into<String>, sql_type: SqlType) -> Column {
        Column {
            name: name.into(),
            sql_type,
        }
    }
}

/// The Arrow type that holds values of `sql_type`.
pub fn arrow_type(sql_type: SqlType) -> DataType {
    match sql_type {
        SqlType::Boolean => DataType::Boolean,
        SqlType::TinyInt | SqlType::SmallInt | SqlType::Integer | SqlType::BigInt => {
            DataType::Int64
        }
        SqlType::Real | SqlType::Double => DataType::Float64,
        SqlType::Decimal { precision, scale } => DataType::Decimal128(precision, scale as i8),
        SqlType::Char(_) | SqlType::Varchar(_) => DataType::Utf8,
        SqlType::Binary(_) | SqlType::Varbinary(_) => DataType::Binary,
        SqlType::Date => DataType::Date32,
        SqlType::Time => DataType::Time32(TimeUnit::Millisecond),
        SqlType::Timestamp => DataType::Timestamp(TimeUnit::Millisecond, None),
    }
}

/// The Arrow schema of a stream with these columns: `ROWTIME` first, then `columns`.
pub fn stream_schema(columns: &[Column]) -> SchemaRef {
    let mut fields = Vec::with_capacity(columns.len() + 1);
    fields.push(Field::new(ROWTIME, arrow_type(SqlType::Timestamp), false));
    fields.extend(
        columns
            .iter()
            .map(|column| Field::new(&column.name, arrow_type(column.sql_type), true)),
    );
    Arc::new(Schema::new(fields))
}

/// Why rows could not become a batch: a value of the wrong kind for its column.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("column {column}: a {found} value does not fit {sql_type}")]
pub struct BatchError {
    pub column: String,
    pub found: &'static str,
    pub sql_type: SqlType,
}

/// A builder of one column's array from [`Value`]s.
pub struct ColumnBuilder {
    sql_type: SqlType,
    inner: Box<dyn ArrayBuilder>,
}

impl std::fmt::Debug for ColumnBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ColumnBuilder")
            .field("sql_type", &self.sql_type)
            .finish_non_exhaustive()
    }
}

impl ColumnBuilder {
    pub fn new(sql_type: SqlType, capacity: usize) -> ColumnBuilder {
        let inner: Box<dyn ArrayBuilder> = match sql_type {
            SqlType::Boolean => Box::new(BooleanBuilder::with_capacity(capacity)),
            SqlType::TinyInt | SqlType::SmallInt | SqlType::Integer | SqlType::BigInt => {
                Box::new(Int64Builder::with_capacity(capacity))
            }
            SqlType::Real | SqlType::Double => Box::new(Float64Builder::with_capacity(capacity)),
            SqlType::Decimal { precision, scale } => Box::new(
                Decimal128Builder::with_capacity(capacity)
                    .with_data_type(DataType::Decimal128(precision, scale as i8)),
            ),
            SqlType::Char(_) | SqlType::Varchar(_) => {
                Box::new(StringBuilder::with_capacity(capacity, capacity * 16))
            }
            SqlType::Binary(_) | SqlType::Varbinary(_) => {
                Box::new(BinaryBuilder::with_capacity(capacity, capacity * 16))
            }
            SqlType::Date => Box::new(Date32Builder::with_capacity(capacity)),
            SqlType::Time => Box::new(Time32MillisecondBuilder::with_capacity(capacity)),
            SqlType::Timestamp => Box::new(TimestampMillisecondBuilder::with_capacity(capacity)),
        };
        ColumnBuilder { sql_type, inner }
    }

    /// Appends one value; `Err` names the kind of value that does not fit.
    pub fn append(&mut self, value: &Value) -> Result<(), &'static str> {
        macro_rules! builder {
            ($ty:ty) => {
                self.inner
                    .as_any_mut()
                    .downcast_mut::<$ty>()
                    .expect("the builder was made for this SQL type")
            };
        }
        match (self.sql_type, value) {
            (_, Value::Null) => self.append_null(),
            (SqlType::Boolean, Value::Boolean(flag)) => {
                builder!(BooleanBuilder).append_value(*flag)
            }
            (
                SqlType::TinyInt | SqlType::SmallInt | SqlType::Integer | SqlType::BigInt,
                Value::Integer(number),
            ) => builder!(Int64Builder).append_value(*number),
            (SqlType::Real | SqlType::Double, Value::Double(number)) => {
                builder!(Float64Builder).append_value(*number)
            }
            (
                SqlType::Decimal { scale, .. },
                Value::Decimal {
                    unscaled,
                    scale: from,
                },
            ) => {
                let unscaled = rescale(*unscaled, *from, scale).ok_or("decimal")?;
                builder!(Decimal128Builder).append_value(unscaled)
            }
            (SqlType::Char(_) | SqlType::Varchar(_), Value::Varchar(text)) => {
                builder!(StringBuilder).append_value(text)
            }
            (SqlType::Binary(_) | SqlType::Varbinary(_), Value::Binary(bytes)) => {
                builder!(BinaryBuilder).append_value(bytes)
            }
            (SqlType::Date, Value::Date(days)) => builder!(Date32Builder).append_value(*days),
            (SqlType::Time, Value::Time(millis)) => {
                builder!(Time32MillisecondBuilder).append_value(*millis as i32)
            }
            (SqlType::Timestamp, Value::Timestamp(millis)) => {
                builder!(TimestampMillisecondBuilder).append_value(*millis)
            }
            (_, other) => return Err(other.kind()),
        }
        Ok(())
    }

    pub fn append_null(&mut self) {
        macro_rules! null {
            ($ty:ty) => {
                self.inner
                    .as_any_mut()
                    .downcast_mut::<$ty>()
                    .expect("the builder was made for this SQL type")
                    .append_null()
            };
        }
        match self.sql_type {
            SqlType::Boolean => null!(BooleanBuilder),
            SqlType::TinyInt | SqlType::SmallInt | SqlType::Integer | SqlType::BigInt => {
                null!(Int64Builder)
            }
            SqlType::Real | SqlType::Double => null!(Float64Builder),
            SqlType::Decimal { .. } => null!(Decimal128Builder),
            SqlType::Char(_) | SqlType::Varchar(_) => null!(StringBuilder),
            SqlType::Binary(_) | SqlType::Varbinary(_) => null!(BinaryBuilder),
            SqlType::Date => null!(Date32Builder),
            SqlType::Time => null!(Time32MillisecondBuilder),
            SqlType::Timestamp => null!(TimestampMillisecondBuilder),
        }
    }

    pub fn finish(&mut self) -> ArrayRef {
        self.inner.finish()
    }
}

/// `unscaled / 10^from` as an unscaled value of scale `to`, or `None` when it overflows.
/// Digits below the new scale are dropped (truncation toward zero).
fn rescale(unscaled: i128, from: u8, to: u8) -> Option<i128> {
    if to >= from {
        unscaled.checked_mul(10i128.checked_pow(u32::from(to - from))?)
    } else {
        Some(unscaled / 10i128.checked_pow(u32::from(from - to))?)
    }
}

/// A batch of `rows` (values in `columns` order) with their `rowtimes` as the first column.
pub fn rows_to_batch(
    schema: &SchemaRef,
    columns: &[Column],
    rowtimes: &[i64],
    rows: &[Row],
) -> Result<RecordBatch, BatchError> {
    debug_assert_eq!(rowtimes.len(), rows.len());
    let mut rowtime = TimestampMillisecondBuilder::with_capacity(rows.len());
    rowtime.append_slice(rowtimes);
    let mut builders: Vec<ColumnBuilder> = columns
        .iter()
        .map(|column| ColumnBuilder::new(column.sql_type, rows.len()))
        .collect();
    for row in rows {
        for (index, builder) in builders.iter_mut().enumerate() {
            match row.get(index) {
                Some(value) => builder.append(value).map_err(|found| BatchError {
                    column: columns[index].name.clone(),
                    found,
                    sql_type: columns[index].sql_type,
                })?,
                None => builder.append_null(),
            }
        }
    }
    let mut arrays: Vec<ArrayRef> = Vec::with_capacity(columns.len() + 1);
    arrays.push(Arc::new(rowtime.finish()));
    arrays.extend(builders.iter_mut().map(ColumnBuilder::finish));
    RecordBatch::try_new(schema.clone(), arrays).map_err(|err| BatchError {
        column: err.to_string(),
        found: "batch",
        sql_type: SqlType::Timestamp,
    })
}

/// The value at `row` of an array built for `sql_type`.
pub fn value_at(array: &dyn Array, sql_type: SqlType, row: usize) -> Value {
    use arrow::array::AsArray;
    use arrow::datatypes::{
        Date32Type, Decimal128Type, Float64Type, Int64Type, Time32MillisecondType,
        TimestampMillisecondType,
    };
    if array.is_null(row) {
        return Value::Null;
    }
    match sql_type {
        SqlType::Boolean => Value::Boolean(array.as_boolean().value(row)),
        SqlType::TinyInt | SqlType::SmallInt | SqlType::Integer | SqlType::BigInt => {
            Value::Integer(array.as_primitive::<Int64Type>().value(row))
        }
        SqlType::Real | SqlType::Double => {
            Value::Double(array.as_primitive::<Float64Type>().value(row))
        }
        SqlType::Decimal { scale, .. } => Value::Decimal {
            unscaled: array.as_primitive::<Decimal128Type>().value(row),
            scale,
        },
        SqlType::Char(_) | SqlType::Varchar(_) => {
            Value::Varchar(array.as_string::<i32>().value(row).to_string())
        }
        SqlType::Binary(_) | SqlType::Varbinary(_) => {
            Value::Binary(array.as_binary::<i32>().value(row).to_vec())
        }
        SqlType::Date => Value::Date(array.as_primitive::<Date32Type>().value(row)),
        SqlType::Time => {
            Value::Time(array.as_primitive::<Time32MillisecondType>().value(row) as u32)
        }
        SqlType::Timestamp => {
            Value::Timestamp(array.as_primitive::<TimestampMillisecondType>().value(row))
        }
    }
}

/// The rows of a stream batch (without ROWTIME), values in `columns` order, each with its
/// ROWTIME.
pub fn batch_to_rows(batch: &RecordBatch, columns: &[Column]) -> Vec<(i64, Row)> {
    use arrow::array::AsArray;
    use arrow::datatypes::TimestampMillisecondType;
    let rowtimes = batch.column(0).as_primitive::<TimestampMillisecondType>();
    (0..batch.num_rows())
        .map(|row| {
            let values = columns
                .iter()
                .enumerate()
                .map(|(index, column)| value_at(batch.column(index + 1), column.sql_type, row))
                .collect();
            (rowtimes.value(row), values)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_round_trip_through_a_batch_for_every_type() {
        let columns = vec![
            Column::new("B", SqlType::Boolean),
            Column::new("I", SqlType::Integer),
            Column::new("D", SqlType::Double),
            Column::new(
                "N",
                SqlType::Decimal {
                    precision: 10,
                    scale: 2,
                },
            ),
            Column::new("S", SqlType::Varchar(8)),
            Column::new("X", SqlType::Varbinary(4)),
            Column::new("DA", SqlType::Date),
            Column::new("TI", SqlType::Time),
            Column::new("TS", SqlType::Timestamp),
        ];
        let rows = vec![
            vec![
                Value::Boolean(true),
                Value::Integer(-7),
                Value::Double(2.5),
                Value::Decimal {
                    unscaled: 1234,
                    scale: 2,
                },
                Value::Varchar("abc".into()),
                Value::Binary(vec![1, 2]),
                Value::Date(19_000),
                Value::Time(3_600_000),
                Value::Timestamp(1_700_000_000_123),
            ],
            vec![Value::Null; 9],
        ];
        let schema = stream_schema(&columns);
        let batch = rows_to_batch(&schema, &columns, &[10, 20], &rows).expect("rows fit");
        assert_eq!(batch.num_columns(), 10);
        let back = batch_to_rows(&batch, &columns);
        assert_eq!(back, vec![(10, rows[0].clone()), (20, rows[1].clone())]);
    }

    #[test]
    fn a_decimal_of_another_scale_is_rescaled_and_a_wrong_kind_is_refused() {
        let columns = vec![Column::new(
            "N",
            SqlType::Decimal {
                precision: 10,
                scale: 3,
            },
        )];
        let schema = stream_schema(&columns);
        let rows = vec![vec![Value::Decimal {
            unscaled: 15,
            scale: 1,
        }]];
        let batch = rows_to_batch(&schema, &columns, &[0], &rows).expect("rows fit");
        assert_eq!(
            batch_to_rows(&batch, &columns)[0].1,
            vec![Value::Decimal {
                unscaled: 1500,
                scale: 3
            }]
        );
        let wrong = vec![vec![Value::Varchar("x".into())]];
        let err =
            rows_to_batch(&schema, &columns, &[0], &wrong).expect_err("a string is no decimal");
        assert_eq!(err.column, "N");
    }
}
