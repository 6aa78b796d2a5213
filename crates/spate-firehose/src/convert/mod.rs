//! Record format conversion (`DataFormatConversionConfiguration`): a batch of JSON records
//! becomes one Parquet or ORC file with the columns of a Glue table.
//!
//! `config` reads and checks the configuration block; `schema` turns the table's Hive types into
//! Arrow; `json` reads records with the OpenX or Hive JSON SerDe's rules into Arrow arrays;
//! `parquet` and `orc` write the file. [`convert`] is the one entry point delivery calls: it takes
//! a batch's records (after any processor ran) and answers the object's bytes and the records
//! that could not be converted, which delivery writes to the error output as
//! `format-conversion-failed` in the JSON of [`error_records`].
//!
//! AWS's rules, from *Convert input data format in Amazon Data Firehose*
//! (`record-format-conversion.html`) and the API reference:
//! - A record may hold several JSON objects one after the other (`{"a":1}{"a":2}`); each is a
//!   row. A JSON array is not valid input.
//! - A record that cannot be parsed or does not match the schema is written, whole, to the error
//!   output with the error prefix ("Handling errors for data format conversion"); the others are
//!   converted.
//! - "Amazon S3 compression gets disabled when you enable format conversion" (*Enable record
//!   format conversion*): `CompressionFormat` must be `UNCOMPRESSED`; the serializer compresses.
//! - `BufferingHints.SizeInMBs` must be at least 64 with conversion (AWS's message, quoted by
//!   users: "BufferingHints.SizeInMBs must be at least 64 when data format conversion is
//!   enabled."); Spate enforces it too, so a configuration that works here works on AWS.
//! - One deserializer and one serializer: "If both are non-null, the server rejects the request"
//!   (`OutputFormatConfiguration`, `InputFormatConfiguration`).

mod config;
mod json;
mod orc;
mod parquet;
pub mod schema;

use arrow::array::RecordBatch;
use base64::Engine as _;
use serde_json::{Value, json};

use crate::delivery::BatchRecord;

pub use config::{
    Conversion, DEFAULT_SIZE_MIB_WITH_CONVERSION, GlueTableRef, MIN_SIZE_MIB_WITH_CONVERSION,
    OrcOptions, ParquetOptions, Serializer, is_enabled, validate_model,
};
pub use json::{Deserializer, TimestampFormat};

/// The error code of records that failed conversion, in their error output document.
///
/// Unverified: AWS's codes are not listed in the error-handling page; this is the code its
/// troubleshooting notes show for data that does not match the schema.
pub const MALFORMED_DATA: &str = "DataFormatConversion.MalformedData";

/// A batch converted: the file, if any record converted, and the records that did not.
#[derive(Debug, Default)]
pub struct Converted {
    /// The Parquet or ORC file; `None` when no record converted (no object is written then).
    pub object: Option<Vec<u8>>,
    /// Rows written to `object`.
    pub rows: usize,
    pub failed: Vec<FailedRecord>,
}

/// A record that could not be converted, by its index in the batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedRecord {
    pub index: usize,
    pub message: String,
}

/// Why a whole batch could not be converted (the writer failed, not a record).
#[derive(Debug, thiserror::Error)]
#[error("format conversion: {0}")]
pub struct ConvertError(pub String);

/// Converts a batch's records: each record is parsed into rows; a record that fails is set
/// aside whole; the rows of the others are written as one file.
pub fn convert(
    conversion: &Conversion,
    records: &[BatchRecord],
) -> Result<Converted, ConvertError> {
    let mut reader = json::RowReader::new(&conversion.schema, &conversion.input);
    let mut failed = Vec::new();
    for (index, record) in records.iter().enumerate() {
        if let Err(message) = reader.add_record(&record.data) {
            failed.push(FailedRecord { index, message });
        }
    }
    let rows = reader.rows();
    if rows == 0 {
        return Ok(Converted {
            object: None,
            rows,
            failed,
        });
    }
    let batch: RecordBatch = reader
        .finish()
        .map_err(|err| ConvertError(format!("building columns: {err}")))?;
    let object = match &conversion.output {
        Serializer::Parquet(options) => parquet::write(&batch, options),
        Serializer::Orc(options) => orc::write(&batch, options),
    }
    .map_err(ConvertError)?;
    Ok(Converted {
        object: Some(object),
        rows,
        failed,
    })
}

/// The error output of failed records: one JSON document per record, each on its own line, in
/// the schema of *Handling errors for data format conversion*:
/// `attemptsMade`, `arrivalTimestamp`, `lastErrorCode`, `lastErrorMessage`,
/// `attemptEndingTimestamp`, `rawData` (base64), `sequenceNumber`, `subSequenceNumber`,
/// `dataCatalogTable`. The sequence numbers are a Kinesis stream source's; Spate's delivery
/// streams are DirectPut, so they are left out.
pub fn error_records(
    conversion: &Conversion,
    records: &[BatchRecord],
    failed: &[FailedRecord],
    now_ms: i64,
) -> Vec<u8> {
    let table = &conversion.table;
    let catalog = json!({
        "catalogId": table.catalog_id,
        "databaseName": table.database,
        "tableName": table.table,
        "region": table.region,
        "versionId": table.version_id,
        "catalogArn": format!("arn:aws:glue:{}:{}:catalog", table.region, table.catalog_id),
    });
    let mut out = Vec::new();
    for failure in failed {
        debug_assert!(
            failure.index < records.len(),
            "a failed record's index is within the batch"
        );
        let Some(record) = records.get(failure.index) else {
            continue;
        };
        let document: Value = json!({
            "attemptsMade": 1,
            "arrivalTimestamp": record.arrival_ms,
            "lastErrorCode": MALFORMED_DATA,
            "lastErrorMessage": failure.message,
            "attemptEndingTimestamp": now_ms,
            "rawData": base64::engine::general_purpose::STANDARD.encode(&record.data),
            "dataCatalogTable": catalog,
        });
        out.extend_from_slice(document.to_string().as_bytes());
        out.push(b'\n');
    }
    out
}

#[cfg(test)]
mod tests;
