//! `MetadataExtraction`: the `partitionKeyFromQuery` values of each record, from a jq query
//! (`MetadataExtractionQuery`, `JsonParsingEngine` `JQ-1.6`) run on the record's JSON.
//!
//! *Dynamic partitioning*, "Partitioning keys with inline parsing"
//! (`firehose/latest/dev/dynamic-partitioning-partitioning-keys.html`): the query builds an
//! object whose members are the keys, e.g. `{customer_id: .customer_id}`. A record that is not
//! JSON, a query that fails or yields no object, or a key with a null (or non-scalar) value is a
//! record whose keys cannot be evaluated: it goes to the `partitioning-failed` error output.
//!
//! jq runs on the `jaq` crates (jaq-core, jaq-std, jaq-json), a Rust jq; their values are not
//! `Send`, so a query is compiled and run inside one synchronous call.

use std::collections::BTreeMap;

use jaq_core::load::{Arena, File, Loader};
use jaq_core::{Compiler, Ctx, Vars, data, unwrap_valr};
use jaq_json::Val;
use serde_json::Value;

use super::{FailedRecord, Failure, Processed, ProcessorSpec};
use crate::error::FirehoseError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataExtraction {
    pub query: String,
}

impl MetadataExtraction {
    pub fn from_spec(spec: &ProcessorSpec) -> Result<MetadataExtraction, FirehoseError> {
        spec.only(
            "MetadataExtraction",
            &["MetadataExtractionQuery", "JsonParsingEngine"],
        )?;
        let Some(query) = spec.parameter("MetadataExtractionQuery") else {
            return Err(FirehoseError::InvalidArgument(
                "MetadataExtraction requires the MetadataExtractionQuery parameter.".into(),
            ));
        };
        match spec.parameter("JsonParsingEngine") {
            Some("JQ-1.6") => {}
            Some(other) => {
                return Err(FirehoseError::InvalidArgument(format!(
                    "JsonParsingEngine {other} is not supported: use JQ-1.6."
                )));
            }
            None => {
                return Err(FirehoseError::InvalidArgument(
                    "MetadataExtraction requires the JsonParsingEngine parameter (JQ-1.6).".into(),
                ));
            }
        }
        extract(query, std::iter::empty::<&[u8]>()).map_err(|message| {
            FirehoseError::InvalidArgument(format!(
                "MetadataExtractionQuery {query} is not a valid jq expression: {message}"
            ))
        })?;
        Ok(MetadataExtraction {
            query: query.to_owned(),
        })
    }

    /// Sets each record's `query_keys`; records whose keys cannot be evaluated go to `failed`.
    pub fn apply(&self, processed: &mut Processed, now_ms: i64) {
        let records = std::mem::take(&mut processed.records);
        let results = match extract(&self.query, records.iter().map(|r| &r.data[..])) {
            Ok(results) => results,
            Err(message) => vec![Err(message); records.len()],
        };
        for (mut record, result) in records.into_iter().zip(results) {
            match result {
                Ok(keys) => {
                    record.query_keys = keys;
                    processed.records.push(record);
                }
                Err(message) => processed.failed.push(FailedRecord::partitioning_failed(
                    &record,
                    Failure {
                        attempts_made: 1,
                        error_code: "DynamicPartitioning.MetadataExtractionFailed".into(),
                        error_message: message,
                        attempt_ending_ms: now_ms,
                        lambda_arn: None,
                    },
                )),
            }
        }
    }
}

/// One record's partition keys, or why they could not be evaluated.
pub type KeysOrError = Result<BTreeMap<String, String>, String>;

/// Compiles `query` and runs it on each input; `Err` if it does not compile.
pub fn extract<'a>(
    query: &str,
    inputs: impl Iterator<Item = &'a [u8]>,
) -> Result<Vec<KeysOrError>, String> {
    let defs = jaq_core::defs()
        .chain(jaq_std::defs())
        .chain(jaq_json::defs());
    let funs = jaq_core::funs()
        .chain(jaq_std::funs())
        .chain(jaq_json::funs());
    let loader = Loader::new(defs);
    let arena = Arena::default();
    let modules = loader
        .load(
            &arena,
            File {
                code: query,
                path: (),
            },
        )
        .map_err(|errors| format!("{} parse error(s)", errors.len()))?;
    let filter = Compiler::default()
        .with_funs(funs)
        .compile(modules)
        .map_err(|errors| format!("{} compile error(s)", errors.len()))?;
    let mut results = Vec::new();
    for input in inputs {
        let result = (|| {
            let input = jaq_json::read::parse_single(input)
                .map_err(|_| "the record is not valid JSON".to_string())?;
            let ctx = Ctx::<data::JustLut<Val>>::new(&filter.lut, Vars::new([]));
            let mut out = filter.id.run((ctx, input)).map(unwrap_valr);
            let value: Val = match out.next() {
                Some(Ok(value)) => value,
                Some(Err(err)) => return Err(format!("the query failed: {err}")),
                None => return Err("the query gave no value".to_string()),
            };
            let value: Value = serde_json::from_str(&value.to_string())
                .map_err(|_| "the query's value is not JSON".to_string())?;
            keys_of(value)
        })();
        results.push(result);
    }
    Ok(results)
}

/// The partition keys of the query's value: an object of scalars.
fn keys_of(value: Value) -> Result<BTreeMap<String, String>, String> {
    let Value::Object(members) = value else {
        return Err("the query's value is not a JSON object".into());
    };
    let mut keys = BTreeMap::new();
    for (key, value) in members {
        let text = match value {
            Value::String(text) => text,
            Value::Number(number) => number.to_string(),
            Value::Bool(flag) => flag.to_string(),
            Value::Null => return Err(format!("partition key {key} evaluated to null")),
            Value::Array(_) | Value::Object(_) => {
                return Err(format!("partition key {key} is not a scalar value"));
            }
        };
        keys.insert(key, text);
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_gives_the_keys_of_each_record() {
        let inputs: [&[u8]; 4] = [
            br#"{"customer_id": "c1", "n": 3}"#,
            br#"{"customer_id": 42}"#,
            br#"{"other": 1}"#,
            b"not json",
        ];
        let results = extract("{customer: .customer_id}", inputs.into_iter()).expect("compiles");
        assert_eq!(results[0].as_ref().expect("keys")["customer"], "c1");
        assert_eq!(results[1].as_ref().expect("keys")["customer"], "42");
        assert!(results[2].as_ref().expect_err("null").contains("null"));
        assert!(results[3].is_err());
        assert!(extract("{customer: .customer_id", std::iter::empty()).is_err());
    }

    #[test]
    fn parameters_are_checked() {
        let spec: ProcessorSpec = serde_json::from_value(serde_json::json!({
            "Type": "MetadataExtraction",
            "Parameters": [
                {"ParameterName": "MetadataExtractionQuery", "ParameterValue": "{a: .a}"},
                {"ParameterName": "JsonParsingEngine", "ParameterValue": "JQ-1.6"}
            ]
        }))
        .expect("parses");
        MetadataExtraction::from_spec(&spec).expect("valid");
        let mut bad = spec.clone();
        bad.parameters.as_mut().expect("some")[1].parameter_value = Some("JQ-2".into());
        assert!(MetadataExtraction::from_spec(&bad).is_err());
    }
}
