//! Converted rows written as one Parquet file (`ParquetSerDe`) with the `parquet` crate's
//! Arrow writer.
//!
//! `Compression` (SNAPPY, GZIP, UNCOMPRESSED), `PageSizeBytes`, `EnableDictionaryCompression`
//! and `WriterVersion` (V1: Parquet format 1.0 data pages, V2: 2.0) map to the writer's
//! properties; `BlockSizeBytes` is the row group size in bytes, as parquet-mr's
//! `parquet.block.size`. `MaxPaddingBytes` pads row groups to HDFS blocks in parquet-mr; a
//! single S3 object has none, so it has no effect.

use arrow::array::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, GzipLevel};
use parquet::file::properties::{WriterProperties, WriterVersion};

use super::config::ParquetOptions;

pub(super) fn properties(options: &ParquetOptions) -> WriterProperties {
    let compression = match options.compression.as_str() {
        "GZIP" => Compression::GZIP(GzipLevel::default()),
        "UNCOMPRESSED" => Compression::UNCOMPRESSED,
        _ => Compression::SNAPPY,
    };
    let version = if options.writer_version_2 {
        WriterVersion::PARQUET_2_0
    } else {
        WriterVersion::PARQUET_1_0
    };
    WriterProperties::builder()
        .set_compression(compression)
        .set_data_page_size_limit(options.page_size_bytes)
        .set_dictionary_enabled(options.dictionary)
        .set_writer_version(version)
        .set_max_row_group_bytes(Some(options.block_size_bytes))
        .set_created_by(format!("spate {}", env!("CARGO_PKG_VERSION")))
        .build()
}

pub(super) fn write(batch: &RecordBatch, options: &ParquetOptions) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut writer = ArrowWriter::try_new(&mut out, batch.schema(), Some(properties(options)))
        .map_err(|err| format!("starting a Parquet file: {err}"))?;
    writer
        .write(batch)
        .map_err(|err| format!("writing a Parquet file: {err}"))?;
    writer
        .close()
        .map_err(|err| format!("finishing a Parquet file: {err}"))?;
    Ok(out)
}
