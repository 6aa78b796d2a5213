//! Joins of two streams within a window: `FROM a [LEFT | RIGHT | FULL] JOIN b OVER (RANGE
//! INTERVAL '1' MINUTE PRECEDING) ON ...`. A stream with `OVER` keeps its rows for that long
//! (by ROWTIME); a row arriving on the other stream is joined with the kept rows within the
//! range before it. When both streams have a window, a row of either joins the other's kept
//! rows. A joined row takes the arriving row's ROWTIME; its columns are the first stream's,
//! then the second's, then the two rows' own ROWTIMEs (what `a.ROWTIME` and `b.ROWTIME` read,
//! as the SQL reference shows).
//!
//! An outer join keeps the rows of its outer side(s) that found no match, with NULLs for the
//! other side, once they can no longer match: a row of a stream without a window only ever
//! meets the other side's kept rows when it arrives, so it is emitted then, with its own
//! ROWTIME; a kept row can be matched until its window passes (the time, from either stream
//! or the clock, goes past its ROWTIME plus the range), and is emitted then.
//!
//! The kept rows, with whether each has been matched, are the operator's state; a snapshot
//! holds them in Arrow's row format.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch, TimestampMillisecondArray, UInt32Array};
use arrow::datatypes::{DataType, SchemaRef, TimestampMillisecondType};
use serde::{Deserialize, Serialize};

use super::expr::{EvalError, PhysicalExpr};
use super::row_codec::{decode, encode};

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
    /// Whether each stream's rows without a match are kept with NULLs for the other (LEFT
    /// keeps the first's, RIGHT the second's, FULL both).
    pub first_outer: bool,
    pub second_outer: bool,
    pub first_schema: SchemaRef,
    pub second_schema: SchemaRef,
    /// The ON condition, on the joined batch.
    pub condition: PhysicalExpr,
    /// ROWTIME, the first stream's columns, the second's, then each stream's own ROWTIME.
    pub joined_schema: SchemaRef,
}

impl StreamJoinPlan {
    /// Whether both sides are one stream (`FROM s AS a JOIN s AS b`): each arriving row is a
    /// row of both.
    pub fn is_self_join(&self) -> bool {
        self.first == self.second
    }

    fn range(&self, side: Side) -> Option<i64> {
        match side {
            Side::First => self.first_range,
            Side::Second => self.second_range,
        }
    }

    fn outer(&self, side: Side) -> bool {
        match side {
            Side::First => self.first_outer,
            Side::Second => self.second_outer,
        }
    }

    fn schema(&self, side: Side) -> &SchemaRef {
        match side {
            Side::First => &self.first_schema,
            Side::Second => &self.second_schema,
        }
    }
}

impl Side {
    fn other(self) -> Side {
        match self {
            Side::First => Side::Second,
            Side::Second => Side::First,
        }
    }
}

/// The rows one windowed stream keeps, in ROWTIME order, and whether each has been matched.
#[derive(Debug)]
struct Kept {
    rows: RecordBatch,
    matched: Vec<bool>,
}

/// The rows each windowed stream keeps.
#[derive(Debug)]
pub struct StreamJoinState {
    plan: Arc<StreamJoinPlan>,
    first: Kept,
    second: Kept,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StreamJoinSnapshot {
    first: Vec<Vec<u8>>,
    second: Vec<Vec<u8>>,
    /// Whether each kept row has been matched (absent in snapshots of inner joins' days:
    /// taken as matched).
    #[serde(default)]
    first_matched: Vec<bool>,
    #[serde(default)]
    second_matched: Vec<bool>,
}

impl StreamJoinState {
    pub fn new(plan: Arc<StreamJoinPlan>) -> StreamJoinState {
        let first = Kept {
            rows: RecordBatch::new_empty(plan.first_schema.clone()),
            matched: Vec::new(),
        };
        let second = Kept {
            rows: RecordBatch::new_empty(plan.second_schema.clone()),
            matched: Vec::new(),
        };
        StreamJoinState {
            plan,
            first,
            second,
        }
    }

    fn kept(&mut self, side: Side) -> &mut Kept {
        match side {
            Side::First => &mut self.first,
            Side::Second => &mut self.second,
        }
    }

    /// A batch arrived on `side`: the rows it gives, in ROWTIME order. First the unmatched
    /// kept rows whose window the batch's time has passed (outer joins), then the pairs for
    /// which ON is TRUE and, for an outer side without a window, its rows that matched
    /// nothing. The batch is kept if its stream has a window.
    pub fn push(&mut self, side: Side, batch: &RecordBatch) -> Result<RecordBatch, EvalError> {
        let plan = self.plan.clone();
        let rowtimes = batch.column(0).as_primitive::<TimestampMillisecondType>();
        let Some(latest) = rowtimes.values().iter().copied().max() else {
            return Ok(RecordBatch::new_empty(plan.joined_schema.clone()));
        };
        let mut outputs = self.expire(latest)?;
        let other = side.other();
        let mut arriving_matched = vec![false; batch.num_rows()];
        let mut pairs = Vec::new();
        if let Some(range) = plan.range(other) {
            let kept = self.kept(other);
            let found = probe(&plan, side, batch, &kept.rows, range)?;
            for &(arriving, kept_row) in &found {
                arriving_matched[arriving as usize] = true;
                kept.matched[kept_row as usize] = true;
            }
            pairs = found;
        }
        // The pairs, and unmatched arriving rows that cannot meet any later row, in the
        // arriving rows' order.
        let emit_unmatched_now = plan.outer(side) && plan.range(side).is_none();
        let (mut arriving_rows, mut kept_rows) = (Vec::new(), Vec::new());
        let mut pair = 0;
        for row in 0..batch.num_rows() as u32 {
            while pair < pairs.len() && pairs[pair].0 == row {
                arriving_rows.push(Some(row));
                kept_rows.push(Some(pairs[pair].1));
                pair += 1;
            }
            if emit_unmatched_now && !arriving_matched[row as usize] {
                arriving_rows.push(Some(row));
                kept_rows.push(None);
            }
        }
        let arriving_times = take_times(rowtimes, &arriving_rows);
        let other_rows = self.kept(other).rows.clone();
        outputs.push(assemble(
            &plan,
            side,
            arriving_times,
            (batch, &arriving_rows),
            (&other_rows, &kept_rows),
        )?);
        if let Some(range) = plan.range(side) {
            let kept = self.kept(side);
            kept.rows =
                arrow::compute::concat_batches(kept.rows.schema_ref(), [&kept.rows, batch])?;
            kept.matched.extend(arriving_matched);
            // Rows already past their window on arrival (late rows) cannot match again.
            outputs.extend(self.expire_side(side, range, latest)?);
        }
        in_rowtime_order(&plan.joined_schema, &outputs)
    }

    /// The clock reached `now`: the unmatched rows of outer sides whose window has passed.
    pub fn advance(&mut self, now: i64) -> Result<RecordBatch, EvalError> {
        let outputs = self.expire(now)?;
        in_rowtime_order(&self.plan.joined_schema, &outputs)
    }

    /// Drops the kept rows of both sides whose window ended before `now`, giving the
    /// unmatched ones of an outer side.
    fn expire(&mut self, now: i64) -> Result<Vec<RecordBatch>, EvalError> {
        let plan = self.plan.clone();
        let mut expired = Vec::new();
        for side in [Side::First, Side::Second] {
            if let Some(range) = plan.range(side) {
                expired.extend(self.expire_side(side, range, now)?);
            }
        }
        Ok(expired)
    }

    /// Drops the rows of `side` older than `now - range`; the unmatched ones of an outer side
    /// come back NULL-extended. Unverified: the SQL reference does not say which ROWTIME such
    /// a row has; it takes the end of its window (its ROWTIME plus the range), the time from
    /// which it can no longer match.
    fn expire_side(
        &mut self,
        side: Side,
        range: i64,
        now: i64,
    ) -> Result<Option<RecordBatch>, EvalError> {
        let plan = self.plan.clone();
        let kept = self.kept(side);
        let times = kept
            .rows
            .column(0)
            .as_primitive::<TimestampMillisecondType>();
        let cutoff = now.saturating_sub(range);
        let gone = times.values().partition_point(|rowtime| *rowtime < cutoff);
        if gone == 0 {
            return Ok(None);
        }
        let unmatched: Vec<Option<u32>> = if plan.outer(side) {
            (0..gone)
                .filter(|row| !kept.matched[*row])
                .map(|row| Some(row as u32))
                .collect()
        } else {
            Vec::new()
        };
        let window_ends = TimestampMillisecondArray::from(
            unmatched
                .iter()
                .flatten()
                .map(|row| times.value(*row as usize).saturating_add(range))
                .collect::<Vec<_>>(),
        );
        let output = if unmatched.is_empty() {
            None
        } else {
            let none = vec![None; unmatched.len()];
            let empty = RecordBatch::new_empty(plan.schema(side.other()).clone());
            Some(assemble(
                &plan,
                side,
                window_ends,
                (&kept.rows, &unmatched),
                (&empty, &none),
            )?)
        };
        kept.rows = kept.rows.slice(gone, kept.rows.num_rows() - gone);
        kept.matched.drain(..gone);
        Ok(output)
    }

    pub fn snapshot(&self) -> Result<StreamJoinSnapshot, EvalError> {
        Ok(StreamJoinSnapshot {
            first: encode(&self.first.rows)?,
            second: encode(&self.second.rows)?,
            first_matched: self.first.matched.clone(),
            second_matched: self.second.matched.clone(),
        })
    }

    pub fn restore(&mut self, snapshot: StreamJoinSnapshot) -> Result<(), EvalError> {
        for (side, rows, matched) in [
            (Side::First, snapshot.first, snapshot.first_matched),
            (Side::Second, snapshot.second, snapshot.second_matched),
        ] {
            let schema = self.plan.schema(side).clone();
            let rows = decode(&rows, &schema)?;
            let matched = if matched.len() == rows.num_rows() {
                matched
            } else {
                vec![true; rows.num_rows()]
            };
            *self.kept(side) = Kept { rows, matched };
        }
        Ok(())
    }
}

fn take_times(
    times: &arrow::array::PrimitiveArray<TimestampMillisecondType>,
    rows: &[Option<u32>],
) -> TimestampMillisecondArray {
    rows.iter()
        .map(|row| row.map(|row| times.value(row as usize)))
        .collect()
}

/// Joined batches as one, stably sorted by ROWTIME (NULL-extended rows of passed windows
/// go before later pairs).
fn in_rowtime_order(schema: &SchemaRef, batches: &[RecordBatch]) -> Result<RecordBatch, EvalError> {
    let batch = arrow::compute::concat_batches(schema, batches)?;
    let times = batch.column(0).as_primitive::<TimestampMillisecondType>();
    let mut order: Vec<u32> = (0..batch.num_rows() as u32).collect();
    order.sort_by_key(|&row| times.value(row as usize));
    Ok(arrow::compute::take_record_batch(
        &batch,
        &UInt32Array::from(order),
    )?)
}

/// The pairs `(arriving row, kept row)` of an arriving row and a kept row within `range`
/// before it for which ON is TRUE, in arriving row order.
fn probe(
    plan: &StreamJoinPlan,
    side: Side,
    arriving: &RecordBatch,
    kept: &RecordBatch,
    range: i64,
) -> Result<Vec<(u32, u32)>, EvalError> {
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
            arriving_rows.push(Some(row as u32));
            kept_rows.push(Some(other as u32));
        }
    }
    let times = take_times(arriving_times, &arriving_rows);
    let candidates = assemble(
        plan,
        side,
        times,
        (arriving, &arriving_rows),
        (kept, &kept_rows),
    )?;
    let condition = plan.condition.evaluate(&candidates)?;
    let mut pairs = Vec::new();
    if condition.data_type() == &DataType::Boolean {
        let condition = condition.as_boolean();
        for index in 0..condition.len() {
            if condition.is_valid(index)
                && condition.value(index)
                && let (Some(arriving), Some(kept)) = (arriving_rows[index], kept_rows[index])
            {
                pairs.push((arriving, kept));
            }
        }
    }
    Ok(pairs)
}

/// Joined rows: `rowtimes`, then the rows of `own` (on `side`) and of `other` at the given
/// indices (`None`: NULLs), then each side's own ROWTIME.
fn assemble(
    plan: &StreamJoinPlan,
    side: Side,
    rowtimes: TimestampMillisecondArray,
    own: (&RecordBatch, &[Option<u32>]),
    other: (&RecordBatch, &[Option<u32>]),
) -> Result<RecordBatch, EvalError> {
    let own_indices: UInt32Array = own.1.iter().copied().collect();
    let other_indices: UInt32Array = other.1.iter().copied().collect();
    let ((first, first_indices), (second, second_indices)) = match side {
        Side::First => ((own.0, &own_indices), (other.0, &other_indices)),
        Side::Second => ((other.0, &other_indices), (own.0, &own_indices)),
    };
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(plan.joined_schema.fields().len());
    columns.push(Arc::new(rowtimes));
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
    let options = arrow::array::RecordBatchOptions::new().with_row_count(Some(own.1.len()));
    Ok(RecordBatch::try_new_with_options(
        plan.joined_schema.clone(),
        columns,
        &options,
    )?)
}
