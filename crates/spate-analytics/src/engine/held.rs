//! One value of an aggregate's argument or result, as windows and accumulators keep it
//! ([`Held`]): integers, decimals (unscaled), datetimes and booleans as `i128`, floats as `f64`,
//! text as text. Readers turn an Arrow column into held values and [`to_array`] turns held
//! values back into a column of a SQL type.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Float64Array, StringArray};
use arrow::datatypes::{DataType, Float64Type};
use serde::{Deserialize, Serialize};

use super::accumulator::{from_i128, i128_reader};
use super::expr::EvalError;
use super::types::ExprType;
use crate::input::SqlType;

/// An argument value as a window keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Held {
    Null,
    Integer(i128),
    Float(f64),
    Text(String),
}

pub type Reader<'a> = Box<dyn Fn(usize) -> Held + 'a>;

/// How to read the argument of each row as a held value (`COUNT(*)` counts every row).
pub fn holder(argument: Option<&ArrayRef>) -> Result<Reader<'_>, EvalError> {
    let Some(array) = argument else {
        return Ok(Box::new(|_| Held::Integer(1)));
    };
    Ok(match array.data_type() {
        DataType::Float64 => {
            let values = array.as_primitive::<Float64Type>();
            Box::new(move |row| {
                if values.is_null(row) {
                    Held::Null
                } else {
                    Held::Float(values.value(row))
                }
            })
        }
        DataType::Utf8 => {
            let values = array.as_string::<i32>();
            Box::new(move |row| {
                if values.is_null(row) {
                    Held::Null
                } else {
                    Held::Text(values.value(row).to_string())
                }
            })
        }
        _ => {
            let read = i128_reader(array)?;
            Box::new(move |row| read(row).map_or(Held::Null, Held::Integer))
        }
    })
}

pub fn to_array(ty: ExprType, values: Vec<Held>) -> Result<ArrayRef, EvalError> {
    Ok(match ty {
        ExprType::Sql(SqlType::Real | SqlType::Double) => Arc::new(
            values
                .into_iter()
                .map(|value| match value {
                    Held::Float(number) => Some(number),
                    _ => None,
                })
                .collect::<Float64Array>(),
        ),
        ExprType::Sql(SqlType::Char(_) | SqlType::Varchar(_)) => Arc::new(
            values
                .into_iter()
                .map(|value| match value {
                    Held::Text(text) => Some(text),
                    _ => None,
                })
                .collect::<StringArray>(),
        ),
        _ => {
            let numbers: Vec<Option<i128>> = values
                .into_iter()
                .map(|value| match value {
                    Held::Integer(number) => Some(number),
                    _ => None,
                })
                .collect();
            if let Some((min, max)) = ty.sql().and_then(SqlType::integer_range)
                && numbers
                    .iter()
                    .flatten()
                    .any(|value| *value < i128::from(min) || *value > i128::from(max))
            {
                return Err(EvalError(format!(
                    "numeric overflow: out of range for {ty}"
                )));
            }
            from_i128(&numbers, ty)?
        }
    })
}
