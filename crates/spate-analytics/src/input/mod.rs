//! Input: reading an application's source records into typed rows by its InputSchema, and
//! inferring such a schema from sample records (DiscoverInputSchema).
//!
//! `shapes` holds the API shapes (`SourceSchema`, `RecordFormat`, `RecordColumn`); `types` the
//! SQL column types a schema names; `value` the typed values and the JSON and CSV conversions
//! into them, with `datetime` for the date and time literal forms; `json` an order-preserving
//! JSON tree; `jsonpath` the JSONPath subset of row paths and mappings; `record_format` turns one
//! record into rows by a schema. `discover` infers a schema from sample records
//! (DiscoverInputSchema), naming columns by `naming` and typing them by `infer`.

pub mod datetime;
pub mod discover;
pub mod flat;
pub mod infer;
pub mod json;
pub mod jsonpath;
pub mod naming;
pub mod record_format;
pub mod shapes;
pub mod types;
pub mod value;

pub use discover::{DiscoverError, Discovery, discover_input_schema};
pub use record_format::{InputParser, Row, RowError, SchemaError};
pub use shapes::{
    CsvMappingParameters, JsonMappingParameters, MappingParameters, RecordColumn, RecordFormat,
    RecordFormatType, SourceSchema,
};
pub use types::{SqlType, SqlTypeError};
pub use value::{ConversionError, Value};
