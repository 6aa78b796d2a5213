//! T-sorting stream input, `ORDER BY <timestamp_expr> WITHIN <interval_literal>`, as the SQL
//! reference's "T-sorting Stream Input" page defines it: rows arriving out of time order (from
//! several sources merged upstream) are reordered by a timestamp expression within a sliding
//! time window, and that expression becomes their ROWTIME (the query selects it `AS
//! ROWTIME`). A row whose expression is NULL is discarded; the rows' incoming ROWTIMEs play no
//! part ("the system ignores" incoming rowtime bounds). Further ORDER BY values (`ORDER BY t
//! WITHIN INTERVAL '2' MINUTE, vid`, as SQLstream's T-sort example has it) order the rows of
//! one timestamp.
//!
//! The operator runs on the rows of the query (a hidden stream of its columns, then the
//! timestamp expression and the further ORDER BY values); the rows it holds are its state.
//!
//! Unverified: the page does not say when a row goes out; here a row of timestamp `t` goes out
//! once a row of timestamp `t + WITHIN` or later has arrived (the window slides with the
//! latest timestamp seen, not with the clock), rows equal in every ORDER BY value in arrival
//! order. A row arriving with a timestamp before one already sent is discarded: a stream's
//! ROWTIME never goes back (SQLstream's glossary says the same of late rows).

use std::sync::Arc;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{SchemaRef, TimestampMillisecondType};
use serde::{Deserialize, Serialize};

use super::expr::EvalError;
use super::row_codec::{decode, encode};

/// How a pump's rows are T-sorted.
#[derive(Debug, Clone)]
pub struct TSortPlan {
    /// The timestamp expression's column (a batch index).
    pub timestamp: usize,
    /// The further ORDER BY values' columns, with `true` for DESC: they order the rows of
    /// one timestamp.
    pub then_by: Vec<(usize, bool)>,
    /// The WITHIN interval, in milliseconds.
    pub within: i64,
    /// The rows' schema, in and out.
    pub schema: SchemaRef,
}

/// The rows held until the window has passed them, and how far it has gone.
#[derive(Debug)]
pub struct TSortState {
    plan: Arc<TSortPlan>,
    stored: TSortSnapshot,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TSortSnapshot {
    /// Held rows: their timestamp and the row (Arrow's row format), in arrival order.
    held: Vec<(i64, Vec<u8>)>,
    /// The latest timestamp seen.
    latest: Option<i64>,
    /// The timestamp of the last row sent.
    sent: Option<i64>,
}

impl TSortState {
    pub fn new(plan: Arc<TSortPlan>) -> TSortState {
        TSortState {
            plan,
            stored: TSortSnapshot::default(),
        }
    }

    /// Holds the rows of `batch`; gives the rows the window has passed, in timestamp order.
    pub fn push(&mut self, batch: &RecordBatch) -> Result<Vec<RecordBatch>, EvalError> {
        let timestamps = batch
            .column(self.plan.timestamp)
            .as_primitive::<TimestampMillisecondType>();
        let encoded = encode(batch)?;
        for (row, encoded) in encoded.into_iter().enumerate() {
            if timestamps.is_null(row) {
                continue;
            }
            let timestamp = timestamps.value(row);
            if self.stored.sent.is_some_and(|sent| timestamp < sent) {
                continue;
            }
            self.stored.latest = Some(
                self.stored
                    .latest
                    .map_or(timestamp, |latest| latest.max(timestamp)),
            );
            self.stored.held.push((timestamp, encoded));
        }
        self.release()
    }

    /// The held rows of timestamps up to the latest seen less WITHIN, sorted, each with its
    /// timestamp as ROWTIME.
    fn release(&mut self) -> Result<Vec<RecordBatch>, EvalError> {
        let Some(latest) = self.stored.latest else {
            return Ok(Vec::new());
        };
        let bound = latest.saturating_sub(self.plan.within);
        let (passed, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut self.stored.held)
            .into_iter()
            .partition(|(timestamp, _)| *timestamp <= bound);
        self.stored.held = kept;
        if passed.is_empty() {
            return Ok(Vec::new());
        }
        self.stored.sent = passed.iter().map(|(timestamp, _)| *timestamp).max();
        let rows: Vec<Vec<u8>> = passed.into_iter().map(|(_, row)| row).collect();
        let rows = decode(&rows, &self.plan.schema)?;
        // By timestamp, then the further ORDER BY values; stable, so that rows equal in all
        // of them keep their order of arrival.
        let mut keys = vec![(self.plan.timestamp, false)];
        keys.extend(self.plan.then_by.iter().copied());
        let sorted = super::sort_within::sort_rows(&rows, &keys)?;
        let mut columns = sorted.columns().to_vec();
        columns[0] = sorted.column(self.plan.timestamp).clone();
        Ok(vec![RecordBatch::try_new(
            self.plan.schema.clone(),
            columns,
        )?])
    }

    pub fn snapshot(&self) -> TSortSnapshot {
        self.stored.clone()
    }

    pub fn restore(&mut self, snapshot: TSortSnapshot) {
        self.stored = snapshot;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::schema::{Column, stream_schema};
    use crate::input::SqlType;
    use arrow::array::TimestampMillisecondArray;

    fn batch(schema: &SchemaRef, rows: &[(i64, Option<i64>)]) -> RecordBatch {
        RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(TimestampMillisecondArray::from(
                    rows.iter().map(|(rowtime, _)| *rowtime).collect::<Vec<_>>(),
                )),
                Arc::new(TimestampMillisecondArray::from(
                    rows.iter().map(|(_, at)| *at).collect::<Vec<_>>(),
                )),
            ],
        )
        .expect("a batch of the schema")
    }

    fn times(batches: &[RecordBatch]) -> Vec<i64> {
        batches
            .iter()
            .flat_map(|batch| {
                batch
                    .column(0)
                    .as_primitive::<TimestampMillisecondType>()
                    .values()
                    .to_vec()
            })
            .collect()
    }

    #[test]
    fn rows_go_out_in_timestamp_order_once_the_window_passes_them() {
        let schema = stream_schema(&[Column::new("AT", SqlType::Timestamp)]);
        let plan = Arc::new(TSortPlan {
            timestamp: 1,
            then_by: Vec::new(),
            within: 10,
            schema: schema.clone(),
        });
        let mut state = TSortState::new(plan);
        let out = state
            .push(&batch(
                &schema,
                &[(0, Some(105)), (1, Some(100)), (2, None)],
            ))
            .expect("push");
        assert!(times(&out).is_empty());
        let out = state
            .push(&batch(&schema, &[(3, Some(112)), (4, Some(98))]))
            .expect("push");
        assert_eq!(times(&out), vec![98, 100]);
        let stored = state.snapshot();
        let mut restored = TSortState::new(state.plan.clone());
        restored.restore(stored);
        // 99 is before 100, already sent: discarded.
        let out = restored
            .push(&batch(&schema, &[(5, Some(99)), (6, Some(130))]))
            .expect("push");
        assert_eq!(times(&out), vec![105, 112]);
    }
}
