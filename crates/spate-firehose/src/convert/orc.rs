//! Converted rows written as one ORC file (`OrcSerDe`) with `orc-rust`'s Arrow writer.
//!
//! `Compression` (SNAPPY, ZLIB, NONE) and `StripeSizeBytes` map to the writer; what else AWS
//! offers either aligns stripes to HDFS blocks (`BlockSizeBytes`, `EnablePadding`,
//! `PaddingTolerance`) or tunes encodings (`RowIndexStride`, `DictionaryKeyThreshold`), and is
//! accepted with the writer's own choices. `BloomFilterColumns` and `FormatVersion` V0_11 are
//! refused when the stream is configured: the writer writes neither.

use arrow::array::RecordBatch;
use orc_rust::ArrowWriterBuilder;
use orc_rust::compression::CompressionType;

use super::config::OrcOptions;

pub(super) fn write(batch: &RecordBatch, options: &OrcOptions) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut builder = ArrowWriterBuilder::new(&mut out, batch.schema())
        .with_stripe_byte_size(options.stripe_size_bytes);
    match options.compression.as_str() {
        "NONE" => {}
        "ZLIB" => builder = builder.with_compression(CompressionType::Zlib),
        _ => builder = builder.with_compression(CompressionType::Snappy),
    }
    let mut writer = builder
        .try_build()
        .map_err(|err| format!("starting an ORC file: {err}"))?;
    writer
        .write(batch)
        .map_err(|err| format!("writing an ORC file: {err}"))?;
    writer
        .close()
        .map_err(|err| format!("finishing an ORC file: {err}"))?;
    Ok(out)
}
