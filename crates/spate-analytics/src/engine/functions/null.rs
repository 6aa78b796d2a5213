//! The null functions: COALESCE and NULLIF.

use arrow::array::ArrayRef;
use arrow::compute::kernels::cmp;
use arrow::compute::kernels::zip::zip;
use arrow::compute::{is_not_null, nullif as arrow_nullif};

use super::{EvalError, cast};
use crate::input::SqlType;
use crate::input::types::{MAX_DECIMAL_PRECISION, MAX_LENGTH};

/// The type that values of all `types` convert to without loss, when there is one: the type
/// itself when all agree; CHAR or VARCHAR of the longest length for character types; for
/// numbers DOUBLE if any is approximate (REAL if all are REAL), else a DECIMAL wide enough for
/// every integer part and scale (capped at 19 digits), else the widest integer type; VARBINARY
/// of the longest length for binary types. Unverified: SQLstream's exact rules for mixed
/// types.
pub(super) fn common_type(types: &[SqlType]) -> Option<SqlType> {
    let first = *types.first()?;
    if types.iter().all(|t| *t == first) {
        return Some(first);
    }
    let longest = |t: &SqlType| match t {
        SqlType::Char(n) | SqlType::Varchar(n) | SqlType::Binary(n) | SqlType::Varbinary(n) => *n,
        _ => 0,
    };
    let length = types.iter().map(longest).max().unwrap_or(1).min(MAX_LENGTH);
    if types.iter().all(|t| t.is_character()) {
        if types.iter().all(|t| matches!(t, SqlType::Char(_))) {
            return Some(SqlType::Char(length));
        }
        return Some(SqlType::Varchar(length));
    }
    if types
        .iter()
        .all(|t| matches!(t, SqlType::Binary(_) | SqlType::Varbinary(_)))
    {
        return Some(SqlType::Varbinary(length));
    }
    if !types.iter().all(|t| t.is_numeric()) {
        return None;
    }
    if types.iter().all(|t| *t == SqlType::Real) {
        return Some(SqlType::Real);
    }
    if types
        .iter()
        .any(|t| matches!(t, SqlType::Real | SqlType::Double))
    {
        return Some(SqlType::Double);
    }
    if types.iter().any(|t| matches!(t, SqlType::Decimal { .. })) {
        let (mut integer_digits, mut scale) = (0u8, 0u8);
        for t in types {
            let (digits, own_scale) = match t {
                SqlType::Decimal { precision, scale } => (precision - scale, *scale),
                SqlType::TinyInt => (3, 0),
                SqlType::SmallInt => (5, 0),
                SqlType::Integer => (10, 0),
                _ => (19, 0),
            };
            integer_digits = integer_digits.max(digits);
            scale = scale.max(own_scale);
        }
        let precision = integer_digits
            .saturating_add(scale)
            .min(MAX_DECIMAL_PRECISION);
        return Some(SqlType::Decimal {
            precision,
            scale: scale.min(precision),
        });
    }
    types
        .iter()
        .copied()
        .max_by_key(|t| t.integer_range().map_or(0, |(_, max)| max))
}

/// COALESCE(a, b, ...): per row, the first argument that is not NULL, as `result_type`.
pub(super) fn coalesce(
    args: &[ArrayRef],
    types: &[SqlType],
    result_type: SqlType,
    num_rows: usize,
) -> Result<ArrayRef, EvalError> {
    let mut result: Option<ArrayRef> = None;
    for (arg, sql_type) in args.iter().zip(types) {
        let arg = cast(arg, *sql_type, result_type)?;
        result = Some(match result {
            None => arg,
            Some(so_far) if so_far.null_count() == 0 => return Ok(so_far),
            Some(so_far) => {
                let present = is_not_null(so_far.as_ref())
                    .map_err(|err| EvalError::new("COALESCE", err.to_string()))?;
                zip(&present, &so_far, &arg)
                    .map_err(|err| EvalError::new("COALESCE", err.to_string()))?
            }
        });
    }
    result.ok_or_else(|| EvalError::new("COALESCE", format!("no arguments for {num_rows} rows")))
}

/// NULLIF(a, b): NULL where `a = b`, else `a`.
pub(super) fn nullif(
    left: &ArrayRef,
    left_type: SqlType,
    right: &ArrayRef,
    right_type: SqlType,
) -> Result<ArrayRef, EvalError> {
    let common = common_type(&[left_type, right_type])
        .ok_or_else(|| EvalError::new("NULLIF", "the arguments cannot be compared"))?;
    let left_common = cast(left, left_type, common)?;
    let right_common = cast(right, right_type, common)?;
    let equal = cmp::eq(&left_common, &right_common)
        .map_err(|err| EvalError::new("NULLIF", err.to_string()))?;
    arrow_nullif(left.as_ref(), &equal).map_err(|err| EvalError::new("NULLIF", err.to_string()))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Array, Float64Array, Int64Array, StringArray};

    use super::*;
    use crate::engine::functions::{floats, ints, resolve, strings};

    #[test]
    fn coalesce_takes_the_first_value_present() {
        let function = resolve(
            "COALESCE",
            &[SqlType::Integer, SqlType::Integer, SqlType::Integer],
        )
        .expect("resolves");
        let a: ArrayRef = Arc::new(Int64Array::from(vec![None, Some(1), None]));
        let b: ArrayRef = Arc::new(Int64Array::from(vec![Some(2), Some(5), None]));
        let c: ArrayRef = Arc::new(Int64Array::from(vec![Some(3), Some(6), None]));
        let result = function.evaluate(&[a, b, c], 3).expect("coalesce");
        let values: Vec<_> = ints(result.as_ref(), "test")
            .expect("ints")
            .iter()
            .collect();
        assert_eq!(values, vec![Some(2), Some(1), None]);

        let function = resolve("COALESCE", &[SqlType::Integer, SqlType::Double]).expect("mixed");
        assert_eq!(function.return_type(), SqlType::Double);
        let a: ArrayRef = Arc::new(Int64Array::from(vec![None, Some(1)]));
        let b: ArrayRef = Arc::new(Float64Array::from(vec![Some(2.5), Some(9.0)]));
        let result = function.evaluate(&[a, b], 2).expect("coalesce");
        let values: Vec<_> = floats(result.as_ref(), "test")
            .expect("floats")
            .iter()
            .collect();
        assert_eq!(values, vec![Some(2.5), Some(1.0)]);

        let function = resolve("COALESCE", &[SqlType::Varchar(3)]).expect("one argument");
        let a: ArrayRef = Arc::new(StringArray::from(vec![Some("chair"), None]));
        let result = function.evaluate(&[a], 2).expect("coalesce");
        assert_eq!(result.null_count(), 1);

        let error = resolve("COALESCE", &[SqlType::Integer, SqlType::Varchar(3)])
            .expect_err("no common type");
        assert!(
            error.to_string().starts_with("Cannot apply 'COALESCE'"),
            "{error}"
        );
        resolve("COALESCE", &[]).expect_err("no arguments");
    }

    #[test]
    fn nullif_blanks_equal_values() {
        let function =
            resolve("NULLIF", &[SqlType::Varchar(5), SqlType::Char(1)]).expect("resolves");
        assert_eq!(function.return_type(), SqlType::Varchar(5));
        let a: ArrayRef = Arc::new(StringArray::from(vec![Some("x"), Some("y"), None]));
        let b: ArrayRef = Arc::new(StringArray::from(vec![Some("x"), Some("x"), Some("x")]));
        let result = function.evaluate(&[a, b], 3).expect("nullif");
        let values: Vec<_> = strings(result.as_ref(), "test")
            .expect("strings")
            .iter()
            .collect();
        assert_eq!(values, vec![None, Some("y"), None]);
        resolve("NULLIF", &[SqlType::Date, SqlType::Integer]).expect_err("incomparable");
    }

    #[test]
    fn common_types_widen_numbers_and_strings() {
        assert_eq!(
            common_type(&[SqlType::SmallInt, SqlType::BigInt]),
            Some(SqlType::BigInt)
        );
        assert_eq!(
            common_type(&[
                SqlType::Integer,
                SqlType::Decimal {
                    precision: 5,
                    scale: 2
                }
            ]),
            Some(SqlType::Decimal {
                precision: 12,
                scale: 2
            })
        );
        assert_eq!(
            common_type(&[SqlType::Char(2), SqlType::Varchar(7)]),
            Some(SqlType::Varchar(7))
        );
        assert_eq!(common_type(&[SqlType::Date, SqlType::Timestamp]), None);
    }
}
