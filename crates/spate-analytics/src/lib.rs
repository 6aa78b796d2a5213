//! Kinesis Data Analytics for SQL: applications that run continuous SQL over in-application
//! streams. This crate will own the whole path, from an application's code to running operators;
//! for now it holds the first stage, the dialect front-end.
//!
//! Layout: `sql/` (the dialect of Amazon Kinesis Data Analytics, based on SQLstream's streaming
//! SQL: `lexer` turns code into tokens with line and column, `parser` and `expr` build the `ast`
//! by recursive descent, expressions by precedence climbing, `error` is the one syntax error
//! type). The AST prints back as normalized SQL through `Display`.

pub mod sql;

pub use sql::{SqlError, parse_application_code};
