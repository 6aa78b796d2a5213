//! Tumbling windows: `GROUP BY` with a time bucket (`STEP(ROWTIME BY ...)`, `FLOOR(ROWTIME TO
//! ...)`, or the same on an event-time column) or with a key declared `MONOTONIC(...)`, the
//! aggregates of each group (their accumulators are in `accumulator`), and the rows a window
//! gives when it closes.
//!
//! Rows are grouped by all keys at once: the keys of a batch are encoded by Arrow's row format
//! and looked up in the open window's table, and each aggregate keeps one accumulator per group
//! in plain vectors. A window closes when its time has passed: for a bucket of ROWTIME, when
//! the stream's time (a later row, or the clock) reaches the bucket's end; for a bucket of
//! another column, when a row's value of that column does (Unverified: late rows of an
//! event-time window that has closed open a new group for the same bucket, as SQLstream
//! documents for rows out of order); for a MONOTONIC key, when a row brings another value of it.
//! Its groups leave in the order they first appeared, each with ROWTIME = the end of the window
//! (for event-time windows the ROWTIME of the batch that closed them, for MONOTONIC windows
//! that of the row that closed them).
//!
//! The open windows are the operator's state: [`TumblingState::snapshot`] writes them out
//! (keys in Arrow's row format, accumulators as numbers) and [`TumblingState::restore`] reads
//! them back.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray, TimestampMillisecondArray};
use arrow::datatypes::{DataType, TimestampMillisecondType};
use arrow::record_batch::RecordBatch;
use arrow::row::{RowConverter, Rows, SortField};
use serde::{Deserialize, Serialize};

use super::accumulator::Accumulator;
use super::expr::{EvalError, PhysicalExpr, next_boundary};
use super::types::ExprType;
use crate::input::SqlType;
use crate::sql::ast::TimeUnit;

/// The aggregate functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggregateFunction {
    /// `COUNT(*)`
    CountRows,
    Count,
    /// `COUNT(DISTINCT x)`
    CountDistinct,
    Sum,
    Avg,
    Min,
    Max,
    /// `FIRST_VALUE(x)`: the value of the first row (in arrival order) of the group or window.
    FirstValue,
    /// `LAST_VALUE(x)`: the value of the last row.
    LastValue,
    /// `VAR_POP(x)`, `VAR_SAMP(x)`, `STDDEV_POP(x)`, `STDDEV_SAMP(x)`.
    VarPop,
    VarSamp,
    StddevPop,
    StddevSamp,
    /// `EXP_AVG(x, INTERVAL ...)` (OVER only): an average whose weights halve every
    /// `half_life` milliseconds of age.
    ExpAvg {
        half_life: i64,
    },
    /// `LAG(x, offset, default)` (OVER only): the value `offset` rows before the current one.
    Lag {
        offset: u64,
    },
    /// `NTH_VALUE(x, n) FROM FIRST|LAST` (OVER only).
    NthValue {
        n: u64,
        from_last: bool,
    },
}

impl AggregateFunction {
    /// Whether the function is only defined over a sliding window (with OVER).
    pub fn needs_over(self) -> bool {
        matches!(
            self,
            AggregateFunction::ExpAvg { .. }
                | AggregateFunction::Lag { .. }
                | AggregateFunction::NthValue { .. }
        )
    }

    /// The function's name in SQL.
    pub fn sql_name(self) -> &'static str {
        match self {
            AggregateFunction::CountRows
            | AggregateFunction::Count
            | AggregateFunction::CountDistinct => "COUNT",
            AggregateFunction::Sum => "SUM",
            AggregateFunction::Avg => "AVG",
            AggregateFunction::Min => "MIN",
            AggregateFunction::Max => "MAX",
            AggregateFunction::FirstValue => "FIRST_VALUE",
            AggregateFunction::LastValue => "LAST_VALUE",
            AggregateFunction::VarPop => "VAR_POP",
            AggregateFunction::VarSamp => "VAR_SAMP",
            AggregateFunction::StddevPop => "STDDEV_POP",
            AggregateFunction::StddevSamp => "STDDEV_SAMP",
            AggregateFunction::ExpAvg { .. } => "EXP_AVG",
            AggregateFunction::Lag { .. } => "LAG",
            AggregateFunction::NthValue { .. } => "NTH_VALUE",
        }
    }

    /// Whether the function is one of the variances and standard deviations.
    pub fn is_statistic(self) -> bool {
        matches!(
            self,
            AggregateFunction::VarPop
                | AggregateFunction::VarSamp
                | AggregateFunction::StddevPop
                | AggregateFunction::StddevSamp
        )
    }

    /// Whether the function gives the value of one of the rows (FIRST_VALUE, LAG...).
    pub fn picks_a_row(self) -> bool {
        matches!(
            self,
            AggregateFunction::FirstValue
                | AggregateFunction::LastValue
                | AggregateFunction::Lag { .. }
                | AggregateFunction::NthValue { .. }
        )
    }
}

/// One aggregate of a grouped query: the function and its argument (on the input batch).
#[derive(Debug, Clone)]
pub struct Aggregate {
    pub function: AggregateFunction,
    pub argument: Option<PhysicalExpr>,
    /// The result's type.
    pub ty: ExprType,
    /// `SUM(DISTINCT x)` and the like: each distinct value of a group or window counts once.
    /// (`COUNT(DISTINCT x)` is [`AggregateFunction::CountDistinct`].)
    pub distinct: bool,
    /// `IGNORE NULLS`: rows whose argument is NULL are passed over.
    pub ignore_nulls: bool,
    /// LAG's default: the value when no row is that far back (None: NULL).
    pub default: Option<PhysicalExpr>,
    /// LAG's offset or NTH_VALUE's n when written as an expression rather than a literal:
    /// evaluated for each record (the reference: "both offset and default are evaluated with
    /// respect to the current record"); the function's own number is then unused.
    pub row_offset: Option<PhysicalExpr>,
}

impl Aggregate {
    /// The aggregate `function` of `argument`, its result typed as the SQL reference says:
    /// COUNT is BIGINT; SUM, AVG, MIN and MAX keep their argument's type (Unverified for AVG
    /// of integers, which therefore truncates, as SQLstream's does); FIRST_VALUE, LAST_VALUE,
    /// LAG and NTH_VALUE keep their argument's type; the variances, standard deviations and
    /// EXP_AVG are DOUBLE (Unverified: the reference's examples store them in REAL and DOUBLE
    /// columns and name no type).
    pub fn new(
        function: AggregateFunction,
        argument: Option<PhysicalExpr>,
    ) -> Result<Aggregate, String> {
        let ty = match (function, &argument) {
            (
                AggregateFunction::CountRows
                | AggregateFunction::Count
                | AggregateFunction::CountDistinct,
                _,
            ) => ExprType::Sql(SqlType::BigInt),
            (_, None) => return Err("this aggregate needs an argument".into()),
            (AggregateFunction::Sum | AggregateFunction::Avg, Some(argument)) => {
                match argument.ty() {
                    ExprType::Sql(sql_type) if sql_type.is_numeric() => {
                        ExprType::Sql(match sql_type {
                            SqlType::Decimal { scale, .. } => SqlType::Decimal {
                                precision: 19,
                                scale,
                            },
                            other => other,
                        })
                    }
                    other => return Err(format!("SUM and AVG need numbers, not {other}")),
                }
            }
            (function, Some(argument))
                if function.is_statistic()
                    || matches!(function, AggregateFunction::ExpAvg { .. }) =>
            {
                match argument.ty() {
                    ExprType::Sql(sql_type) if sql_type.is_numeric() => {
                        ExprType::Sql(SqlType::Double)
                    }
                    other => {
                        return Err(format!(
                            "{} needs numbers, not {other}",
                            function.sql_name()
                        ));
                    }
                }
            }
            (_, Some(argument)) => match argument.ty() {
                ExprType::Sql(SqlType::Binary(_) | SqlType::Varbinary(_)) => {
                    return Err(format!(
                        "{} of binary values is not supported",
                        function.sql_name()
                    ));
                }
                ExprType::Sql(sql_type) => ExprType::Sql(sql_type),
                other => {
                    return Err(format!(
                        "{} of {other} is not supported",
                        function.sql_name()
                    ));
                }
            },
        };
        Ok(Aggregate {
            function,
            argument,
            ty,
            distinct: false,
            ignore_nulls: false,
            default: None,
            row_offset: None,
        })
    }
}

/// How a window's end follows from its bucket's start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    /// `STEP(... BY INTERVAL n)` (or a table function's WINDOW_START, a window's start
    /// already): the window ends this many milliseconds after its start.
    Step(i64),
    /// `FLOOR(... TO unit)`.
    Floor(TimeUnit),
}

impl Bucket {
    fn end(self, start: i64) -> Option<i64> {
        match self {
            Bucket::Step(width) => start.checked_add(width),
            Bucket::Floor(unit) => next_boundary(start, unit),
        }
    }
}

/// What a tumbling window groups by and computes.
#[derive(Debug, Clone)]
pub struct TumblingPlan {
    /// Every `GROUP BY` expression, on the input batch.
    pub keys: Vec<PhysicalExpr>,
    /// Which key is the window's time bucket, and how wide it is.
    pub window_key: usize,
    pub bucket: Bucket,
    /// Whether the bucket is of ROWTIME (closed by time passing) or of another column (closed
    /// by that column's values advancing).
    pub on_rowtime: bool,
    /// `WINDOWED BY STAGGER (... RANGE INTERVAL ...)`: each group's window opens with its
    /// first row and closes this many milliseconds of ROWTIME later; `window_key` and `bucket`
    /// are then unused.
    pub stagger: Option<i64>,
    /// A SESSION table function's window: sessions of rows less than a gap apart.
    pub session: Option<SessionPlan>,
    pub aggregates: Vec<Aggregate>,
    /// The query's WHERE: rows it does not keep join no group.
    pub filter: Option<PhysicalExpr>,
    /// `GROUP BY MONOTONIC(x), ...` with no time bucket: the window is the run of rows with
    /// one value of the key `window_key` (declared monotonic, so the value never comes back),
    /// and closes when a row brings another value.
    pub monotonic: bool,
}

/// What a tumbling window needs of one input batch: its group keys, each aggregate's
/// argument (None for `COUNT(*)`), and the WHERE's verdict on each row (None: no WHERE).
struct BatchInputs {
    keys: Vec<ArrayRef>,
    arguments: Vec<Option<ArrayRef>>,
    keep: Option<BooleanArray>,
}

impl TumblingPlan {
    /// Evaluates the keys, the aggregates' arguments and the WHERE on `batch`; a WHERE that
    /// gives no booleans keeps no row.
    fn evaluate_inputs(&self, batch: &RecordBatch) -> Result<BatchInputs, EvalError> {
        let keys = self
            .keys
            .iter()
            .map(|key| key.evaluate(batch))
            .collect::<Result<Vec<_>, _>>()?;
        let arguments = self
            .aggregates
            .iter()
            .map(|aggregate| {
                aggregate
                    .argument
                    .as_ref()
                    .map(|argument| argument.evaluate(batch))
                    .transpose()
            })
            .collect::<Result<Vec<_>, _>>()?;
        let keep = match &self.filter {
            Some(filter) => {
                let kept = filter.evaluate(batch)?;
                Some(match kept.data_type() {
                    DataType::Boolean => kept.as_boolean().clone(),
                    _ => BooleanArray::new_null(batch.num_rows()),
                })
            }
            None => None,
        };
        Ok(BatchInputs {
            keys,
            arguments,
            keep,
        })
    }
}

/// Session windows (`TABLE(SESSION(TABLE s, DESCRIPTOR(t), gap))`): a session holds rows whose
/// times are each less than `gap` after the session's latest; it closes when time reaches its
/// latest row's time plus `gap`, and its rows then give `WINDOW_START` (its first row's time),
/// `WINDOW_END` (latest + gap) and `WINDOW_TIME` (one millisecond before the end) in the keys
/// that name those columns. Sessions are of the whole stream (Unverified: Flink's optional
/// `PARTITION BY` inside the call is not parsed); GROUP BY's other keys group within them.
#[derive(Debug, Clone)]
pub struct SessionPlan {
    pub gap: i64,
    /// The batch column of each row's time (0: ROWTIME).
    pub time_index: usize,
    /// Which keys are the session's start, end and time.
    pub start_key: Option<usize>,
    pub end_key: Option<usize>,
    pub time_key: Option<usize>,
}

/// The groups and accumulators of one open window.
#[derive(Debug)]
struct Window {
    keys: Rows,
    index: HashMap<Box<[u8]>, u32>,
    accumulators: Vec<Accumulator>,
}

/// The open windows of one tumbling aggregate.
#[derive(Debug)]
pub struct TumblingState {
    plan: Arc<TumblingPlan>,
    converter: RowConverter,
    /// By the window's end.
    windows: BTreeMap<i64, Window>,
    /// For an event-time bucket: the latest end a row has passed.
    event_time: i64,
    /// For stagger windows: the end of each group's open window, by its key.
    stagger_ends: HashMap<Box<[u8]>, i64>,
    /// For session windows: the open session's first and latest row times, and its groups.
    session: Option<OpenSession>,
    /// For a MONOTONIC key: the current value (in Arrow's row format) and the number of its
    /// window, which is the window's key in `windows`.
    monotonic: Option<(Vec<u8>, i64)>,
    /// Encodes the MONOTONIC key's values.
    monotonic_converter: Option<RowConverter>,
}

#[derive(Debug)]
struct OpenSession {
    start: i64,
    latest: i64,
    window: Window,
}

/// A window that closed: the rows of its groups, as `ROWTIME, keys..., aggregates...`.
pub type ClosedWindow = RecordBatch;

impl TumblingState {
    pub fn new(plan: Arc<TumblingPlan>) -> Result<TumblingState, EvalError> {
        let fields = plan
            .keys
            .iter()
            .map(|key| SortField::new(key.ty().arrow_type()))
            .collect();
        let converter = RowConverter::new(fields)?;
        let monotonic_converter = match plan.keys.get(plan.window_key) {
            Some(key) if plan.monotonic => Some(RowConverter::new(vec![SortField::new(
                key.ty().arrow_type(),
            )])?),
            _ => None,
        };
        Ok(TumblingState {
            plan,
            converter,
            windows: BTreeMap::new(),
            event_time: i64::MIN,
            stagger_ends: HashMap::new(),
            session: None,
            monotonic: None,
            monotonic_converter,
        })
    }

    fn open_window(&self) -> Window {
        Window {
            keys: self.converter.empty_rows(64, 1024),
            index: HashMap::new(),
            accumulators: self.plan.aggregates.iter().map(Accumulator::new).collect(),
        }
    }

    /// Adds a batch of the input stream; returns the windows it closed (event time only).
    pub fn push(
        &mut self,
        batch: &RecordBatch,
        schema: &arrow::datatypes::SchemaRef,
    ) -> Result<Vec<ClosedWindow>, EvalError> {
        if self.plan.session.is_some() {
            return self.push_session(batch, schema);
        }
        let plan = self.plan.clone();
        let BatchInputs {
            keys,
            arguments,
            keep,
        } = plan.evaluate_inputs(batch)?;
        // The bucket of each row (stagger and monotonic windows have none).
        let starts = match plan.stagger {
            None if plan.monotonic => None,
            None => Some(
                keys.get(plan.window_key)
                    .and_then(|key| key.as_primitive_opt::<TimestampMillisecondType>())
                    .ok_or_else(|| EvalError("the window's key is no TIMESTAMP".into()))?,
            ),
            Some(_) => None,
        };
        let rowtimes = batch.column(0).as_primitive::<TimestampMillisecondType>();
        let encoded = self.converter.convert_columns(&keys)?;
        let monotonic_values = match (&self.monotonic_converter, keys.get(plan.window_key)) {
            (Some(converter), Some(key)) => {
                Some(converter.convert_columns(std::slice::from_ref(key))?)
            }
            _ => None,
        };

        // Rows by window end, in arrival order; a NULL bucket joins no window (Unverified).
        let mut by_window: BTreeMap<i64, Vec<u32>> = BTreeMap::new();
        // MONOTONIC windows this batch opened, and the ROWTIME of their first row: the time
        // the window before each closed.
        let mut monotonic_opened: BTreeMap<i64, i64> = BTreeMap::new();
        for row in 0..batch.num_rows() {
            let kept = keep
                .as_ref()
                .is_none_or(|keep| keep.is_valid(row) && keep.value(row));
            let start = starts.and_then(|starts| starts.is_valid(row).then(|| starts.value(row)));
            if !kept || (plan.stagger.is_none() && !plan.monotonic && start.is_none()) {
                continue;
            }
            if let Some(values) = &monotonic_values {
                let end = self.monotonic_window(values.row(row).data());
                by_window.entry(end).or_default().push(row as u32);
                monotonic_opened
                    .entry(end)
                    .or_insert_with(|| rowtimes.value(row));
                continue;
            }
            let end = match plan.stagger {
                Some(range) => {
                    let rowtime = rowtimes.value(row);
                    let key = encoded.row(row);
                    match self.stagger_ends.get(key.data()) {
                        Some(&end) if end > rowtime => end,
                        _ => {
                            let end = rowtime.saturating_add(range);
                            self.stagger_ends.insert(key.data().into(), end);
                            end
                        }
                    }
                }
                None => start
                    .and_then(|start| plan.bucket.end(start))
                    .ok_or_else(|| EvalError("the window's end is out of range".into()))?,
            };
            by_window.entry(end).or_default().push(row as u32);
        }
        let mut groups = vec![0u32; batch.num_rows()];
        let mut closed = Vec::new();
        for (end, rows) in by_window {
            let mut window = match self.windows.remove(&end) {
                Some(window) => window,
                None => self.open_window(),
            };
            for &row in &rows {
                let key = encoded.row(row as usize);
                let group = match window.index.get(key.data()) {
                    Some(&group) => group,
                    None => {
                        let group = window.keys.num_rows() as u32;
                        window.keys.push(key);
                        window.index.insert(key.data().into(), group);
                        group
                    }
                };
                groups[row as usize] = group;
            }
            let count = window.keys.num_rows();
            for ((accumulator, argument), _) in window
                .accumulators
                .iter_mut()
                .zip(&arguments)
                .zip(&plan.aggregates)
            {
                accumulator.grow(count);
                accumulator.update(&groups, argument.as_ref(), &rows)?;
            }
            self.windows.insert(end, window);
            if !plan.on_rowtime
                && let Some(starts) = starts
            {
                self.event_time = self.event_time.max(
                    rows.iter()
                        .map(|&row| starts.value(row as usize))
                        .max()
                        .unwrap_or(i64::MIN),
                );
            }
        }
        if !plan.on_rowtime {
            // An event-time window closes once a row's bucket starts at or after its end.
            // Its rows take the ROWTIME of the batch that closed it, so ROWTIME never goes back.
            if plan.monotonic {
                // A MONOTONIC window has seen its last row when the next one opens; its rows
                // take the ROWTIME of the row that opened the next (Unverified).
                for (&window, &rowtime) in &monotonic_opened {
                    if window > 0 {
                        closed.extend(self.close_until(window - 1, rowtime, schema)?);
                    }
                }
                return Ok(closed);
            }
            let now = rowtimes.value(batch.num_rows().saturating_sub(1));
            closed = self.close_until(self.event_time, now, schema)?;
        }
        Ok(closed)
    }

    /// The window of a row whose MONOTONIC key has the (encoded) `value`: the current one
    /// while the value stays, the next one when it changes.
    fn monotonic_window(&mut self, value: &[u8]) -> i64 {
        match &mut self.monotonic {
            Some((current, window)) if current.as_slice() == value => *window,
            Some((current, window)) => {
                *current = value.to_vec();
                *window += 1;
                *window
            }
            None => {
                self.monotonic = Some((value.to_vec(), 0));
                0
            }
        }
    }

    /// Closes the ROWTIME windows that end by `now`.
    pub fn advance(
        &mut self,
        now: i64,
        schema: &arrow::datatypes::SchemaRef,
    ) -> Result<Vec<ClosedWindow>, EvalError> {
        if !self.plan.on_rowtime {
            return Ok(Vec::new());
        }
        if let Some(session) = &self.plan.session {
            let gap = session.gap;
            let due = self
                .session
                .as_ref()
                .is_some_and(|open| now >= open.latest.saturating_add(gap));
            if due {
                return Ok(self.close_session(now)?.into_iter().collect());
            }
            return Ok(Vec::new());
        }
        self.close_until(now, now, schema)
    }

    /// Closes the windows that end by `time`; their rows' ROWTIME is their end, or `now` for
    /// event-time windows.
    fn close_until(
        &mut self,
        time: i64,
        now: i64,
        schema: &arrow::datatypes::SchemaRef,
    ) -> Result<Vec<ClosedWindow>, EvalError> {
        let mut closed = Vec::new();
        while let Some(entry) = self.windows.first_entry() {
            if *entry.key() > time {
                break;
            }
            let (end, window) = entry.remove_entry();
            if self.plan.stagger.is_some() {
                for key in window.keys.iter() {
                    if self.stagger_ends.get(key.data()) == Some(&end) {
                        self.stagger_ends.remove(key.data());
                    }
                }
            }
            let rowtime = if self.plan.on_rowtime { end } else { now };
            closed.push(self.emit(rowtime, &window, schema)?);
        }
        Ok(closed)
    }

    fn emit(
        &self,
        rowtime: i64,
        window: &Window,
        schema: &arrow::datatypes::SchemaRef,
    ) -> Result<ClosedWindow, EvalError> {
        let count = window.keys.num_rows();
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(schema.fields().len());
        columns.push(Arc::new(TimestampMillisecondArray::from(vec![
            rowtime;
            count
        ])));
        columns.extend(self.converter.convert_rows(window.keys.iter())?);
        for (accumulator, aggregate) in window.accumulators.iter().zip(&self.plan.aggregates) {
            columns.push(accumulator.finish(aggregate)?);
        }
        Ok(RecordBatch::try_new(schema.clone(), columns)?)
    }

    /// Adds a batch to the open session, closing it (and opening the next) where a row comes
    /// a gap or more after the session's latest row.
    fn push_session(
        &mut self,
        batch: &RecordBatch,
        schema: &arrow::datatypes::SchemaRef,
    ) -> Result<Vec<ClosedWindow>, EvalError> {
        let plan = self.plan.clone();
        let Some(session) = &plan.session else {
            return Ok(Vec::new());
        };
        let BatchInputs {
            keys,
            arguments,
            keep,
        } = plan.evaluate_inputs(batch)?;
        let times = batch
            .column(session.time_index)
            .as_primitive_opt::<TimestampMillisecondType>()
            .ok_or_else(|| EvalError("a session's time column is no TIMESTAMP".into()))?;
        let rowtimes = batch.column(0).as_primitive::<TimestampMillisecondType>();
        let encoded = self.converter.convert_columns(&keys)?;
        let mut groups = vec![0u32; batch.num_rows()];
        let mut segment: Vec<u32> = Vec::new();
        let mut closed = Vec::new();
        for row in 0..batch.num_rows() {
            let kept = keep
                .as_ref()
                .is_none_or(|keep| keep.is_valid(row) && keep.value(row));
            if !kept || times.is_null(row) {
                continue;
            }
            let time = times.value(row);
            let expired = self
                .session
                .as_ref()
                .is_some_and(|open| time >= open.latest.saturating_add(session.gap));
            if expired {
                self.update_session(&groups, &arguments, &segment)?;
                segment.clear();
                closed.extend(self.close_session(rowtimes.value(row))?);
            }
            if self.session.is_none() {
                self.session = Some(OpenSession {
                    start: time,
                    latest: time,
                    window: self.open_window(),
                });
            }
            let Some(open) = self.session.as_mut() else {
                continue;
            };
            open.latest = open.latest.max(time);
            open.start = open.start.min(time);
            let key = encoded.row(row);
            let group = match open.window.index.get(key.data()) {
                Some(&group) => group,
                None => {
                    let group = open.window.keys.num_rows() as u32;
                    open.window.keys.push(key);
                    open.window.index.insert(key.data().into(), group);
                    group
                }
            };
            groups[row] = group;
            segment.push(row as u32);
        }
        self.update_session(&groups, &arguments, &segment)?;
        let _ = schema;
        Ok(closed)
    }

    fn update_session(
        &mut self,
        groups: &[u32],
        arguments: &[Option<ArrayRef>],
        rows: &[u32],
    ) -> Result<(), EvalError> {
        let Some(open) = self.session.as_mut() else {
            return Ok(());
        };
        if rows.is_empty() {
            return Ok(());
        }
        let count = open.window.keys.num_rows();
        for (accumulator, argument) in open.window.accumulators.iter_mut().zip(arguments) {
            accumulator.grow(count);
            accumulator.update(groups, argument.as_ref(), rows)?;
        }
        Ok(())
    }

    /// Closes the open session: its groups' rows, the session's bounds in the keys that name
    /// them, ROWTIME its end (or `now` for a session of event time).
    fn close_session(&mut self, now: i64) -> Result<Option<ClosedWindow>, EvalError> {
        let (Some(open), Some(session)) = (self.session.take(), self.plan.session.as_ref()) else {
            return Ok(None);
        };
        let end = open.latest.saturating_add(session.gap);
        let rowtime = if self.plan.on_rowtime { end } else { now };
        let count = open.window.keys.num_rows();
        let schema = closed_schema(&self.plan);
        let mut columns: Vec<ArrayRef> = vec![Arc::new(TimestampMillisecondArray::from(vec![
            rowtime;
            count
        ]))];
        let mut keys = self.converter.convert_rows(open.window.keys.iter())?;
        for (slot, value) in [
            (session.start_key, open.start),
            (session.end_key, end),
            (session.time_key, end - 1),
        ] {
            if let Some(slot) = slot
                && let Some(key) = keys.get_mut(slot)
            {
                *key = Arc::new(TimestampMillisecondArray::from(vec![value; count]));
            }
        }
        columns.extend(keys);
        for (accumulator, aggregate) in open.window.accumulators.iter().zip(&self.plan.aggregates) {
            columns.push(accumulator.finish(aggregate)?);
        }
        Ok(Some(RecordBatch::try_new(schema, columns)?))
    }

    /// The open windows, to be stored with the input positions that led to them.
    pub fn snapshot(&self) -> TumblingSnapshot {
        TumblingSnapshot {
            session: self.session.as_ref().map(|open| {
                (
                    open.start,
                    WindowSnapshot {
                        end: open.latest,
                        keys: open
                            .window
                            .keys
                            .iter()
                            .map(|row| row.data().to_vec())
                            .collect(),
                        accumulators: open.window.accumulators.clone(),
                    },
                )
            }),
            event_time: self.event_time,
            monotonic: self.monotonic.clone(),
            windows: self
                .windows
                .iter()
                .map(|(end, window)| WindowSnapshot {
                    end: *end,
                    keys: window.keys.iter().map(|row| row.data().to_vec()).collect(),
                    accumulators: window.accumulators.clone(),
                })
                .collect(),
        }
    }

    /// Puts back the windows of a snapshot taken with the same plan.
    pub fn restore(&mut self, snapshot: TumblingSnapshot) -> Result<(), EvalError> {
        self.event_time = snapshot.event_time;
        self.monotonic = snapshot.monotonic;
        self.windows.clear();
        self.stagger_ends.clear();
        self.session = None;
        if let Some((start, stored)) = snapshot.session {
            let mut window = self.open_window();
            let parser = self.converter.parser();
            for (group, key) in stored.keys.iter().enumerate() {
                window.keys.push(parser.parse(key));
                window.index.insert(key.as_slice().into(), group as u32);
            }
            if stored.accumulators.len() != window.accumulators.len() {
                return Err(EvalError(
                    "the stored session does not match the application's code".into(),
                ));
            }
            window.accumulators = stored.accumulators;
            self.session = Some(OpenSession {
                start,
                latest: stored.end,
                window,
            });
        }
        let parser = self.converter.parser();
        for stored in snapshot.windows {
            let mut window = self.open_window();
            if stored.accumulators.len() != window.accumulators.len() {
                return Err(EvalError(
                    "the stored window does not match the application's code".into(),
                ));
            }
            for (group, key) in stored.keys.iter().enumerate() {
                window.keys.push(parser.parse(key));
                window.index.insert(key.as_slice().into(), group as u32);
                if self.plan.stagger.is_some() {
                    let end = self.stagger_ends.entry(key.as_slice().into()).or_default();
                    *end = (*end).max(stored.end);
                }
            }
            window.accumulators = stored.accumulators;
            self.windows.insert(stored.end, window);
        }
        Ok(())
    }
}

/// The stored form of a tumbling aggregate's open windows.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TumblingSnapshot {
    event_time: i64,
    /// For a MONOTONIC key: its current value and window.
    #[serde(default)]
    monotonic: Option<(Vec<u8>, i64)>,
    windows: Vec<WindowSnapshot>,
    /// The open session: its first row's time, and its groups (`end` holds the latest time).
    #[serde(default)]
    session: Option<(i64, WindowSnapshot)>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct WindowSnapshot {
    end: i64,
    keys: Vec<Vec<u8>>,
    accumulators: Vec<Accumulator>,
}

/// The Arrow schema of closed windows' rows: ROWTIME, then the keys, then the aggregates.
pub fn closed_schema(plan: &TumblingPlan) -> arrow::datatypes::SchemaRef {
    use arrow::datatypes::{Field, Schema};
    let mut fields = vec![Field::new(
        super::schema::ROWTIME,
        ExprType::Sql(SqlType::Timestamp).arrow_type(),
        false,
    )];
    for (index, key) in plan.keys.iter().enumerate() {
        fields.push(Field::new(
            format!("KEY{index}"),
            key.ty().arrow_type(),
            true,
        ));
    }
    for (index, aggregate) in plan.aggregates.iter().enumerate() {
        fields.push(Field::new(
            format!("AGG{index}"),
            aggregate.ty.arrow_type(),
            true,
        ));
    }
    Arc::new(Schema::new(fields))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::schema::{Column, batch_to_rows, rows_to_batch, stream_schema};
    use crate::input::Value;

    fn input(rowtimes: &[i64], keys: &[&str], amounts: &[i64]) -> RecordBatch {
        let columns = vec![
            Column::new("K", SqlType::Varchar(8)),
            Column::new("V", SqlType::Integer),
        ];
        let rows: Vec<Vec<Value>> = keys
            .iter()
            .zip(amounts)
            .map(|(key, amount)| vec![Value::Varchar((*key).into()), Value::Integer(*amount)])
            .collect();
        rows_to_batch(&stream_schema(&columns), &columns, rowtimes, &rows).expect("rows fit")
    }

    fn plan() -> Arc<TumblingPlan> {
        let ts = ExprType::Sql(SqlType::Timestamp);
        let bucket = PhysicalExpr::Step {
            expr: Box::new(PhysicalExpr::Column { index: 0, ty: ts }),
            width: 10,
        };
        let key = PhysicalExpr::Column {
            index: 1,
            ty: ExprType::Sql(SqlType::Varchar(8)),
        };
        let value = PhysicalExpr::Column {
            index: 2,
            ty: ExprType::Sql(SqlType::Integer),
        };
        Arc::new(TumblingPlan {
            keys: vec![key, bucket],
            window_key: 1,
            bucket: Bucket::Step(10),
            on_rowtime: true,
            stagger: None,
            session: None,
            aggregates: vec![
                Aggregate::new(AggregateFunction::CountRows, None).expect("valid"),
                Aggregate::new(AggregateFunction::Sum, Some(value.clone())).expect("valid"),
                Aggregate::new(AggregateFunction::Max, Some(value)).expect("valid"),
            ],
            filter: None,
            monotonic: false,
        })
    }

    fn output_columns() -> Vec<Column> {
        vec![
            Column::new("K", SqlType::Varchar(8)),
            Column::new("B", SqlType::Timestamp),
            Column::new("N", SqlType::BigInt),
            Column::new("S", SqlType::Integer),
            Column::new("M", SqlType::Integer),
        ]
    }

    #[test]
    fn groups_close_when_time_passes_their_window_and_survive_a_snapshot() {
        let plan = plan();
        let schema = closed_schema(&plan);
        let mut state = TumblingState::new(plan.clone()).expect("plan");
        let closed = state
            .push(
                &input(&[1, 2, 3, 12], &["a", "b", "a", "a"], &[5, 7, 1, 100]),
                &schema,
            )
            .expect("push");
        assert!(closed.is_empty());
        assert!(state.advance(9, &schema).expect("advance").is_empty());

        // The windows are stored and read back into a fresh state.
        let stored = serde_json::to_vec(&state.snapshot()).expect("serializes");
        let mut state = TumblingState::new(plan).expect("plan");
        state
            .restore(serde_json::from_slice(&stored).expect("deserializes"))
            .expect("restores");

        let closed = state.advance(10, &schema).expect("advance");
        assert_eq!(closed.len(), 1);
        let rows = batch_to_rows(&closed[0], &output_columns());
        assert_eq!(
            rows,
            vec![
                (
                    10,
                    vec![
                        Value::Varchar("a".into()),
                        Value::Timestamp(0),
                        Value::Integer(2),
                        Value::Integer(6),
                        Value::Integer(5)
                    ]
                ),
                (
                    10,
                    vec![
                        Value::Varchar("b".into()),
                        Value::Timestamp(0),
                        Value::Integer(1),
                        Value::Integer(7),
                        Value::Integer(7)
                    ]
                ),
            ]
        );
        let closed = state.advance(25, &schema).expect("advance");
        assert_eq!(batch_to_rows(&closed[0], &output_columns())[0].0, 20);
    }
}
