//! Kinesis Data Analytics for SQL: applications that run continuous SQL over in-application
//! streams. This crate will own the whole path, from an application's code to running operators;
//! for now it holds the dialect front-end and the reading of input records.
//!
//! Layout: `sql/`, the dialect of Amazon Kinesis Data Analytics (based on SQLstream's streaming
//! SQL): `lexer` turns code into tokens with line and column; `parser` (token helpers, nesting
//! bound, statements), `query` (selects, `FROM`, joins, windows) and `expr` (expressions by
//! precedence climbing, special-syntax functions) build the `ast` by recursive descent;
//! `display` prints the AST back as normalized SQL; `error` is the one syntax error type.
//!
//! `input/`: records to typed rows by an application's InputSchema (JSON through a JSONPath
//! subset, CSV by delimiters), and DiscoverInputSchema's inference of a schema from samples.

pub mod input;
pub mod sql;

pub use sql::{SqlError, parse_application_code};
