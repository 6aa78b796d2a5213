//! Streaming ORDER BY: as the SQL reference's "ORDER BY clause" page says, the leading
//! expression is time-based and monotonic (ROWTIME, or `FLOOR`/`CEIL`/`STEP` of it), and the
//! operator gathers rows until its value changes, then emits them sorted by all the ORDER BY
//! expressions. A value is also over once the time (the rows' ROWTIME, or the clock) has
//! moved to a later value of the leading expression: no later row can have it.
//!
//! The operator runs on the rows of the query (a hidden stream of its columns and the ORDER
//! BY values); the rows gathered under the current value are its state.
//!
//! Unverified: the reference does not say the ROWTIME of sorted rows; a stream's ROWTIME
//! never goes back, so every row of a gathered value goes out with the latest ROWTIME among
//! them. NULLs sort before other values ascending, after them descending.

use std::sync::Arc;

use arrow::array::{Array, AsArray, RecordBatch, TimestampMillisecondArray, UInt32Array};
use arrow::compute::SortOptions;
use arrow::datatypes::{SchemaRef, TimestampMillisecondType};
use arrow::row::{RowConverter, SortField};
use serde::{Deserialize, Serialize};

use super::expr::{EvalError, PhysicalExpr};
use super::row_codec::{decode, encode};
use super::schema::stream_schema;

/// How a pump's rows are sorted.
#[derive(Debug, Clone)]
pub struct SortPlan {
    /// The leading ORDER BY value's column (a batch index).
    pub leading: usize,
    /// Every ORDER BY value's column, with `true` for DESC, leading first.
    pub keys: Vec<(usize, bool)>,
    /// The leading expression as a function of ROWTIME, on a batch of ROWTIME alone: its
    /// value at a time tells that earlier values are over.
    pub leading_of_time: PhysicalExpr,
    /// The rows' schema, in and out.
    pub schema: SchemaRef,
}

/// The rows gathered under the current leading value, in Arrow's row format.
#[derive(Debug)]
pub struct SortState {
    plan: Arc<SortPlan>,
    leading_converter: RowConverter,
    gathered: Vec<Vec<u8>>,
    current: Option<Vec<u8>>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SortSnapshot {
    gathered: Vec<Vec<u8>>,
    current: Option<Vec<u8>>,
}

impl SortState {
    pub fn new(plan: Arc<SortPlan>) -> Result<SortState, EvalError> {
        let leading_type = plan.schema.field(plan.leading).data_type().clone();
        Ok(SortState {
            leading_converter: RowConverter::new(vec![SortField::new(leading_type)])?,
            plan,
            gathered: Vec::new(),
            current: None,
        })
    }

    /// Gathers `batch`; gives the sorted rows of the values it closed.
    pub fn push(&mut self, batch: &RecordBatch) -> Result<Vec<RecordBatch>, EvalError> {
        let leading = self
            .leading_converter
            .convert_columns(&[batch.column(self.plan.leading).clone()])?;
        let mut closed = Vec::new();
        let mut start = 0;
        while start < batch.num_rows() {
            let value = leading.row(start).data();
            let mut end = start + 1;
            while end < batch.num_rows() && leading.row(end).data() == value {
                end += 1;
            }
            if self.current.as_deref() != Some(value) {
                closed.extend(self.flush()?);
                self.current = Some(value.to_vec());
            }
            self.gathered
                .extend(encode(&batch.slice(start, end - start))?);
            start = end;
        }
        if let Some(last) = batch
            .column(0)
            .as_primitive::<TimestampMillisecondType>()
            .values()
            .last()
        {
            closed.extend(self.advance(*last)?);
        }
        Ok(closed)
    }

    /// The time reached `now`: the gathered rows, sorted, if the leading expression has
    /// moved past their value.
    pub fn advance(&mut self, now: i64) -> Result<Vec<RecordBatch>, EvalError> {
        let Some(current) = &self.current else {
            return Ok(Vec::new());
        };
        let instant = RecordBatch::try_new(
            stream_schema(&[]),
            vec![Arc::new(TimestampMillisecondArray::from(vec![now]))],
        )?;
        let value = self.plan.leading_of_time.evaluate(&instant)?;
        let value = arrow::compute::cast(
            &value,
            self.plan.schema.field(self.plan.leading).data_type(),
        )?;
        let encoded = self.leading_converter.convert_columns(&[value])?;
        if encoded.row(0).data() > current.as_slice() {
            return self.flush();
        }
        Ok(Vec::new())
    }

    /// The gathered rows, sorted, each with the latest ROWTIME among them.
    fn flush(&mut self) -> Result<Vec<RecordBatch>, EvalError> {
        if self.gathered.is_empty() {
            return Ok(Vec::new());
        }
        let rows = decode(&self.gathered, &self.plan.schema)?;
        self.gathered.clear();
        let sorted = sort_rows(&rows, &self.plan.keys)?;
        let times = sorted.column(0).as_primitive::<TimestampMillisecondType>();
        let latest = times.values().iter().copied().max().unwrap_or_default();
        let mut columns = sorted.columns().to_vec();
        columns[0] = Arc::new(TimestampMillisecondArray::from(vec![
            latest;
            sorted.num_rows()
        ]));
        debug_assert!(times.null_count() == 0, "ROWTIME is never NULL");
        Ok(vec![RecordBatch::try_new(
            self.plan.schema.clone(),
            columns,
        )?])
    }

    pub fn snapshot(&self) -> SortSnapshot {
        SortSnapshot {
            gathered: self.gathered.clone(),
            current: self.current.clone(),
        }
    }

    pub fn restore(&mut self, snapshot: SortSnapshot) {
        self.gathered = snapshot.gathered;
        self.current = snapshot.current;
    }
}

/// `rows` ordered by the columns `keys` (a batch index, `true` for DESC; NULLs first when
/// ascending, last when descending), stably: rows equal in every key keep their order.
pub(crate) fn sort_rows(
    rows: &RecordBatch,
    keys: &[(usize, bool)],
) -> Result<RecordBatch, arrow::error::ArrowError> {
    let fields = keys
        .iter()
        .map(|&(index, descending)| {
            SortField::new_with_options(
                rows.schema().field(index).data_type().clone(),
                SortOptions {
                    descending,
                    nulls_first: !descending,
                },
            )
        })
        .collect();
    let converter = RowConverter::new(fields)?;
    let encoded = converter.convert_columns(
        &keys
            .iter()
            .map(|&(index, _)| rows.column(index).clone())
            .collect::<Vec<_>>(),
    )?;
    let mut order: Vec<u32> = (0..rows.num_rows() as u32).collect();
    order.sort_by(|a, b| encoded.row(*a as usize).cmp(&encoded.row(*b as usize)));
    arrow::compute::take_record_batch(rows, &UInt32Array::from(order))
}
