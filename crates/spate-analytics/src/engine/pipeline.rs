//! The SQL engine as the runtime's [`Pipeline`]: an application's stored configuration (code,
//! inputs with their schemas and parallelism, reference tables, outputs) compiled into an
//! [`Engine`], restored from a checkpoint's snapshot when there is one.

use std::sync::Arc;

use crate::input::{InputParser, Row, SourceSchema, SqlType};
use crate::model::Application;
use crate::runtime::pipeline::{ErrorRow, InputRows, Pipeline, PipelineError, PipelineFactory};

use super::plan::{InputStream, plan_application};
use super::run::{self, Engine};
use super::schema::Column;

/// Builds engines for applications.
#[derive(Debug, Default)]
pub struct EngineFactory;

/// A running application's engine.
#[derive(Debug)]
pub struct EnginePipeline {
    engine: Engine,
}

/// The columns a schema (an input's or a reference table's) gives its stream or table.
fn schema_columns(schema: &serde_json::Value, what: &str) -> Result<Vec<Column>, PipelineError> {
    let schema: SourceSchema = serde_json::from_value(schema.clone())
        .map_err(|err| PipelineError::Configuration(format!("{what}: {err}")))?;
    let parser = InputParser::new(&schema)
        .map_err(|err| PipelineError::Configuration(format!("{what}: {err}")))?;
    Ok(parser
        .column_names()
        .iter()
        .zip(parser.column_types())
        .map(|(name, sql_type)| Column::new(name.clone(), *sql_type))
        .collect())
}

/// The in-application streams of an application's inputs: `<NamePrefix>_001` and on, as
/// many as the input's parallelism.
pub fn input_streams(application: &Application) -> Result<Vec<InputStream>, PipelineError> {
    let mut streams = Vec::new();
    for input in &application.inputs {
        let prefix = input.body["NamePrefix"].as_str().unwrap_or_default();
        let columns = schema_columns(&input.body["InputSchema"], &format!("input {}", input.id))?;
        let count = input.body["InputParallelism"]["Count"]
            .as_u64()
            .unwrap_or(1)
            .max(1);
        for index in 1..=count {
            streams.push(InputStream {
                name: format!("{prefix}_{index:03}"),
                columns: columns.clone(),
            });
        }
    }
    Ok(streams)
}

impl PipelineFactory for EngineFactory {
    fn build(
        &self,
        application: &Application,
        snapshot: Option<&[u8]>,
    ) -> Result<Box<dyn Pipeline>, PipelineError> {
        let code = application.code.as_deref().unwrap_or_default();
        let inputs = input_streams(application)?;
        let mut tables = Vec::new();
        for reference in &application.references {
            let name = reference.body["TableName"].as_str().unwrap_or_default();
            tables.push(InputStream {
                name: name.to_string(),
                columns: schema_columns(
                    &reference.body["ReferenceSchema"],
                    &format!("reference data source {}", reference.id),
                )?,
            });
        }
        let plan = plan_application(code, &inputs, &tables)
            .map_err(|err| PipelineError::Configuration(err.to_string()))?;
        let outputs: Vec<String> = application
            .outputs
            .iter()
            .filter_map(|output| output.body["Name"].as_str().map(str::to_string))
            .collect();
        for output in &outputs {
            if plan.stream(output).is_none() {
                return Err(PipelineError::Configuration(format!(
                    "the output's in-application stream {output} does not exist: the application code does not create it"
                )));
            }
        }
        let mut engine = Engine::new(Arc::new(plan), &outputs)
            .map_err(|err| PipelineError::Configuration(err.to_string()))?;
        if let Some(snapshot) = snapshot {
            engine
                .restore(snapshot)
                .map_err(|err| PipelineError::Snapshot(err.to_string()))?;
        }
        Ok(Box::new(EnginePipeline { engine }))
    }
}

impl Pipeline for EnginePipeline {
    fn push(&mut self, stream: &str, rows: InputRows) -> Result<(), PipelineError> {
        let rowtimes = vec![rows.rowtime_ms; rows.rows.len()];
        // The schema's columns, then APPROXIMATE_ARRIVAL_TIME (see `plan`).
        let width = self
            .engine
            .columns(stream)
            .map_or(0, |columns| columns.len());
        let mut with_arrival = rows.rows;
        for (row, arrival) in with_arrival.iter_mut().zip(&rows.arrival_ms) {
            // A schema with a column of that name keeps its own.
            if row.len() + 1 == width {
                row.push(crate::input::Value::Timestamp(*arrival));
            }
        }
        self.engine
            .push_rows(stream, &rowtimes, &with_arrival)
            .map_err(|err| PipelineError::Runtime(err.to_string()))
    }

    fn push_error(&mut self, error: ErrorRow) {
        self.engine.push_error(run::ErrorRow {
            time: error.rowtime_ms,
            name: "Input_Error".into(),
            message: error.message,
            data_rowtime: Some(error.rowtime_ms),
            data: String::from_utf8_lossy(&error.data).into_owned(),
            pump: None,
        });
    }

    fn set_table(&mut self, table: &str, rows: Vec<Row>) -> Result<(), PipelineError> {
        self.engine
            .set_table(table, &rows)
            .map_err(|err| PipelineError::Runtime(err.to_string()))
    }

    fn advance(&mut self, now_ms: i64) -> Result<(), PipelineError> {
        self.engine.advance(now_ms);
        Ok(())
    }

    fn drain(&mut self, stream: &str) -> Vec<Row> {
        self.engine
            .drain_rows(stream)
            .into_iter()
            .map(|(_, row)| row)
            .collect()
    }

    fn columns(&self, stream: &str) -> Option<Vec<(String, SqlType)>> {
        self.engine.columns(stream).map(|columns| {
            columns
                .iter()
                .map(|column| (column.name.clone(), column.sql_type))
                .collect()
        })
    }

    fn snapshot(&self) -> Result<Vec<u8>, PipelineError> {
        self.engine
            .snapshot()
            .map_err(|err| PipelineError::Snapshot(err.to_string()))
    }
}
