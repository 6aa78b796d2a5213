//! Aggregates computed from the rows of a sliding window at once: the window's held values
//! (with their ROWTIMEs, oldest first) in, the aggregate's value out. Sliding windows use this
//! for what running sums cannot give: DISTINCT, MIN and MAX, the row-picking functions
//! (FIRST_VALUE, LAST_VALUE, NTH_VALUE, LAG), the variances and EXP_AVG.

use std::collections::HashSet;

use super::accumulator::{better, statistic};
use super::aggregate::{Aggregate, AggregateFunction};
use super::held::Held;
use super::types::ExprType;
use crate::input::SqlType;

/// The value of `aggregate` over `rows` (ROWTIME and argument, oldest first; the current row
/// last), at time `now`. LAG is [`lag`]'s.
pub fn fold(aggregate: &Aggregate, now: i64, rows: &[(i64, &Held)]) -> Held {
    let distinct;
    let rows = if aggregate.distinct {
        distinct = first_of_each_value(rows);
        distinct.as_slice()
    } else {
        rows
    };
    let values = || rows.iter().map(|(_, value)| *value);
    let non_null = || values().filter(|value| **value != Held::Null);
    let scale = decimal_scale(aggregate);
    match aggregate.function {
        AggregateFunction::CountRows => Held::Integer(rows.len() as i128),
        AggregateFunction::Count => Held::Integer(non_null().count() as i128),
        AggregateFunction::CountDistinct => Held::Integer(
            first_of_each_value(rows)
                .iter()
                .filter(|(_, value)| **value != Held::Null)
                .count() as i128,
        ),
        AggregateFunction::Sum | AggregateFunction::Avg => {
            sum_or_average(aggregate.function == AggregateFunction::Avg, non_null())
        }
        AggregateFunction::Min => extreme(non_null(), false),
        AggregateFunction::Max => extreme(non_null(), true),
        AggregateFunction::FirstValue => nth(rows, 1, false, aggregate.ignore_nulls),
        AggregateFunction::LastValue => nth(rows, 1, true, aggregate.ignore_nulls),
        AggregateFunction::NthValue { n, from_last } => {
            nth(rows, n, from_last, aggregate.ignore_nulls)
        }
        AggregateFunction::Lag { offset } => {
            lag(rows, offset, aggregate.ignore_nulls).unwrap_or(Held::Null)
        }
        AggregateFunction::VarPop
        | AggregateFunction::VarSamp
        | AggregateFunction::StddevPop
        | AggregateFunction::StddevSamp => {
            let numbers: Vec<f64> = non_null()
                .filter_map(|value| number(value, scale))
                .collect();
            let count = numbers.len();
            let mean = numbers.iter().sum::<f64>() / count.max(1) as f64;
            let squares = numbers.iter().map(|x| (x - mean) * (x - mean)).sum();
            statistic(aggregate.function, count as i64, squares).map_or(Held::Null, Held::Float)
        }
        AggregateFunction::ExpAvg { half_life } => exp_avg(rows, now, half_life, scale),
    }
}

/// LAG's value: the row `offset` rows before the current (last) row of `rows`, or with
/// IGNORE NULLS the `offset`-th non-NULL value before it; None when the window holds no such
/// row: the reference's LAG gives its default for a record that "falls outside the window".
pub fn lag(rows: &[(i64, &Held)], offset: u64, ignore_nulls: bool) -> Option<Held> {
    let (current, earlier) = rows.split_last()?;
    if offset == 0 {
        return Some(current.1.clone());
    }
    let offset = usize::try_from(offset).ok()?;
    let mut earlier = earlier.iter().rev().map(|(_, value)| *value);
    if ignore_nulls {
        earlier
            .filter(|value| **value != Held::Null)
            .nth(offset - 1)
            .cloned()
    } else {
        earlier.nth(offset - 1).cloned()
    }
}

/// The `n`-th value from the first (or last) row, NULLs skipped with IGNORE NULLS; NULL when
/// the window has fewer rows.
pub fn nth(rows: &[(i64, &Held)], n: u64, from_last: bool, ignore_nulls: bool) -> Held {
    let Some(index) = usize::try_from(n).ok().and_then(|n| n.checked_sub(1)) else {
        return Held::Null;
    };
    let candidates: Box<dyn Iterator<Item = &&Held>> = if from_last {
        Box::new(rows.iter().rev().map(|(_, value)| value))
    } else {
        Box::new(rows.iter().map(|(_, value)| value))
    };
    let found = if ignore_nulls {
        candidates.filter(|value| ***value != Held::Null).nth(index)
    } else {
        candidates.into_iter().nth(index)
    };
    found.map_or(Held::Null, |value| (*value).clone())
}

/// The rows whose value was not seen in an earlier row.
fn first_of_each_value<'a>(rows: &[(i64, &'a Held)]) -> Vec<(i64, &'a Held)> {
    let mut seen = HashSet::new();
    rows.iter()
        .filter(|(_, value)| seen.insert(format!("{value:?}")))
        .copied()
        .collect()
}

fn sum_or_average<'a>(average: bool, values: impl Iterator<Item = &'a Held>) -> Held {
    let mut count: i64 = 0;
    let mut integer: i128 = 0;
    let mut float: f64 = 0.0;
    let mut is_float = false;
    for value in values {
        match value {
            Held::Integer(number) => integer = integer.saturating_add(*number),
            Held::Float(number) => {
                float += number;
                is_float = true;
            }
            _ => continue,
        }
        count += 1;
    }
    match (count, is_float, average) {
        (0, _, _) => Held::Null,
        (_, true, false) => Held::Float(float),
        (_, true, true) => Held::Float(float / count as f64),
        (_, false, false) => Held::Integer(integer),
        (_, false, true) => Held::Integer(integer / i128::from(count)),
    }
}

fn extreme<'a>(values: impl Iterator<Item = &'a Held>, max: bool) -> Held {
    let mut best = Held::Null;
    for value in values {
        let replaces = match (&best, value) {
            (Held::Null, _) => true,
            (Held::Integer(a), Held::Integer(b)) => better(b, Some(a), max),
            (Held::Float(a), Held::Float(b)) => better(b, Some(a), max),
            (Held::Text(a), Held::Text(b)) => better(b, Some(a), max),
            _ => false,
        };
        if replaces {
            best = value.clone();
        }
    }
    best
}

/// EXP_AVG: the average of the window's non-NULL values, each weighted by one half to the
/// power of how many whole half-lives old it is (the reference: the window is divided into
/// intervals of the half-life, and values of one interval weigh twice those of the one before).
/// Unverified: the weight halves in steps per interval rather than continuously.
fn exp_avg(rows: &[(i64, &Held)], now: i64, half_life: i64, scale: i8) -> Held {
    let mut weighted = 0.0;
    let mut weights = 0.0;
    for (rowtime, value) in rows {
        let Some(value) = number(value, scale) else {
            continue;
        };
        let age = now.saturating_sub(*rowtime).max(0) / half_life.max(1);
        let weight = 0.5f64.powi(i32::try_from(age).unwrap_or(i32::MAX));
        weighted += weight * value;
        weights += weight;
    }
    if weights > 0.0 {
        Held::Float(weighted / weights)
    } else {
        Held::Null
    }
}

/// The decimal scale of the aggregate's argument (0 for other types).
fn decimal_scale(aggregate: &Aggregate) -> i8 {
    match aggregate.argument.as_ref().map(|argument| argument.ty()) {
        Some(ExprType::Sql(SqlType::Decimal { scale, .. })) => scale as i8,
        _ => 0,
    }
}

/// A held number as a float (decimals are held unscaled).
fn number(value: &Held, scale: i8) -> Option<f64> {
    match value {
        Held::Integer(number) => Some(*number as f64 / 10f64.powi(i32::from(scale))),
        Held::Float(number) => Some(*number),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::expr::PhysicalExpr;

    fn aggregate(function: AggregateFunction) -> Aggregate {
        let argument = PhysicalExpr::Column {
            index: 1,
            ty: ExprType::Sql(SqlType::Integer),
        };
        Aggregate::new(function, Some(argument)).expect("valid aggregate")
    }

    fn rows(values: &[Held]) -> Vec<(i64, &Held)> {
        values
            .iter()
            .enumerate()
            .map(|(index, value)| (index as i64 * 1000, value))
            .collect()
    }

    #[test]
    fn variances_follow_the_reference_for_one_and_many_values() {
        let one = [Held::Integer(5)];
        let many = [
            Held::Integer(1),
            Held::Null,
            Held::Integer(2),
            Held::Integer(3),
        ];
        let var_samp = aggregate(AggregateFunction::VarSamp);
        let var_pop = aggregate(AggregateFunction::VarPop);
        assert_eq!(fold(&var_samp, 0, &rows(&one)), Held::Null);
        assert_eq!(fold(&var_pop, 0, &rows(&one)), Held::Float(0.0));
        assert_eq!(fold(&var_samp, 0, &rows(&many)), Held::Float(1.0));
        assert_eq!(fold(&var_pop, 0, &rows(&many)), Held::Float(2.0 / 3.0));
        assert_eq!(fold(&var_pop, 0, &[]), Held::Null);
    }

    #[test]
    fn lag_and_nth_value_count_rows_or_non_null_values() {
        let values = [
            Held::Integer(1),
            Held::Null,
            Held::Integer(3),
            Held::Integer(4),
        ];
        let rows = rows(&values);
        assert_eq!(lag(&rows, 1, false), Some(Held::Integer(3)));
        assert_eq!(lag(&rows, 2, false), Some(Held::Null));
        assert_eq!(lag(&rows, 2, true), Some(Held::Integer(1)));
        assert_eq!(lag(&rows, 4, false), None);
        assert_eq!(lag(&rows, 0, false), Some(Held::Integer(4)));
        assert_eq!(nth(&rows, 2, false, false), Held::Null);
        assert_eq!(nth(&rows, 2, false, true), Held::Integer(3));
        assert_eq!(nth(&rows, 2, true, false), Held::Integer(3));
        assert_eq!(nth(&rows, 5, true, false), Held::Null);
    }

    #[test]
    fn exp_avg_halves_the_weight_of_each_older_interval() {
        let values = [Held::Integer(10), Held::Integer(40)];
        // Ages 20s and 10s at now = 20s with a 10s half-life: weights 1/4 and 1/2.
        let rows = vec![(0, &values[0]), (10_000, &values[1])];
        let avg = aggregate(AggregateFunction::ExpAvg { half_life: 10_000 });
        assert_eq!(fold(&avg, 20_000, &rows), Held::Float((2.5 + 20.0) / 0.75));
    }
}
