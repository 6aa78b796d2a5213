//! The accumulators of a tumbling window's aggregates: one [`Accumulator`] per aggregate
//! keeps a slot per group (counts, sums, extremes, picked values, moments, distinct values),
//! takes a batch's rows group by group, and gives one value per group when the window closes.
//! Accumulators are plain data, so that they are written out with the engine's snapshot.

use std::collections::HashSet;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Decimal128Array, Float64Array, Int64Array, StringArray,
};
use arrow::datatypes::{
    DataType, Date32Type, Decimal128Type, Float64Type, Int64Type, Time32MillisecondType,
    TimestampMillisecondType,
};
use serde::{Deserialize, Serialize};

use super::aggregate::{Aggregate, AggregateFunction};
use super::expr::EvalError;
use super::expr::PhysicalExpr;
use super::held::{Held, holder, to_array};
use super::types::ExprType;
use crate::input::SqlType;

/// Accumulators of one aggregate, one slot per group.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Accumulator {
    Count(Vec<i64>),
    /// The distinct values of each group, as text (values of one type: equal text, equal value).
    Distinct(Vec<std::collections::HashSet<String>>),
    SumInteger {
        sums: Vec<i64>,
        counts: Vec<i64>,
    },
    SumFloat {
        sums: Vec<f64>,
        counts: Vec<i64>,
    },
    SumDecimal {
        sums: Vec<i128>,
        counts: Vec<i64>,
    },
    /// MIN/MAX of values held as integers (integers, decimals, datetimes, booleans).
    ExtremeInteger {
        values: Vec<Option<i128>>,
        max: bool,
    },
    ExtremeFloat {
        values: Vec<Option<f64>>,
        max: bool,
    },
    ExtremeText {
        values: Vec<Option<String>>,
        max: bool,
    },
    /// FIRST_VALUE (`last` false) or LAST_VALUE of each group, and whether a row was picked.
    Picked {
        values: Vec<Held>,
        picked: Vec<bool>,
        last: bool,
        ignore_nulls: bool,
    },
    /// The variances and standard deviations: each group's count, mean and sum of squared
    /// deviations from the mean, updated row by row (Welford's method, which does not lose
    /// the precision that `SUM(x*x) - SUM(x)*SUM(x)/COUNT(x)` loses on large values).
    Moments {
        counts: Vec<i64>,
        means: Vec<f64>,
        squares: Vec<f64>,
    },
    /// `SUM(DISTINCT x)` and the like: the values each group has seen (as text, as in
    /// `Distinct`); only a group's first row of each value reaches `inner`.
    DistinctOf {
        seen: Vec<HashSet<String>>,
        inner: Box<Accumulator>,
    },
}

impl Accumulator {
    pub fn new(aggregate: &Aggregate) -> Accumulator {
        let plain = Accumulator::new_plain(aggregate);
        if aggregate.distinct && aggregate.function != AggregateFunction::CountDistinct {
            return Accumulator::DistinctOf {
                seen: Vec::new(),
                inner: Box::new(plain),
            };
        }
        plain
    }

    fn new_plain(aggregate: &Aggregate) -> Accumulator {
        let argument_type = aggregate.argument.as_ref().map(PhysicalExpr::ty);
        match aggregate.function {
            AggregateFunction::CountRows | AggregateFunction::Count => {
                Accumulator::Count(Vec::new())
            }
            AggregateFunction::CountDistinct => Accumulator::Distinct(Vec::new()),
            AggregateFunction::Sum | AggregateFunction::Avg => match aggregate.ty {
                ExprType::Sql(SqlType::Real | SqlType::Double) => Accumulator::SumFloat {
                    sums: Vec::new(),
                    counts: Vec::new(),
                },
                ExprType::Sql(SqlType::Decimal { .. }) => Accumulator::SumDecimal {
                    sums: Vec::new(),
                    counts: Vec::new(),
                },
                _ => Accumulator::SumInteger {
                    sums: Vec::new(),
                    counts: Vec::new(),
                },
            },
            AggregateFunction::Min | AggregateFunction::Max => {
                let max = aggregate.function == AggregateFunction::Max;
                match argument_type {
                    Some(ExprType::Sql(SqlType::Real | SqlType::Double)) => {
                        Accumulator::ExtremeFloat {
                            values: Vec::new(),
                            max,
                        }
                    }
                    Some(ExprType::Sql(SqlType::Char(_) | SqlType::Varchar(_))) => {
                        Accumulator::ExtremeText {
                            values: Vec::new(),
                            max,
                        }
                    }
                    _ => Accumulator::ExtremeInteger {
                        values: Vec::new(),
                        max,
                    },
                }
            }
            // LAG, NTH_VALUE and EXP_AVG never reach a tumbling window: the planner refuses
            // them without OVER (`AggregateFunction::needs_over`). They are given the nearest
            // accumulators only so that this match stays exhaustive without a wildcard.
            AggregateFunction::FirstValue
            | AggregateFunction::LastValue
            | AggregateFunction::Lag { .. }
            | AggregateFunction::NthValue { .. } => Accumulator::Picked {
                values: Vec::new(),
                picked: Vec::new(),
                last: aggregate.function != AggregateFunction::FirstValue,
                ignore_nulls: aggregate.ignore_nulls,
            },
            AggregateFunction::VarPop
            | AggregateFunction::VarSamp
            | AggregateFunction::StddevPop
            | AggregateFunction::StddevSamp
            | AggregateFunction::ExpAvg { .. } => Accumulator::Moments {
                counts: Vec::new(),
                means: Vec::new(),
                squares: Vec::new(),
            },
        }
    }

    /// Makes room for groups up to `groups`.
    pub fn grow(&mut self, groups: usize) {
        match self {
            Accumulator::Count(counts) => counts.resize(groups, 0),
            Accumulator::Distinct(sets) => sets.resize_with(groups, Default::default),
            Accumulator::SumInteger { sums, counts } => {
                sums.resize(groups, 0);
                counts.resize(groups, 0);
            }
            Accumulator::SumFloat { sums, counts } => {
                sums.resize(groups, 0.0);
                counts.resize(groups, 0);
            }
            Accumulator::SumDecimal { sums, counts } => {
                sums.resize(groups, 0);
                counts.resize(groups, 0);
            }
            Accumulator::ExtremeInteger { values, .. } => values.resize(groups, None),
            Accumulator::ExtremeFloat { values, .. } => values.resize(groups, None),
            Accumulator::ExtremeText { values, .. } => values.resize(groups, None),
            Accumulator::Picked { values, picked, .. } => {
                values.resize(groups, Held::Null);
                picked.resize(groups, false);
            }
            Accumulator::Moments {
                counts,
                means,
                squares,
            } => {
                counts.resize(groups, 0);
                means.resize(groups, 0.0);
                squares.resize(groups, 0.0);
            }
            Accumulator::DistinctOf { seen, inner } => {
                seen.resize_with(groups, Default::default);
                inner.grow(groups);
            }
        }
    }

    /// Adds the rows of `argument` (None: `COUNT(*)`) to their groups.
    pub fn update(
        &mut self,
        groups: &[u32],
        argument: Option<&ArrayRef>,
        rows: &[u32],
    ) -> Result<(), EvalError> {
        let Some(argument) = argument else {
            if let Accumulator::Count(counts) = self {
                for &row in rows {
                    counts[groups[row as usize] as usize] += 1;
                }
            }
            return Ok(());
        };
        let valid = |row: u32| argument.is_valid(row as usize);
        match self {
            Accumulator::Distinct(sets) => {
                let formatter = arrow::util::display::ArrayFormatter::try_new(
                    argument.as_ref(),
                    &Default::default(),
                )?;
                for &row in rows {
                    if valid(row) {
                        sets[groups[row as usize] as usize]
                            .insert(formatter.value(row as usize).to_string());
                    }
                }
            }
            Accumulator::Count(counts) => {
                for &row in rows {
                    if valid(row) {
                        counts[groups[row as usize] as usize] += 1;
                    }
                }
            }
            Accumulator::SumInteger { sums, counts } => {
                let values = argument.as_primitive::<Int64Type>().values();
                for &row in rows {
                    if valid(row) {
                        let group = groups[row as usize] as usize;
                        sums[group] = sums[group]
                            .checked_add(values[row as usize])
                            .ok_or_else(|| EvalError("numeric overflow in SUM".into()))?;
                        counts[group] += 1;
                    }
                }
            }
            Accumulator::SumFloat { sums, counts } => {
                let values = argument.as_primitive::<Float64Type>().values();
                for &row in rows {
                    if valid(row) {
                        let group = groups[row as usize] as usize;
                        sums[group] += values[row as usize];
                        counts[group] += 1;
                    }
                }
            }
            Accumulator::SumDecimal { sums, counts } => {
                let values = argument.as_primitive::<Decimal128Type>().values();
                for &row in rows {
                    if valid(row) {
                        let group = groups[row as usize] as usize;
                        sums[group] = sums[group]
                            .checked_add(values[row as usize])
                            .ok_or_else(|| EvalError("numeric overflow in SUM".into()))?;
                        counts[group] += 1;
                    }
                }
            }
            Accumulator::ExtremeInteger { values, max } => {
                let numbers = i128_reader(argument)?;
                for &row in rows {
                    if let Some(value) = numbers(row as usize) {
                        let slot = &mut values[groups[row as usize] as usize];
                        if better(&value, slot.as_ref(), *max) {
                            *slot = Some(value);
                        }
                    }
                }
            }
            Accumulator::ExtremeFloat { values, max } => {
                let numbers = argument.as_primitive::<Float64Type>();
                for &row in rows {
                    if valid(row) {
                        let value = numbers.value(row as usize);
                        let slot = &mut values[groups[row as usize] as usize];
                        if better(&value, slot.as_ref(), *max) {
                            *slot = Some(value);
                        }
                    }
                }
            }
            Accumulator::ExtremeText { values, max } => {
                let texts = argument.as_string::<i32>();
                for &row in rows {
                    if valid(row) {
                        let value = texts.value(row as usize);
                        let slot = &mut values[groups[row as usize] as usize];
                        if better(value, slot.as_deref(), *max) {
                            *slot = Some(value.to_string());
                        }
                    }
                }
            }
            Accumulator::Picked {
                values,
                picked,
                last,
                ignore_nulls,
            } => {
                let read = holder(Some(argument))?;
                for &row in rows {
                    let value = read(row as usize);
                    let group = groups[row as usize] as usize;
                    if (*ignore_nulls && value == Held::Null) || (picked[group] && !*last) {
                        continue;
                    }
                    values[group] = value;
                    picked[group] = true;
                }
            }
            Accumulator::Moments {
                counts,
                means,
                squares,
            } => {
                let numbers = arrow::compute::cast(argument, &DataType::Float64)?;
                let numbers = numbers.as_primitive::<Float64Type>();
                for &row in rows {
                    if numbers.is_valid(row as usize) {
                        let value = numbers.value(row as usize);
                        let group = groups[row as usize] as usize;
                        counts[group] += 1;
                        let delta = value - means[group];
                        means[group] += delta / counts[group] as f64;
                        squares[group] += delta * (value - means[group]);
                    }
                }
            }
            Accumulator::DistinctOf { seen, inner } => {
                let formatter = arrow::util::display::ArrayFormatter::try_new(
                    argument.as_ref(),
                    &Default::default(),
                )?;
                let mut first_of_value = Vec::with_capacity(rows.len());
                for &row in rows {
                    if valid(row)
                        && seen[groups[row as usize] as usize]
                            .insert(formatter.value(row as usize).to_string())
                    {
                        first_of_value.push(row);
                    }
                }
                inner.update(groups, Some(argument), &first_of_value)?;
            }
        }
        Ok(())
    }

    /// The aggregate's values, one per group.
    pub fn finish(&self, aggregate: &Aggregate) -> Result<ArrayRef, EvalError> {
        let average = aggregate.function == AggregateFunction::Avg;
        let ty = aggregate.ty;
        Ok(match self {
            Accumulator::Count(counts) => Arc::new(Int64Array::from(counts.clone())),
            Accumulator::Distinct(sets) => Arc::new(Int64Array::from(
                sets.iter().map(|set| set.len() as i64).collect::<Vec<_>>(),
            )),
            Accumulator::SumInteger { sums, counts } => {
                let range = ty.sql().and_then(SqlType::integer_range);
                let values = sums
                    .iter()
                    .zip(counts)
                    .map(|(&sum, &count)| {
                        if count == 0 {
                            return Ok(None);
                        }
                        let value = if average { sum / count } else { sum };
                        match range {
                            Some((min, max)) if value < min || value > max => Err(EvalError(
                                format!("numeric overflow: the SUM is out of range for {ty}"),
                            )),
                            _ => Ok(Some(value)),
                        }
                    })
                    .collect::<Result<Int64Array, EvalError>>()?;
                Arc::new(values)
            }
            Accumulator::SumFloat { sums, counts } => Arc::new(
                sums.iter()
                    .zip(counts)
                    .map(|(&sum, &count)| {
                        (count > 0).then(|| if average { sum / count as f64 } else { sum })
                    })
                    .collect::<Float64Array>(),
            ),
            Accumulator::SumDecimal { sums, counts } => {
                let values = sums
                    .iter()
                    .zip(counts)
                    .map(|(&sum, &count)| {
                        (count > 0).then(|| {
                            if average {
                                sum / i128::from(count)
                            } else {
                                sum
                            }
                        })
                    })
                    .collect::<Decimal128Array>();
                let DataType::Decimal128(precision, scale) = ty.arrow_type() else {
                    return Err(EvalError("a decimal sum without a decimal type".into()));
                };
                let values = values.with_precision_and_scale(precision, scale)?;
                values.validate_decimal_precision(precision).map_err(|_| {
                    EvalError(format!("numeric overflow: SUM out of range for {ty}"))
                })?;
                Arc::new(values)
            }
            Accumulator::ExtremeInteger { values, .. } => from_i128(values, ty)?,
            Accumulator::ExtremeFloat { values, .. } => {
                Arc::new(values.iter().copied().collect::<Float64Array>())
            }
            Accumulator::ExtremeText { values, .. } => Arc::new(
                values
                    .iter()
                    .map(|value| value.as_deref())
                    .collect::<StringArray>(),
            ),
            Accumulator::Picked { values, .. } => to_array(ty, values.clone())?,
            Accumulator::Moments {
                counts, squares, ..
            } => Arc::new(
                counts
                    .iter()
                    .zip(squares)
                    .map(|(&count, &squares)| statistic(aggregate.function, count, squares))
                    .collect::<Float64Array>(),
            ),
            Accumulator::DistinctOf { inner, .. } => inner.finish(aggregate)?,
        })
    }
}

/// A variance or standard deviation of `count` values whose squared deviations from their
/// mean add up to `squares`. As the reference says, with no values each is NULL, and with
/// one value VAR_SAMP (and so STDDEV_SAMP) is NULL too; VAR_POP and STDDEV_POP are 0.
pub(crate) fn statistic(function: AggregateFunction, count: i64, squares: f64) -> Option<f64> {
    // Rounding can leave a sum of squares of equal values a hair below zero.
    let squares = squares.max(0.0);
    match function {
        AggregateFunction::VarPop if count > 0 => Some(squares / count as f64),
        AggregateFunction::StddevPop if count > 0 => Some((squares / count as f64).sqrt()),
        AggregateFunction::VarSamp if count > 1 => Some(squares / (count - 1) as f64),
        AggregateFunction::StddevSamp if count > 1 => Some((squares / (count - 1) as f64).sqrt()),
        _ => None,
    }
}

/// Whether `value` should replace `current` as the MAX (`max`) or MIN so far.
pub(crate) fn better<T: PartialOrd + ?Sized>(value: &T, current: Option<&T>, max: bool) -> bool {
    match current {
        None => true,
        Some(current) if max => value > current,
        Some(current) => value < current,
    }
}

/// A reader of the values of an array of an integer-like type as i128 (None for NULL).
pub(crate) fn i128_reader(
    array: &ArrayRef,
) -> Result<Box<dyn Fn(usize) -> Option<i128> + '_>, EvalError> {
    let valid = move |row: usize| array.is_valid(row);
    Ok(match array.data_type() {
        DataType::Int64 => {
            let values = array.as_primitive::<Int64Type>();
            Box::new(move |row| valid(row).then(|| i128::from(values.value(row))))
        }
        DataType::Decimal128(..) => {
            let values = array.as_primitive::<Decimal128Type>();
            Box::new(move |row| valid(row).then(|| values.value(row)))
        }
        DataType::Timestamp(..) => {
            let values = array.as_primitive::<TimestampMillisecondType>();
            Box::new(move |row| valid(row).then(|| i128::from(values.value(row))))
        }
        DataType::Date32 => {
            let values = array.as_primitive::<Date32Type>();
            Box::new(move |row| valid(row).then(|| i128::from(values.value(row))))
        }
        DataType::Time32(_) => {
            let values = array.as_primitive::<Time32MillisecondType>();
            Box::new(move |row| valid(row).then(|| i128::from(values.value(row))))
        }
        DataType::Boolean => {
            let values = array.as_boolean();
            Box::new(move |row| valid(row).then(|| i128::from(values.value(row))))
        }
        other => {
            return Err(EvalError(format!(
                "MIN and MAX of {other} are not supported"
            )));
        }
    })
}

pub(crate) fn from_i128(values: &[Option<i128>], ty: ExprType) -> Result<ArrayRef, EvalError> {
    let narrow = |value: i128| i64::try_from(value).unwrap_or_default();
    Ok(match ty.arrow_type() {
        DataType::Decimal128(precision, scale) => Arc::new(
            values
                .iter()
                .copied()
                .collect::<Decimal128Array>()
                .with_precision_and_scale(precision, scale)?,
        ),
        DataType::Boolean => Arc::new(
            values
                .iter()
                .map(|value| value.map(|value| value != 0))
                .collect::<BooleanArray>(),
        ),
        to => {
            let numbers: ArrayRef = Arc::new(
                values
                    .iter()
                    .map(|value| value.map(narrow))
                    .collect::<Int64Array>(),
            );
            arrow::compute::cast(&numbers, &to)?
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aggregate(function: AggregateFunction, ty: SqlType) -> Aggregate {
        let argument = PhysicalExpr::Column {
            index: 1,
            ty: ExprType::Sql(ty),
        };
        Aggregate::new(function, Some(argument)).expect("valid aggregate")
    }

    /// Runs `values` (all in group 0, then all in group 1) through a fresh accumulator,
    /// in two batches, through a serialized copy between them as a snapshot does.
    fn run(aggregate: &Aggregate, first: ArrayRef, second: ArrayRef) -> ArrayRef {
        let mut accumulator = Accumulator::new(aggregate);
        accumulator.grow(2);
        let groups = vec![0u32; first.len()];
        let rows: Vec<u32> = (0..first.len() as u32).collect();
        accumulator
            .update(&groups, Some(&first), &rows)
            .expect("first batch");
        let stored = serde_json::to_vec(&accumulator).expect("serializes");
        let mut accumulator: Accumulator = serde_json::from_slice(&stored).expect("deserializes");
        let groups = vec![0u32; second.len()];
        let rows: Vec<u32> = (0..second.len() as u32).collect();
        accumulator
            .update(&groups, Some(&second), &rows)
            .expect("second batch");
        accumulator.finish(aggregate).expect("finishes")
    }

    fn integers(values: &[Option<i64>]) -> ArrayRef {
        Arc::new(Int64Array::from(values.to_vec()))
    }

    #[test]
    fn distinct_sums_count_a_value_seen_before_a_snapshot_once() {
        let sum = Aggregate {
            distinct: true,
            ..aggregate(AggregateFunction::Sum, SqlType::BigInt)
        };
        let result = run(
            &sum,
            integers(&[Some(2), Some(2), None]),
            integers(&[Some(2), Some(5)]),
        );
        let result = result.as_primitive::<Int64Type>();
        assert_eq!(result.value(0), 7);
        assert!(result.is_null(1), "a group without rows has no sum");
    }

    #[test]
    fn picked_values_respect_or_ignore_nulls() {
        let first = aggregate(AggregateFunction::FirstValue, SqlType::BigInt);
        let first_non_null = Aggregate {
            ignore_nulls: true,
            ..first.clone()
        };
        let last = aggregate(AggregateFunction::LastValue, SqlType::BigInt);
        let batches = || (integers(&[None, Some(3)]), integers(&[Some(4), None]));
        let (a, b) = batches();
        assert!(run(&first, a, b).is_null(0));
        let (a, b) = batches();
        assert_eq!(
            run(&first_non_null, a, b)
                .as_primitive::<Int64Type>()
                .value(0),
            3
        );
        let (a, b) = batches();
        assert!(run(&last, a, b).is_null(0));
    }

    #[test]
    fn moments_keep_their_precision_on_large_values() {
        // SUM(x*x) - SUM(x)^2/n loses these digits in f64; the running method does not.
        let var = aggregate(AggregateFunction::VarSamp, SqlType::BigInt);
        let base = 1_000_000_000;
        let result = run(
            &var,
            integers(&[Some(base + 4), Some(base + 7)]),
            integers(&[Some(base + 13), Some(base + 16)]),
        );
        assert_eq!(result.as_primitive::<Float64Type>().value(0), 30.0);
    }
}
