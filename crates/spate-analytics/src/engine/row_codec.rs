//! Rows kept by an operator, written into a snapshot as Arrow's row format (one byte string
//! per row) and read back into a batch of their schema.

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use arrow::row::{RowConverter, SortField};

use super::expr::EvalError;

fn converter(schema: &SchemaRef) -> Result<RowConverter, EvalError> {
    Ok(RowConverter::new(
        schema
            .fields()
            .iter()
            .map(|field| SortField::new(field.data_type().clone()))
            .collect(),
    )?)
}

/// Every row of `batch`, encoded.
pub fn encode(batch: &RecordBatch) -> Result<Vec<Vec<u8>>, EvalError> {
    let converter = converter(batch.schema_ref())?;
    let encoded = converter.convert_columns(batch.columns())?;
    Ok(encoded.iter().map(|row| row.data().to_vec()).collect())
}

/// The rows [`encode`] wrote, as one batch of `schema`.
pub fn decode(rows: &[Vec<u8>], schema: &SchemaRef) -> Result<RecordBatch, EvalError> {
    if rows.is_empty() {
        return Ok(RecordBatch::new_empty(schema.clone()));
    }
    let converter = converter(schema)?;
    let parser = converter.parser();
    let columns = converter.convert_rows(rows.iter().map(|row| parser.parse(row)))?;
    Ok(RecordBatch::try_new(schema.clone(), columns)?)
}
