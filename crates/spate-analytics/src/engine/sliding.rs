//! Sliding windows: aggregates with `OVER`, computed for every row over the rows before it in
//! its partition, within a time range (`RANGE INTERVAL '1' MINUTE PRECEDING`: rows whose ROWTIME
//! is at most that much earlier) or a count (`ROWS 10 PRECEDING`: the row and the ten before
//! it). Each input row gives one output row at once, with its own ROWTIME.
//!
//! Each aggregate keeps, per partition, the rows of its window (their ROWTIME and argument),
//! and running sums and counts; MIN and MAX scan the window. The windows are the operator's
//! state and are written out by [`SlidingState::snapshot`].

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Float64Array, StringArray};
use arrow::datatypes::{DataType, Float64Type, TimestampMillisecondType};
use arrow::record_batch::RecordBatch;
use arrow::row::{RowConverter, SortField};
use serde::{Deserialize, Serialize};

use super::aggregate::{Aggregate, AggregateFunction, better, from_i128, i128_reader};
use super::expr::{EvalError, PhysicalExpr};
use super::types::ExprType;
use crate::input::SqlType;

/// How far back a sliding window reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame {
    /// Rows whose ROWTIME is at most this many milliseconds before the current row's.
    Range(i64),
    /// The current row and this many rows before it.
    Rows(u64),
}

/// One windowed aggregate of a query.
#[derive(Debug, Clone)]
pub struct SlidingAggregate {
    pub aggregate: Aggregate,
    pub partition_by: Vec<PhysicalExpr>,
    pub frame: Frame,
}

/// An argument value as a window keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Held {
    Null,
    Integer(i128),
    Float(f64),
    Text(String),
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Partition {
    rows: VecDeque<(i64, Held)>,
    count: i64,
    sum_integer: i128,
    sum_float: f64,
}

impl Partition {
    fn add(&mut self, rowtime: i64, value: Held) {
        match &value {
            Held::Integer(number) => {
                self.count += 1;
                self.sum_integer += number;
            }
            Held::Float(number) => {
                self.count += 1;
                self.sum_float += number;
            }
            Held::Text(_) => self.count += 1,
            Held::Null => {}
        }
        self.rows.push_back((rowtime, value));
    }

    fn evict(&mut self, frame: Frame, now: i64) {
        loop {
            let expired = match (frame, self.rows.front()) {
                (_, None) => false,
                (Frame::Range(range), Some((rowtime, _))) => *rowtime < now.saturating_sub(range),
                (Frame::Rows(preceding), Some(_)) => self.rows.len() as u64 > preceding + 1,
            };
            if !expired {
                return;
            }
            if let Some((_, value)) = self.rows.pop_front() {
                match value {
                    Held::Integer(number) => {
                        self.count -= 1;
                        self.sum_integer -= number;
                    }
                    Held::Float(number) => {
                        self.count -= 1;
                        self.sum_float -= number;
                    }
                    Held::Text(_) => self.count -= 1,
                    Held::Null => {}
                }
            }
        }
    }

    /// MIN or MAX of the values in the window.
    fn extreme(&self, max: bool) -> Held {
        let mut best = Held::Null;
        for (_, value) in &self.rows {
            let better = match (&best, value) {
                (_, Held::Null) => false,
                (Held::Null, _) => true,
                (Held::Integer(a), Held::Integer(b)) => better(b, Some(a), max),
                (Held::Float(a), Held::Float(b)) => better(b, Some(a), max),
                (Held::Text(a), Held::Text(b)) => better(b, Some(a), max),
                _ => false,
            };
            if better {
                best = value.clone();
            }
        }
        best
    }
}

/// The windows of one aggregate, by partition (keys in Arrow's row format).
#[derive(Debug)]
struct Windows {
    converter: RowConverter,
    partitions: HashMap<Box<[u8]>, Partition>,
}

/// The windows of every sliding aggregate of a pump.
#[derive(Debug)]
pub struct SlidingState {
    aggregates: Arc<Vec<SlidingAggregate>>,
    windows: Vec<Windows>,
}

impl SlidingState {
    pub fn new(aggregates: Arc<Vec<SlidingAggregate>>) -> Result<SlidingState, EvalError> {
        let windows = aggregates
            .iter()
            .map(|sliding| {
                let fields = sliding
                    .partition_by
                    .iter()
                    .map(|key| SortField::new(key.ty().arrow_type()))
                    .collect();
                Ok(Windows {
                    converter: RowConverter::new(fields)?,
                    partitions: HashMap::new(),
                })
            })
            .collect::<Result<Vec<_>, EvalError>>()?;
        Ok(SlidingState {
            aggregates,
            windows,
        })
    }

    /// The value of every aggregate for every row of `batch` (rows in ROWTIME order), each
    /// row counted in its own window.
    pub fn process(&mut self, batch: &RecordBatch) -> Result<Vec<ArrayRef>, EvalError> {
        let rowtimes = batch.column(0).as_primitive::<TimestampMillisecondType>();
        let rows = batch.num_rows();
        let mut results = Vec::with_capacity(self.aggregates.len());
        for (sliding, windows) in self.aggregates.iter().zip(&mut self.windows) {
            let keys = sliding
                .partition_by
                .iter()
                .map(|key| key.evaluate(batch))
                .collect::<Result<Vec<_>, _>>()?;
            let encoded = if keys.is_empty() {
                None
            } else {
                Some(windows.converter.convert_columns(&keys)?)
            };
            let argument = sliding
                .aggregate
                .argument
                .as_ref()
                .map(|argument| argument.evaluate(batch))
                .transpose()?;
            let held = holder(argument.as_ref())?;
            let mut values = Vec::with_capacity(rows);
            for row in 0..rows {
                let key: &[u8] = encoded.as_ref().map_or(&[], |rows| rows.row(row).data());
                let partition = match windows.partitions.get_mut(key) {
                    Some(partition) => partition,
                    None => windows.partitions.entry(key.into()).or_default(),
                };
                let now = rowtimes.value(row);
                partition.add(now, held(row));
                partition.evict(sliding.frame, now);
                values.push(result(&sliding.aggregate, partition)?);
            }
            // Partitions whose windows emptied are dropped (a RANGE window empties with time).
            if windows.partitions.len() > 1024
                && let Frame::Range(range) = sliding.frame
            {
                let now = if rows > 0 {
                    rowtimes.value(rows - 1)
                } else {
                    0
                };
                windows.partitions.retain(|_, partition| {
                    partition
                        .rows
                        .back()
                        .is_some_and(|(rowtime, _)| *rowtime >= now.saturating_sub(range))
                });
            }
            results.push(finish(&sliding.aggregate, values)?);
        }
        Ok(results)
    }

    pub fn snapshot(&self) -> SlidingSnapshot {
        SlidingSnapshot {
            windows: self
                .windows
                .iter()
                .map(|windows| {
                    windows
                        .partitions
                        .iter()
                        .map(|(key, partition)| (key.to_vec(), partition.clone()))
                        .collect()
                })
                .collect(),
        }
    }

    pub fn restore(&mut self, snapshot: SlidingSnapshot) -> Result<(), EvalError> {
        if snapshot.windows.len() != self.windows.len() {
            return Err(EvalError(
                "the stored windows do not match the application's code".into(),
            ));
        }
        for (windows, stored) in self.windows.iter_mut().zip(snapshot.windows) {
            windows.partitions = stored
                .into_iter()
                .map(|(key, partition)| (key.into_boxed_slice(), partition))
                .collect();
        }
        Ok(())
    }
}

/// The stored form of a pump's sliding windows.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SlidingSnapshot {
    windows: Vec<Vec<(Vec<u8>, Partition)>>,
}

type Reader<'a> = Box<dyn Fn(usize) -> Held + 'a>;

/// How to read the argument of each row as a held value (`COUNT(*)` counts every row).
fn holder(argument: Option<&ArrayRef>) -> Result<Reader<'_>, EvalError> {
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

fn result(aggregate: &Aggregate, partition: &Partition) -> Result<Held, EvalError> {
    let float = matches!(aggregate.ty, ExprType::Sql(SqlType::Real | SqlType::Double));
    Ok(match aggregate.function {
        AggregateFunction::CountRows => Held::Integer(partition.rows.len() as i128),
        AggregateFunction::CountDistinct => {
            let distinct: std::collections::HashSet<String> = partition
                .rows
                .iter()
                .filter(|(_, value)| *value != Held::Null)
                .map(|(_, value)| format!("{value:?}"))
                .collect();
            Held::Integer(distinct.len() as i128)
        }
        AggregateFunction::Count => Held::Integer(i128::from(partition.count)),
        AggregateFunction::Sum | AggregateFunction::Avg if partition.count == 0 => Held::Null,
        AggregateFunction::Sum if float => Held::Float(partition.sum_float),
        AggregateFunction::Sum => Held::Integer(partition.sum_integer),
        AggregateFunction::Avg if float => {
            Held::Float(partition.sum_float / partition.count as f64)
        }
        AggregateFunction::Avg => {
            Held::Integer(partition.sum_integer / i128::from(partition.count))
        }
        AggregateFunction::Min => partition.extreme(false),
        AggregateFunction::Max => partition.extreme(true),
    })
}

fn finish(aggregate: &Aggregate, values: Vec<Held>) -> Result<ArrayRef, EvalError> {
    let ty = aggregate.ty;
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
