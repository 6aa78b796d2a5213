//! The contract between the application runtime and the SQL engine: the runtime reads the
//! inputs, keeps the clock, checkpoints and delivers; the engine ([`Pipeline`]) turns rows of
//! the in-application input streams into rows of the other in-application streams.
//!
//! The runtime drives one pipeline from one task, so a pipeline needs `Send` but not `Sync`.
//! After `build`, `set_table` loads each reference table. Every call is made in this order
//! within one tick: `push`/`push_error` for what was read,
//! `advance` to the tick's time, `drain` of each stream an output names, then `snapshot` when a
//! checkpoint is due. Time only moves forward: ROWTIMEs pushed never decrease, and `advance`
//! is never given a time before the last ROWTIME pushed.

use crate::input::{Row, SqlType};
use crate::model::Application;

/// Rows that entered one in-application input stream together.
#[derive(Debug, Clone, PartialEq)]
pub struct InputRows {
    /// The ROWTIME of every row: the runtime's clock when they were read, never decreasing
    /// across calls.
    pub rowtime_ms: i64,
    /// Values in the input schema's column order (without ROWTIME).
    pub rows: Vec<Row>,
    /// `APPROXIMATE_ARRIVAL_TIME` of each row (when its record entered the source stream),
    /// one per row.
    pub arrival_ms: Vec<i64>,
}

/// A record, or one row of it, that could not be read: it goes to the in-application error
/// stream (`error_stream`).
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorRow {
    /// The ROWTIME the row would have had.
    pub rowtime_ms: i64,
    /// Why it could not be read (names the column and the reason).
    pub message: String,
    /// The record as it arrived.
    pub data: Vec<u8>,
}

/// Why the engine could not compile an application or run a step of it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PipelineError {
    /// The application cannot run as configured (its code names a stream that does not exist,
    /// a type does not match...): StartApplication's `InvalidApplicationConfigurationException`.
    #[error("{0}")]
    Configuration(String),
    /// A stored snapshot cannot be restored.
    #[error("the checkpointed state cannot be restored: {0}")]
    Snapshot(String),
    /// A failure while running; the runtime stops the application's task and logs it.
    #[error("{0}")]
    Runtime(String),
}

/// The compiled application the runtime drives (the SQL engine implements it).
pub trait Pipeline: Send {
    /// Rows arrived on an in-application input stream (`SOURCE_SQL_STREAM_001`...).
    fn push(&mut self, stream: &str, rows: InputRows) -> Result<(), PipelineError>;

    /// A row that could not be read goes to the error stream.
    fn push_error(&mut self, error: ErrorRow);

    /// Loads (or reloads) reference table `table` (a `ReferenceDataSource`'s `TableName`)
    /// with its rows, values in its `ReferenceSchema`'s column order. Called after `build`,
    /// before any `push`: tables are not part of a snapshot, the runtime loads them again.
    fn set_table(&mut self, table: &str, rows: Vec<Row>) -> Result<(), PipelineError>;

    /// The clock reached `now_ms`: windows that end by then close.
    fn advance(&mut self, now_ms: i64) -> Result<(), PipelineError>;

    /// Rows emitted into in-application stream `stream` since the last drain, in order, values
    /// in its column order (no ROWTIME). Only the streams outputs name are drained; rows of
    /// other streams may be dropped by the engine.
    fn drain(&mut self, stream: &str) -> Vec<Row>;

    /// The columns of an in-application stream (to serialize its rows), `None` if the code
    /// creates no such stream.
    fn columns(&self, stream: &str) -> Option<Vec<(String, SqlType)>>;

    /// The engine's state (open windows...), opaque bytes for a checkpoint.
    fn snapshot(&self) -> Result<Vec<u8>, PipelineError>;
}

/// Builds pipelines: the SQL engine's entry point.
pub trait PipelineFactory: Send + Sync {
    /// Compiles the application (code, inputs' schemas, reference tables) and restores
    /// `snapshot` (from [`Pipeline::snapshot`] of the same application) if given.
    fn build(
        &self,
        application: &Application,
        snapshot: Option<&[u8]>,
    ) -> Result<Box<dyn Pipeline>, PipelineError>;
}

/// A test-only engine: every row pushed to any input stream comes out of `OUT`, unchanged;
/// its snapshot is the number of rows it has passed (so tests can see state survive a
/// checkpoint). `OUT`'s columns are those of the first input's schema.
#[cfg(test)]
pub mod testing {
    use super::*;
    use crate::input::{InputParser, SourceSchema};

    pub const OUT: &str = "OUT";

    #[derive(Debug, Default)]
    pub struct PassThroughFactory;

    #[derive(Debug)]
    pub struct PassThrough {
        pub columns: Vec<(String, SqlType)>,
        pub passed: u64,
        pub out: Vec<Row>,
        pub errors: Vec<ErrorRow>,
        pub last_rowtime: i64,
        /// Rows of each reference table.
        pub tables: std::collections::BTreeMap<String, Vec<Row>>,
    }

    impl PipelineFactory for PassThroughFactory {
        fn build(
            &self,
            application: &Application,
            snapshot: Option<&[u8]>,
        ) -> Result<Box<dyn Pipeline>, PipelineError> {
            let input = application
                .inputs
                .first()
                .ok_or_else(|| PipelineError::Configuration("no input".into()))?;
            let schema: SourceSchema = serde_json::from_value(input.body["InputSchema"].clone())
                .map_err(|err| PipelineError::Configuration(err.to_string()))?;
            let parser = InputParser::new(&schema)
                .map_err(|err| PipelineError::Configuration(err.to_string()))?;
            let columns = parser
                .column_names()
                .iter()
                .cloned()
                .zip(parser.column_types().iter().copied())
                .collect();
            let passed = match snapshot {
                None => 0,
                Some(bytes) => {
                    let array: [u8; 8] = bytes
                        .try_into()
                        .map_err(|_| PipelineError::Snapshot("not 8 bytes".into()))?;
                    u64::from_le_bytes(array)
                }
            };
            Ok(Box::new(PassThrough {
                columns,
                passed,
                out: Vec::new(),
                errors: Vec::new(),
                last_rowtime: i64::MIN,
                tables: std::collections::BTreeMap::new(),
            }))
        }
    }

    impl Pipeline for PassThrough {
        fn push(&mut self, _stream: &str, rows: InputRows) -> Result<(), PipelineError> {
            assert!(rows.rowtime_ms >= self.last_rowtime, "ROWTIME went back");
            assert_eq!(rows.rows.len(), rows.arrival_ms.len());
            self.last_rowtime = rows.rowtime_ms;
            self.passed += rows.rows.len() as u64;
            self.out.extend(rows.rows);
            Ok(())
        }

        fn push_error(&mut self, error: ErrorRow) {
            self.errors.push(error);
        }

        fn set_table(&mut self, table: &str, rows: Vec<Row>) -> Result<(), PipelineError> {
            self.tables.insert(table.to_owned(), rows);
            Ok(())
        }

        fn advance(&mut self, now_ms: i64) -> Result<(), PipelineError> {
            assert!(
                now_ms >= self.last_rowtime,
                "advance before the last ROWTIME"
            );
            Ok(())
        }

        fn drain(&mut self, stream: &str) -> Vec<Row> {
            if stream == OUT {
                std::mem::take(&mut self.out)
            } else {
                Vec::new()
            }
        }

        fn columns(&self, stream: &str) -> Option<Vec<(String, SqlType)>> {
            (stream == OUT).then(|| self.columns.clone())
        }

        fn snapshot(&self) -> Result<Vec<u8>, PipelineError> {
            Ok(self.passed.to_le_bytes().to_vec())
        }
    }
}
