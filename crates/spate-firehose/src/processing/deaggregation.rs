//! `RecordDeAggregation`: one record in, several out.
//!
//! *Apply dynamic partitioning to aggregated data*
//! (`firehose/latest/dev/dynamic-partitioning-multirecord-deaggergation.html`): `SubRecordType`
//! `JSON` splits "based on consecutive JSON objects" (`{"a":1}{"a":2}` or newline-delimited;
//! "An array of JSON objects is not a valid input"); `DELIMITED` splits on a custom delimiter
//! that "must be a base-64 encoded string" (`####` is given as `IyMjIw==`); "Record
//! deaggregation by JSON or by delimiter is capped at 500 per record."
//!
//! KPL-aggregated records (magic `F3 89 9A C2`, a protobuf `AggregatedRecord`, the MD5 of the
//! protobuf bytes; `awslabs/amazon-kinesis-producer` `aggregation-format.md`) are split into
//! their sub-records first, whatever `SubRecordType` says; a blob without the magic or with a
//! bad MD5 is a plain record, as the KCL reads it. The three small protobuf messages are decoded
//! by hand here (only `records.data` is needed) rather than with a protobuf crate.
//!
//! Unverified: what AWS does with a record that does not split (not JSON, more than 500 parts);
//! here it goes to the `processing-failed` error output.

use base64::Engine as _;
use bytes::Bytes;
use md5::{Digest, Md5};

use super::{FailedRecord, Failure, Processed, ProcessorSpec, Record};
use crate::error::FirehoseError;

/// The most sub-records one record may split into.
pub const MAX_SUB_RECORDS: usize = 500;

/// The first four bytes of a KPL-aggregated record.
pub const KPL_MAGIC: [u8; 4] = [0xF3, 0x89, 0x9A, 0xC2];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeAggregation {
    Json,
    Delimited(Vec<u8>),
}

/// The bytes of a base64 `Delimiter` parameter.
pub fn decode_delimiter(text: &str) -> Result<Vec<u8>, FirehoseError> {
    match base64::engine::general_purpose::STANDARD.decode(text) {
        Ok(bytes) if !bytes.is_empty() => Ok(bytes),
        _ => Err(FirehoseError::InvalidArgument(format!(
            "Delimiter {text} must be a non-empty base64-encoded string."
        ))),
    }
}

impl DeAggregation {
    pub fn from_spec(spec: &ProcessorSpec) -> Result<DeAggregation, FirehoseError> {
        spec.only("RecordDeAggregation", &["SubRecordType", "Delimiter"])?;
        match spec.parameter("SubRecordType") {
            Some("JSON") => {
                if spec.parameter("Delimiter").is_some() {
                    return Err(FirehoseError::InvalidArgument(
                        "Delimiter can be specified only when SubRecordType is DELIMITED.".into(),
                    ));
                }
                Ok(DeAggregation::Json)
            }
            Some("DELIMITED") => match spec.parameter("Delimiter") {
                Some(text) => Ok(DeAggregation::Delimited(decode_delimiter(text)?)),
                None => Err(FirehoseError::InvalidArgument(
                    "Delimiter is required when SubRecordType is DELIMITED.".into(),
                )),
            },
            Some(other) => Err(FirehoseError::InvalidArgument(format!(
                "SubRecordType {other} is not valid: use JSON or DELIMITED."
            ))),
            None => Err(FirehoseError::InvalidArgument(
                "RecordDeAggregation requires the SubRecordType parameter.".into(),
            )),
        }
    }

    /// Replaces each record by its sub-records; records that do not split go to `failed`.
    pub fn apply(&self, processed: &mut Processed, now_ms: i64) {
        let mut out = Vec::with_capacity(processed.records.len());
        for record in std::mem::take(&mut processed.records) {
            let parts = match kpl_sub_records(&record.data) {
                Some(parts) => parts,
                None => vec![record.data.clone()],
            };
            let mut sub_records = Vec::new();
            let mut error = None;
            for part in parts {
                match self.split(&part) {
                    Ok(pieces) => sub_records.extend(pieces),
                    Err(message) => {
                        error = Some(message);
                        break;
                    }
                }
            }
            if error.is_none() && sub_records.len() > MAX_SUB_RECORDS {
                error = Some(format!(
                    "the record splits into {} sub-records, more than {MAX_SUB_RECORDS}",
                    sub_records.len()
                ));
            }
            if let Some(message) = error {
                processed.failed.push(FailedRecord::processing_failed(
                    &record,
                    Failure {
                        attempts_made: 1,
                        error_code: "DeAggregation.InvalidRecord".into(),
                        error_message: message,
                        attempt_ending_ms: now_ms,
                        lambda_arn: None,
                    },
                ));
                continue;
            }
            if sub_records.len() == 1 {
                out.push(Record {
                    data: sub_records.remove(0),
                    ..record
                });
                continue;
            }
            for (index, data) in sub_records.into_iter().enumerate() {
                out.push(Record {
                    id: format!("{}.{index}", record.id),
                    data,
                    ..record.clone()
                });
            }
        }
        processed.records = out;
    }

    fn split(&self, data: &Bytes) -> Result<Vec<Bytes>, String> {
        match self {
            DeAggregation::Json => split_json(data),
            DeAggregation::Delimited(delimiter) => Ok(split_delimited(data, delimiter)),
        }
    }
}

/// Consecutive JSON objects, each as its own bytes.
pub fn split_json(data: &Bytes) -> Result<Vec<Bytes>, String> {
    let mut parts = Vec::new();
    let mut stream =
        serde_json::Deserializer::from_slice(data).into_iter::<serde::de::IgnoredAny>();
    let mut start = 0;
    while let Some(next) = stream.next() {
        if let Err(err) = next {
            return Err(format!("the record is not consecutive JSON objects: {err}"));
        }
        let end = stream.byte_offset();
        let text = &data[start..end];
        let skip = text
            .iter()
            .position(|b| !b.is_ascii_whitespace())
            .unwrap_or(text.len());
        if text.get(skip) != Some(&b'{') {
            return Err("the record is not consecutive JSON objects".into());
        }
        parts.push(data.slice(start + skip..end));
        start = end;
    }
    if parts.is_empty() {
        return Err("the record holds no JSON object".into());
    }
    Ok(parts)
}

/// The pieces between delimiters, empty pieces left out.
pub fn split_delimited(data: &Bytes, delimiter: &[u8]) -> Vec<Bytes> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut at = 0;
    while at + delimiter.len() <= data.len() {
        if &data[at..at + delimiter.len()] == delimiter {
            if at > start {
                parts.push(data.slice(start..at));
            }
            at += delimiter.len();
            start = at;
        } else {
            at += 1;
        }
    }
    if start < data.len() {
        parts.push(data.slice(start..));
    }
    parts
}

/// The `data` of each sub-record of a KPL-aggregated record; `None` if `data` is not one.
pub fn kpl_sub_records(data: &Bytes) -> Option<Vec<Bytes>> {
    if data.len() < KPL_MAGIC.len() + 16 || data[..4] != KPL_MAGIC {
        return None;
    }
    let body = data.slice(4..data.len() - 16);
    let digest = &data[data.len() - 16..];
    if Md5::digest(&body).as_slice() != digest {
        return None;
    }
    let mut records = Vec::new();
    // AggregatedRecord: 1 partition_key_table, 2 explicit_hash_key_table, 3 records.
    for field in Fields::new(&body) {
        let (number, value) = field?;
        if number == 3 {
            let Value::Bytes(record) = value else {
                return None;
            };
            // Record: 1 partition_key_index, 2 explicit_hash_key_index, 3 data, 4 tags.
            let mut sub_data = None;
            for field in Fields::new(&record) {
                if let (3, Value::Bytes(bytes)) = field? {
                    sub_data = Some(bytes);
                }
            }
            records.push(sub_data?);
        }
    }
    Some(records)
}

enum Value {
    Varint,
    Bytes(Bytes),
    Fixed,
}

/// The fields of a protobuf message: (field number, value); `None` for malformed bytes.
struct Fields<'a> {
    data: &'a Bytes,
    at: usize,
}

impl<'a> Fields<'a> {
    fn new(data: &'a Bytes) -> Fields<'a> {
        Fields { data, at: 0 }
    }

    fn varint(&mut self) -> Option<u64> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = *self.data.get(self.at)?;
            self.at += 1;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Some(value);
            }
        }
        None
    }

    fn field(&mut self) -> Option<(u64, Value)> {
        let key = self.varint()?;
        let value = match key & 7 {
            0 => {
                self.varint()?;
                Value::Varint
            }
            1 | 5 => {
                let width = if key & 7 == 1 { 8 } else { 4 };
                if self.at + width > self.data.len() {
                    return None;
                }
                self.at += width;
                Value::Fixed
            }
            2 => {
                let len = usize::try_from(self.varint()?).ok()?;
                let end = self.at.checked_add(len)?;
                if end > self.data.len() {
                    return None;
                }
                let bytes = self.data.slice(self.at..end);
                self.at = end;
                Value::Bytes(bytes)
            }
            _ => return None,
        };
        Some((key >> 3, value))
    }
}

impl Iterator for Fields<'_> {
    type Item = Option<(u64, Value)>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.at >= self.data.len() {
            return None;
        }
        let field = self.field();
        if field.is_none() {
            // Stop after a malformed field.
            self.at = self.data.len();
        }
        Some(field)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn varint(mut value: u64, out: &mut Vec<u8>) {
        while value >= 0x80 {
            out.push((value as u8) | 0x80);
            value >>= 7;
        }
        out.push(value as u8);
    }

    fn bytes_field(number: u64, bytes: &[u8], out: &mut Vec<u8>) {
        varint(number << 3 | 2, out);
        varint(bytes.len() as u64, out);
        out.extend_from_slice(bytes);
    }

    /// A KPL-aggregated record of `datas`, built by hand.
    pub(crate) fn kpl_record(datas: &[&[u8]]) -> Vec<u8> {
        let mut body = Vec::new();
        bytes_field(1, b"pk", &mut body);
        for data in datas {
            let mut record = Vec::new();
            varint(1 << 3, &mut record);
            varint(0, &mut record);
            bytes_field(3, data, &mut record);
            bytes_field(3, &record, &mut body);
        }
        let mut out = KPL_MAGIC.to_vec();
        out.extend_from_slice(&body);
        out.extend_from_slice(Md5::digest(&body).as_slice());
        out
    }

    fn record(id: &str, data: &[u8]) -> Record {
        Record {
            id: id.into(),
            arrival_ms: 7,
            data: Bytes::copy_from_slice(data),
            lambda_keys: BTreeMap::new(),
            query_keys: BTreeMap::new(),
        }
    }

    #[test]
    fn kpl_records_split_into_their_sub_records() {
        let aggregated = Bytes::from(kpl_record(&[b"{\"a\":1}", b"{\"a\":2}"]));
        let parts = kpl_sub_records(&aggregated).expect("a KPL record");
        assert_eq!(
            parts,
            vec![Bytes::from("{\"a\":1}"), Bytes::from("{\"a\":2}")]
        );

        let mut tampered = aggregated.to_vec();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert_eq!(kpl_sub_records(&Bytes::from(tampered)), None, "bad MD5");
        assert_eq!(kpl_sub_records(&Bytes::from("plain")), None);

        let mut processed = Processed {
            records: vec![record("5", &aggregated)],
            failed: vec![],
        };
        DeAggregation::Json.apply(&mut processed, 0);
        let ids: Vec<&str> = processed.records.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["5.0", "5.1"]);
        assert_eq!(processed.records[1].data, Bytes::from("{\"a\":2}"));
    }

    #[test]
    fn json_and_delimited_split_as_documented() {
        let parts = split_json(&Bytes::from("{\"a\":1}{\"a\":2}\n{\"a\":3}\n")).expect("splits");
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[2], Bytes::from("{\"a\":3}"));
        assert!(split_json(&Bytes::from("[{\"a\":1}, {\"a\":2}]")).is_err());
        assert!(split_json(&Bytes::from("not json")).is_err());

        let delimiter = decode_delimiter("IyMjIw==").expect("####");
        assert_eq!(delimiter, b"####");
        assert_eq!(
            split_delimited(&Bytes::from("a####b####"), &delimiter),
            vec![Bytes::from("a"), Bytes::from("b")]
        );

        let mut processed = Processed {
            records: vec![record("1", b"nope"), record("2", b"{}")],
            failed: vec![],
        };
        DeAggregation::Json.apply(&mut processed, 9);
        assert_eq!(processed.records.len(), 1);
        assert_eq!(processed.records[0].id, "2");
        assert_eq!(processed.failed.len(), 1);
        assert_eq!(processed.failed[0].line["rawData"], "bm9wZQ==");
    }
}
