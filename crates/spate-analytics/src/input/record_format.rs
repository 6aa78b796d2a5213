//! Reading one raw record (the bytes of a stream record) into rows, following an input's
//! `SourceSchema`: an `InputParser` is built once per schema (types and paths parsed and
//! checked) and then turns each record into zero or more rows, or per-row errors for the
//! application's error stream.
//!
//! JSON: the `RecordRowPath` selects the rows (`$` is the whole record, `$.items[0:]` one row per
//! element); each column's `Mapping` selects its value. Unverified: a mapping that begins with
//! the row path (`$.items[0:].id`) is read within each row; any other mapping is read from the
//! record's root, so a field outside the array is repeated on every row. A column with no
//! mapping reads `$.<Name>` (Unverified). A mapping that matches nothing gives NULL, as the
//! developer guide says of columns missing from a record.
//!
//! CSV: the record splits on the row delimiter, then each row on the column delimiter; columns
//! map by position (the guide: the first columns may be imported, none skipped). Unverified:
//! empty rows are skipped, missing trailing fields are NULL, an empty field is NULL except in a
//! character column (where it is the empty string), and quotes have no special meaning.

use super::flat::{FlatJson, FlatRow};
use super::json::Json;
use super::jsonpath::{JsonPath, JsonPathError};
use super::shapes::{RecordFormatType, SourceSchema};
use super::types::{SqlType, SqlTypeError};
use super::value::{ConversionError, Value};

/// One row, values in the schema's column order.
pub type Row = Vec<Value>;

/// Why a `SourceSchema` cannot be used to read records.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchemaError {
    #[error("column {column}: {source}")]
    ColumnType {
        column: String,
        source: SqlTypeError,
    },
    #[error("column {column}: {source}")]
    ColumnMapping {
        column: String,
        source: JsonPathError,
    },
    #[error("RecordRowPath: {0}")]
    RowPath(JsonPathError),
    #[error("a {0} record format needs its mapping parameters")]
    MissingMappingParameters(&'static str),
    #[error("record encoding {0:?} is not supported; only UTF-8 is")]
    Encoding(String),
    #[error("a schema needs at least one column")]
    NoColumns,
    #[error("CSV delimiters cannot be empty")]
    EmptyDelimiter,
}

/// Why a record, or one row of it, could not be read; the row goes to the error stream.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RowError {
    #[error("the record is not UTF-8 text")]
    NotUtf8,
    #[error("the record is not JSON: {0}")]
    NotJson(String),
    #[error("column {column}: {error}")]
    Column {
        column: String,
        error: ConversionError,
    },
}

/// Where a JSON column's value is read from.
#[derive(Debug, Clone)]
enum Mapping {
    /// Relative to the row the row path selected.
    InRow(JsonPath),
    /// From the whole record.
    FromRoot(JsonPath),
}

#[derive(Debug, Clone)]
enum Format {
    Json {
        row_path: JsonPath,
        mappings: Vec<Mapping>,
        /// The one-pass reading, when the paths allow it (`flat`).
        flat: Option<FlatJson>,
    },
    Csv {
        row_delimiter: String,
        column_delimiter: String,
    },
}

/// A checked `SourceSchema`, ready to read records.
#[derive(Debug, Clone)]
pub struct InputParser {
    names: Vec<String>,
    types: Vec<SqlType>,
    format: Format,
}

impl InputParser {
    pub fn new(schema: &SourceSchema) -> Result<InputParser, SchemaError> {
        if let Some(encoding) = &schema.record_encoding
            && encoding != "UTF-8"
        {
            return Err(SchemaError::Encoding(encoding.clone()));
        }
        if schema.record_columns.is_empty() {
            return Err(SchemaError::NoColumns);
        }
        let mut names = Vec::new();
        let mut types = Vec::new();
        for column in &schema.record_columns {
            let sql_type =
                SqlType::parse(&column.sql_type).map_err(|source| SchemaError::ColumnType {
                    column: column.name.clone(),
                    source,
                })?;
            names.push(column.name.clone());
            types.push(sql_type);
        }
        let parameters = schema.record_format.mapping_parameters.as_ref();
        let format = match schema.record_format.record_format_type {
            RecordFormatType::Json => {
                let Some(json) = parameters.and_then(|p| p.json_mapping_parameters.as_ref()) else {
                    return Err(SchemaError::MissingMappingParameters("JSON"));
                };
                let row_path =
                    JsonPath::parse(&json.record_row_path).map_err(SchemaError::RowPath)?;
                let mut mappings = Vec::new();
                for column in &schema.record_columns {
                    let text = match &column.mapping {
                        Some(mapping) => mapping.clone(),
                        None => format!("$.{}", column.name),
                    };
                    let path =
                        JsonPath::parse(&text).map_err(|source| SchemaError::ColumnMapping {
                            column: column.name.clone(),
                            source,
                        })?;
                    mappings.push(if path.starts_with(&row_path) {
                        Mapping::InRow(path.skip(row_path.steps.len()))
                    } else {
                        Mapping::FromRoot(path)
                    });
                }
                let in_row: Vec<Option<&JsonPath>> = mappings
                    .iter()
                    .map(|mapping| match mapping {
                        Mapping::InRow(path) => Some(path),
                        Mapping::FromRoot(_) => None,
                    })
                    .collect();
                let flat = FlatJson::plan(&row_path, &in_row);
                Format::Json {
                    row_path,
                    mappings,
                    flat,
                }
            }
            RecordFormatType::Csv => {
                let Some(csv) = parameters.and_then(|p| p.csv_mapping_parameters.as_ref()) else {
                    return Err(SchemaError::MissingMappingParameters("CSV"));
                };
                if csv.record_row_delimiter.is_empty() || csv.record_column_delimiter.is_empty() {
                    return Err(SchemaError::EmptyDelimiter);
                }
                Format::Csv {
                    row_delimiter: csv.record_row_delimiter.clone(),
                    column_delimiter: csv.record_column_delimiter.clone(),
                }
            }
        };
        Ok(InputParser {
            names,
            types,
            format,
        })
    }

    /// The column names, in order.
    pub fn column_names(&self) -> &[String] {
        &self.names
    }

    /// The column types, in order.
    pub fn column_types(&self) -> &[SqlType] {
        &self.types
    }

    /// Reads one record into its rows, each a row or the reason it could not be read.
    pub fn parse_record(&self, data: &[u8]) -> Vec<Result<Row, RowError>> {
        if let Format::Json {
            flat: Some(flat), ..
        } = &self.format
        {
            if std::str::from_utf8(data).is_err() {
                return vec![Err(RowError::NotUtf8)];
            }
            match flat.read(data) {
                Ok(Some(rows)) => {
                    return rows.into_iter().map(|row| self.flat_row(row)).collect();
                }
                Ok(None) => {}
                Err(error) => return vec![Err(RowError::NotJson(error.to_string()))],
            }
        }
        self.parse_general(data)
    }

    /// One row of the one-pass reading.
    fn flat_row(&self, values: FlatRow) -> Result<Row, RowError> {
        values
            .into_iter()
            .enumerate()
            .map(|(index, value)| match value {
                None => Ok(Value::Null),
                Some(json) => Value::from_json(&json, self.types[index])
                    .map_err(|error| self.column_error(index, error)),
            })
            .collect()
    }

    /// `parse_record` through the record's whole tree, for any paths.
    fn parse_general(&self, data: &[u8]) -> Vec<Result<Row, RowError>> {
        let Ok(text) = std::str::from_utf8(data) else {
            return vec![Err(RowError::NotUtf8)];
        };
        match &self.format {
            Format::Json {
                row_path, mappings, ..
            } => {
                let root = match Json::parse(text.as_bytes()) {
                    Ok(root) => root,
                    Err(error) => return vec![Err(RowError::NotJson(error.to_string()))],
                };
                let mut rows = Vec::new();
                for row in row_path.select(&root) {
                    rows.push(self.json_row(&root, row, mappings));
                }
                rows
            }
            Format::Csv {
                row_delimiter,
                column_delimiter,
            } => {
                let mut rows = Vec::new();
                for line in text.split(row_delimiter.as_str()) {
                    if line.is_empty() {
                        continue;
                    }
                    rows.push(self.csv_row(line.split(column_delimiter.as_str()).collect()));
                }
                rows
            }
        }
    }

    fn json_row(&self, root: &Json, row: &Json, mappings: &[Mapping]) -> Result<Row, RowError> {
        let mut values = Vec::with_capacity(mappings.len());
        for (index, mapping) in mappings.iter().enumerate() {
            let matches = match mapping {
                Mapping::InRow(path) => path.select(row),
                Mapping::FromRoot(path) => path.select(root),
            };
            let sql_type = self.types[index];
            let converted = match matches.as_slice() {
                [] => Ok(Value::Null),
                [one] => Value::from_json(one, sql_type),
                // Unverified: several matches (a `[0:]` inside a column mapping) read as one
                // JSON array, which only a character column accepts.
                many => {
                    let array = Json::Array(many.iter().map(|value| (*value).clone()).collect());
                    Value::from_json(&array, sql_type)
                }
            };
            values.push(converted.map_err(|error| self.column_error(index, error))?);
        }
        Ok(values)
    }

    fn csv_row(&self, fields: Vec<&str>) -> Result<Row, RowError> {
        let mut values = Vec::with_capacity(self.types.len());
        for (index, sql_type) in self.types.iter().enumerate() {
            let value = match fields.get(index) {
                None => Value::Null,
                Some(field) if field.is_empty() && !sql_type.is_character() => Value::Null,
                Some(field) => Value::from_text(field, *sql_type, "field")
                    .map_err(|error| self.column_error(index, error))?,
            };
            values.push(value);
        }
        Ok(values)
    }

    fn column_error(&self, index: usize, error: ConversionError) -> RowError {
        RowError::Column {
            column: self.names[index].clone(),
            error,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::shapes::{RecordColumn, RecordFormat};
    use super::*;

    /// The one-pass reading gives what the general reading gives, record for record.
    #[test]
    fn the_flat_reading_agrees_with_the_general_one() {
        let schema = |row_path: &str, prefix: &str| -> SourceSchema {
            serde_json::from_value(serde_json::json!({
                "RecordFormat": {"RecordFormatType": "JSON", "MappingParameters": {
                    "JSONMappingParameters": {"RecordRowPath": row_path}}},
                "RecordColumns": [
                    {"Name": "K", "SqlType": "VARCHAR(8)", "Mapping": format!("{prefix}.k")},
                    {"Name": "V", "SqlType": "INTEGER", "Mapping": format!("{prefix}.v")},
                    {"Name": "V2", "SqlType": "VARCHAR(16)", "Mapping": format!("{prefix}.v")},
                    {"Name": "O", "SqlType": "VARCHAR(32)", "Mapping": format!("{prefix}.o")},
                ]
            }))
            .expect("a schema")
        };
        let records = [
            r#"{"k":"a","v":1,"o":{"x":[1,2]}}"#,
            r#"{"v":"7","k":"b\u0041","extra":[{"k":"no"}]}"#,
            r#"{"k":"dup","k":"second","v":2}"#,
            r#"{"k":"toolongforeight","v":1}"#,
            r#"{"k":"x","v":"nope"}"#,
            r#"{"k":null,"v":null}"#,
            r#"[1,2]"#,
            r#""text""#,
            r#"{"k":"a"} trailing"#,
            r#"{"k":"#,
            r#"{"events":[{"k":"a","v":1},{"k":"b"},3,null,{"v":99999999999}],"k":"root"}"#,
            r#"{"events":{"k":"a"},"events":[{"k":"b"}]}"#,
            r#"{"events":"none"}"#,
            r#"{}"#,
        ];
        for (row_path, prefix) in [("$", "$"), ("$.events[0:]", "$.events[0:]")] {
            let parser = parser(schema(row_path, prefix));
            let Format::Json { flat, .. } = &parser.format else {
                panic!("a JSON parser");
            };
            assert!(flat.is_some(), "{row_path} reads flat");
            for record in records {
                assert_eq!(
                    parser.parse_record(record.as_bytes()),
                    parser.parse_general(record.as_bytes()),
                    "{row_path}: {record}"
                );
            }
        }
    }

    fn parser(schema: SourceSchema) -> InputParser {
        InputParser::new(&schema).unwrap_or_else(|error| panic!("{error}"))
    }

    fn rows(parser: &InputParser, record: &str) -> Vec<Result<Row, RowError>> {
        parser.parse_record(record.as_bytes())
    }

    fn varchar(text: &str) -> Value {
        Value::Varchar(text.to_string())
    }

    #[test]
    fn nested_json_maps_each_column_by_its_path() {
        let parser = parser(SourceSchema::json(
            "$",
            vec![
                RecordColumn::new("CUSTOMER", Some("$.customerName"), "VARCHAR(16)"),
                RecordColumn::new("CITY", Some("$.address.city"), "VARCHAR(8)"),
                RecordColumn::new("FIRST_PRICE", Some("$.orders[0].itemPrice"), "DECIMAL(6,2)"),
                RecordColumn::new("ZIP", Some("$.address.zip"), "INTEGER"),
                RecordColumn::new("VIP", None, "BOOLEAN"),
            ],
        ));
        let record = r#"{"customerName":"John Doe","address":{"city":"Anytown","zip":98101},
            "orders":[{"itemPrice":"33.99"},{"itemPrice":"22.50"}],"VIP":true}"#;
        assert_eq!(
            rows(&parser, record),
            [Ok(vec![
                varchar("John Doe"),
                varchar("Anytown"),
                Value::Decimal {
                    unscaled: 3399,
                    scale: 2
                },
                Value::Integer(98101),
                Value::Boolean(true),
            ])]
        );
        // Missing members are NULL.
        assert_eq!(
            rows(&parser, r#"{"customerName":"Jane"}"#),
            [Ok(vec![
                varchar("Jane"),
                Value::Null,
                Value::Null,
                Value::Null,
                Value::Null
            ])]
        );
    }

    #[test]
    fn an_array_row_path_gives_one_row_per_element() {
        let parser = parser(SourceSchema::json(
            "$.orders[0:]",
            vec![
                RecordColumn::new("CUSTOMER", Some("$.customer"), "VARCHAR(8)"),
                RecordColumn::new("ORDER_ID", Some("$.orders[0:].orderId"), "BIGINT"),
                RecordColumn::new("ITEM", Some("$.orders[0:].item.name"), "VARCHAR(8)"),
            ],
        ));
        let record = r#"{"customer":"ann","orders":[
            {"orderId":23284,"item":{"name":"Widget"}},
            {"orderId":63122,"item":{"name":"Gadget"}},
            {"orderId":"x77284","item":{"name":"Sprocket"}}]}"#;
        assert_eq!(
            rows(&parser, record),
            [
                Ok(vec![
                    varchar("ann"),
                    Value::Integer(23284),
                    varchar("Widget")
                ]),
                Ok(vec![
                    varchar("ann"),
                    Value::Integer(63122),
                    varchar("Gadget")
                ]),
                Err(RowError::Column {
                    column: "ORDER_ID".into(),
                    error: ConversionError::Invalid {
                        found: "string",
                        value: "x77284".into(),
                        sql_type: SqlType::BigInt,
                    },
                }),
            ]
        );
        assert_eq!(rows(&parser, r#"{"customer":"bob","orders":[]}"#), []);
        assert_eq!(rows(&parser, r#"{"customer":"bob"}"#), []);
    }

    #[test]
    fn several_matches_in_a_column_read_as_a_json_array() {
        let parser = parser(SourceSchema::json(
            "$",
            vec![RecordColumn::new(
                "IDS",
                Some("$.orders[0:].id"),
                "VARCHAR(16)",
            )],
        ));
        assert_eq!(
            rows(&parser, r#"{"orders":[{"id":1},{"id":"b"}]}"#),
            [Ok(vec![varchar(r#"[1,"b"]"#)])]
        );
    }

    #[test]
    fn conversion_errors_name_the_column_and_the_reason() {
        let parser = parser(SourceSchema::json(
            "$",
            vec![
                RecordColumn::new("N", Some("$.n"), "INTEGER"),
                RecordColumn::new("S", Some("$.s"), "VARCHAR(3)"),
                RecordColumn::new("T", Some("$.t"), "TIMESTAMP"),
            ],
        ));
        let messages = |record: &str| -> Vec<String> {
            rows(&parser, record)
                .into_iter()
                .map(|row| row.expect_err("a bad row").to_string())
                .collect()
        };
        assert_eq!(
            messages(r#"{"n":2147483648}"#),
            ["column N: 2147483648 is out of range for INTEGER"]
        );
        assert_eq!(
            messages(r#"{"s":"four"}"#),
            ["column S: a value of 4 characters or bytes does not fit VARCHAR(3)"]
        );
        assert_eq!(
            messages(r#"{"t":"2024-02-30 00:00:00"}"#),
            [r#"column T: string "2024-02-30 00:00:00" cannot be converted to TIMESTAMP"#]
        );
        assert_eq!(
            messages("{\"n\":"),
            ["the record is not JSON: EOF while parsing a value at line 1 column 5"]
        );
        assert_eq!(parser.parse_record(&[0xff, 0xfe]), [Err(RowError::NotUtf8)]);
    }

    #[test]
    fn csv_with_custom_delimiters_maps_by_position() {
        let parser = parser(SourceSchema::csv(
            ";;",
            "|",
            vec![
                RecordColumn::new("TICKER", None, "VARCHAR(4)"),
                RecordColumn::new("PRICE", None, "DOUBLE"),
                RecordColumn::new("VOLUME", None, "BIGINT"),
                RecordColumn::new("NOTE", None, "VARCHAR(8)"),
            ],
        ));
        assert_eq!(
            rows(&parser, "AMZN|84.51|1200|ok;;TBV||7;;;;QXZ|1e2|x|"),
            [
                Ok(vec![
                    varchar("AMZN"),
                    Value::Double(84.51),
                    Value::Integer(1200),
                    varchar("ok")
                ]),
                Ok(vec![
                    varchar("TBV"),
                    Value::Null,
                    Value::Integer(7),
                    Value::Null
                ]),
                Err(RowError::Column {
                    column: "VOLUME".into(),
                    error: ConversionError::Invalid {
                        found: "field",
                        value: "x".into(),
                        sql_type: SqlType::BigInt,
                    },
                }),
            ]
        );
        // Extra fields are not imported; an empty character field is the empty string.
        assert_eq!(
            rows(&parser, "A|1|2||extra|fields"),
            [Ok(vec![
                varchar("A"),
                Value::Double(1.0),
                Value::Integer(2),
                varchar("")
            ])]
        );
    }

    #[test]
    fn rejects_unusable_schemas() {
        let error =
            |schema: SourceSchema| InputParser::new(&schema).expect_err("invalid").to_string();
        assert_eq!(
            error(SourceSchema::json(
                "$",
                vec![RecordColumn::new("A", Some("$.a"), "VARCHAR")]
            )),
            "column A: invalid SQL type \"VARCHAR\": a length is required"
        );
        assert_eq!(
            error(SourceSchema::json(
                "$",
                vec![RecordColumn::new("A", Some("$..a"), "INTEGER")]
            )),
            "column A: unsupported JSONPath \"$..a\" at character 2: recursive descent (..) is not supported"
        );
        assert_eq!(
            error(SourceSchema::json(
                "items",
                vec![RecordColumn::new("A", None, "INTEGER")]
            )),
            "RecordRowPath: unsupported JSONPath \"items\" at character 0: a path starts with $"
        );
        assert_eq!(
            error(SourceSchema::json("$", vec![])),
            "a schema needs at least one column"
        );
        let mut no_parameters =
            SourceSchema::csv("\n", ",", vec![RecordColumn::new("A", None, "INTEGER")]);
        no_parameters.record_format = RecordFormat {
            record_format_type: RecordFormatType::Csv,
            mapping_parameters: None,
        };
        assert_eq!(
            error(no_parameters),
            "a CSV record format needs its mapping parameters"
        );
        let mut latin = SourceSchema::csv("\n", ",", vec![RecordColumn::new("A", None, "INTEGER")]);
        latin.record_encoding = Some("ISO-8859-1".into());
        assert_eq!(
            error(latin),
            "record encoding \"ISO-8859-1\" is not supported; only UTF-8 is"
        );
        assert_eq!(
            error(SourceSchema::csv(
                "\n",
                "",
                vec![RecordColumn::new("A", None, "INTEGER")]
            )),
            "CSV delimiters cannot be empty"
        );
    }
}
