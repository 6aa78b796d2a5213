//! Kinesis Data Analytics for SQL: applications that run continuous SQL over in-application
//! streams. This crate will own the whole path, from an application's code to running operators;
//! for now it holds the dialect front-end, the reading of input records, and the application
//! API's control plane (v1, `KinesisAnalytics_20150814`): applications are created, described,
//! updated and stored, not yet run.
//!
//! Layout: `sql/`, the dialect of Amazon Kinesis Data Analytics (based on SQLstream's streaming
//! SQL): `lexer` turns code into tokens with line and column; `parser` (token helpers, nesting
//! bound, statements), `query` (selects, `FROM`, joins, windows) and `expr` (expressions by
//! precedence climbing, special-syntax functions) build the `ast` by recursive descent;
//! `display` prints the AST back as normalized SQL; `error` is the one syntax error type.
//!
//! `input/`: records to typed rows by an application's InputSchema (JSON through a JSONPath
//! subset, CSV by delimiters), and DiscoverInputSchema's inference of a schema from samples.
//!
//! The API: `api` (the operation table), `ops/` (request shapes, validation and handlers),
//! `model` (an application as stored and described), `service` (one account's applications
//! over the metadata store), `error` (the API's errors and their AWS types).

pub mod api;
pub mod engine;
pub mod error;
pub mod input;
pub mod model;
pub mod ops;
pub mod service;
pub mod sql;

pub use api::{SIGNING_NAME, TARGET_PREFIX};
pub use error::AnalyticsError;
pub use service::{AnalyticsConfig, AnalyticsService};
pub use sql::{SqlError, parse_application_code};
