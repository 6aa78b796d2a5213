//! A running application: batches pushed into its input streams flow through its pumps, in
//! the order the pumps were written, into the streams they insert into, and on through the
//! pumps that read those; the clock closes tumbling windows. Rows of the streams the caller
//! reads (the application's outputs and `error_stream`) wait in [`Engine::drain`]'s buffers.
//!
//! A batch a pump cannot process as a whole (a division by zero, a failed conversion in one
//! row) is processed again row by row: rows that fail go to `error_stream`, the others go on.
//! The open windows of every pump are the engine's state ([`Engine::snapshot`],
//! [`Engine::restore`]), stored by the runtime with the input positions that produced them.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use arrow::datatypes::{DataType, SchemaRef, TimestampMillisecondType};
use serde::{Deserialize, Serialize};

use super::aggregate::{TumblingSnapshot, TumblingState};
use super::expr::{EvalError, PhysicalExpr};
use super::join::{JoinIndex, TableJoins, join};
use super::plan::{ApplicationPlan, ERROR_STREAM, Operator, Pump};
use super::query_time::QueryClock;
use super::schema::{Column, batch_to_rows, rows_to_batch};
use super::sliding::{SlidingSnapshot, SlidingState};
use super::stream_join::{Side, StreamJoinPlan, StreamJoinSnapshot, StreamJoinState};
use super::table_fn::{TableFunctionSnapshot, TableFunctionState};
use super::window_tvf::assign_windows;
use crate::input::{Row, Value, datetime};

/// Why the engine could not take input, or restore its state.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EngineError {
    #[error("there is no in-application stream {0}")]
    UnknownStream(String),
    #[error("{0}")]
    Rows(#[from] super::schema::BatchError),
    #[error("the engine's state cannot be stored or restored: {0}")]
    Snapshot(String),
}

/// One row of `error_stream`.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorRow {
    pub time: i64,
    pub name: String,
    pub message: String,
    pub data_rowtime: Option<i64>,
    pub data: String,
    pub pump: Option<String>,
}

impl ErrorRow {
    fn values(&self) -> Row {
        vec![
            Value::Timestamp(self.time),
            Value::Varchar("ERROR".into()),
            Value::Varchar(truncate(&self.name, 32)),
            Value::Varchar(truncate(&self.message, 4096)),
            self.data_rowtime.map_or(Value::Null, Value::Timestamp),
            Value::Varchar(truncate(&self.data, 49152)),
            self.pump
                .as_deref()
                .map_or(Value::Null, |pump| Value::Varchar(truncate(pump, 128))),
        ]
    }
}

fn truncate(text: &str, limit: usize) -> String {
    text.chars().take(limit).collect()
}

/// A compiled application and its open windows.
#[derive(Debug)]
pub struct Engine {
    plan: Arc<ApplicationPlan>,
    /// The open windows of each tumbling pump, by pump index.
    windows: BTreeMap<usize, TumblingState>,
    /// The windows of each sliding pump, by pump index.
    sliding: BTreeMap<usize, SlidingState>,
    /// The windows of each table-function pump, by pump index.
    functions: BTreeMap<usize, TableFunctionState>,
    /// The kept rows of each pump joining two streams, by pump index.
    stream_joins: BTreeMap<usize, StreamJoinState>,
    /// The reference tables each joining pump joins, in order, indexed by their keys, by pump
    /// index.
    joins: BTreeMap<usize, Vec<JoinIndex>>,
    /// Rows waiting to be read, by stream.
    buffers: BTreeMap<String, Vec<RecordBatch>>,
    /// Pumps by the stream they read.
    readers: BTreeMap<String, Vec<usize>>,
    /// When the query first ran (CURRENT_TIMESTAMP and its kin).
    clock: QueryClock,
}

#[derive(Debug, Serialize, Deserialize)]
struct Snapshot {
    /// By pump name.
    windows: BTreeMap<String, TumblingSnapshot>,
    #[serde(default)]
    sliding: BTreeMap<String, SlidingSnapshot>,
    #[serde(default)]
    stream_joins: BTreeMap<String, StreamJoinSnapshot>,
    #[serde(default)]
    functions: BTreeMap<String, TableFunctionSnapshot>,
}

impl Engine {
    /// An engine for `plan` that keeps the rows of `read` (output streams) for [`Engine::drain`];
    /// `error_stream` is always kept.
    pub fn new(plan: Arc<ApplicationPlan>, read: &[String]) -> Result<Engine, EngineError> {
        let mut windows = BTreeMap::new();
        let mut sliding = BTreeMap::new();
        let mut joins = BTreeMap::new();
        let mut stream_joins = BTreeMap::new();
        let mut functions = BTreeMap::new();
        let mut readers: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (index, pump) in plan.pumps.iter().enumerate() {
            if let Operator::Tumbling { plan, .. } = &pump.operator {
                let state = TumblingState::new(plan.clone())
                    .map_err(|err| EngineError::Snapshot(err.to_string()))?;
                windows.insert(index, state);
            }
            if let Operator::Function { plan } = &pump.operator {
                let state = TableFunctionState::new(plan.clone())
                    .map_err(|err| EngineError::Snapshot(err.to_string()))?;
                functions.insert(index, state);
            }
            if let Operator::Sliding { aggregates, .. } = &pump.operator {
                let state = SlidingState::new(aggregates.clone())
                    .map_err(|err| EngineError::Snapshot(err.to_string()))?;
                sliding.insert(index, state);
            }
            if let Some(TableJoins(join_plans)) = &pump.join {
                let mut indices = Vec::with_capacity(join_plans.len());
                for join_plan in join_plans {
                    let table = plan
                        .tables
                        .get(&join_plan.table)
                        .ok_or_else(|| EngineError::UnknownStream(join_plan.table.clone()))?;
                    indices.push(
                        JoinIndex::empty(join_plan, table.schema.clone())
                            .map_err(|err| EngineError::Snapshot(err.to_string()))?,
                    );
                }
                joins.insert(index, indices);
            }
            readers.entry(pump.source.clone()).or_default().push(index);
            if let Some(join_plan) = &pump.stream_join {
                stream_joins.insert(index, StreamJoinState::new(join_plan.clone()));
                // A stream joined with itself is read once (see `stream_join_push`).
                if !join_plan.is_self_join() {
                    readers
                        .entry(join_plan.second.clone())
                        .or_default()
                        .push(index);
                }
            }
        }
        let mut buffers = BTreeMap::new();
        for stream in read.iter().map(String::as_str).chain([ERROR_STREAM]) {
            if plan.stream(stream).is_none() {
                return Err(EngineError::UnknownStream(stream.to_string()));
            }
            buffers.insert(stream.to_string(), Vec::new());
        }
        Ok(Engine {
            plan,
            windows,
            sliding,
            functions,
            stream_joins,
            joins,
            buffers,
            readers,
            clock: QueryClock::default(),
        })
    }

    pub fn plan(&self) -> &ApplicationPlan {
        &self.plan
    }

    /// The columns of a stream (without ROWTIME).
    pub fn columns(&self, stream: &str) -> Option<&[Column]> {
        self.plan.stream(stream).map(|def| def.columns.as_slice())
    }

    /// Rows entered input stream `stream` at `rowtimes`.
    pub fn push_rows(
        &mut self,
        stream: &str,
        rowtimes: &[i64],
        rows: &[Row],
    ) -> Result<(), EngineError> {
        let def = self
            .plan
            .stream(stream)
            .ok_or_else(|| EngineError::UnknownStream(stream.to_string()))?;
        let batch = rows_to_batch(&def.schema, &def.columns, rowtimes, rows)?;
        self.push(stream, batch);
        Ok(())
    }

    /// Loads (or reloads) reference table `table` with `rows`.
    pub fn set_table(&mut self, table: &str, rows: &[Row]) -> Result<(), EngineError> {
        let def = self
            .plan
            .tables
            .get(table)
            .ok_or_else(|| EngineError::UnknownStream(table.to_string()))?;
        let batch = rows_to_batch(&def.schema, &def.columns, &vec![0; rows.len()], rows)?;
        for (index, pump) in self.plan.pumps.iter().enumerate() {
            let Some(TableJoins(join_plans)) = &pump.join else {
                continue;
            };
            for (position, join_plan) in join_plans.iter().enumerate() {
                if join_plan.table != table {
                    continue;
                }
                let built = JoinIndex::build(join_plan, batch.clone())
                    .map_err(|err| EngineError::Snapshot(err.to_string()))?;
                if let Some(slot) = self
                    .joins
                    .get_mut(&index)
                    .and_then(|indices| indices.get_mut(position))
                {
                    *slot = built;
                }
            }
        }
        Ok(())
    }

    /// A row that could not be read goes to `error_stream`.
    pub fn push_error(&mut self, error: ErrorRow) {
        let Some(def) = self.plan.stream(ERROR_STREAM) else {
            return;
        };
        if let Ok(batch) =
            rows_to_batch(&def.schema, &def.columns, &[error.time], &[error.values()])
        {
            self.push(ERROR_STREAM, batch);
        }
    }

    /// A batch (ROWTIME first) entered `stream`; it flows on through every pump reading it.
    pub fn push(&mut self, stream: &str, batch: RecordBatch) {
        if batch.num_rows() == 0 {
            return;
        }
        let _clock = self.clock.enter(first_rowtime(&batch));
        if let Some(buffer) = self.buffers.get_mut(stream) {
            buffer.push(batch.clone());
        }
        let readers = self.readers.get(stream).cloned().unwrap_or_default();
        // What the pumps give, by target in the order the pumps first wrote to it: rows several
        // pumps give one stream for the same batch (the sides of a UNION ALL) are merged in
        // ROWTIME order, so the stream's ROWTIME never goes back.
        let mut by_target: Vec<(String, Vec<RecordBatch>)> = Vec::new();
        for index in readers {
            let outputs = self.run_pump(index, &batch, stream);
            let target = &self.plan.pumps[index].target;
            match by_target.iter_mut().find(|(name, _)| name == target) {
                Some((_, batches)) => batches.extend(outputs),
                None => by_target.push((target.clone(), outputs)),
            }
        }
        for (target, outputs) in by_target {
            if outputs.len() > 1
                && let Some(merged) = merge_by_rowtime(&outputs)
            {
                self.push(&target, merged);
                continue;
            }
            for output in outputs {
                self.push(&target, output);
            }
        }
    }

    /// The clock reached `now`: tumbling windows that end by then close, in pump order, and
    /// their rows flow on; so do the unmatched rows of outer stream joins whose window passed.
    pub fn advance(&mut self, now: i64) {
        let _clock = self.clock.enter(now);
        for index in 0..self.plan.pumps.len() {
            let pump = self.plan.pumps[index].clone();
            if let Some(state) = self.stream_joins.get_mut(&index) {
                match state.advance(now) {
                    Ok(rows) if rows.num_rows() == 0 => {}
                    Ok(rows) => {
                        for output in self.run_joined(index, &rows) {
                            self.push(&pump.target, output);
                        }
                    }
                    Err(error) => self.pump_error(&pump, None, &error),
                }
            }
            let closed = match &pump.operator {
                Operator::Tumbling { closed_schema, .. } => match self.windows.get_mut(&index) {
                    Some(state) => state.advance(now, closed_schema).map(|closed| {
                        closed
                            .iter()
                            .flat_map(|window| self.finish_window(&pump, window))
                            .collect::<Vec<_>>()
                    }),
                    None => continue,
                },
                Operator::Function { .. } => match self.functions.get_mut(&index) {
                    Some(state) => state.advance(now),
                    None => continue,
                },
                _ => continue,
            };
            match closed {
                Ok(outputs) => {
                    for output in outputs {
                        self.push(&pump.target, output);
                    }
                }
                Err(error) => self.pump_error(&pump, None, &error),
            }
        }
    }

    /// The rows that entered `stream` since the last drain, each with its ROWTIME.
    pub fn drain(&mut self, stream: &str) -> Vec<RecordBatch> {
        self.buffers
            .get_mut(stream)
            .map(std::mem::take)
            .unwrap_or_default()
    }

    /// [`Engine::drain`] as rows.
    pub fn drain_rows(&mut self, stream: &str) -> Vec<(i64, Row)> {
        let columns = self
            .columns(stream)
            .map(<[Column]>::to_vec)
            .unwrap_or_default();
        self.drain(stream)
            .iter()
            .flat_map(|batch| batch_to_rows(batch, &columns))
            .collect()
    }

    /// The open windows of every pump.
    pub fn snapshot(&self) -> Result<Vec<u8>, EngineError> {
        let mut stream_joins = BTreeMap::new();
        for (index, state) in &self.stream_joins {
            let stored = state
                .snapshot()
                .map_err(|err| EngineError::Snapshot(err.to_string()))?;
            stream_joins.insert(self.plan.pumps[*index].name.clone(), stored);
        }
        let snapshot = Snapshot {
            windows: self
                .windows
                .iter()
                .map(|(index, state)| (self.plan.pumps[*index].name.clone(), state.snapshot()))
                .collect(),
            sliding: self
                .sliding
                .iter()
                .map(|(index, state)| (self.plan.pumps[*index].name.clone(), state.snapshot()))
                .collect(),
            functions: self
                .functions
                .iter()
                .map(|(index, state)| (self.plan.pumps[*index].name.clone(), state.snapshot()))
                .collect(),
            stream_joins,
        };
        serde_json::to_vec(&snapshot).map_err(|err| EngineError::Snapshot(err.to_string()))
    }

    /// Puts back the open windows of a snapshot. Windows of pumps the code no longer has are
    /// dropped.
    pub fn restore(&mut self, bytes: &[u8]) -> Result<(), EngineError> {
        let snapshot: Snapshot =
            serde_json::from_slice(bytes).map_err(|err| EngineError::Snapshot(err.to_string()))?;
        let names: BTreeSet<&str> = snapshot.windows.keys().map(String::as_str).collect();
        for (index, state) in &mut self.windows {
            let name = self.plan.pumps[*index].name.as_str();
            if names.contains(name)
                && let Some(stored) = snapshot.windows.get(name)
            {
                state
                    .restore(stored.clone())
                    .map_err(|err| EngineError::Snapshot(format!("pump {name}: {err}")))?;
            }
        }
        for (index, state) in &mut self.functions {
            let name = self.plan.pumps[*index].name.as_str();
            if let Some(stored) = snapshot.functions.get(name) {
                state.restore(stored.clone());
            }
        }
        for (index, state) in &mut self.stream_joins {
            let name = self.plan.pumps[*index].name.as_str();
            if let Some(stored) = snapshot.stream_joins.get(name) {
                state
                    .restore(stored.clone())
                    .map_err(|err| EngineError::Snapshot(format!("pump {name}: {err}")))?;
            }
        }
        for (index, state) in &mut self.sliding {
            let name = self.plan.pumps[*index].name.as_str();
            if let Some(stored) = snapshot.sliding.get(name) {
                state
                    .restore(stored.clone())
                    .map_err(|err| EngineError::Snapshot(format!("pump {name}: {err}")))?;
            }
        }
        Ok(())
    }

    fn run_pump(&mut self, index: usize, batch: &RecordBatch, stream: &str) -> Vec<RecordBatch> {
        let pump = self.plan.pumps[index].clone();
        let windowed;
        let batch = match &pump.windows {
            Some(windows) => match assign_windows(windows, batch) {
                Ok(rows) if rows.num_rows() == 0 => return Vec::new(),
                Ok(rows) => {
                    windowed = rows;
                    &windowed
                }
                Err(error) => {
                    self.pump_error(&pump, Some(batch), &error);
                    return Vec::new();
                }
            },
            None => batch,
        };
        let paired;
        let batch = match (&pump.stream_join, self.stream_joins.get_mut(&index)) {
            (Some(join_plan), Some(state)) => {
                match stream_join_push(join_plan, state, stream, batch) {
                    Ok(rows) if rows.num_rows() == 0 => return Vec::new(),
                    Ok(rows) => {
                        paired = rows;
                        &paired
                    }
                    Err(error) => {
                        self.pump_error(&pump, Some(batch), &error);
                        return Vec::new();
                    }
                }
            }
            _ => batch,
        };
        self.run_joined(index, batch)
    }

    /// The rest of pump `index` for a batch its stream join (if any) gave: its table joins,
    /// then its operator.
    fn run_joined(&mut self, index: usize, batch: &RecordBatch) -> Vec<RecordBatch> {
        let pump = self.plan.pumps[index].clone();
        let mut joined = batch.clone();
        if let (Some(TableJoins(join_plans)), Some(tables)) = (&pump.join, self.joins.get(&index)) {
            for (join_plan, table) in join_plans.iter().zip(tables) {
                match join(join_plan, table, &joined) {
                    Ok(rows) if rows.num_rows() == 0 => return Vec::new(),
                    Ok(rows) => joined = rows,
                    Err(error) => {
                        self.pump_error(&pump, Some(&joined), &error);
                        return Vec::new();
                    }
                }
            }
        }
        let batch = &joined;
        match &pump.operator {
            Operator::Map { filter, projection } => {
                let schema = self.target_schema(&pump);
                match map(batch, filter.as_ref(), projection, &schema) {
                    Ok(output) => vec![output],
                    Err(_) => self.map_row_by_row(&pump, batch, filter.as_ref(), projection),
                }
            }
            Operator::Sliding {
                filter,
                augmented_schema,
                projection,
                ..
            } => {
                let schema = self.target_schema(&pump);
                let Some(state) = self.sliding.get_mut(&index) else {
                    return Vec::new();
                };
                let augmented = keep(batch, filter.as_ref()).and_then(|kept| {
                    let mut columns = kept.columns().to_vec();
                    columns.extend(state.process(&kept)?);
                    Ok(RecordBatch::try_new(augmented_schema.clone(), columns)?)
                });
                match augmented {
                    Ok(augmented) => match map(&augmented, None, projection, &schema) {
                        Ok(output) => vec![output],
                        Err(_) => self.map_row_by_row(&pump, &augmented, None, projection),
                    },
                    Err(error) => {
                        self.pump_error(&pump, Some(batch), &error);
                        Vec::new()
                    }
                }
            }
            Operator::Function { .. } => {
                let Some(state) = self.functions.get_mut(&index) else {
                    return Vec::new();
                };
                match state.push(batch) {
                    Ok(closed) => closed,
                    Err(error) => {
                        self.pump_error(&pump, Some(batch), &error);
                        Vec::new()
                    }
                }
            }
            Operator::Tumbling { closed_schema, .. } => {
                let Some(state) = self.windows.get_mut(&index) else {
                    return Vec::new();
                };
                // Rows arrive in ROWTIME order: once a batch is in, the windows that end by
                // its last row's time can take no more rows.
                let last = rowtime_at(batch, batch.num_rows() - 1);
                let result = state.push(batch, closed_schema).and_then(|mut closed| {
                    closed.extend(state.advance(last, closed_schema)?);
                    Ok(closed)
                });
                match result {
                    Ok(closed) => closed
                        .iter()
                        .flat_map(|window| self.finish_window(&pump, window))
                        .collect(),
                    Err(error) => {
                        // Unverified: a batch that fails to aggregate is reported whole.
                        self.pump_error(&pump, Some(batch), &error);
                        Vec::new()
                    }
                }
            }
        }
    }

    fn target_schema(&self, pump: &Pump) -> SchemaRef {
        self.plan
            .stream(&pump.target)
            .map(|def| def.schema.clone())
            .unwrap_or_else(|| Arc::new(arrow::datatypes::Schema::empty()))
    }

    fn map_row_by_row(
        &mut self,
        pump: &Pump,
        batch: &RecordBatch,
        filter: Option<&PhysicalExpr>,
        projection: &[PhysicalExpr],
    ) -> Vec<RecordBatch> {
        let schema = self.target_schema(pump);
        let mut outputs = Vec::new();
        for row in 0..batch.num_rows() {
            let one = batch.slice(row, 1);
            match map(&one, filter, projection, &schema) {
                Ok(output) => outputs.push(output),
                Err(error) => self.pump_error(pump, Some(&one), &error),
            }
        }
        outputs
    }

    fn finish_window(&mut self, pump: &Pump, window: &RecordBatch) -> Vec<RecordBatch> {
        let Operator::Tumbling {
            having, projection, ..
        } = &pump.operator
        else {
            return Vec::new();
        };
        let schema = self.target_schema(pump);
        match map(window, having.as_ref(), projection, &schema) {
            Ok(output) => vec![output],
            Err(_) => self.map_row_by_row(pump, window, having.as_ref(), projection),
        }
    }

    fn pump_error(&mut self, pump: &Pump, batch: Option<&RecordBatch>, error: &EvalError) {
        let rows = batch.map_or(0, RecordBatch::num_rows).max(1);
        for row in 0..rows {
            let (rowtime, data) = match batch {
                Some(batch) if batch.num_rows() > 0 => {
                    (Some(rowtime_at(batch, row)), describe_row(batch, row))
                }
                _ => (None, String::new()),
            };
            let time = rowtime.unwrap_or(0);
            self.push_error(ErrorRow {
                time,
                name: "Pump_Error".into(),
                message: error.0.clone(),
                data_rowtime: rowtime,
                data,
                pump: Some(pump.name.clone()),
            });
        }
    }
}

/// A batch of `stream` into a pump's stream join. A stream joined with itself takes each run
/// of rows of one ROWTIME as a row of the first side, then of the second, so a pair of rows
/// is found once whichever is older.
fn stream_join_push(
    plan: &StreamJoinPlan,
    state: &mut StreamJoinState,
    stream: &str,
    batch: &RecordBatch,
) -> Result<RecordBatch, EvalError> {
    if !plan.is_self_join() {
        let side = if stream == plan.first {
            Side::First
        } else {
            Side::Second
        };
        return state.push(side, batch);
    }
    let mut outputs = Vec::new();
    let mut start = 0;
    while start < batch.num_rows() {
        let time = rowtime_at(batch, start);
        let mut end = start + 1;
        while end < batch.num_rows() && rowtime_at(batch, end) == time {
            end += 1;
        }
        let run = batch.slice(start, end - start);
        outputs.push(state.push(Side::First, &run)?);
        outputs.push(state.push(Side::Second, &run)?);
        start = end;
    }
    Ok(arrow::compute::concat_batches(
        &plan.joined_schema,
        &outputs,
    )?)
}

/// Batches of one stream as one, rows in ROWTIME order (equal times keep their order); `None`
/// if they cannot be joined.
fn merge_by_rowtime(batches: &[RecordBatch]) -> Option<RecordBatch> {
    let schema = batches.first()?.schema();
    let merged = arrow::compute::concat_batches(&schema, batches).ok()?;
    let times = merged
        .column(0)
        .as_primitive_opt::<TimestampMillisecondType>()?;
    let mut order: Vec<u32> = (0..merged.num_rows() as u32).collect();
    order.sort_by_key(|&row| times.value(row as usize));
    let indices = arrow::array::UInt32Array::from(order);
    arrow::compute::take_record_batch(&merged, &indices).ok()
}

fn rowtime_at(batch: &RecordBatch, row: usize) -> i64 {
    batch
        .column(0)
        .as_primitive_opt::<TimestampMillisecondType>()
        .map_or(0, |times| times.value(row))
}

/// A row's values as text, for the error stream's DATA_ROW.
fn describe_row(batch: &RecordBatch, row: usize) -> String {
    let schema = batch.schema();
    let mut parts = Vec::new();
    for (field, column) in schema.fields().iter().zip(batch.columns()).skip(1) {
        let value = if column.is_null(row) {
            "NULL".to_string()
        } else {
            match column.data_type() {
                DataType::Timestamp(..) => datetime::format_timestamp(
                    column.as_primitive::<TimestampMillisecondType>().value(row),
                ),
                _ => arrow::util::display::ArrayFormatter::try_new(
                    column.as_ref(),
                    &Default::default(),
                )
                .map(|formatter| formatter.value(row).to_string())
                .unwrap_or_default(),
            }
        };
        parts.push(format!("{}={value}", field.name()));
    }
    parts.join(", ")
}

/// The rows of `batch` for which `filter` is TRUE.
fn keep(batch: &RecordBatch, filter: Option<&PhysicalExpr>) -> Result<RecordBatch, EvalError> {
    Ok(match filter {
        Some(filter) => {
            let condition = filter.evaluate(batch)?;
            let condition = match condition.data_type() {
                DataType::Boolean => condition.as_boolean().clone(),
                _ => arrow::array::BooleanArray::new_null(batch.num_rows()),
            };
            arrow::compute::filter_record_batch(batch, &condition)?
        }
        None => batch.clone(),
    })
}

/// Filter, then project: one output batch in `schema`.
fn map(
    batch: &RecordBatch,
    filter: Option<&PhysicalExpr>,
    projection: &[PhysicalExpr],
    schema: &SchemaRef,
) -> Result<RecordBatch, EvalError> {
    let kept = keep(batch, filter)?;
    let mut evaluated = Vec::with_capacity(schema.fields().len());
    for expr in projection {
        let values = expr.evaluate(&kept)?;
        // A ROW (a subquery's log-parsing function) fills one column per field.
        match values.as_struct_opt() {
            Some(row) => evaluated.extend(row.columns().iter().cloned()),
            None => evaluated.push(values),
        }
    }
    let columns = evaluated
        .into_iter()
        .zip(schema.fields())
        .map(|(values, field)| {
            if values.data_type() == field.data_type() {
                Ok(values)
            } else {
                Ok(arrow::compute::cast(&values, field.data_type())?)
            }
        })
        .collect::<Result<Vec<ArrayRef>, EvalError>>()?;
    let options = arrow::array::RecordBatchOptions::new().with_row_count(Some(kept.num_rows()));
    Ok(RecordBatch::try_new_with_options(
        schema.clone(),
        columns,
        &options,
    )?)
}

/// The ROWTIME of a batch's first row (ROWTIME is its first column), 0 if it has none.
fn first_rowtime(batch: &RecordBatch) -> i64 {
    batch
        .column(0)
        .as_any()
        .downcast_ref::<arrow::array::TimestampMillisecondArray>()
        .filter(|rowtimes| !rowtimes.is_empty())
        .map_or(0, |rowtimes| rowtimes.value(0))
}
