//! `AppendDelimiterToRecord`: a newline after each record, so the records of an object can be
//! told apart. The model: "If you want to add a new line delimiter between records in objects
//! that are delivered to Amazon S3, choose `AppendDelimiterToRecord` as a processor type. You
//! don't have to put a processor parameter" (`Processor`, service-2.json).
//!
//! Unverified: a `Delimiter` parameter. Spate accepts one, base64-encoded as for
//! `RecordDeAggregation`, and appends its bytes instead of `\n`.

use base64::Engine as _;
use bytes::{BufMut, BytesMut};

use super::{ProcessorSpec, Record};
use crate::error::FirehoseError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendDelimiter {
    pub delimiter: Vec<u8>,
}

impl AppendDelimiter {
    pub fn from_spec(spec: &ProcessorSpec) -> Result<AppendDelimiter, FirehoseError> {
        spec.only("AppendDelimiterToRecord", &["Delimiter"])?;
        let delimiter = match spec.parameter("Delimiter") {
            None => b"\n".to_vec(),
            Some(text) => super::deaggregation::decode_delimiter(text)?,
        };
        Ok(AppendDelimiter { delimiter })
    }

    pub fn apply(&self, records: &mut [Record]) {
        for record in records {
            let mut data = BytesMut::with_capacity(record.data.len() + self.delimiter.len());
            data.put_slice(&record.data);
            data.put_slice(&self.delimiter);
            record.data = data.freeze();
        }
    }
}

/// The standard base64 of `bytes`, for messages and tests.
pub fn base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use std::collections::BTreeMap;

    fn record(data: &str) -> Record {
        Record {
            id: "0".into(),
            arrival_ms: 0,
            data: Bytes::from(data.to_owned()),
            lambda_keys: BTreeMap::new(),
            query_keys: BTreeMap::new(),
        }
    }

    #[test]
    fn a_newline_by_default_or_the_given_delimiter() {
        let plain = AppendDelimiter::from_spec(&ProcessorSpec::default()).expect("valid");
        let mut records = vec![record("a"), record("b")];
        plain.apply(&mut records);
        assert_eq!(records[0].data, Bytes::from("a\n"));
        assert_eq!(records[1].data, Bytes::from("b\n"));

        let spec: ProcessorSpec = serde_json::from_value(serde_json::json!({
            "Type": "AppendDelimiterToRecord",
            "Parameters": [{"ParameterName": "Delimiter", "ParameterValue": base64(b"|")}]
        }))
        .expect("parses");
        let custom = AppendDelimiter::from_spec(&spec).expect("valid");
        let mut records = vec![record("a")];
        custom.apply(&mut records);
        assert_eq!(records[0].data, Bytes::from("a|"));
    }
}
