//! Joins of a stream with a reference table (an in-application table loaded from an object):
//! `FROM stream [LEFT] JOIN table ON ...`. The ON condition's equalities between a stream
//! expression and a table expression are the hash keys (without any, as in a CROSS JOIN,
//! one constant key makes every table row a candidate); the rest of it filters the joined
//! rows. Each stream row gives one row per matching table row, in the table's order; a LEFT
//! JOIN gives a stream row without a match one row with NULL table columns. A joined row
//! keeps the stream row's ROWTIME; its columns are the stream's, then the table's.
//!
//! A table's batch has the layout of a stream's (a ROWTIME column, all zero, then its
//! columns), so its expressions compile like a stream's.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch, UInt32Array};
use arrow::datatypes::{DataType, SchemaRef};
use arrow::row::{RowConverter, SortField};

use super::expr::{EvalError, PhysicalExpr};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinKind {
    Inner,
    Left,
}

/// How a pump joins its stream's batches with a table.
#[derive(Debug, Clone)]
pub struct JoinPlan {
    pub table: String,
    pub kind: JoinKind,
    /// Hash keys: on the stream's batch, and on the table's batch, pairwise of one type.
    pub stream_keys: Vec<PhysicalExpr>,
    pub table_keys: Vec<PhysicalExpr>,
    /// The rest of the ON condition, on the joined batch.
    pub residual: Option<PhysicalExpr>,
    /// Stream columns (with ROWTIME), then the table's columns.
    pub joined_schema: SchemaRef,
}

/// The reference tables a pump joins, in FROM order: each join's stream side is the batch
/// the joins before it gave (`FROM s JOIN t1 ON ... JOIN t2 ON ...`).
#[derive(Debug, Clone)]
pub struct TableJoins(pub Vec<JoinPlan>);

/// A table's rows, indexed by one join's keys.
#[derive(Debug)]
pub struct JoinIndex {
    converter: RowConverter,
    table: RecordBatch,
    rows_by_key: HashMap<Box<[u8]>, Vec<u32>>,
}

impl JoinIndex {
    /// Indexes `table` (a batch in the table's stream layout) by the join's table keys.
    pub fn build(plan: &JoinPlan, table: RecordBatch) -> Result<JoinIndex, EvalError> {
        let converter = converter(plan)?;
        let keys = plan
            .table_keys
            .iter()
            .map(|key| key.evaluate(&table))
            .collect::<Result<Vec<_>, _>>()?;
        let encoded = converter.convert_columns(&keys)?;
        let mut rows_by_key: HashMap<Box<[u8]>, Vec<u32>> = HashMap::new();
        for row in 0..table.num_rows() {
            // NULL equals nothing, not even NULL.
            if keys.iter().any(|key| key.is_null(row)) {
                continue;
            }
            rows_by_key
                .entry(encoded.row(row).data().into())
                .or_default()
                .push(row as u32);
        }
        Ok(JoinIndex {
            converter,
            table,
            rows_by_key,
        })
    }

    /// An index of no rows, until the table is loaded.
    pub fn empty(plan: &JoinPlan, table_schema: SchemaRef) -> Result<JoinIndex, EvalError> {
        JoinIndex::build(plan, RecordBatch::new_empty(table_schema))
    }
}

fn converter(plan: &JoinPlan) -> Result<RowConverter, EvalError> {
    Ok(RowConverter::new(
        plan.stream_keys
            .iter()
            .map(|key| SortField::new(key.ty().arrow_type()))
            .collect(),
    )?)
}

/// The joined rows of a stream batch.
pub fn join(
    plan: &JoinPlan,
    index: &JoinIndex,
    batch: &RecordBatch,
) -> Result<RecordBatch, EvalError> {
    let keys = plan
        .stream_keys
        .iter()
        .map(|key| key.evaluate(batch))
        .collect::<Result<Vec<_>, _>>()?;
    let encoded = index.converter.convert_columns(&keys)?;
    let mut stream_rows = Vec::new();
    let mut table_rows = Vec::new();
    for row in 0..batch.num_rows() {
        if keys.iter().any(|key| key.is_null(row)) {
            continue;
        }
        if let Some(matches) = index.rows_by_key.get(encoded.row(row).data()) {
            for &table_row in matches {
                stream_rows.push(row as u32);
                table_rows.push(Some(table_row));
            }
        }
    }
    let candidates = assemble(plan, batch, &index.table, &stream_rows, &table_rows)?;
    let kept: Vec<bool> = match &plan.residual {
        Some(residual) => {
            let condition = residual.evaluate(&candidates)?;
            match condition.data_type() {
                DataType::Boolean => {
                    let condition = condition.as_boolean();
                    (0..condition.len())
                        .map(|row| condition.is_valid(row) && condition.value(row))
                        .collect()
                }
                _ => vec![false; candidates.num_rows()],
            }
        }
        None => vec![true; candidates.num_rows()],
    };
    if plan.kind == JoinKind::Inner && plan.residual.is_none() {
        return Ok(candidates);
    }
    // The surviving pairs in stream order, and for a LEFT JOIN the unmatched stream rows.
    let mut final_stream = Vec::with_capacity(batch.num_rows());
    let mut final_table = Vec::with_capacity(batch.num_rows());
    let mut pair = 0;
    for row in 0..batch.num_rows() as u32 {
        let mut matched = false;
        while pair < stream_rows.len() && stream_rows[pair] == row {
            if kept[pair] {
                final_stream.push(row);
                final_table.push(table_rows[pair]);
                matched = true;
            }
            pair += 1;
        }
        if !matched && plan.kind == JoinKind::Left {
            final_stream.push(row);
            final_table.push(None);
        }
    }
    assemble(plan, batch, &index.table, &final_stream, &final_table)
}

fn assemble(
    plan: &JoinPlan,
    batch: &RecordBatch,
    table: &RecordBatch,
    stream_rows: &[u32],
    table_rows: &[Option<u32>],
) -> Result<RecordBatch, EvalError> {
    let stream_indices = UInt32Array::from(stream_rows.to_vec());
    let table_indices: UInt32Array = table_rows.iter().copied().collect();
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(plan.joined_schema.fields().len());
    for column in batch.columns() {
        columns.push(arrow::compute::take(column, &stream_indices, None)?);
    }
    for column in table.columns().iter().skip(1) {
        columns.push(arrow::compute::take(column, &table_indices, None)?);
    }
    let options = arrow::array::RecordBatchOptions::new().with_row_count(Some(stream_rows.len()));
    Ok(RecordBatch::try_new_with_options(
        Arc::clone(&plan.joined_schema),
        columns,
        &options,
    )?)
}
