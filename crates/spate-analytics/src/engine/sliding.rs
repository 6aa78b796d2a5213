//! Sliding windows: aggregates with `OVER`, computed for every row over the rows before it in
//! its partition, within a time range (`RANGE INTERVAL '1' MINUTE PRECEDING`: rows whose ROWTIME
//! is at most that much earlier) or a count (`ROWS 10 PRECEDING`: the row and the ten before
//! it). Each input row gives one output row at once, with its own ROWTIME.
//!
//! Each aggregate keeps, per partition, the rows of its window (their ROWTIME and argument),
//! and running sums and counts for COUNT, SUM and AVG; every other function (MIN, MAX,
//! DISTINCT, FIRST_VALUE, LAG, NTH_VALUE, the variances, EXP_AVG) is computed from the
//! window's rows by `fold`. The windows are the operator's state and are written out by
//! [`SlidingState::snapshot`].

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray};
use arrow::datatypes::TimestampMillisecondType;
use arrow::record_batch::RecordBatch;
use arrow::row::{RowConverter, SortField};
use serde::{Deserialize, Serialize};

use super::aggregate::{Aggregate, AggregateFunction};
use super::expr::{EvalError, PhysicalExpr};
use super::fold::{fold, lag, nth};
use super::held::{Held, holder, to_array};
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
            let default = match &sliding.aggregate.default {
                Some(default) => Some(default.evaluate(batch)?),
                None => None,
            };
            let default = default
                .as_ref()
                .map(|array| holder(Some(array)))
                .transpose()?;
            let row_offsets = sliding
                .aggregate
                .row_offset
                .as_ref()
                .map(|offset| whole_numbers(&offset.evaluate(batch)?))
                .transpose()?;
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
                // LAG's offset or NTH_VALUE's n of this record, when it is an expression:
                // `None` for a NULL or negative one.
                let row_offset = row_offsets.as_ref().map(|offsets| offsets[row]);
                let held_rows = || -> Vec<(i64, &Held)> {
                    partition
                        .rows
                        .iter()
                        .map(|(time, value)| (*time, value))
                        .collect()
                };
                let value = match (sliding.aggregate.function, row_offset) {
                    (AggregateFunction::Lag { offset }, row_offset) => {
                        // Unverified: a NULL or negative offset names no record, so LAG
                        // gives its default, as for a record outside the window.
                        let offset = row_offset.unwrap_or(Some(offset));
                        offset
                            .and_then(|offset| {
                                lag(&held_rows(), offset, sliding.aggregate.ignore_nulls)
                            })
                            .unwrap_or_else(|| {
                                default.as_ref().map_or(Held::Null, |default| default(row))
                            })
                    }
                    // Unverified: an n below 1, or NULL, names no row: NULL, as for a
                    // window with fewer than n rows.
                    (AggregateFunction::NthValue { from_last, .. }, Some(n)) => {
                        n.filter(|n| *n >= 1).map_or(Held::Null, |n| {
                            nth(&held_rows(), n, from_last, sliding.aggregate.ignore_nulls)
                        })
                    }
                    _ => result(&sliding.aggregate, partition, now),
                };
                values.push(value);
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
            results.push(to_array(sliding.aggregate.ty, values)?);
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

/// The aggregate over the partition's window: COUNT, SUM and AVG from running sums, the rest
/// from the window's rows.
/// Each row's value of an offset expression as a whole number: `None` where it is NULL or
/// negative.
fn whole_numbers(values: &ArrayRef) -> Result<Vec<Option<u64>>, EvalError> {
    let values = arrow::compute::cast(values, &arrow::datatypes::DataType::Int64)?;
    Ok(values
        .as_primitive::<arrow::datatypes::Int64Type>()
        .iter()
        .map(|value| value.and_then(|value| u64::try_from(value).ok()))
        .collect())
}

fn result(aggregate: &Aggregate, partition: &Partition, now: i64) -> Held {
    let float = matches!(aggregate.ty, ExprType::Sql(SqlType::Real | SqlType::Double));
    if !aggregate.distinct {
        match aggregate.function {
            AggregateFunction::CountRows => return Held::Integer(partition.rows.len() as i128),
            AggregateFunction::Count => return Held::Integer(i128::from(partition.count)),
            AggregateFunction::Sum | AggregateFunction::Avg if partition.count == 0 => {
                return Held::Null;
            }
            AggregateFunction::Sum if float => return Held::Float(partition.sum_float),
            AggregateFunction::Sum => return Held::Integer(partition.sum_integer),
            AggregateFunction::Avg if float => {
                return Held::Float(partition.sum_float / partition.count as f64);
            }
            AggregateFunction::Avg => {
                return Held::Integer(partition.sum_integer / i128::from(partition.count));
            }
            _ => {}
        }
    }
    let rows: Vec<(i64, &Held)> = partition
        .rows
        .iter()
        .map(|(rowtime, value)| (*rowtime, value))
        .collect();
    fold(aggregate, now, &rows)
}
