//! Expressions compiled against the columns of a batch, and their evaluation to Arrow arrays.
//!
//! [`compile`] resolves names through a [`Scope`] (which columns a query sees, and, for
//! aggregate queries, which expressions stand for a group key or an aggregate), checks and
//! coerces types, and gives a [`PhysicalExpr`] tree; [`PhysicalExpr::evaluate`] runs it on a
//! batch. SQL's three-valued logic holds: comparisons with NULL are NULL, `AND`/`OR` follow
//! Kleene's rules, and a `WHERE` keeps only rows that are TRUE.
//!
//! Numeric types combine as SQL's rules say: integers stay integers (the wider type; overflow is
//! an error, as is division by zero, and integer division truncates), a DECIMAL with an integer
//! is a DECIMAL (precision capped at 19), and anything with a REAL or DOUBLE is a DOUBLE.
//! Datetimes move by intervals; `(a - b) unit` is the interval between two datetimes.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Int64Array, Scalar, UInt32Array, new_null_array,
};
use arrow::compute::kernels::{boolean, cmp, numeric, zip};
use arrow::datatypes::{DataType, Int64Type};
use arrow::record_batch::RecordBatch;

use super::functions::{self, ScalarFunction};
use super::prepared::PreparedFunction;
use super::types::{self, ExprType};
use crate::input::SqlType;
use crate::sql::SqlError;
use crate::sql::ast::{
    BinaryOperator, Expr, FunctionArg, Ident, IsTest, Position, TimeUnit, TrimSide, UnaryOperator,
};

/// An error of a query's meaning (unknown name, type mismatch), with where it is in the code.
pub type PlanError = SqlError;

pub(crate) fn plan_error(pos: Position, message: impl Into<String>) -> PlanError {
    SqlError::new(pos.line, pos.column, message)
}

/// Why evaluating an expression on a batch failed: the rows go to the error stream.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct EvalError(pub String);

impl From<super::functions::EvalError> for EvalError {
    fn from(err: super::functions::EvalError) -> Self {
        EvalError(err.to_string())
    }
}

impl From<arrow::error::ArrowError> for EvalError {
    fn from(err: arrow::error::ArrowError) -> Self {
        EvalError(err.to_string())
    }
}

/// What names mean where an expression is compiled.
pub trait Scope {
    /// The batch column a (possibly qualified) name refers to, and its type.
    fn resolve(&self, name: &[Ident]) -> Result<(usize, ExprType), PlanError>;

    /// Compiles `expr` itself when the scope gives it a meaning of its own (a group key, an
    /// aggregate); `None` compiles it as usual.
    fn intercept(&mut self, _expr: &Expr) -> Result<Option<PhysicalExpr>, PlanError> {
        Ok(None)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arithmetic {
    Add,
    Subtract,
    Multiply,
    Divide,
    Modulo,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    Eq,
    NotEq,
    Lt,
    LtEq,
    Gt,
    GtEq,
}

/// A compiled expression. Its `Debug` form identifies it (names resolved to column indices),
/// which is how a projection's expression is matched with a `GROUP BY` key.
#[derive(Debug, Clone)]
pub enum PhysicalExpr {
    Column {
        index: usize,
        ty: ExprType,
    },
    /// A one-row array.
    Literal {
        value: ArrayRef,
        ty: ExprType,
    },
    /// Values converted to another physical form of the same meaning (an integer to a
    /// DOUBLE, a NULL to a typed NULL...).
    Coerce {
        expr: Box<PhysicalExpr>,
        ty: ExprType,
    },
    Arithmetic {
        op: Arithmetic,
        left: Box<PhysicalExpr>,
        right: Box<PhysicalExpr>,
        ty: ExprType,
    },
    /// A datetime moved by a day-time interval (milliseconds, or days for a DATE).
    ShiftTime {
        time: Box<PhysicalExpr>,
        millis: Box<PhysicalExpr>,
        subtract: bool,
        ty: ExprType,
    },
    /// `(a - b) unit`: milliseconds between two timestamps.
    TimeDifference {
        left: Box<PhysicalExpr>,
        right: Box<PhysicalExpr>,
    },
    Negate {
        expr: Box<PhysicalExpr>,
        ty: ExprType,
    },
    Compare {
        op: Comparison,
        left: Box<PhysicalExpr>,
        right: Box<PhysicalExpr>,
    },
    /// `a IS [NOT] DISTINCT FROM b`
    NotDistinct {
        left: Box<PhysicalExpr>,
        right: Box<PhysicalExpr>,
        negated: bool,
    },
    And(Box<PhysicalExpr>, Box<PhysicalExpr>),
    Or(Box<PhysicalExpr>, Box<PhysicalExpr>),
    Not(Box<PhysicalExpr>),
    IsNull {
        expr: Box<PhysicalExpr>,
        negated: bool,
    },
    /// `x IS [NOT] TRUE|FALSE`
    IsBoolean {
        expr: Box<PhysicalExpr>,
        value: bool,
        negated: bool,
    },
    Concat {
        left: Box<PhysicalExpr>,
        right: Box<PhysicalExpr>,
        ty: ExprType,
    },
    Case {
        branches: Vec<(PhysicalExpr, PhysicalExpr)>,
        otherwise: Option<Box<PhysicalExpr>>,
        ty: ExprType,
    },
    /// `STEP(t BY INTERVAL ...)`: the start of the `width`-millisecond step holding `t`.
    Step {
        expr: Box<PhysicalExpr>,
        width: i64,
    },
    /// `FLOOR(t TO unit)` / `CEIL(t TO unit)` of a TIMESTAMP, DATE or TIME.
    RoundTime {
        expr: Box<PhysicalExpr>,
        unit: TimeUnit,
        ceil: bool,
    },
    /// A function called by name (`ABS(x)`, `COALESCE(a, b)`).
    Call {
        function: ScalarFunction,
        args: Vec<PhysicalExpr>,
    },
    /// A construct with syntax of its own (`CAST`, `EXTRACT`, `SUBSTRING`...), on `args`.
    Special {
        op: SpecialOp,
        args: Vec<PhysicalExpr>,
        ty: ExprType,
    },
    /// A function prepared at plan time (a compiled regular expression): see
    /// [`super::prepared`].
    Prepared {
        function: Arc<PreparedFunction>,
        args: Vec<PhysicalExpr>,
        ty: ExprType,
    },
}

/// The constructs with syntax of their own, and what each needs beyond its arguments.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SpecialOp {
    Cast {
        from: SqlType,
        to: SqlType,
    },
    Extract {
        unit: TimeUnit,
        from: SqlType,
    },
    /// EXTRACT of a field of an interval (milliseconds or months).
    ExtractInterval {
        unit: TimeUnit,
        kind: functions::IntervalKind,
    },
    /// `SUBSTRING(s FROM f [FOR n])`: two or three arguments.
    Substring,
    /// `POSITION(needle IN haystack)`
    Position,
    /// `TRIM([side] [characters FROM] s)`: `s`, then the characters if given.
    Trim {
        side: TrimSide,
    },
    /// `OVERLAY(s PLACING r FROM f [FOR n])`: three or four arguments.
    Overlay,
    /// `s [NOT] LIKE p [ESCAPE e]`: two or three arguments.
    Like {
        negated: bool,
    },
    /// The time the query first ran (`query_time`), one per row of the argument (ROWTIME,
    /// which stands in outside an engine's evaluation).
    QueryStart,
}

impl PhysicalExpr {
    pub fn ty(&self) -> ExprType {
        match self {
            PhysicalExpr::Call { function, .. } => ExprType::Sql(function.return_type()),
            PhysicalExpr::Column { ty, .. }
            | PhysicalExpr::Special { ty, .. }
            | PhysicalExpr::Prepared { ty, .. }
            | PhysicalExpr::Literal { ty, .. }
            | PhysicalExpr::Coerce { ty, .. }
            | PhysicalExpr::Arithmetic { ty, .. }
            | PhysicalExpr::ShiftTime { ty, .. }
            | PhysicalExpr::Negate { ty, .. }
            | PhysicalExpr::Concat { ty, .. }
            | PhysicalExpr::Case { ty, .. } => *ty,
            PhysicalExpr::TimeDifference { .. } => ExprType::DayTimeInterval,
            PhysicalExpr::Compare { .. }
            | PhysicalExpr::NotDistinct { .. }
            | PhysicalExpr::And(..)
            | PhysicalExpr::Or(..)
            | PhysicalExpr::Not(_)
            | PhysicalExpr::IsNull { .. }
            | PhysicalExpr::IsBoolean { .. } => ExprType::Sql(SqlType::Boolean),
            PhysicalExpr::Step { expr, .. } | PhysicalExpr::RoundTime { expr, .. } => expr.ty(),
        }
    }

    /// A text that identifies the expression: equal texts compute equal values.
    pub fn fingerprint(&self) -> String {
        format!("{self:?}")
    }

    /// The values of the expression for every row of `batch`.
    pub fn evaluate(&self, batch: &RecordBatch) -> Result<ArrayRef, EvalError> {
        let rows = batch.num_rows();
        match self.evaluate_datum(batch)? {
            Datum::Array(array) => Ok(array),
            Datum::Scalar(value) => repeat(&value, rows),
        }
    }

    fn evaluate_datum(&self, batch: &RecordBatch) -> Result<Datum, EvalError> {
        let rows = batch.num_rows();
        Ok(match self {
            PhysicalExpr::Column { index, .. } => Datum::Array(batch.column(*index).clone()),
            PhysicalExpr::Literal { value, .. } => Datum::Scalar(value.clone()),
            PhysicalExpr::Coerce { expr, ty } => {
                let to = ty.arrow_type();
                expr.evaluate_datum(batch)?
                    .map(|array| Ok(arrow::compute::cast(&array, &to)?))?
            }
            PhysicalExpr::Arithmetic {
                op,
                left,
                right,
                ty,
            } => {
                let left = left.evaluate_datum(batch)?;
                let right = right.evaluate_datum(batch)?;
                let result = arithmetic(*op, &left, &right)?;
                let result = fit(result, *ty)?;
                if left.is_scalar() && right.is_scalar() {
                    Datum::Scalar(result)
                } else {
                    Datum::Array(result)
                }
            }
            PhysicalExpr::ShiftTime {
                time,
                millis,
                subtract,
                ty,
            } => {
                let time = time.evaluate(batch)?;
                let millis = millis.evaluate(batch)?;
                Datum::Array(shift_time(&time, &millis, *subtract, *ty)?)
            }
            PhysicalExpr::TimeDifference { left, right } => {
                let left = as_millis(&left.evaluate(batch)?)?;
                let right = as_millis(&right.evaluate(batch)?)?;
                let difference: Int64Array =
                    arrow::compute::binary(&left, &right, |a: i64, b: i64| a.wrapping_sub(b))?;
                Datum::Array(Arc::new(difference))
            }
            PhysicalExpr::Negate { expr, .. } => {
                let value = expr.evaluate(batch)?;
                Datum::Array(numeric::neg(&value)?)
            }
            PhysicalExpr::Compare { op, left, right } => {
                let left = left.evaluate_datum(batch)?;
                let right = right.evaluate_datum(batch)?;
                let (l, r) = (left.as_datum(), right.as_datum());
                let result = match op {
                    Comparison::Eq => cmp::eq(&*l, &*r)?,
                    Comparison::NotEq => cmp::neq(&*l, &*r)?,
                    Comparison::Lt => cmp::lt(&*l, &*r)?,
                    Comparison::LtEq => cmp::lt_eq(&*l, &*r)?,
                    Comparison::Gt => cmp::gt(&*l, &*r)?,
                    Comparison::GtEq => cmp::gt_eq(&*l, &*r)?,
                };
                Datum::Array(Arc::new(result))
            }
            PhysicalExpr::NotDistinct {
                left,
                right,
                negated,
            } => {
                let left = left.evaluate_datum(batch)?;
                let right = right.evaluate_datum(batch)?;
                let result = if *negated {
                    cmp::not_distinct(&*left.as_datum(), &*right.as_datum())?
                } else {
                    cmp::distinct(&*left.as_datum(), &*right.as_datum())?
                };
                Datum::Array(Arc::new(result))
            }
            PhysicalExpr::And(left, right) => {
                let left = boolean_array(&left.evaluate(batch)?)?;
                let right = boolean_array(&right.evaluate(batch)?)?;
                Datum::Array(Arc::new(boolean::and_kleene(&left, &right)?))
            }
            PhysicalExpr::Or(left, right) => {
                let left = boolean_array(&left.evaluate(batch)?)?;
                let right = boolean_array(&right.evaluate(batch)?)?;
                Datum::Array(Arc::new(boolean::or_kleene(&left, &right)?))
            }
            PhysicalExpr::Not(expr) => {
                let value = boolean_array(&expr.evaluate(batch)?)?;
                Datum::Array(Arc::new(boolean::not(&value)?))
            }
            PhysicalExpr::IsNull { expr, negated } => {
                let value = expr.evaluate(batch)?;
                let result = if *negated {
                    boolean::is_not_null(&value)?
                } else {
                    boolean::is_null(&value)?
                };
                Datum::Array(Arc::new(result))
            }
            PhysicalExpr::IsBoolean {
                expr,
                value,
                negated,
            } => {
                let array = boolean_array(&expr.evaluate(batch)?)?;
                let result: BooleanArray = array
                    .iter()
                    .map(|flag| Some((flag == Some(*value)) != *negated))
                    .collect();
                Datum::Array(Arc::new(result))
            }
            PhysicalExpr::Concat { left, right, .. } => {
                let left = left.evaluate(batch)?;
                let right = right.evaluate(batch)?;
                let result = arrow::compute::kernels::concat_elements::concat_elements_utf8(
                    left.as_string::<i32>(),
                    right.as_string::<i32>(),
                )?;
                Datum::Array(Arc::new(result))
            }
            PhysicalExpr::Case {
                branches,
                otherwise,
                ty,
            } => {
                let mut result = match otherwise {
                    Some(otherwise) => otherwise.evaluate(batch)?,
                    None => new_null_array(&ty.arrow_type(), rows),
                };
                for (condition, value) in branches.iter().rev() {
                    let condition = boolean_array(&condition.evaluate(batch)?)?;
                    // NULL conditions do not match (prep_null_mask_filter needs a null buffer).
                    let condition = if condition.nulls().is_some() {
                        arrow::compute::prep_null_mask_filter(&condition)
                    } else {
                        condition
                    };
                    let value = value.evaluate(batch)?;
                    result = zip::zip(&condition, &value, &result)?;
                }
                Datum::Array(result)
            }
            PhysicalExpr::Step { expr, width } => {
                let values = expr.evaluate(batch)?;
                let sql_type = expr.ty().sql().unwrap_or(SqlType::Timestamp);
                Datum::Array(functions::step(
                    &values,
                    sql_type,
                    functions::StepWidth::Millis(*width),
                )?)
            }
            PhysicalExpr::RoundTime { expr, unit, ceil } => {
                let values = expr.evaluate(batch)?;
                Datum::Array(if *ceil {
                    functions::ceil_to(*unit, &values)?
                } else {
                    functions::floor_to(*unit, &values)?
                })
            }
            PhysicalExpr::Call { function, args } => {
                let values = args
                    .iter()
                    .map(|arg| arg.evaluate(batch))
                    .collect::<Result<Vec<_>, _>>()?;
                Datum::Array(function.evaluate(&values, rows)?)
            }
            PhysicalExpr::Special { op, args, .. } => {
                let values = args
                    .iter()
                    .map(|arg| arg.evaluate(batch))
                    .collect::<Result<Vec<_>, _>>()?;
                Datum::Array(special(*op, &values)?)
            }
            PhysicalExpr::Prepared { function, args, .. } => {
                let values = args
                    .iter()
                    .map(|arg| arg.evaluate(batch))
                    .collect::<Result<Vec<_>, _>>()?;
                Datum::Array(function.evaluate(&values)?)
            }
        })
    }
}

/// The time the query first ran (`query_time`), as a TIMESTAMP.
fn query_start() -> PhysicalExpr {
    PhysicalExpr::Special {
        op: SpecialOp::QueryStart,
        args: vec![PhysicalExpr::Column {
            index: 0,
            ty: ExprType::Sql(SqlType::Timestamp),
        }],
        ty: ExprType::Sql(SqlType::Timestamp),
    }
}

/// The date or the time of day of the time the query first ran.
fn cast_query_start(to: SqlType) -> PhysicalExpr {
    PhysicalExpr::Special {
        op: SpecialOp::Cast {
            from: SqlType::Timestamp,
            to,
        },
        args: vec![query_start()],
        ty: ExprType::Sql(to),
    }
}

fn special(op: SpecialOp, args: &[ArrayRef]) -> Result<ArrayRef, EvalError> {
    let arg = |index: usize| -> Result<&ArrayRef, EvalError> {
        args.get(index)
            .ok_or_else(|| EvalError(format!("{op:?} is missing an argument")))
    };
    Ok(match op {
        SpecialOp::Cast { from, to } => functions::cast(arg(0)?, from, to)?,
        SpecialOp::Extract { unit, from } => functions::extract(unit, arg(0)?, from)?,
        SpecialOp::ExtractInterval { unit, kind } => {
            functions::extract_interval(unit, kind, arg(0)?)?
        }
        SpecialOp::Substring => functions::substring(arg(0)?, arg(1)?, args.get(2))?,
        SpecialOp::Position => functions::position(arg(0)?, arg(1)?)?,
        SpecialOp::Trim { side } => functions::trim(side, args.get(1), arg(0)?)?,
        SpecialOp::Overlay => functions::overlay(arg(0)?, arg(1)?, arg(2)?, args.get(3))?,
        SpecialOp::Like { negated } => {
            let matched = functions::like(arg(0)?, arg(1)?, args.get(2))?;
            if negated {
                Arc::new(boolean::not(matched.as_boolean())?)
            } else {
                matched
            }
        }
        SpecialOp::QueryStart => {
            let rowtimes = arg(0)?;
            match super::query_time::query_start() {
                Some(started) => Arc::new(arrow::array::TimestampMillisecondArray::from_value(
                    started,
                    rowtimes.len(),
                )),
                None => Arc::clone(rowtimes),
            }
        }
    })
}

/// A value that is either one per row, or one for every row.
enum Datum {
    Array(ArrayRef),
    Scalar(ArrayRef),
}

impl Datum {
    fn is_scalar(&self) -> bool {
        matches!(self, Datum::Scalar(_))
    }

    fn as_datum(&self) -> Box<dyn arrow::array::Datum + '_> {
        match self {
            Datum::Array(array) => Box::new(array),
            Datum::Scalar(value) => Box::new(Scalar::new(value)),
        }
    }

    fn map(self, f: impl Fn(ArrayRef) -> Result<ArrayRef, EvalError>) -> Result<Datum, EvalError> {
        Ok(match self {
            Datum::Array(array) => Datum::Array(f(array)?),
            Datum::Scalar(value) => Datum::Scalar(f(value)?),
        })
    }
}

/// A one-row array repeated `rows` times.
fn repeat(value: &ArrayRef, rows: usize) -> Result<ArrayRef, EvalError> {
    if value.data_type() == &DataType::Null {
        return Ok(new_null_array(&DataType::Null, rows));
    }
    let indices = UInt32Array::from(vec![0u32; rows]);
    Ok(arrow::compute::take(value, &indices, None)?)
}

fn boolean_array(array: &ArrayRef) -> Result<BooleanArray, EvalError> {
    match array.data_type() {
        DataType::Boolean => Ok(array.as_boolean().clone()),
        DataType::Null => Ok(BooleanArray::new_null(array.len())),
        other => Err(EvalError(format!("expected BOOLEAN values, found {other}"))),
    }
}

/// Datetime values as milliseconds (or days, for a DATE) in an Int64 array.
fn as_millis(array: &ArrayRef) -> Result<arrow::array::Int64Array, EvalError> {
    let array = arrow::compute::cast(array, &DataType::Int64)?;
    Ok(array.as_primitive::<Int64Type>().clone())
}

fn arithmetic(op: Arithmetic, left: &Datum, right: &Datum) -> Result<ArrayRef, EvalError> {
    let (l, r) = (left.as_datum(), right.as_datum());
    let result = match op {
        Arithmetic::Add => numeric::add(&*l, &*r),
        Arithmetic::Subtract => numeric::sub(&*l, &*r),
        Arithmetic::Multiply => numeric::mul(&*l, &*r),
        Arithmetic::Divide => numeric::div(&*l, &*r),
        Arithmetic::Modulo => numeric::rem(&*l, &*r),
    };
    result.map_err(|err| match err {
        arrow::error::ArrowError::DivideByZero => EvalError("division by zero".into()),
        arrow::error::ArrowError::ArithmeticOverflow(_) => {
            EvalError("numeric overflow in arithmetic".into())
        }
        other => other.into(),
    })
}

/// Checks an arithmetic result against its SQL type: integer ranges, and DECIMAL precision.
fn fit(result: ArrayRef, ty: ExprType) -> Result<ArrayRef, EvalError> {
    let Some(sql_type) = ty.sql() else {
        return Ok(result);
    };
    if let Some((min, max)) = sql_type.integer_range() {
        if sql_type != SqlType::BigInt {
            let values = result.as_primitive::<Int64Type>();
            if values
                .iter()
                .flatten()
                .any(|value| value < min || value > max)
            {
                return Err(EvalError(format!(
                    "numeric overflow: {sql_type} out of range"
                )));
            }
        }
        return Ok(result);
    }
    if let SqlType::Decimal { .. } = sql_type {
        let to = ty.arrow_type();
        if result.data_type() != &to {
            let options = arrow::compute::CastOptions {
                safe: false,
                ..Default::default()
            };
            return arrow::compute::cast_with_options(&result, &to, &options)
                .map_err(|_| EvalError(format!("numeric overflow: {sql_type} out of range")));
        }
    }
    Ok(result)
}

fn shift_time(
    time: &ArrayRef,
    millis: &ArrayRef,
    subtract: bool,
    ty: ExprType,
) -> Result<ArrayRef, EvalError> {
    let times = as_millis(time)?;
    let millis = millis.as_primitive::<Int64Type>();
    let sign = if subtract { -1 } else { 1 };
    let shifted: Int64Array = match ty {
        ExprType::Sql(SqlType::Date) => {
            arrow::compute::binary(&times, millis, |days: i64, ms: i64| {
                days + sign * ms.div_euclid(86_400_000)
            })?
        }
        ExprType::Sql(SqlType::Time) => {
            arrow::compute::binary(&times, millis, |time: i64, ms: i64| {
                (time + sign * ms).rem_euclid(86_400_000)
            })?
        }
        _ => arrow::compute::binary(&times, millis, |time: i64, ms: i64| {
            time.wrapping_add(sign * ms)
        })?,
    };
    let shifted: ArrayRef = Arc::new(shifted);
    // Int64 to Date32 and Time32 casts check the range.
    Ok(arrow::compute::cast(&shifted, &ty.arrow_type())?)
}

/// The start of the `unit` after the one starting at `start`.
pub fn next_boundary(start: i64, unit: TimeUnit) -> Option<i64> {
    let months = match unit {
        TimeUnit::Year => 12,
        TimeUnit::Quarter => 3,
        TimeUnit::Month => 1,
        TimeUnit::Week => return start.checked_add(7 * 86_400_000),
        _ => return start.checked_add(types::unit_millis(unit)?),
    };
    let (year, month, _) = crate::input::datetime::civil_from_days(start.div_euclid(86_400_000));
    let index = year * 12 + (month - 1) + months;
    let days = crate::input::datetime::days_from_civil(index.div_euclid(12), index % 12 + 1, 1);
    days.checked_mul(86_400_000)
}

// ---------------------------------------------------------------------------------------------
// Compilation

/// Compiles `expr` in `scope`.
pub fn compile(expr: &Expr, scope: &mut dyn Scope) -> Result<PhysicalExpr, PlanError> {
    if let Some(compiled) = scope.intercept(expr)? {
        return Ok(compiled);
    }
    let pos = position_of(expr);
    Ok(match expr {
        Expr::Identifier(ident) => column(std::slice::from_ref(ident), scope)?,
        Expr::CompoundIdentifier(parts) => column(parts, scope)?,
        Expr::Literal(literal) => {
            let (value, ty) =
                types::literal(literal).map_err(|message| plan_error(pos, message))?;
            PhysicalExpr::Literal { value, ty }
        }
        Expr::TypedString { data_type, value } => {
            let (value, ty) = types::typed_string(*data_type, value)
                .map_err(|message| plan_error(pos, message))?;
            PhysicalExpr::Literal { value, ty }
        }
        Expr::Interval { value, qualifier } => {
            let (amount, ty) =
                types::interval(value, qualifier).map_err(|message| plan_error(pos, message))?;
            PhysicalExpr::Literal {
                value: Arc::new(Int64Array::from(vec![amount])),
                ty,
            }
        }
        Expr::Unary { op, expr } => {
            let inner = compile(expr, scope)?;
            match op {
                UnaryOperator::Plus => inner,
                UnaryOperator::Minus => match inner.ty() {
                    ty @ (ExprType::DayTimeInterval | ExprType::YearMonthInterval) => {
                        PhysicalExpr::Negate {
                            expr: Box::new(inner),
                            ty,
                        }
                    }
                    ty @ ExprType::Sql(sql_type) if sql_type.is_numeric() => PhysicalExpr::Negate {
                        expr: Box::new(inner),
                        ty,
                    },
                    ty => return Err(plan_error(pos, format!("cannot negate a {ty} value"))),
                },
                UnaryOperator::Not => PhysicalExpr::Not(Box::new(boolean(inner, pos, "NOT")?)),
            }
        }
        Expr::Binary { left, op, right } => {
            let left = compile(left, scope)?;
            let right = compile(right, scope)?;
            binary(left, *op, right, pos)?
        }
        Expr::Is {
            expr,
            negated,
            test,
        } => {
            let inner = compile(expr, scope)?;
            match test {
                IsTest::Null | IsTest::Unknown => PhysicalExpr::IsNull {
                    expr: Box::new(inner),
                    negated: *negated,
                },
                IsTest::True | IsTest::False => PhysicalExpr::IsBoolean {
                    expr: Box::new(boolean(inner, pos, "IS TRUE")?),
                    value: *test == IsTest::True,
                    negated: *negated,
                },
            }
        }
        Expr::IsDistinctFrom {
            left,
            negated,
            right,
        } => {
            let left = compile(left, scope)?;
            let right = compile(right, scope)?;
            let (left, right) = coerce_pair(left, right, pos, "IS DISTINCT FROM")?;
            PhysicalExpr::NotDistinct {
                left: Box::new(left),
                right: Box::new(right),
                negated: *negated,
            }
        }
        Expr::Between {
            expr,
            negated,
            low,
            high,
        } => {
            let value = compile(expr, scope)?;
            let low = compile(low, scope)?;
            let high = compile(high, scope)?;
            let above = binary(value.clone(), BinaryOperator::GtEq, low, pos)?;
            let below = binary(value, BinaryOperator::LtEq, high, pos)?;
            let between = PhysicalExpr::And(Box::new(above), Box::new(below));
            if *negated {
                PhysicalExpr::Not(Box::new(between))
            } else {
                between
            }
        }
        Expr::InList {
            expr,
            negated,
            list,
        } => {
            let value = compile(expr, scope)?;
            let mut any: Option<PhysicalExpr> = None;
            for item in list {
                let item = compile(item, scope)?;
                let equal = binary(value.clone(), BinaryOperator::Eq, item, pos)?;
                any = Some(match any {
                    None => equal,
                    Some(previous) => PhysicalExpr::Or(Box::new(previous), Box::new(equal)),
                });
            }
            let any = any.ok_or_else(|| plan_error(pos, "IN needs at least one value"))?;
            if *negated {
                PhysicalExpr::Not(Box::new(any))
            } else {
                any
            }
        }
        Expr::Case {
            operand,
            branches,
            else_result,
        } => {
            let operand = operand
                .as_ref()
                .map(|operand| compile(operand, scope))
                .transpose()?;
            let mut conditions = Vec::with_capacity(branches.len());
            let mut values = Vec::with_capacity(branches.len() + 1);
            for (when, then) in branches {
                let when = compile(when, scope)?;
                let condition = match &operand {
                    Some(operand) => binary(operand.clone(), BinaryOperator::Eq, when, pos)?,
                    None => boolean(when, pos, "WHEN")?,
                };
                conditions.push(condition);
                values.push(compile(then, scope)?);
            }
            let otherwise = else_result
                .as_ref()
                .map(|otherwise| compile(otherwise, scope))
                .transpose()?;
            let mut all: Vec<&PhysicalExpr> = values.iter().collect();
            all.extend(otherwise.iter());
            let ty = common_of(&all, pos, "CASE")?;
            let values = values
                .into_iter()
                .map(|value| coerce(value, ty))
                .collect::<Vec<_>>();
            PhysicalExpr::Case {
                branches: conditions.into_iter().zip(values).collect(),
                otherwise: otherwise.map(|otherwise| Box::new(coerce(otherwise, ty))),
                ty,
            }
        }
        Expr::Step { expr, step, .. } => {
            let time = compile(expr, scope)?;
            if time.ty() != ExprType::Sql(SqlType::Timestamp) {
                return Err(plan_error(pos, "STEP needs a TIMESTAMP to step"));
            }
            let width = constant_interval(step, pos)?;
            PhysicalExpr::Step {
                expr: Box::new(time),
                width,
            }
        }
        Expr::FloorCeil {
            ceil, expr, unit, ..
        } => {
            let time = compile(expr, scope)?;
            if !matches!(
                time.ty(),
                ExprType::Sql(SqlType::Timestamp | SqlType::Date | SqlType::Time)
            ) {
                return Err(plan_error(
                    pos,
                    format!("FLOOR and CEIL TO {unit:?} need a TIMESTAMP, DATE or TIME"),
                ));
            }
            PhysicalExpr::RoundTime {
                expr: Box::new(time),
                unit: *unit,
                ceil: *ceil,
            }
        }
        Expr::IntervalOf { expr, .. } => match &**expr {
            Expr::Binary {
                left,
                op: BinaryOperator::Minus,
                right,
            } => {
                let left = compile(left, scope)?;
                let right = compile(right, scope)?;
                let datetime = |ty: ExprType| {
                    matches!(
                        ty,
                        ExprType::Sql(SqlType::Timestamp | SqlType::Date | SqlType::Time)
                    )
                };
                if !datetime(left.ty()) || left.ty() != right.ty() {
                    return Err(plan_error(
                        pos,
                        format!(
                            "an interval between {} and {} values cannot be taken",
                            left.ty(),
                            right.ty()
                        ),
                    ));
                }
                PhysicalExpr::TimeDifference {
                    left: Box::new(left),
                    right: Box::new(right),
                }
            }
            _ => {
                return Err(plan_error(
                    pos,
                    "an interval qualifier follows the difference of two datetimes: (a - b) SECOND",
                ));
            }
        },
        Expr::Niladic { name, .. } => match name.as_str() {
            // The time the row entered its stream, which is when it is output.
            "CURRENT_ROW_TIMESTAMP" => PhysicalExpr::Column {
                index: 0,
                ty: ExprType::Sql(SqlType::Timestamp),
            },
            // The reference: "set to values at the time the query first executes".
            "CURRENT_TIMESTAMP" | "LOCALTIMESTAMP" => query_start(),
            "CURRENT_DATE" => cast_query_start(SqlType::Date),
            "CURRENT_TIME" | "LOCALTIME" => cast_query_start(SqlType::Time),
            other => {
                return Err(plan_error(pos, format!("{other} is not supported yet")));
            }
        },
        Expr::Function(call) => {
            let name = call
                .name
                .0
                .last()
                .map(|ident| ident.name.clone())
                .unwrap_or_default();
            if let Some(argument) = super::aggregate_call::monotonic_argument(expr) {
                return compile(argument, scope);
            }
            if aggregate_name(&name) {
                return Err(plan_error(
                    call.pos,
                    format!(
                        "{name} is an aggregate: it needs a GROUP BY with a window, or an OVER clause"
                    ),
                ));
            }
            if call.over.is_some() {
                return Err(plan_error(
                    call.pos,
                    format!("{name} OVER a window is not supported yet"),
                ));
            }
            let args = plain_args(&call.args)
                .ok_or_else(|| plan_error(call.pos, format!("{name} takes plain arguments")))?;
            let mut compiled = Vec::with_capacity(args.len());
            for arg in args {
                compiled.push(compile(arg, scope)?);
            }
            // An untyped NULL takes the type of the call's first typed argument.
            let fallback = compiled
                .iter()
                .find_map(|arg| arg.ty().sql())
                .unwrap_or(SqlType::Varchar(1));
            let mut types = Vec::with_capacity(compiled.len());
            let mut args = Vec::with_capacity(compiled.len());
            for arg in compiled {
                let sql_type = match arg.ty() {
                    ExprType::Sql(sql_type) => sql_type,
                    ExprType::Null => fallback,
                    other => {
                        return Err(plan_error(
                            call.pos,
                            format!("{name} cannot take a {other} argument"),
                        ));
                    }
                };
                types.push(sql_type);
                args.push(coerce(arg, ExprType::Sql(sql_type)));
            }
            if super::prepared::is_prepared(&name) {
                return super::prepared::call(&name, args, &types, call.pos);
            }
            let function = functions::resolve(&name, &types)
                .map_err(|err| plan_error(call.pos, err.to_string()))?;
            PhysicalExpr::Call { function, args }
        }
        Expr::Cast {
            pos,
            expr,
            data_type,
        } => {
            let to =
                types::declared_type(*data_type).map_err(|message| plan_error(*pos, message))?;
            let value = compile(expr, scope)?;
            cast_to(value, to).map_err(|message| plan_error(*pos, message))?
        }
        Expr::Extract { pos, field, expr } => {
            let value = compile(expr, scope)?;
            if matches!(
                value.ty(),
                ExprType::DayTimeInterval | ExprType::YearMonthInterval
            ) {
                return extract_interval(*pos, *field, value);
            }
            let from = value.ty().sql().ok_or_else(|| {
                plan_error(
                    *pos,
                    format!("EXTRACT needs a datetime, not {}", value.ty()),
                )
            })?;
            if !matches!(from, SqlType::Timestamp | SqlType::Date | SqlType::Time) {
                return Err(plan_error(
                    *pos,
                    format!("EXTRACT needs a datetime, not {from}"),
                ));
            }
            PhysicalExpr::Special {
                op: SpecialOp::Extract { unit: *field, from },
                args: vec![value],
                ty: ExprType::Sql(functions::extract_type(*field)),
            }
        }
        Expr::Substring {
            pos,
            expr,
            from,
            length,
        } => {
            let text = character(compile(expr, scope)?, *pos, "SUBSTRING")?;
            let ty = ExprType::Sql(functions::substring_type(
                text.ty().sql().unwrap_or(SqlType::Varchar(1)),
            ));
            let mut args = vec![text, integer(compile(from, scope)?, *pos, "SUBSTRING")?];
            if let Some(length) = length {
                args.push(integer(compile(length, scope)?, *pos, "SUBSTRING")?);
            }
            PhysicalExpr::Special {
                op: SpecialOp::Substring,
                args,
                ty,
            }
        }
        Expr::Position {
            pos,
            needle,
            haystack,
        } => PhysicalExpr::Special {
            op: SpecialOp::Position,
            args: vec![
                character(compile(needle, scope)?, *pos, "POSITION")?,
                character(compile(haystack, scope)?, *pos, "POSITION")?,
            ],
            ty: ExprType::Sql(SqlType::Integer),
        },
        Expr::Trim {
            pos,
            side,
            characters,
            expr,
        } => {
            let text = character(compile(expr, scope)?, *pos, "TRIM")?;
            let ty = ExprType::Sql(functions::trim_type(
                text.ty().sql().unwrap_or(SqlType::Varchar(1)),
            ));
            let mut args = vec![text];
            if let Some(characters) = characters {
                args.push(character(compile(characters, scope)?, *pos, "TRIM")?);
            }
            PhysicalExpr::Special {
                op: SpecialOp::Trim {
                    side: side.unwrap_or(TrimSide::Both),
                },
                args,
                ty,
            }
        }
        Expr::Overlay {
            pos,
            expr,
            placing,
            from,
            length,
        } => {
            let text = character(compile(expr, scope)?, *pos, "OVERLAY")?;
            let placing = character(compile(placing, scope)?, *pos, "OVERLAY")?;
            let ty = ExprType::Sql(functions::overlay_type(
                text.ty().sql().unwrap_or(SqlType::Varchar(1)),
                placing.ty().sql().unwrap_or(SqlType::Varchar(1)),
            ));
            let mut args = vec![
                text,
                placing,
                integer(compile(from, scope)?, *pos, "OVERLAY")?,
            ];
            if let Some(length) = length {
                args.push(integer(compile(length, scope)?, *pos, "OVERLAY")?);
            }
            PhysicalExpr::Special {
                op: SpecialOp::Overlay,
                args,
                ty,
            }
        }
        Expr::Like {
            expr,
            negated,
            pattern,
            escape,
        } => {
            let mut args = vec![
                character(compile(expr, scope)?, pos, "LIKE")?,
                character(compile(pattern, scope)?, pos, "LIKE")?,
            ];
            if let Some(escape) = escape {
                args.push(character(compile(escape, scope)?, pos, "LIKE")?);
            }
            PhysicalExpr::Special {
                op: SpecialOp::Like { negated: *negated },
                args,
                ty: ExprType::Sql(SqlType::Boolean),
            }
        }
        Expr::SimilarTo {
            expr,
            negated,
            pattern,
            escape,
        } => {
            let text = character(compile(expr, scope)?, pos, "SIMILAR TO")?;
            let pattern = character(compile(pattern, scope)?, pos, "SIMILAR TO")?;
            let escape = escape
                .as_ref()
                .map(|escape| character(compile(escape, scope)?, pos, "SIMILAR TO"))
                .transpose()?;
            super::prepared::similar_to(text, pattern, escape, *negated, pos)?
        }
        Expr::InSubquery { .. }
        | Expr::Subquery(_)
        | Expr::Exists(_)
        | Expr::Cursor(_)
        | Expr::TableRef(_)
        | Expr::Descriptor(_) => {
            return Err(plan_error(
                pos,
                format!("{} is not allowed here", kind_name(expr)),
            ));
        }
    })
}

/// Whether `name` is an aggregate function.
pub fn aggregate_name(name: &str) -> bool {
    super::aggregate_call::is_aggregate(name)
}

fn kind_name(expr: &Expr) -> &'static str {
    match expr {
        Expr::Cast { .. } => "CAST",
        Expr::Extract { .. } => "EXTRACT",
        Expr::Position { .. } => "POSITION",
        Expr::Substring { .. } => "SUBSTRING",
        Expr::Trim { .. } => "TRIM",
        Expr::Overlay { .. } => "OVERLAY",
        Expr::Like { .. } => "LIKE",
        Expr::SimilarTo { .. } => "SIMILAR TO",
        Expr::InSubquery { .. } => "IN (subquery)",
        Expr::Subquery(_) => "a subquery",
        Expr::Exists(_) => "EXISTS",
        Expr::Cursor(_) => "CURSOR",
        Expr::TableRef(_) => "TABLE",
        Expr::Descriptor(_) => "DESCRIPTOR",
        _ => "this expression",
    }
}

/// Where an expression starts, as near as the syntax tree tells.
pub fn position_of(expr: &Expr) -> Position {
    match expr {
        Expr::Identifier(ident) => ident.pos,
        Expr::CompoundIdentifier(parts) => parts.first().map(|ident| ident.pos).unwrap_or_default(),
        Expr::Function(call) => call.pos,
        Expr::Cast { pos, .. }
        | Expr::Extract { pos, .. }
        | Expr::Position { pos, .. }
        | Expr::Substring { pos, .. }
        | Expr::Trim { pos, .. }
        | Expr::Overlay { pos, .. }
        | Expr::FloorCeil { pos, .. }
        | Expr::Step { pos, .. }
        | Expr::Niladic { pos, .. } => *pos,
        Expr::Unary { expr, .. }
        | Expr::Is { expr, .. }
        | Expr::Between { expr, .. }
        | Expr::InList { expr, .. }
        | Expr::InSubquery { expr, .. }
        | Expr::Like { expr, .. }
        | Expr::SimilarTo { expr, .. }
        | Expr::IntervalOf { expr, .. } => position_of(expr),
        Expr::Binary { left, .. } | Expr::IsDistinctFrom { left, .. } => position_of(left),
        Expr::Case {
            operand, branches, ..
        } => operand
            .as_deref()
            .or(branches.first().map(|(when, _)| when))
            .map(position_of)
            .unwrap_or_default(),
        _ => Position::default(),
    }
}

/// `CAST(value AS to)`, checked: the conversions SQL allows, NULL to anything.
pub fn cast_to(value: PhysicalExpr, to: SqlType) -> Result<PhysicalExpr, String> {
    let ty = ExprType::Sql(to);
    match value.ty() {
        ExprType::Null => Ok(coerce(value, ty)),
        ExprType::Sql(from) if from == to => Ok(coerce(value, ty)),
        ExprType::Sql(from) if functions::can_cast(from, to) => Ok(PhysicalExpr::Special {
            op: SpecialOp::Cast { from, to },
            args: vec![value],
            ty,
        }),
        other => Err(format!("cannot cast a {other} value to {to}")),
    }
}

/// `expr` as a character string (a NULL typed as one), or an error naming `context`.
fn character(expr: PhysicalExpr, pos: Position, context: &str) -> Result<PhysicalExpr, PlanError> {
    match expr.ty() {
        ExprType::Sql(sql_type) if sql_type.is_character() => Ok(expr),
        ExprType::Null => Ok(coerce(expr, ExprType::Sql(SqlType::Varchar(1)))),
        other => Err(plan_error(
            pos,
            format!("{context} needs character strings, found {other}"),
        )),
    }
}

/// `expr` as an integer (a NULL typed as one), or an error naming `context`.
fn integer(expr: PhysicalExpr, pos: Position, context: &str) -> Result<PhysicalExpr, PlanError> {
    match expr.ty() {
        ExprType::Sql(sql_type) if sql_type.integer_range().is_some() => Ok(expr),
        ExprType::Null => Ok(coerce(expr, ExprType::Sql(SqlType::Integer))),
        other => Err(plan_error(
            pos,
            format!("{context} needs an integer, found {other}"),
        )),
    }
}

fn column(name: &[Ident], scope: &mut dyn Scope) -> Result<PhysicalExpr, PlanError> {
    let (index, ty) = scope.resolve(name)?;
    Ok(PhysicalExpr::Column { index, ty })
}

/// The milliseconds of a constant day-time interval (a `STEP` width, a window's range).
pub fn constant_interval(expr: &Expr, pos: Position) -> Result<i64, PlanError> {
    let Expr::Interval { value, qualifier } = expr else {
        return Err(plan_error(pos, "expected an INTERVAL literal"));
    };
    match types::interval(value, qualifier).map_err(|message| plan_error(pos, message))? {
        (millis, ExprType::DayTimeInterval) if millis > 0 => Ok(millis),
        (_, ExprType::DayTimeInterval) => Err(plan_error(pos, "the interval must be positive")),
        _ => Err(plan_error(
            pos,
            "a window's interval is a day-time interval (DAY to SECOND)",
        )),
    }
}

fn boolean(expr: PhysicalExpr, pos: Position, context: &str) -> Result<PhysicalExpr, PlanError> {
    match expr.ty() {
        ExprType::Sql(SqlType::Boolean) => Ok(expr),
        ExprType::Null => Ok(coerce(expr, ExprType::Sql(SqlType::Boolean))),
        ty => Err(plan_error(
            pos,
            format!("{context} needs a BOOLEAN, found {ty}"),
        )),
    }
}

fn integer_rank(sql_type: SqlType) -> Option<u8> {
    Some(match sql_type {
        SqlType::TinyInt => 1,
        SqlType::SmallInt => 2,
        SqlType::Integer => 3,
        SqlType::BigInt => 4,
        _ => return None,
    })
}

/// The type two numbers combine to.
fn numeric_result(left: SqlType, right: SqlType) -> Option<SqlType> {
    if !left.is_numeric() || !right.is_numeric() {
        return None;
    }
    if matches!(left, SqlType::Real | SqlType::Double)
        || matches!(right, SqlType::Real | SqlType::Double)
    {
        return Some(SqlType::Double);
    }
    match (left, right) {
        (
            SqlType::Decimal {
                precision: p1,
                scale: s1,
            },
            SqlType::Decimal {
                precision: p2,
                scale: s2,
            },
        ) => {
            let scale = s1.max(s2);
            let whole = (p1 - s1).max(p2 - s2);
            Some(SqlType::Decimal {
                precision: (whole + scale).min(19),
                scale,
            })
        }
        (SqlType::Decimal { precision, scale }, _) | (_, SqlType::Decimal { precision, scale }) => {
            Some(SqlType::Decimal {
                precision: (precision - scale + 19).min(19).max(precision),
                scale,
            })
        }
        _ => {
            let rank_left = integer_rank(left)?;
            let rank_right = integer_rank(right)?;
            Some(if rank_left >= rank_right { left } else { right })
        }
    }
}

/// The type values of both types can be compared or chosen as.
fn common_type(left: ExprType, right: ExprType) -> Option<ExprType> {
    match (left, right) {
        (ExprType::Row, _) | (_, ExprType::Row) => None,
        (ExprType::Null, other) | (other, ExprType::Null) => Some(other),
        (ExprType::Sql(a), ExprType::Sql(b)) => {
            if a == b {
                return Some(left);
            }
            if let Some(numeric) = numeric_result(a, b) {
                return Some(ExprType::Sql(numeric));
            }
            match (a, b) {
                (
                    SqlType::Char(x) | SqlType::Varchar(x),
                    SqlType::Char(y) | SqlType::Varchar(y),
                ) => Some(ExprType::Sql(SqlType::Varchar(x.max(y)))),
                (
                    SqlType::Binary(x) | SqlType::Varbinary(x),
                    SqlType::Binary(y) | SqlType::Varbinary(y),
                ) => Some(ExprType::Sql(SqlType::Varbinary(x.max(y)))),
                _ => None,
            }
        }
        (a, b) if a == b => Some(a),
        _ => None,
    }
}

fn common_of(exprs: &[&PhysicalExpr], pos: Position, context: &str) -> Result<ExprType, PlanError> {
    let mut ty = ExprType::Null;
    for expr in exprs {
        ty = common_type(ty, expr.ty()).ok_or_else(|| {
            plan_error(
                pos,
                format!("{context} mixes {ty} and {} values", expr.ty()),
            )
        })?;
    }
    Ok(ty)
}

/// `expr` in the physical form of `ty` (a no-op when it already is).
pub fn coerce(expr: PhysicalExpr, ty: ExprType) -> PhysicalExpr {
    let from = expr.ty();
    if from == ty || from.arrow_type() == ty.arrow_type() {
        return match expr {
            PhysicalExpr::Literal { value, .. } => PhysicalExpr::Literal { value, ty },
            PhysicalExpr::Column { index, .. } => PhysicalExpr::Column { index, ty },
            other => other,
        };
    }
    PhysicalExpr::Coerce {
        expr: Box::new(expr),
        ty,
    }
}

fn coerce_pair(
    left: PhysicalExpr,
    right: PhysicalExpr,
    pos: Position,
    context: &str,
) -> Result<(PhysicalExpr, PhysicalExpr), PlanError> {
    let ty = common_type(left.ty(), right.ty()).ok_or_else(|| {
        plan_error(
            pos,
            format!(
                "{context} cannot combine {} and {} values",
                left.ty(),
                right.ty()
            ),
        )
    })?;
    // Decimals of different scales compare and add in one scale.
    let ty = match ty {
        ExprType::Null => ExprType::Sql(SqlType::Boolean),
        other => other,
    };
    Ok((coerce(left, ty), coerce(right, ty)))
}

fn binary(
    left: PhysicalExpr,
    op: BinaryOperator,
    right: PhysicalExpr,
    pos: Position,
) -> Result<PhysicalExpr, PlanError> {
    let symbol = op.symbol();
    Ok(match op {
        BinaryOperator::And => PhysicalExpr::And(
            Box::new(boolean(left, pos, "AND")?),
            Box::new(boolean(right, pos, "AND")?),
        ),
        BinaryOperator::Or => PhysicalExpr::Or(
            Box::new(boolean(left, pos, "OR")?),
            Box::new(boolean(right, pos, "OR")?),
        ),
        BinaryOperator::Eq
        | BinaryOperator::NotEq
        | BinaryOperator::Lt
        | BinaryOperator::LtEq
        | BinaryOperator::Gt
        | BinaryOperator::GtEq => {
            let (left, right) = coerce_pair(left, right, pos, symbol)?;
            let op = match op {
                BinaryOperator::Eq => Comparison::Eq,
                BinaryOperator::NotEq => Comparison::NotEq,
                BinaryOperator::Lt => Comparison::Lt,
                BinaryOperator::LtEq => Comparison::LtEq,
                BinaryOperator::Gt => Comparison::Gt,
                _ => Comparison::GtEq,
            };
            PhysicalExpr::Compare {
                op,
                left: Box::new(left),
                right: Box::new(right),
            }
        }
        BinaryOperator::Concat => {
            let length = |ty: ExprType| match ty {
                ExprType::Sql(SqlType::Char(n) | SqlType::Varchar(n)) => Some(n),
                ExprType::Null => Some(0),
                _ => None,
            };
            let (Some(l), Some(r)) = (length(left.ty()), length(right.ty())) else {
                return Err(plan_error(
                    pos,
                    format!(
                        "|| joins character strings, not {} and {}",
                        left.ty(),
                        right.ty()
                    ),
                ));
            };
            let ty = ExprType::Sql(SqlType::Varchar(
                (l + r).clamp(1, crate::input::types::MAX_LENGTH),
            ));
            PhysicalExpr::Concat {
                left: Box::new(coerce(left, ty)),
                right: Box::new(coerce(right, ty)),
                ty,
            }
        }
        BinaryOperator::Plus
        | BinaryOperator::Minus
        | BinaryOperator::Multiply
        | BinaryOperator::Divide
        | BinaryOperator::Modulo => arithmetic_expr(left, op, right, pos)?,
    })
}

fn arithmetic_expr(
    left: PhysicalExpr,
    op: BinaryOperator,
    right: PhysicalExpr,
    pos: Position,
) -> Result<PhysicalExpr, PlanError> {
    let arith = match op {
        BinaryOperator::Plus => Arithmetic::Add,
        BinaryOperator::Minus => Arithmetic::Subtract,
        BinaryOperator::Multiply => Arithmetic::Multiply,
        BinaryOperator::Divide => Arithmetic::Divide,
        _ => Arithmetic::Modulo,
    };
    let datetime = |ty: ExprType| {
        matches!(
            ty,
            ExprType::Sql(SqlType::Timestamp | SqlType::Date | SqlType::Time)
        )
    };
    let mismatch = || {
        plan_error(
            pos,
            format!(
                "{} cannot combine {} and {} values",
                op.symbol(),
                left.ty(),
                right.ty()
            ),
        )
    };
    match (left.ty(), right.ty()) {
        (ExprType::Null, _) | (_, ExprType::Null) => {
            let ty = common_type(left.ty(), right.ty()).ok_or_else(mismatch)?;
            Ok(PhysicalExpr::Literal {
                value: new_null_array(&ty.arrow_type(), 1),
                ty,
            })
        }
        (time, ExprType::DayTimeInterval)
            if datetime(time) && matches!(arith, Arithmetic::Add | Arithmetic::Subtract) =>
        {
            Ok(PhysicalExpr::ShiftTime {
                time: Box::new(left),
                millis: Box::new(right),
                subtract: arith == Arithmetic::Subtract,
                ty: time,
            })
        }
        (ExprType::DayTimeInterval, time) if datetime(time) && arith == Arithmetic::Add => {
            Ok(PhysicalExpr::ShiftTime {
                time: Box::new(right),
                millis: Box::new(left),
                subtract: false,
                ty: time,
            })
        }
        (ExprType::DayTimeInterval, ExprType::DayTimeInterval)
        | (ExprType::YearMonthInterval, ExprType::YearMonthInterval)
            if matches!(arith, Arithmetic::Add | Arithmetic::Subtract) =>
        {
            let ty = left.ty();
            Ok(PhysicalExpr::Arithmetic {
                op: arith,
                left: Box::new(left),
                right: Box::new(right),
                ty,
            })
        }
        (
            interval @ (ExprType::DayTimeInterval | ExprType::YearMonthInterval),
            ExprType::Sql(n),
        ) if integer_rank(n).is_some()
            && matches!(arith, Arithmetic::Multiply | Arithmetic::Divide) =>
        {
            Ok(PhysicalExpr::Arithmetic {
                op: arith,
                left: Box::new(left),
                right: Box::new(right),
                ty: interval,
            })
        }
        (ExprType::Sql(a), ExprType::Sql(b)) => {
            let result = numeric_result(a, b).ok_or_else(mismatch)?;
            if arith == Arithmetic::Modulo && integer_rank(result).is_none() {
                return Err(plan_error(pos, "% needs integers"));
            }
            // Decimals keep their own scales; arrow's decimal arithmetic works out the result's.
            let operand = |ty: SqlType| match (result, ty) {
                (SqlType::Decimal { .. }, SqlType::Decimal { .. }) => ExprType::Sql(ty),
                (SqlType::Decimal { .. }, _) => ExprType::Sql(SqlType::Decimal {
                    precision: 19,
                    scale: 0,
                }),
                _ => ExprType::Sql(result),
            };
            let (left_ty, right_ty) = (operand(a), operand(b));
            let result = match (arith, result) {
                // Unverified: a DECIMAL quotient keeps the larger scale plus 6 digits, up to 19
                // digits in all.
                (Arithmetic::Divide, SqlType::Decimal { precision, scale }) => {
                    let scale = (scale + 6).min(precision);
                    SqlType::Decimal { precision, scale }
                }
                (Arithmetic::Multiply, SqlType::Decimal { .. }) => {
                    let scale_of = |ty: SqlType| match ty {
                        SqlType::Decimal { scale, .. } => scale,
                        _ => 0,
                    };
                    let scale = (scale_of(a) + scale_of(b)).min(19);
                    SqlType::Decimal {
                        precision: 19,
                        scale,
                    }
                }
                _ => result,
            };
            Ok(PhysicalExpr::Arithmetic {
                op: arith,
                left: Box::new(coerce(left, left_ty)),
                right: Box::new(coerce(right, right_ty)),
                ty: ExprType::Sql(result),
            })
        }
        _ => Err(mismatch()),
    }
}

/// Two expressions compared for equality on different batches (a join's keys), converted to
/// one type; `None` when they cannot be compared.
pub fn equality_sides(
    left: PhysicalExpr,
    right: PhysicalExpr,
) -> Option<(PhysicalExpr, PhysicalExpr)> {
    coerce_pair(left, right, Position::default(), "=").ok()
}

/// The arguments of a function call that are plain expressions.
pub fn plain_args(args: &[FunctionArg]) -> Option<Vec<&Expr>> {
    args.iter()
        .map(|arg| match arg {
            FunctionArg::Expr(expr) => Some(expr),
            _ => None,
        })
        .collect()
}

/// `EXTRACT(unit FROM interval)` of a day-time or year-month interval `value`.
fn extract_interval(
    pos: Position,
    unit: TimeUnit,
    value: PhysicalExpr,
) -> Result<PhysicalExpr, PlanError> {
    let kind = if value.ty() == ExprType::YearMonthInterval {
        functions::IntervalKind::YearMonth
    } else {
        functions::IntervalKind::DayTime
    };
    functions::check_interval_field(unit, kind).map_err(|message| plan_error(pos, message))?;
    Ok(PhysicalExpr::Special {
        op: SpecialOp::ExtractInterval { unit, kind },
        args: vec![value],
        ty: ExprType::Sql(functions::extract_type(unit)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::schema::{Column, rows_to_batch, stream_schema, value_at};
    use crate::input::Value;
    use crate::sql::ast::{Query, QueryBody, SelectItem, Statement};

    /// Columns A INTEGER, B DOUBLE, S VARCHAR(8), T TIMESTAMP, N DECIMAL(10,2).
    struct TestScope(Vec<Column>);

    impl Scope for TestScope {
        fn resolve(&self, name: &[Ident]) -> Result<(usize, ExprType), PlanError> {
            let last = name.last().expect("a name has parts");
            if last.name == "ROWTIME" {
                return Ok((0, ExprType::Sql(SqlType::Timestamp)));
            }
            self.0
                .iter()
                .position(|column| column.name == last.name)
                .map(|index| (index + 1, ExprType::Sql(self.0[index].sql_type)))
                .ok_or_else(|| plan_error(last.pos, format!("no column {}", last.name)))
        }
    }

    fn columns() -> Vec<Column> {
        vec![
            Column::new("A", SqlType::Integer),
            Column::new("B", SqlType::Double),
            Column::new("S", SqlType::Varchar(8)),
            Column::new("T", SqlType::Timestamp),
            Column::new(
                "N",
                SqlType::Decimal {
                    precision: 10,
                    scale: 2,
                },
            ),
        ]
    }

    fn batch() -> RecordBatch {
        let columns = columns();
        let rows = vec![
            vec![
                Value::Integer(7),
                Value::Double(1.5),
                Value::Varchar("ab".into()),
                Value::Timestamp(65_500),
                Value::Decimal {
                    unscaled: 250,
                    scale: 2,
                },
            ],
            vec![
                Value::Null,
                Value::Double(-2.0),
                Value::Varchar("xyz".into()),
                Value::Timestamp(3_600_000),
                Value::Null,
            ],
        ];
        rows_to_batch(&stream_schema(&columns), &columns, &[1_000, 2_000], &rows).expect("rows fit")
    }

    fn parse_expr(sql: &str) -> Expr {
        let code = format!("SELECT STREAM {sql} FROM S;");
        let statements = crate::sql::parse_application_code(&code).expect("parses");
        let Some(Statement::Query(query)) = statements.into_iter().next() else {
            panic!("a query");
        };
        let Query {
            body: QueryBody::Select(select),
            ..
        } = *query
        else {
            panic!("a select");
        };
        match select.projection.into_iter().next() {
            Some(SelectItem::Expr { expr, .. }) => expr,
            other => panic!("an expression, found {other:?}"),
        }
    }

    fn eval(sql: &str) -> (ExprType, Vec<Value>) {
        let expr = parse_expr(sql);
        let compiled = compile(&expr, &mut TestScope(columns())).expect("compiles");
        let ty = compiled.ty();
        let array = compiled.evaluate(&batch()).expect("evaluates");
        let sql_type = ty.sql().unwrap_or(SqlType::BigInt);
        let values = (0..array.len())
            .map(|row| {
                if ty == ExprType::Null {
                    Value::Null
                } else {
                    value_at(&array, sql_type, row)
                }
            })
            .collect();
        (ty, values)
    }

    #[test]
    fn arithmetic_follows_sql_types_and_nulls() {
        assert_eq!(
            eval("A + 1"),
            (
                ExprType::Sql(SqlType::Integer),
                vec![Value::Integer(8), Value::Null]
            )
        );
        assert_eq!(
            eval("A * B"),
            (
                ExprType::Sql(SqlType::Double),
                vec![Value::Double(10.5), Value::Null]
            )
        );
        assert_eq!(eval("A / 2").1, vec![Value::Integer(3), Value::Null]);
        let (ty, values) = eval("N + 1");
        assert_eq!(
            ty,
            ExprType::Sql(SqlType::Decimal {
                precision: 19,
                scale: 2
            })
        );
        assert_eq!(
            values[0],
            Value::Decimal {
                unscaled: 350,
                scale: 2
            }
        );
    }

    #[test]
    fn comparisons_and_logic_are_three_valued() {
        assert_eq!(
            eval("A > 5 AND B < 0").1,
            vec![Value::Boolean(false), Value::Null]
        );
        assert_eq!(
            eval("A > 5 OR B < 0").1,
            vec![Value::Boolean(true), Value::Boolean(true)]
        );
        assert_eq!(
            eval("A IS NULL").1,
            vec![Value::Boolean(false), Value::Boolean(true)]
        );
        assert_eq!(
            eval("A BETWEEN 1 AND 7").1,
            vec![Value::Boolean(true), Value::Null]
        );
        assert_eq!(
            eval("S IN ('ab', 'cd')").1,
            vec![Value::Boolean(true), Value::Boolean(false)]
        );
        assert_eq!(
            eval("A IS NOT DISTINCT FROM NULL").1,
            vec![Value::Boolean(false), Value::Boolean(true)]
        );
    }

    #[test]
    fn case_concat_and_time_expressions() {
        assert_eq!(
            eval("CASE WHEN A > 5 THEN 'big' ELSE 'other' END").1,
            vec![Value::Varchar("big".into()), Value::Varchar("other".into())]
        );
        // A condition without NULLs (Arrow then has no null buffer for it).
        assert_eq!(
            eval("CASE WHEN B > 0 THEN 1 ELSE 0 END").1,
            vec![Value::Integer(1), Value::Integer(0)]
        );
        assert_eq!(
            eval("S || '!'").1,
            vec![Value::Varchar("ab!".into()), Value::Varchar("xyz!".into())]
        );
        assert_eq!(
            eval("STEP(T BY INTERVAL '30' SECOND)").1,
            vec![Value::Timestamp(60_000), Value::Timestamp(3_600_000)]
        );
        assert_eq!(
            eval("FLOOR(T TO MINUTE)").1,
            vec![Value::Timestamp(60_000), Value::Timestamp(3_600_000)]
        );
        assert_eq!(
            eval("T + INTERVAL '1' SECOND").1,
            vec![Value::Timestamp(66_500), Value::Timestamp(3_601_000)]
        );
        assert_eq!(
            eval("ROWTIME").1,
            vec![Value::Timestamp(1_000), Value::Timestamp(2_000)]
        );
    }

    #[test]
    fn errors_name_the_problem_and_its_place() {
        let expr = parse_expr("A + S");
        let err = compile(&expr, &mut TestScope(columns())).expect_err("mismatch");
        assert!(
            err.message
                .contains("cannot combine INTEGER and VARCHAR(8)"),
            "{err}"
        );
        let expr = parse_expr("NOPE");
        let err = compile(&expr, &mut TestScope(columns())).expect_err("unknown");
        assert_eq!((err.line, err.column), (1, 15));
        let expr = parse_expr("A / 0");
        let compiled = compile(&expr, &mut TestScope(columns())).expect("compiles");
        assert_eq!(
            compiled.evaluate(&batch()).expect_err("divides by zero"),
            EvalError("division by zero".into())
        );
    }

    #[test]
    fn windows_end_at_the_next_calendar_boundary() {
        // A window of the month starting 2024-02-01 ends on 2024-03-01.
        let start = crate::input::datetime::parse_timestamp("2024-02-01 00:00:00").expect("valid");
        let end = next_boundary(start, TimeUnit::Month).expect("in range");
        assert_eq!(
            crate::input::datetime::format_timestamp(end),
            "2024-03-01 00:00:00.000"
        );
        assert_eq!(next_boundary(0, TimeUnit::Minute), Some(60_000));
    }

    #[test]
    fn functions_and_special_syntax_compile_and_run() {
        assert_eq!(
            eval("UPPER(S) || CAST(A AS VARCHAR(4))").1,
            vec![Value::Varchar("AB7".into()), Value::Null]
        );
        assert_eq!(
            eval("SUBSTRING(S FROM 2 FOR 1)").1,
            vec![Value::Varchar("b".into()), Value::Varchar("y".into())]
        );
        assert_eq!(
            eval("S LIKE 'x%'").1,
            vec![Value::Boolean(false), Value::Boolean(true)]
        );
        assert_eq!(
            eval("EXTRACT(MINUTE FROM T)").1,
            vec![Value::Integer(1), Value::Integer(0)]
        );
        assert_eq!(
            eval("COALESCE(A, 0)").1,
            vec![Value::Integer(7), Value::Integer(0)]
        );
        let err =
            compile(&parse_expr("NOPE_FN(A)"), &mut TestScope(columns())).expect_err("unknown");
        assert!(
            err.message
                .contains("No match found for function signature NOPE_FN"),
            "{err}"
        );
    }
}
