//! The Kinesis Analytics API shapes that describe an input's schema (`SourceSchema`,
//! `RecordFormat`, `MappingParameters`, `RecordColumn`), as plain structs that (de)serialize in
//! the API's PascalCase JSON so the API layer can reuse them.

use serde::{Deserialize, Serialize};

/// `SourceSchema`: how to read records into rows of an in-application stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceSchema {
    #[serde(rename = "RecordFormat")]
    pub record_format: RecordFormat,
    /// Only `UTF-8` is allowed.
    #[serde(
        rename = "RecordEncoding",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub record_encoding: Option<String>,
    #[serde(rename = "RecordColumns")]
    pub record_columns: Vec<RecordColumn>,
}

/// `RecordFormat`: JSON or CSV, with the parameters of that format.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordFormat {
    #[serde(rename = "RecordFormatType")]
    pub record_format_type: RecordFormatType,
    #[serde(
        rename = "MappingParameters",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub mapping_parameters: Option<MappingParameters>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RecordFormatType {
    #[serde(rename = "JSON")]
    Json,
    #[serde(rename = "CSV")]
    Csv,
}

/// `MappingParameters`: one of the two members, matching the format type.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct MappingParameters {
    #[serde(
        rename = "JSONMappingParameters",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub json_mapping_parameters: Option<JsonMappingParameters>,
    #[serde(
        rename = "CSVMappingParameters",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub csv_mapping_parameters: Option<CsvMappingParameters>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JsonMappingParameters {
    /// The JSONPath of the rows within a record: `$`, or e.g. `$.items[0:]` for one row per
    /// element of an array.
    #[serde(rename = "RecordRowPath")]
    pub record_row_path: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CsvMappingParameters {
    #[serde(rename = "RecordRowDelimiter")]
    pub record_row_delimiter: String,
    #[serde(rename = "RecordColumnDelimiter")]
    pub record_column_delimiter: String,
}

/// `RecordColumn`: one column of the in-application stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordColumn {
    #[serde(rename = "Name")]
    pub name: String,
    /// For JSON, the JSONPath of the value; unused for CSV, which maps by position.
    #[serde(rename = "Mapping", default, skip_serializing_if = "Option::is_none")]
    pub mapping: Option<String>,
    #[serde(rename = "SqlType")]
    pub sql_type: String,
}

impl SourceSchema {
    /// A JSON schema with the given row path.
    pub fn json(record_row_path: &str, record_columns: Vec<RecordColumn>) -> SourceSchema {
        SourceSchema {
            record_format: RecordFormat {
                record_format_type: RecordFormatType::Json,
                mapping_parameters: Some(MappingParameters {
                    json_mapping_parameters: Some(JsonMappingParameters {
                        record_row_path: record_row_path.to_string(),
                    }),
                    csv_mapping_parameters: None,
                }),
            },
            record_encoding: Some("UTF-8".to_string()),
            record_columns,
        }
    }

    /// A CSV schema with the given delimiters.
    pub fn csv(
        row_delimiter: &str,
        column_delimiter: &str,
        record_columns: Vec<RecordColumn>,
    ) -> SourceSchema {
        SourceSchema {
            record_format: RecordFormat {
                record_format_type: RecordFormatType::Csv,
                mapping_parameters: Some(MappingParameters {
                    json_mapping_parameters: None,
                    csv_mapping_parameters: Some(CsvMappingParameters {
                        record_row_delimiter: row_delimiter.to_string(),
                        record_column_delimiter: column_delimiter.to_string(),
                    }),
                }),
            },
            record_encoding: Some("UTF-8".to_string()),
            record_columns,
        }
    }
}

impl RecordColumn {
    pub fn new(name: &str, mapping: Option<&str>, sql_type: &str) -> RecordColumn {
        RecordColumn {
            name: name.to_string(),
            mapping: mapping.map(str::to_string),
            sql_type: sql_type.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_the_api_json() {
        let text = r#"{"RecordFormat":{"RecordFormatType":"JSON","MappingParameters":{"JSONMappingParameters":{"RecordRowPath":"$"}}},"RecordEncoding":"UTF-8","RecordColumns":[{"Name":"TICKER","Mapping":"$.ticker","SqlType":"VARCHAR(4)"}]}"#;
        let schema: SourceSchema = serde_json::from_str(text).expect("valid shape");
        assert_eq!(
            schema,
            SourceSchema::json(
                "$",
                vec![RecordColumn::new("TICKER", Some("$.ticker"), "VARCHAR(4)")]
            )
        );
        assert_eq!(serde_json::to_string(&schema).expect("serializable"), text);

        let csv = SourceSchema::csv("\n", "|", vec![RecordColumn::new("COL_1", None, "INTEGER")]);
        assert_eq!(
            serde_json::to_string(&csv).expect("serializable"),
            r#"{"RecordFormat":{"RecordFormatType":"CSV","MappingParameters":{"CSVMappingParameters":{"RecordRowDelimiter":"\n","RecordColumnDelimiter":"|"}}},"RecordEncoding":"UTF-8","RecordColumns":[{"Name":"COL_1","SqlType":"INTEGER"}]}"#
        );
    }
}
