//! Kinesis Data Analytics for SQL: applications that run continuous SQL over in-application
//! streams. This crate owns the whole path, from an application's code to running operators:
//! the dialect front-end, the reading of input records, the SQL engine, the runtime that runs
//! started applications around it, and the application API's control plane (v1,
//! `KinesisAnalytics_20150814`).
//!
//! Layout: `sql/`, the dialect of Amazon Kinesis Data Analytics (based on SQLstream's streaming
//! SQL): `lexer` turns code into tokens with line and column; `parser` (token helpers, nesting
//! bound, statements), `query` (selects, `FROM`, joins, windows) and `expr` (expressions by
//! precedence climbing, special-syntax functions) build the `ast` by recursive descent;
//! `display` prints the AST back as normalized SQL; `error` is the one syntax error type.
//!
//! `engine/`: the SQL engine on Arrow batches: `schema` (SQL types to Arrow arrays), `types`
//! and `expr` (compiled expressions), `functions/` (scalar functions), `plan` (code to streams
//! and pumps), the operators (`aggregate`, `sliding`, `join`, `stream_join`, `window_tvf`, `table_fn`,
//! `distinct`, `sort_within`, `group_rank`) and
//! `run` (the running engine, its error stream and its snapshot).
//!
//! `input/`: records to typed rows by an application's InputSchema (JSON through a JSONPath
//! subset, CSV by delimiters), and DiscoverInputSchema's inference of a schema from samples.
//!
//! `runtime/`: a started application's inputs read from Kinesis data streams, its ROWTIME
//! clock, checkpoints and output delivery, driving the engine through the `Pipeline` trait.
//!
//! The API: `api` (the v1 operation table; `v2` adapts the v2 API's operations onto it), `ops/` (request shapes, validation and handlers),
//! `model` (an application as stored and described), `service` (one account's applications
//! over the metadata store), `error` (the API's errors and their AWS types).

pub mod api;
pub mod engine;
pub mod error;
pub mod input;
pub mod model;
pub mod ops;
pub mod runtime;
pub mod service;
pub mod sql;
pub mod v2;

pub use api::{SIGNING_NAME, TARGET_PREFIX};
pub use error::AnalyticsError;
pub use service::{AnalyticsConfig, AnalyticsService};
pub use sql::{SqlError, parse_application_code};
