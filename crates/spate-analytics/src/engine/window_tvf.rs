//! The Flink-style window table functions: `TABLE(TUMBLE(TABLE s, DESCRIPTOR(t), size))` and
//! `TABLE(HOP(TABLE s, DESCRIPTOR(t), slide, size))`. Each row of `s` comes out once per
//! window holding its time `t`, with three columns appended: `WINDOW_START`, `WINDOW_END` and
//! `WINDOW_TIME` (the window's last millisecond), as Flink names them. Windows are aligned to
//! the epoch. A query groups by `WINDOW_START` (and `WINDOW_END`) to aggregate per window; the
//! window closes as a `STEP` bucket of the same time column does. `TABLE(SESSION(TABLE s,
//! DESCRIPTOR(t), gap))` passes rows once with the three columns NULL: sessions are only known
//! when they close, so the grouped aggregate fills them in (see `aggregate::SessionPlan`).

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch, TimestampMillisecondArray, UInt32Array};
use arrow::datatypes::{SchemaRef, TimestampMillisecondType};

use super::expr::EvalError;

/// The names of the appended columns.
pub const WINDOW_START: &str = "WINDOW_START";
pub const WINDOW_END: &str = "WINDOW_END";
pub const WINDOW_TIME: &str = "WINDOW_TIME";

/// How rows are given their windows.
#[derive(Debug, Clone)]
pub struct WindowAssign {
    /// The batch column holding each row's time (0 for ROWTIME).
    pub time_index: usize,
    pub size: i64,
    /// Equal to `size` for TUMBLE.
    pub slide: i64,
    /// SESSION: rows pass once, their window columns NULL until the aggregate closes the
    /// session (`size` is then the gap).
    pub session: bool,
    /// The input's columns, then WINDOW_START, WINDOW_END, WINDOW_TIME.
    pub schema: SchemaRef,
}

/// Each row of `batch` once per window holding its time; rows with a NULL time have none.
pub fn assign_windows(plan: &WindowAssign, batch: &RecordBatch) -> Result<RecordBatch, EvalError> {
    let times = batch
        .column(plan.time_index)
        .as_primitive_opt::<TimestampMillisecondType>()
        .ok_or_else(|| EvalError("a window's time column is no TIMESTAMP".into()))?;
    if plan.session {
        let mut columns = batch.columns().to_vec();
        for _ in 0..3 {
            columns.push(arrow::array::new_null_array(
                &arrow::datatypes::DataType::Timestamp(
                    arrow::datatypes::TimeUnit::Millisecond,
                    None,
                ),
                batch.num_rows(),
            ));
        }
        return Ok(RecordBatch::try_new(plan.schema.clone(), columns)?);
    }
    let (mut rows, mut starts) = (Vec::new(), Vec::new());
    for row in 0..batch.num_rows() {
        if times.is_null(row) {
            continue;
        }
        let time = times.value(row);
        // The latest window start at or before `time`, then back by `slide` while the window
        // still reaches `time`.
        let last = time - time.rem_euclid(plan.slide);
        let mut first = last;
        while first - plan.slide + plan.size > time {
            first -= plan.slide;
        }
        let mut start = first;
        while start <= last {
            rows.push(row as u32);
            starts.push(start);
            start += plan.slide;
        }
    }
    let indices = UInt32Array::from(rows);
    let mut columns: Vec<ArrayRef> = batch
        .columns()
        .iter()
        .map(|column| arrow::compute::take(column, &indices, None))
        .collect::<Result<_, _>>()?;
    let ends: Vec<i64> = starts.iter().map(|start| start + plan.size).collect();
    let last_millis: Vec<i64> = ends.iter().map(|end| end - 1).collect();
    columns.push(Arc::new(TimestampMillisecondArray::from(starts)));
    columns.push(Arc::new(TimestampMillisecondArray::from(ends)));
    columns.push(Arc::new(TimestampMillisecondArray::from(last_millis)));
    let options = arrow::array::RecordBatchOptions::new().with_row_count(Some(indices.len()));
    Ok(RecordBatch::try_new_with_options(
        plan.schema.clone(),
        columns,
        &options,
    )?)
}
