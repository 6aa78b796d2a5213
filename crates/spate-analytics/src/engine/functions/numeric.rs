//! Numeric functions: ABS, CEIL, FLOOR, EXP, LN, LOG10, SQRT, POWER, MOD.

use std::sync::Arc;

use arrow::array::{ArrayRef, Decimal128Array, Float64Array, Int64Array};
use arrow::compute::{try_binary, try_unary, unary};
use arrow::datatypes::{Decimal128Type, Int64Type};
use arrow::error::ArrowError;

use super::{EvalError, decimals, floats, ints, pow10, with_decimal_type};
use crate::input::SqlType;

/// A value out of range, carried through Arrow's `try_*` kernels.
fn overflow(message: String) -> ArrowError {
    ArrowError::ComputeError(message)
}

fn from_arrow(function: &'static str) -> impl Fn(ArrowError) -> EvalError {
    move |err| match err {
        ArrowError::ComputeError(message) => EvalError::new(function, message),
        ArrowError::DivideByZero => EvalError::new(function, "division by zero"),
        other => EvalError::new(function, other.to_string()),
    }
}

pub(super) fn abs(array: &ArrayRef, sql_type: SqlType) -> Result<ArrayRef, EvalError> {
    const NAME: &str = "ABS";
    match sql_type {
        SqlType::Real | SqlType::Double => {
            let result: Float64Array = unary(floats(array, NAME)?, f64::abs);
            Ok(Arc::new(result))
        }
        SqlType::Decimal { precision, scale } => {
            let result: Decimal128Array = unary(decimals(array, NAME)?, i128::saturating_abs);
            with_decimal_type(result, precision, scale, NAME)
        }
        _ => {
            let (_, max) = sql_type.integer_range().unwrap_or((i64::MIN, i64::MAX));
            let result: Int64Array =
                try_unary(ints(array, NAME)?, |value: i64| match value.checked_abs() {
                    Some(abs) if abs <= max => Ok(abs),
                    _ => Err(overflow(format!(
                        "the absolute value of {value} is out of range for {sql_type}"
                    ))),
                })
                .map_err(from_arrow(NAME))?;
            Ok(Arc::new(result))
        }
    }
}

/// CEIL (`up`) or FLOOR of a number. Integers are their own ceiling and floor.
pub(super) fn ceil_or_floor(
    array: &ArrayRef,
    sql_type: SqlType,
    up: bool,
) -> Result<ArrayRef, EvalError> {
    let name = if up { "CEIL" } else { "FLOOR" };
    match sql_type {
        SqlType::Real | SqlType::Double => {
            let operation = if up { f64::ceil } else { f64::floor };
            let result: Float64Array = unary(floats(array, name)?, operation);
            Ok(Arc::new(result))
        }
        SqlType::Decimal { precision, scale } => {
            let divisor = pow10(scale);
            let result: Decimal128Array = unary(decimals(array, name)?, |unscaled: i128| {
                let whole = unscaled.div_euclid(divisor);
                if up && unscaled.rem_euclid(divisor) != 0 {
                    whole + 1
                } else {
                    whole
                }
            });
            with_decimal_type(result, precision, 0, name)
        }
        _ => Ok(array.clone()),
    }
}

/// The argument as DOUBLE, for the functions computed in floating point.
pub(super) fn to_f64(
    array: &ArrayRef,
    sql_type: SqlType,
    function: &'static str,
) -> Result<Float64Array, EvalError> {
    Ok(match sql_type {
        SqlType::Real | SqlType::Double => floats(array, function)?.clone(),
        SqlType::Decimal { scale, .. } => {
            let divisor = pow10(scale) as f64;
            unary(decimals(array, function)?, |unscaled: i128| {
                unscaled as f64 / divisor
            })
        }
        _ => unary(ints(array, function)?, |value: i64| value as f64),
    })
}

/// A DOUBLE function that may refuse some arguments (`check` names why).
fn float_function(
    array: &ArrayRef,
    sql_type: SqlType,
    function: &'static str,
    check: impl Fn(f64) -> Option<&'static str>,
    operation: impl Fn(f64) -> f64,
) -> Result<ArrayRef, EvalError> {
    let input = to_f64(array, sql_type, function)?;
    let result: Float64Array = try_unary(&input, |value: f64| match check(value) {
        Some(reason) => Err(overflow(format!("{reason}: {value}"))),
        None => Ok(operation(value)),
    })
    .map_err(from_arrow(function))?;
    Ok(Arc::new(result))
}

pub(super) fn exp(array: &ArrayRef, sql_type: SqlType) -> Result<ArrayRef, EvalError> {
    float_function(array, sql_type, "EXP", |_| None, f64::exp)
}

/// Unverified: a non-positive argument is an error (the SQL standard's "invalid argument for
/// natural logarithm"), where Java's `Math.log` would give NaN or -Infinity.
pub(super) fn ln(array: &ArrayRef, sql_type: SqlType) -> Result<ArrayRef, EvalError> {
    let check = |value: f64| (value <= 0.0).then_some("the logarithm of a non-positive number");
    float_function(array, sql_type, "LN", check, f64::ln)
}

/// Unverified: as [`ln`], a non-positive argument is an error.
pub(super) fn log10(array: &ArrayRef, sql_type: SqlType) -> Result<ArrayRef, EvalError> {
    let check = |value: f64| (value <= 0.0).then_some("the logarithm of a non-positive number");
    float_function(array, sql_type, "LOG10", check, f64::log10)
}

/// Unverified: a negative argument is an error rather than NaN.
pub(super) fn sqrt(array: &ArrayRef, sql_type: SqlType) -> Result<ArrayRef, EvalError> {
    let check = |value: f64| (value < 0.0).then_some("the square root of a negative number");
    float_function(array, sql_type, "SQRT", check, f64::sqrt)
}

/// POWER(base, exponent) in DOUBLE. Unverified: zero to a negative power and a negative base
/// to a fractional power are errors (the SQL standard's "invalid argument for power function")
/// rather than Infinity or NaN.
pub(super) fn power(
    base: &ArrayRef,
    base_type: SqlType,
    exponent: &ArrayRef,
    exponent_type: SqlType,
) -> Result<ArrayRef, EvalError> {
    const NAME: &str = "POWER";
    let base = to_f64(base, base_type, NAME)?;
    let exponent = to_f64(exponent, exponent_type, NAME)?;
    let result: Float64Array = try_binary(&base, &exponent, |base: f64, exponent: f64| {
        if base == 0.0 && exponent < 0.0 {
            return Err(overflow("zero raised to a negative power".to_string()));
        }
        if base < 0.0 && exponent.fract() != 0.0 {
            return Err(overflow(format!(
                "a negative base ({base}) raised to a fractional power ({exponent})"
            )));
        }
        Ok(base.powf(exponent))
    })
    .map_err(from_arrow(NAME))?;
    Ok(Arc::new(result))
}

/// MOD(dividend, divisor) of integers (and DECIMAL of scale 0): the remainder has the sign of
/// the dividend (`MOD(-4, 3)` is -1) and the divisor's type. A zero divisor is an error.
pub(super) fn modulo(
    dividend: &ArrayRef,
    dividend_type: SqlType,
    divisor: &ArrayRef,
    divisor_type: SqlType,
) -> Result<ArrayRef, EvalError> {
    const NAME: &str = "MOD";
    let integer = |t: SqlType| t.integer_range().is_some();
    if integer(dividend_type) && integer(divisor_type) {
        let result: Int64Array = try_binary(
            ints(dividend, NAME)?,
            ints(divisor, NAME)?,
            |a: i64, b: i64| {
                if b == 0 {
                    return Err(ArrowError::DivideByZero);
                }
                // `i64::MIN % -1` overflows in Rust; mathematically it is 0.
                Ok(a.checked_rem(b).unwrap_or(0))
            },
        )
        .map_err(from_arrow(NAME))?;
        return Ok(Arc::new(result));
    }
    // A DECIMAL(p,0) on either side: compute on i128.
    let dividend = exact_as_i128(dividend, dividend_type)?;
    let divisor_values = exact_as_i128(divisor, divisor_type)?;
    let remainders: Decimal128Array = try_binary(&dividend, &divisor_values, |a: i128, b: i128| {
        if b == 0 {
            Err(ArrowError::DivideByZero)
        } else {
            Ok(a % b)
        }
    })
    .map_err(from_arrow(NAME))?;
    match divisor_type {
        SqlType::Decimal { precision, scale } => {
            with_decimal_type(remainders, precision, scale, NAME)
        }
        // |remainder| < |divisor|, so it fits the divisor's integer type.
        _ => {
            let result: Int64Array = unary(&remainders, |value: i128| value as i64);
            Ok(Arc::new(result))
        }
    }
}

fn exact_as_i128(array: &ArrayRef, sql_type: SqlType) -> Result<Decimal128Array, EvalError> {
    match sql_type {
        SqlType::Decimal { .. } => Ok(decimals(array, "MOD")?.clone()),
        _ => Ok(unary::<Int64Type, _, Decimal128Type>(
            ints(array, "MOD")?,
            i128::from,
        )),
    }
}

#[cfg(test)]
mod tests {
    use arrow::array::Array;

    use super::*;
    use crate::engine::functions::resolve;

    fn int_array(values: &[Option<i64>]) -> ArrayRef {
        Arc::new(Int64Array::from(values.to_vec()))
    }

    fn float_array(values: &[Option<f64>]) -> ArrayRef {
        Arc::new(Float64Array::from(values.to_vec()))
    }

    fn decimal_array(values: &[Option<i128>], precision: u8, scale: u8) -> ArrayRef {
        Arc::new(
            Decimal128Array::from(values.to_vec())
                .with_precision_and_scale(precision, scale as i8)
                .expect("a valid precision and scale"),
        )
    }

    fn call(name: &str, types: &[SqlType], args: &[ArrayRef]) -> Result<ArrayRef, EvalError> {
        let function = resolve(name, types).expect("the call resolves");
        let rows = args.first().map_or(0, |array| array.len());
        function.evaluate(args, rows)
    }

    fn int_values(array: &ArrayRef) -> Vec<Option<i64>> {
        ints(array.as_ref(), "test")
            .expect("an Int64 array")
            .iter()
            .collect()
    }

    fn float_values(array: &ArrayRef) -> Vec<Option<f64>> {
        floats(array.as_ref(), "test")
            .expect("a Float64 array")
            .iter()
            .collect()
    }

    #[test]
    fn abs_keeps_the_type_and_refuses_a_result_out_of_range() {
        let result = call(
            "ABS",
            &[SqlType::Integer],
            &[int_array(&[Some(-3), None, Some(4)])],
        )
        .expect("in range");
        assert_eq!(int_values(&result), vec![Some(3), None, Some(4)]);
        let error = call(
            "ABS",
            &[SqlType::Integer],
            &[int_array(&[Some(i64::from(i32::MIN))])],
        )
        .expect_err("2147483648 is not an INTEGER");
        assert_eq!(error.function, "ABS");
        let decimal = call(
            "ABS",
            &[SqlType::Decimal {
                precision: 5,
                scale: 2,
            }],
            &[decimal_array(&[Some(-1234)], 5, 2)],
        )
        .expect("decimal");
        assert_eq!(
            decimal.data_type(),
            &arrow::datatypes::DataType::Decimal128(5, 2)
        );
        let floats =
            call("ABS", &[SqlType::Double], &[float_array(&[Some(-1.5)])]).expect("double");
        assert_eq!(float_values(&floats), vec![Some(1.5)]);
    }

    #[test]
    fn ceil_and_floor_round_toward_their_side() {
        let input = float_array(&[Some(2.5), Some(-2.5), None]);
        let ceil = call("CEILING", &[SqlType::Double], std::slice::from_ref(&input)).expect("ceil");
        assert_eq!(float_values(&ceil), vec![Some(3.0), Some(-2.0), None]);
        let floor = call("FLOOR", &[SqlType::Double], &[input]).expect("floor");
        assert_eq!(float_values(&floor), vec![Some(2.0), Some(-3.0), None]);

        let decimal_type = SqlType::Decimal {
            precision: 5,
            scale: 2,
        };
        let function = resolve("CEIL", &[decimal_type]).expect("resolves");
        assert_eq!(
            function.return_type(),
            SqlType::Decimal {
                precision: 5,
                scale: 0
            }
        );
        let decimal = decimal_array(&[Some(-250), Some(250), Some(300)], 5, 2);
        let ceil = function
            .evaluate(std::slice::from_ref(&decimal), 3)
            .expect("ceil");
        let values: Vec<_> = decimals(ceil.as_ref(), "test")
            .expect("decimal")
            .iter()
            .collect();
        assert_eq!(values, vec![Some(-2), Some(3), Some(3)]);
        let floor = call("FLOOR", &[decimal_type], &[decimal]).expect("floor");
        let values: Vec<_> = decimals(floor.as_ref(), "test")
            .expect("decimal")
            .iter()
            .collect();
        assert_eq!(values, vec![Some(-3), Some(2), Some(3)]);
        let ints = call("FLOOR", &[SqlType::BigInt], &[int_array(&[Some(7)])]).expect("ints");
        assert_eq!(int_values(&ints), vec![Some(7)]);
    }

    #[test]
    fn exp_ln_log10_and_power_compute_in_double() {
        let exp = call("EXP", &[SqlType::Integer], &[int_array(&[Some(0), None])]).expect("exp");
        assert_eq!(float_values(&exp), vec![Some(1.0), None]);
        let ln = call("LN", &[SqlType::Double], &[float_array(&[Some(1.0)])]).expect("ln");
        assert_eq!(float_values(&ln), vec![Some(0.0)]);
        let log = call(
            "LOG10",
            &[SqlType::Decimal {
                precision: 6,
                scale: 1,
            }],
            &[decimal_array(&[Some(10000)], 6, 1)],
        )
        .expect("log10");
        assert_eq!(float_values(&log), vec![Some(3.0)]);
        let error = call("LN", &[SqlType::Integer], &[int_array(&[Some(0)])])
            .expect_err("no logarithm of zero");
        assert_eq!(error.function, "LN");
        let power = call(
            "POWER",
            &[SqlType::Integer, SqlType::Double],
            &[
                int_array(&[Some(2), None]),
                float_array(&[Some(10.0), Some(1.0)]),
            ],
        )
        .expect("power");
        assert_eq!(float_values(&power), vec![Some(1024.0), None]);
        call(
            "POWER",
            &[SqlType::Double, SqlType::Double],
            &[float_array(&[Some(-8.0)]), float_array(&[Some(0.5)])],
        )
        .expect_err("a negative base to a fractional power");
        let sqrt = call("SQRT", &[SqlType::Integer], &[int_array(&[Some(9)])]).expect("sqrt");
        assert_eq!(float_values(&sqrt), vec![Some(3.0)]);
    }

    #[test]
    fn mod_follows_the_reference_examples() {
        let result = call(
            "MOD",
            &[SqlType::Integer, SqlType::Integer],
            &[
                int_array(&[Some(4), Some(5), Some(-4), Some(5), None, Some(i64::MIN)]),
                int_array(&[Some(2), Some(3), Some(3), Some(12), Some(1), Some(-1)]),
            ],
        )
        .expect("mod");
        assert_eq!(
            int_values(&result),
            vec![Some(0), Some(2), Some(-1), Some(5), None, Some(0)]
        );
        let error = call(
            "MOD",
            &[SqlType::Integer, SqlType::Integer],
            &[int_array(&[Some(1)]), int_array(&[Some(0)])],
        )
        .expect_err("division by zero");
        assert_eq!(error.to_string(), "MOD: division by zero");
        // A zero divisor in a NULL row is not evaluated.
        let result = call(
            "MOD",
            &[SqlType::Integer, SqlType::Integer],
            &[int_array(&[None]), int_array(&[Some(0)])],
        )
        .expect("the row is NULL");
        assert_eq!(int_values(&result), vec![None]);
        let decimal_type = SqlType::Decimal {
            precision: 10,
            scale: 0,
        };
        let result = call(
            "MOD",
            &[SqlType::BigInt, decimal_type],
            &[int_array(&[Some(-7)]), decimal_array(&[Some(4)], 10, 0)],
        )
        .expect("decimal mod");
        assert_eq!(
            result.data_type(),
            &arrow::datatypes::DataType::Decimal128(10, 0)
        );
        let values: Vec<_> = decimals(result.as_ref(), "test")
            .expect("decimal")
            .iter()
            .collect();
        assert_eq!(values, vec![Some(-3)]);
    }

    #[test]
    fn numeric_functions_refuse_other_types() {
        let error = resolve("MOD", &[SqlType::Double, SqlType::Integer]).expect_err("not exact");
        assert_eq!(
            error.to_string(),
            "Cannot apply 'MOD' to arguments of type 'MOD(<DOUBLE>, <INTEGER>)'. \
             Supported form(s): 'MOD(<INTEGER>, <INTEGER>)'"
        );
        let error = resolve("ABS", &[]).expect_err("no argument");
        assert_eq!(
            error.to_string(),
            "Invalid number of arguments to function 'ABS'. Was expecting 1 arguments"
        );
        resolve("EXP", &[SqlType::Varchar(3)]).expect_err("not a number");
    }
}
