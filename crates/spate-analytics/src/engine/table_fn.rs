//! The table functions that read a stream through `CURSOR(SELECT STREAM ...)`, each run as a
//! pump of its own from the cursor's stream into a stream of the function's columns:
//!
//! - `COUNT_DISTINCT_ITEMS_TUMBLING(cursor, 'column', windowSeconds)`: one row per tumbling
//!   window of ROWTIME, `NUMBER_OF_DISTINCT_ITEMS BIGINT`. The reference says the count is
//!   exact up to 10,000 items and approximate (HyperLogLog) beyond; Spate's is always exact.
//! - `TOP_K_ITEMS_TUMBLING(cursor, 'column', K, windowSeconds)`: per window, the K most
//!   frequent values with their counts, most frequent first (ties in order of first
//!   appearance), as `ITEM` (the column's type) and `ITEM_COUNT BIGINT` (Unverified: the
//!   column names). Also exact.
//!
//! Window rows take the window's end as ROWTIME. The windows are state, written out by
//! [`TableFunctionState::snapshot`].

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Int64Array, RecordBatch, TimestampMillisecondArray};
use arrow::datatypes::{SchemaRef, TimestampMillisecondType};
use arrow::row::{RowConverter, SortField};
use serde::{Deserialize, Serialize};

use super::expr::EvalError;
use super::types::ExprType;

/// What a table function computes.
#[derive(Debug, Clone)]
pub enum TableFunctionKind {
    CountDistinct,
    TopK(usize),
}

/// A table function over one column of its cursor's stream.
#[derive(Debug, Clone)]
pub struct TableFunctionPlan {
    pub kind: TableFunctionKind,
    /// The column's index in the cursor stream's batches, and its type.
    pub column: usize,
    pub column_type: ExprType,
    /// The tumbling window, in milliseconds of ROWTIME.
    pub window: i64,
    /// The output stream's schema.
    pub schema: SchemaRef,
}

/// Counts of each distinct value of one window, in order of first appearance.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Counts {
    /// Values in Arrow's row format.
    values: Vec<Vec<u8>>,
    counts: Vec<i64>,
    #[serde(skip)]
    index: HashMap<Vec<u8>, usize>,
}

#[derive(Debug)]
pub struct TableFunctionState {
    plan: Arc<TableFunctionPlan>,
    converter: RowConverter,
    /// By window end.
    windows: BTreeMap<i64, Counts>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TableFunctionSnapshot {
    windows: BTreeMap<i64, Counts>,
}

impl TableFunctionState {
    pub fn new(plan: Arc<TableFunctionPlan>) -> Result<TableFunctionState, EvalError> {
        let converter = RowConverter::new(vec![SortField::new(plan.column_type.arrow_type())])?;
        Ok(TableFunctionState {
            plan,
            converter,
            windows: BTreeMap::new(),
        })
    }

    /// Counts a batch of the cursor's stream; returns the rows of windows it closed.
    pub fn push(&mut self, batch: &RecordBatch) -> Result<Vec<RecordBatch>, EvalError> {
        let rowtimes = batch.column(0).as_primitive::<TimestampMillisecondType>();
        let column = batch.column(self.plan.column);
        let encoded = self
            .converter
            .convert_columns(std::slice::from_ref(column))?;
        let window = self.plan.window;
        for row in 0..batch.num_rows() {
            // NULL is not an item (Unverified).
            if column.is_null(row) {
                continue;
            }
            let rowtime = rowtimes.value(row);
            let end = rowtime - rowtime.rem_euclid(window) + window;
            let counts = self.windows.entry(end).or_default();
            let value = encoded.row(row).data();
            match counts.index.get(value) {
                Some(&slot) => counts.counts[slot] += 1,
                None => {
                    counts.index.insert(value.to_vec(), counts.values.len());
                    counts.values.push(value.to_vec());
                    counts.counts.push(1);
                }
            }
        }
        let last = rowtimes.values().last().copied().unwrap_or(i64::MIN);
        self.advance(last)
    }

    /// Closes the windows that end by `now`.
    pub fn advance(&mut self, now: i64) -> Result<Vec<RecordBatch>, EvalError> {
        let mut closed = Vec::new();
        while let Some(entry) = self.windows.first_entry() {
            if *entry.key() > now {
                break;
            }
            let (end, counts) = entry.remove_entry();
            closed.push(self.emit(end, &counts)?);
        }
        Ok(closed)
    }

    fn emit(&self, end: i64, counts: &Counts) -> Result<RecordBatch, EvalError> {
        let columns: Vec<ArrayRef> = match self.plan.kind {
            TableFunctionKind::CountDistinct => vec![
                Arc::new(TimestampMillisecondArray::from(vec![end])),
                Arc::new(Int64Array::from(vec![counts.values.len() as i64])),
            ],
            TableFunctionKind::TopK(k) => {
                let mut order: Vec<usize> = (0..counts.values.len()).collect();
                // Stable: equal counts keep their order of first appearance.
                order.sort_by(|a, b| counts.counts[*b].cmp(&counts.counts[*a]));
                order.truncate(k);
                let parser = self.converter.parser();
                let items = self
                    .converter
                    .convert_rows(order.iter().map(|&slot| parser.parse(&counts.values[slot])))?;
                let mut columns: Vec<ArrayRef> =
                    vec![Arc::new(TimestampMillisecondArray::from(vec![
                        end;
                        order.len()
                    ]))];
                columns.extend(items);
                columns.push(Arc::new(Int64Array::from(
                    order
                        .iter()
                        .map(|&slot| counts.counts[slot])
                        .collect::<Vec<_>>(),
                )));
                columns
            }
        };
        Ok(RecordBatch::try_new(self.plan.schema.clone(), columns)?)
    }

    pub fn snapshot(&self) -> TableFunctionSnapshot {
        TableFunctionSnapshot {
            windows: self.windows.clone(),
        }
    }

    pub fn restore(&mut self, snapshot: TableFunctionSnapshot) {
        self.windows = snapshot.windows;
        for counts in self.windows.values_mut() {
            counts.index = counts
                .values
                .iter()
                .enumerate()
                .map(|(slot, value)| (value.clone(), slot))
                .collect();
        }
    }
}
