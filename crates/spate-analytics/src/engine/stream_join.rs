//! Joins of two streams within a window: `FROM a JOIN b OVER (RANGE INTERVAL '1' MINUTE
//! PRECEDING) ON ...`. A stream with `OVER` keeps its rows for that long (by ROWTIME); a row
//! arriving on the other stream is joined with the kept rows within the range before it. When
//! both streams have a window, a row of either joins the other's kept rows. A joined row takes
//! the arriving row's ROWTIME; its columns are the first stream's, then the second's, then the
//! two rows' own ROWTIMEs (what `a.ROWTIME` and `b.ROWTIME` read, as the SQL reference shows).
//!
//! The kept rows are the operator's state; a snapshot holds them in Arrow's row format.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch, UInt32Array};
use arrow::datatypes::{DataType, SchemaRef, TimestampMillisecondType};
use arrow::row::{RowConverter, SortField};
use serde::{Deserialize, Serialize};

use super::expr::{EvalError, PhysicalExpr};

/// Which of the two streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    First,
    Second,
}

/// How a pump joins two streams.
#[derive(Debug, Clone)]
pub struct StreamJoinPlan {
    pub first: String,
    pub second: String,
    /// How long each stream's rows are kept (None: not kept, the stream only probes).
    pub first_range: Option<i64>,
    pub second_range: Option<i64>,
    pub first_schema: SchemaRef,
    pub second_schema: SchemaRef,
    /// The ON condition, on the joined batch.
    pub condition: PhysicalExpr,
    /// ROWTIME, the first stream's columns, the second's, then each stream's own ROWTIME.
    pub joined_schema: SchemaRef,
}

/// The rows each windowed stream keeps.
#[derive(Debug)]
pub struct StreamJoinState {
    plan: Arc<StreamJoinPlan>,
    first: Vec<RecordBatch>,
    second: Vec<RecordBatch>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StreamJoinSnapshot {
    first: Vec<Vec<u8>>,
    second: Vec<Vec<u8>>,
}

impl StreamJoinState {
    pub fn new(plan: Arc<StreamJoinPlan>) -> StreamJoinState {
        StreamJoinState {
            plan,
            first: Vec::new(),
            second: Vec::new(),
        }
    }

    /// A batch arrived on `side`: the joined rows it gives (those for which ON is TRUE); the
    /// batch is kept if its stream has a window.
    pub fn push(&mut self, side: Side, batch: &RecordBatch) -> Result<RecordBatch, EvalError> {
        let plan = self.plan.clone();
        let (own_range, other_range) = match side {
            Side::First => (plan.first_range, plan.second_range),
            Side::Second => (plan.second_range, plan.first_range),
        };
        let rowtimes = batch.column(0).as_primitive::<TimestampMillisecondType>();
        let latest = rowtimes.values().iter().copied().max().unwrap_or(i64::MIN);
        let joined = match other_range {
            Some(range) => {
                let other = match side {
                    Side::First => &mut self.second,
                    Side::Second => &mut self.first,
                };
                evict(other, latest.saturating_sub(range))?;
                let kept = concat(
                    other,
                    match side {
                        Side::First => &plan.second_schema,
                        Side::Second => &plan.first_schema,
                    },
                )?;
                probe(&plan, side, batch, &kept, range)?
            }
            None => RecordBatch::new_empty(plan.joined_schema.clone()),
        };
        if let Some(range) = own_range {
            let own = match side {
                Side::First => &mut self.first,
                Side::Second => &mut self.second,
            };
            own.push(batch.clone());
            evict(own, latest.saturating_sub(range))?;
        }
        Ok(joined)
    }

    pub fn snapshot(&self) -> Result<StreamJoinSnapshot, EvalError> {
        Ok(StreamJoinSnapshot {
            first: encode(&self.first, &self.plan.first_schema)?,
            second: encode(&self.second, &self.plan.second_schema)?,
        })
    }

    pub fn restore(&mut self, snapshot: StreamJoinSnapshot) -> Result<(), EvalError> {
        self.first = decode(&snapshot.first, &self.plan.first_schema)?;
        self.second = decode(&snapshot.second, &self.plan.second_schema)?;
        Ok(())
    }
}

/// Drops kept rows older than `cutoff` (the batches are in ROWTIME order).
fn evict(kept: &mut Vec<RecordBatch>, cutoff: i64) -> Result<(), EvalError> {
    let mut remaining = Vec::with_capacity(kept.len());
    for batch in kept.drain(..) {
        let rowtimes = batch.column(0).as_primitive::<TimestampMillisecondType>();
        let first_kept = rowtimes
            .values()
            .partition_point(|rowtime| *rowtime < cutoff);
        if first_kept < batch.num_rows() {
            remaining.push(batch.slice(first_kept, batch.num_rows() - first_kept));
        }
    }
    *kept = remaining;
    Ok(())
}

fn concat(kept: &[RecordBatch], schema: &SchemaRef) -> Result<RecordBatch, EvalError> {
    Ok(arrow::compute::concat_batches(schema, kept)?)
}

/// Every pair of an arriving row and a kept row within `range` before it, joined, filtered
/// by the ON condition.
fn probe(
    plan: &StreamJoinPlan,
    side: Side,
    arriving: &RecordBatch,
    kept: &RecordBatch,
    range: i64,
) -> Result<RecordBatch, EvalError> {
    let arriving_times = arriving
        .column(0)
        .as_primitive::<TimestampMillisecondType>();
    let kept_times = kept.column(0).as_primitive::<TimestampMillisecondType>();
    let (mut arriving_rows, mut kept_rows) = (Vec::new(), Vec::new());
    for row in 0..arriving.num_rows() {
        let now = arriving_times.value(row);
        let from = kept_times
            .values()
            .partition_point(|rowtime| *rowtime < now.saturating_sub(range));
        let to = kept_times
            .values()
            .partition_point(|rowtime| *rowtime <= now);
        for other in from..to {
            arriving_rows.push(row as u32);
            kept_rows.push(other as u32);
        }
    }
    let arriving_indices = UInt32Array::from(arriving_rows);
    let kept_indices = UInt32Array::from(kept_rows);
    let (first, first_indices, second, second_indices) = match side {
        Side::First => (arriving, &arriving_indices, kept, &kept_indices),
        Side::Second => (kept, &kept_indices, arriving, &arriving_indices),
    };
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(plan.joined_schema.fields().len());
    columns.push(arrow::compute::take(
        arriving.column(0),
        &arriving_indices,
        None,
    )?);
    for column in first.columns().iter().skip(1) {
        columns.push(arrow::compute::take(column, first_indices, None)?);
    }
    for column in second.columns().iter().skip(1) {
        columns.push(arrow::compute::take(column, second_indices, None)?);
    }
    // Each stream's own ROWTIME (`o.ROWTIME`, `t.ROWTIME`).
    columns.push(arrow::compute::take(first.column(0), first_indices, None)?);
    columns.push(arrow::compute::take(
        second.column(0),
        second_indices,
        None,
    )?);
    let options =
        arrow::array::RecordBatchOptions::new().with_row_count(Some(arriving_indices.len()));
    let candidates =
        RecordBatch::try_new_with_options(plan.joined_schema.clone(), columns, &options)?;
    let condition = plan.condition.evaluate(&candidates)?;
    let condition = match condition.data_type() {
        DataType::Boolean => condition.as_boolean().clone(),
        _ => arrow::array::BooleanArray::new_null(candidates.num_rows()),
    };
    Ok(arrow::compute::filter_record_batch(
        &candidates,
        &condition,
    )?)
}

fn converter(schema: &SchemaRef) -> Result<RowConverter, EvalError> {
    Ok(RowConverter::new(
        schema
            .fields()
            .iter()
            .map(|field| SortField::new(field.data_type().clone()))
            .collect(),
    )?)
}

fn encode(kept: &[RecordBatch], schema: &SchemaRef) -> Result<Vec<Vec<u8>>, EvalError> {
    let converter = converter(schema)?;
    let mut rows = Vec::new();
    for batch in kept {
        let encoded = converter.convert_columns(batch.columns())?;
        rows.extend(encoded.iter().map(|row| row.data().to_vec()));
    }
    Ok(rows)
}

fn decode(rows: &[Vec<u8>], schema: &SchemaRef) -> Result<Vec<RecordBatch>, EvalError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let converter = converter(schema)?;
    let parser = converter.parser();
    let columns = converter.convert_rows(rows.iter().map(|row| parser.parse(row)))?;
    Ok(vec![RecordBatch::try_new(schema.clone(), columns)?])
}
