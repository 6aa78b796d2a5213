//! `SELECT STREAM DISTINCT`: a row goes on the first time its values are seen, NULL equal to
//! NULL (as GROUP BY compares). On a stream this needs a non-constant monotonic expression
//! among the selected columns (ROWTIME, or `FLOOR`/`CEIL`/`STEP` of it), as the SQL
//! reference's "SELECT ALL and SELECT DISTINCT" page says: while its value stays, the values
//! seen are remembered; when it changes, no row can repeat an earlier one, and they are
//! forgotten. A selected ROWTIME is no part of what makes rows duplicates.
//!
//! The operator runs on the rows of the query without DISTINCT (a hidden stream of the
//! query's columns; with GROUP BY or aggregates, the grouped rows, as SQL applies DISTINCT
//! after grouping); the values seen under the current monotonic value are its state.
//! Unverified: each distinct row goes out at once with the ROWTIME of its first occurrence
//! (the reference: "emits rows for SELECT DISTINCT as soon as they are ready").

use std::collections::HashSet;

use arrow::array::{ArrayRef, BooleanArray, RecordBatch};
use arrow::datatypes::SchemaRef;
use arrow::row::{RowConverter, SortField};
use serde::{Deserialize, Serialize};

use super::expr::EvalError;

/// Which columns of the query's rows DISTINCT compares, and which one is monotonic.
#[derive(Debug, Clone)]
pub struct DistinctPlan {
    /// The monotonic column whose change forgets the values seen (a batch index).
    pub monotonic: usize,
    /// The columns two duplicates agree on (batch indices; not ROWTIME).
    pub compared: Vec<usize>,
    /// The rows' schema (ROWTIME, then the query's columns), in and out.
    pub schema: SchemaRef,
}

/// The values seen since the monotonic column last changed.
#[derive(Debug)]
pub struct DistinctState {
    converter: RowConverter,
    monotonic_converter: RowConverter,
    current: Option<Vec<u8>>,
    seen: HashSet<Vec<u8>>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct DistinctSnapshot {
    current: Option<Vec<u8>>,
    seen: Vec<Vec<u8>>,
}

impl DistinctState {
    pub fn new(plan: &DistinctPlan) -> Result<DistinctState, EvalError> {
        let field = |index: usize| SortField::new(plan.schema.field(index).data_type().clone());
        Ok(DistinctState {
            converter: RowConverter::new(
                plan.compared.iter().map(|&index| field(index)).collect(),
            )?,
            monotonic_converter: RowConverter::new(vec![field(plan.monotonic)])?,
            current: None,
            seen: HashSet::new(),
        })
    }

    /// The rows of `batch` not seen before under their monotonic value.
    pub fn push(
        &mut self,
        plan: &DistinctPlan,
        batch: &RecordBatch,
    ) -> Result<RecordBatch, EvalError> {
        let compared: Vec<ArrayRef> = plan
            .compared
            .iter()
            .map(|&index| batch.column(index).clone())
            .collect();
        let rows = self.converter.convert_columns(&compared)?;
        let monotonic = self
            .monotonic_converter
            .convert_columns(&[batch.column(plan.monotonic).clone()])?;
        let mut keep = Vec::with_capacity(batch.num_rows());
        for row in 0..batch.num_rows() {
            let value = monotonic.row(row).data();
            if self.current.as_deref() != Some(value) {
                self.current = Some(value.to_vec());
                self.seen.clear();
            }
            keep.push(self.seen.insert(rows.row(row).data().to_vec()));
        }
        Ok(arrow::compute::filter_record_batch(
            batch,
            &BooleanArray::from(keep),
        )?)
    }

    pub fn snapshot(&self) -> DistinctSnapshot {
        let mut seen: Vec<Vec<u8>> = self.seen.iter().cloned().collect();
        seen.sort();
        DistinctSnapshot {
            current: self.current.clone(),
            seen,
        }
    }

    pub fn restore(&mut self, snapshot: DistinctSnapshot) {
        self.current = snapshot.current;
        self.seen = snapshot.seen.into_iter().collect();
    }
}
