//! `Decompression` (`CompressionFormat` `GZIP`): gunzips each record, as CloudWatch Logs
//! subscription filters send them gzip-compressed (*Decompress CloudWatch Logs*,
//! `firehose/latest/dev/writing-with-cloudwatch-logs-decompression.html`). A record that is not
//! gzip, or decompresses past [`MAX_DECOMPRESSED_BYTES`], goes to `processing-failed`.
//!
//! Unverified: AWS's error codes for such records (`Decompression.*` here).

use std::io::Read;

use bytes::Bytes;
use flate2::read::MultiGzDecoder;

use super::{FailedRecord, Failure, Processed, ProcessorSpec};
use crate::error::FirehoseError;

/// The most one record may decompress to (a bound against decompression bombs).
pub const MAX_DECOMPRESSED_BYTES: u64 = 64 << 20;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decompression;

impl Decompression {
    pub fn from_spec(spec: &ProcessorSpec) -> Result<Decompression, FirehoseError> {
        spec.only("Decompression", &["CompressionFormat"])?;
        match spec.parameter("CompressionFormat") {
            None | Some("GZIP") => Ok(Decompression),
            Some(other) => Err(FirehoseError::InvalidArgument(format!(
                "CompressionFormat {other} is not supported for Decompression: use GZIP."
            ))),
        }
    }

    pub fn apply(&self, processed: &mut Processed, now_ms: i64) {
        for mut record in std::mem::take(&mut processed.records) {
            match gunzip(&record.data) {
                Ok(data) => {
                    record.data = Bytes::from(data);
                    processed.records.push(record);
                }
                Err(message) => processed.failed.push(FailedRecord::processing_failed(
                    &record,
                    Failure {
                        attempts_made: 1,
                        error_code: "Decompression.InvalidRecord".into(),
                        error_message: message,
                        attempt_ending_ms: now_ms,
                        lambda_arn: None,
                    },
                )),
            }
        }
    }
}

/// `data` gunzipped, within [`MAX_DECOMPRESSED_BYTES`].
pub fn gunzip(data: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    MultiGzDecoder::new(data)
        .take(MAX_DECOMPRESSED_BYTES + 1)
        .read_to_end(&mut out)
        .map_err(|err| format!("the record is not gzip: {err}"))?;
    if out.len() as u64 > MAX_DECOMPRESSED_BYTES {
        return Err(format!(
            "the record decompresses to more than {MAX_DECOMPRESSED_BYTES} bytes"
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    pub(crate) fn gzip(data: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(data).expect("in memory");
        encoder.finish().expect("in memory")
    }

    #[test]
    fn gzip_records_are_decompressed_and_others_fail() {
        assert_eq!(gunzip(&gzip(b"hello")).expect("gzip"), b"hello");
        assert!(gunzip(b"plain").is_err());
    }
}
