//! A Glue table's columns as Arrow sees them: Hive/Glue type names parsed into the types the
//! converter fills, and the Arrow schema of the written file.
//!
//! Spate has no Glue Data Catalog: `[firehose.glue_tables."<database>.<table>"]` gives each
//! table's columns (see `config.rs`). The scalar types and `timestamp` and `date` are supported;
//! `decimal`, `binary` and the nested types (`array`, `map`, `struct`, `uniontype`) are refused
//! by name when a stream is created or updated.

use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};

use crate::config::GlueColumn;

/// A column type Spate converts JSON values into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    /// `string`, `varchar(n)`, `char(n)`.
    String,
    /// `tinyint`: 8-bit signed.
    TinyInt,
    /// `smallint`: 16-bit signed.
    SmallInt,
    /// `int` (or `integer`): 32-bit signed.
    Int,
    /// `bigint`: 64-bit signed.
    BigInt,
    Float,
    Double,
    Boolean,
    /// `timestamp`: no time zone, nanosecond precision (Hive's), kept as Arrow nanoseconds.
    Timestamp,
    /// `date`: days since 1970-01-01.
    Date,
}

impl ColumnType {
    /// Parses a Hive/Glue type name (case-insensitive, as Hive reads them).
    pub fn parse(type_name: &str) -> Result<ColumnType, String> {
        let lower = type_name.trim().to_ascii_lowercase();
        let scalar = match lower.as_str() {
            "string" => Some(ColumnType::String),
            "tinyint" => Some(ColumnType::TinyInt),
            "smallint" => Some(ColumnType::SmallInt),
            "int" | "integer" => Some(ColumnType::Int),
            "bigint" => Some(ColumnType::BigInt),
            "float" => Some(ColumnType::Float),
            "double" => Some(ColumnType::Double),
            "boolean" => Some(ColumnType::Boolean),
            "timestamp" => Some(ColumnType::Timestamp),
            "date" => Some(ColumnType::Date),
            _ => None,
        };
        if let Some(scalar) = scalar {
            return Ok(scalar);
        }
        for sized in ["varchar", "char"] {
            if let Some(length) = lower
                .strip_prefix(sized)
                .and_then(|rest| rest.strip_prefix('('))
                .and_then(|rest| rest.strip_suffix(')'))
            {
                return match length.trim().parse::<u32>() {
                    Ok(n) if n > 0 => Ok(ColumnType::String),
                    _ => Err(format!("type {type_name:?} has no valid length")),
                };
            }
        }
        let unsupported = [
            "decimal",
            "binary",
            "array",
            "map",
            "struct",
            "uniontype",
            "interval",
        ];
        if let Some(kind) = unsupported.iter().find(|kind| lower.starts_with(**kind)) {
            return Err(format!(
                "type {type_name:?}: Spate does not convert {kind} columns yet"
            ));
        }
        Err(format!("type {type_name:?} is not a Hive type Spate knows"))
    }

    /// The Arrow type of the column's array.
    pub fn arrow_type(self) -> DataType {
        match self {
            ColumnType::String => DataType::Utf8,
            ColumnType::TinyInt => DataType::Int8,
            ColumnType::SmallInt => DataType::Int16,
            ColumnType::Int => DataType::Int32,
            ColumnType::BigInt => DataType::Int64,
            ColumnType::Float => DataType::Float32,
            ColumnType::Double => DataType::Float64,
            ColumnType::Boolean => DataType::Boolean,
            ColumnType::Timestamp => DataType::Timestamp(TimeUnit::Nanosecond, None),
            ColumnType::Date => DataType::Date32,
        }
    }

    pub fn hive_name(self) -> &'static str {
        match self {
            ColumnType::String => "string",
            ColumnType::TinyInt => "tinyint",
            ColumnType::SmallInt => "smallint",
            ColumnType::Int => "int",
            ColumnType::BigInt => "bigint",
            ColumnType::Float => "float",
            ColumnType::Double => "double",
            ColumnType::Boolean => "boolean",
            ColumnType::Timestamp => "timestamp",
            ColumnType::Date => "date",
        }
    }
}

/// One column: its name as written in the file and its type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    pub column_type: ColumnType,
}

/// A table's columns, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableSchema {
    pub columns: Vec<Column>,
}

impl TableSchema {
    /// Validates a configured table: at least one column, names unique (case-insensitively, as
    /// Hive compares them), every type supported.
    pub fn parse(table: &str, columns: &[GlueColumn]) -> Result<TableSchema, String> {
        if columns.is_empty() {
            return Err(format!("Glue table {table} has no columns"));
        }
        let mut parsed: Vec<Column> = Vec::with_capacity(columns.len());
        for column in columns {
            if column.name.is_empty() {
                return Err(format!("Glue table {table} has a column with no name"));
            }
            if parsed
                .iter()
                .any(|other| other.name.eq_ignore_ascii_case(&column.name))
            {
                return Err(format!(
                    "Glue table {table} has two columns named {:?}",
                    column.name
                ));
            }
            let column_type = ColumnType::parse(&column.type_name)
                .map_err(|err| format!("Glue table {table}, column {:?}: {err}", column.name))?;
            parsed.push(Column {
                name: column.name.clone(),
                column_type,
            });
        }
        Ok(TableSchema { columns: parsed })
    }

    /// The Arrow schema of converted files: every column nullable, as Hive columns are.
    pub fn arrow_schema(&self) -> SchemaRef {
        let fields: Vec<Field> = self
            .columns
            .iter()
            .map(|column| Field::new(&column.name, column.column_type.arrow_type(), true))
            .collect();
        Arc::new(Schema::new(fields))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(name: &str, type_name: &str) -> GlueColumn {
        GlueColumn {
            name: name.into(),
            type_name: type_name.into(),
        }
    }

    #[test]
    fn hive_type_names_parse() {
        for (name, expected) in [
            ("string", ColumnType::String),
            ("VARCHAR(10)", ColumnType::String),
            ("char(3)", ColumnType::String),
            ("tinyint", ColumnType::TinyInt),
            ("smallint", ColumnType::SmallInt),
            ("int", ColumnType::Int),
            ("integer", ColumnType::Int),
            ("bigint", ColumnType::BigInt),
            ("float", ColumnType::Float),
            ("double", ColumnType::Double),
            ("boolean", ColumnType::Boolean),
            ("timestamp", ColumnType::Timestamp),
            ("date", ColumnType::Date),
        ] {
            assert_eq!(ColumnType::parse(name), Ok(expected), "{name}");
        }
    }

    #[test]
    fn unsupported_types_are_refused_by_name() {
        for name in [
            "decimal(10,2)",
            "array<string>",
            "map<string,int>",
            "struct<a:int>",
        ] {
            let err = ColumnType::parse(name).expect_err(name);
            assert!(err.contains("does not convert"), "{err}");
        }
        assert!(ColumnType::parse("varchar()").is_err());
        assert!(ColumnType::parse("text").is_err());
    }

    #[test]
    fn tables_need_unique_named_columns() {
        assert!(TableSchema::parse("d.t", &[]).is_err());
        let twice = [column("id", "int"), column("ID", "bigint")];
        assert!(TableSchema::parse("d.t", &twice).is_err());
        let schema =
            TableSchema::parse("d.t", &[column("id", "bigint"), column("ts", "timestamp")])
                .expect("valid");
        let arrow = schema.arrow_schema();
        assert_eq!(arrow.field(0).data_type(), &DataType::Int64);
        assert!(arrow.field(1).is_nullable());
    }
}
